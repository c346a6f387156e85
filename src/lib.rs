//! oidc-harness: test consumer authentication for customer-care messaging.
//!
//! A brand wires its identity provider to the messaging platform with OpenID Connect (Code Flow
//! or Implicit Flow, optionally with the ID token wrapped in a JWE envelope). This crate plays
//! the brand's provider as Google would answer, so the platform side can be tested end to end.
//!
//! Citations in the code and the scenario files (`liveperson-auth.md` §8.1, `google-oidc.md`
//! §4.3) name the reference pages in `docs/reference/`, each fact there with its public source.
//!
//! The code map (layers, what each module is for, what may import what, and the invariants
//! `tests/it/architecture.rs` enforces) is `ARCHITECTURE.md` at the repository's root; the user
//! guide is `docs/` (start at `docs/SUMMARY.md`).

pub mod claims;
pub mod clock;
pub mod idp;
pub mod jose;
pub mod keys;
pub mod pages;
pub mod platform;
pub mod scenario;
mod store;
pub mod verifier;

pub use idp::{MockIdp, MockIdpBuilder};
