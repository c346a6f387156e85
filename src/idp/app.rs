//! The one assembly of a provider from its configuration and the address it listens on, for
//! `serve` and [`MockIdp`](super::MockIdp) alike: where its endpoints are, its issuer, its
//! certificate, its state, its brands and its routes.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::Router;

use super::config::{ConfigError, IdpConfig};
use super::routes::{brands, router_with_brands, Brand};
use super::server::{tls_config, ConnectionLimits, ServeError};
use super::state::IdpState;
use crate::claims::Issuer;
use crate::clock::Clock;
use crate::keys::tls::{self, TlsMaterial};
use crate::keys::KeyError;

/// Where the server's certificate comes from, when it serves HTTPS.
#[derive(Debug, Clone, Copy)]
pub enum Certificates<'a> {
    /// A local CA kept in this directory, made on the first start and reused after
    /// (`serve`'s `--state-dir`), so that clients trust it once.
    Kept(&'a Path),
    /// A CA made for this process only (tests).
    Ephemeral,
}

/// Why a provider could not be assembled.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AssembleError {
    /// The configuration was refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Certificates could not be made or read.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// The certificate could not become a TLS configuration.
    #[error(transparent)]
    Serve(#[from] ServeError),
}

/// A provider ready to serve: run [`App::router`] with [`serve_app`](super::serve_app),
/// [`App::server_config`] and [`App::connection_limits`].
#[derive(Debug)]
pub struct App {
    /// The root provider.
    pub state: Arc<IdpState>,
    /// The providers under `/brands/<name>`.
    pub brands: Vec<Brand>,
    /// Every route, the brands' nested.
    pub router: Router,
    /// The listening URL: `https://127.0.0.1:8443`.
    pub origin: String,
    /// The certificate and its CA, when serving HTTPS.
    pub tls: Option<TlsMaterial>,
    /// The rustls configuration made from [`App::tls`].
    pub server_config: Option<Arc<rustls::ServerConfig>>,
    /// What each connection is allowed (the root provider's `[limits]`).
    pub connection_limits: ConnectionLimits,
}

/// Assembles the provider that `config` describes, listening on `addr`.
///
/// The endpoints are published under `public_url` (the listening URL when unset); the issuer
/// is `issuer`, else `public_url`: where clients reach the provider is the issuer they expect.
/// The certificate names the loopback names, the issuer's host and the public URL's.
pub fn assemble(
    mut config: IdpConfig,
    addr: SocketAddr,
    clock: Arc<dyn Clock>,
    certificates: Certificates<'_>,
) -> Result<App, AssembleError> {
    let scheme = if config.tls { "https" } else { "http" };
    let origin = format!("{scheme}://{addr}");
    let public_url = config.public_url.get_or_insert_with(|| origin.clone());
    let issuer = Issuer::new(config.issuer.clone().unwrap_or_else(|| public_url.clone()));
    let tls = if config.tls {
        let names = certificate_names(&issuer, public_url);
        Some(match certificates {
            Certificates::Kept(dir) => tls::load_or_create(dir, &names)?,
            Certificates::Ephemeral => tls::ephemeral(&names)?,
        })
    } else {
        None
    };
    let server_config = tls.as_ref().map(tls_config).transpose()?;
    let connection_limits = ConnectionLimits::from_config(&config.limits);
    let state = Arc::new(IdpState::new(config, issuer, clock)?);
    let brands = brands(&state)?;
    let router = router_with_brands(Arc::clone(&state), &brands);
    Ok(App {
        state,
        brands,
        router,
        origin,
        tls,
        server_config,
        connection_limits,
    })
}

/// The loopback names, the issuer's host and the public URL's (an IPv6 literal without its
/// brackets), each once.
fn certificate_names(issuer: &Issuer, public_url: &str) -> Vec<String> {
    let host = |url: &str| {
        url::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
    };
    let mut names = tls::server_names(host(issuer.as_str()).as_deref());
    if let Some(public) = host(public_url) {
        let public = public
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        if !names.contains(&public) {
            names.push(public);
        }
    }
    names
}
