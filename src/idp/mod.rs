//! The mock identity provider: Google's OpenID Connect endpoints, paths and response shapes,
//! served by axum over HTTPS.
//!
//! [`router`] builds the app from an [`IdpState`]; [`serve`] runs it on a listener the caller
//! bound; [`MockIdp`] does both in-process on a free port for tests.

mod admin;
mod app;
mod authorize;
mod config;
mod device;
pub mod discovery;
mod error;
mod faults;
mod grants;
mod issuance;
mod keyring;
mod metadata;
mod mint;
mod mock;
mod observed;
mod queue;
mod registry;
mod routes;
mod scope;
mod sealed;
mod server;
mod state;
mod token;
mod tokeninfo;
mod userinfo;

pub use app::{assemble, App, AssembleError, Certificates};
pub use config::{
    fixture_clients, BrandConfig, ClientConfig, ConfigError, DiscoveryConfig, EncryptConfig,
    ErrorStyle, IdpConfig, ImplicitParam, KeysConfig, LimitsConfig, TokenAuthMethod, TokensConfig,
};
pub use error::OAuthError;
pub use faults::{Faults, JwksFault, Lapse, RedirectFault, TokenFault};
pub use mock::{MintOptions, MockIdp, MockIdpBuilder, MockIdpError};
pub use observed::{BodySeen, ClientAuthSeen, Observation, PkceSeen};
pub use routes::{brands, router, router_with_brands, Brand};
pub use server::{serve, serve_app, tls_config, ConnectionLimits, ServeError};
pub use state::{IdpState, StoreSizes};
