//! oidc-harness: test consumer authentication for customer-care messaging.
//!
//! A brand wires its identity provider to the messaging platform with OpenID Connect (Code Flow
//! or Implicit Flow, optionally with the ID token wrapped in a JWE envelope). This crate plays
//! the brand's provider as Google would answer, so the platform side can be tested end to end.
//!
//! Citations in the code and the scenario files (`liveperson-auth.md` §8.1, `google-oidc.md`
//! §4.3) name the reference pages in `docs/reference/`, each fact there with its public source.
//!
//! # Layout
//!
//! In the order data flows (`fixtures` -> `keys`/`claims` -> `jose` -> `idp` | `verifier` -> pages):
//!
//! - [`clock`]: the only source of "now" ([`clock::SystemClock`], [`clock::FixedClock`]).
//! - [`keys`]: RSA keys from the committed fixtures or generated; `kid`s derived from the key;
//!   JWK, one-line SPKI and PEM forms; X.509 and TLS certificates (rcgen).
//! - [`claims`]: newtypes for protocol strings, Google-shaped ID token and UserInfo claims,
//!   personas, and the platform's `lp_sdes` schema.
//! - [`jose`]: sign (RS256) and encrypt (JWE) tokens; the only module that names `josekit`.
//! - [`idp`]: the mock provider (axum): discovery, JWKS and PEM certs, authorize with a login
//!   page or headless login, token, userinfo, revoke, device grant; [`idp::MockIdp`] runs it
//!   in-process.
//! - [`verifier`]: the platform side: redeem codes, open envelopes, verify ID tokens, keep the
//!   supported `lp_sdes`; an [`verifier::AuthenticatedConsumer`] or a [`verifier::Rejection`].
//! - [`platform`]: the platform's web side for people: the brand demo page with the JS method
//!   the platform calls, the conversation window (embedded or popup), and the agent workspace
//!   showing which customer information is verified and which only the page said.
//! - [`workspace`]: the pages people see, askama templates over plain view models.
//! - [`scenario`]: scenario files, the runner that drives them through a provider of their own
//!   and the verifier, the reports (text, JSON, JUnit), and `check` for a brand's provider.
//!
//! # Architecture invariants
//!
//! - The provider and the platform-side verifier never import each other: they meet only over
//!   HTTP and through tokens, as the real provider and platform do.
//! - Only `jose` names `josekit`; only `clock` reads the system time; the verifier's rules take
//!   "now" as an input.
//! - The verifier never panics on input: every refusal is a `Rejection` with a stable code.
//! - `workspace` imports neither side; it renders the plain data it is given, escaped.
//! - `platform` drives the verifier and never imports `idp`: it reaches the provider over HTTP.
//! - Nothing below `scenario` reads scenario files; only `jose::malform` breaks tokens on
//!   purpose.
//! - Bad input gets an error in the caller's format (Google-shaped OAuth JSON, an error page),
//!   never a panic.

pub mod claims;
pub mod clock;
pub mod idp;
pub mod jose;
pub mod keys;
pub mod platform;
pub mod scenario;
mod store;
pub mod verifier;
pub mod workspace;

pub use idp::{MockIdp, MockIdpBuilder};
