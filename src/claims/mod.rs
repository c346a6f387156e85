//! Claims: the protocol strings as newtypes, Google-shaped ID token claims, personas and the
//! platform's `lp_sdes` claim.

mod id_token;
mod lp_sdes;
mod persona;
mod types;

pub use id_token::{ClaimScopes, IdTokenClaims, UserInfo};
pub use lp_sdes::{Age, Contact, ContactAddress, CustomerInfo, Date, Gender, PersonalInfo, Sde};
pub use persona::{fixture_personas, Persona, PersonaError, Personas};
pub use types::{ClientId, ClientSecret, Issuer, Nonce, Subject};

#[cfg(test)]
mod tests;
