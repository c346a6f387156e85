//! [`MockIdp`]: the provider in-process on a free loopback port, for Rust tests (ours and our
//! users'), in the manner of navikt's `MockOAuth2Server`.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::oneshot;

use super::app::{self, AssembleError, Certificates};
use super::config::{ClientConfig, ConfigError, IdpConfig};
use super::grants::Grant;
use super::routes::Brand;
use super::server::{serve_app, ServeError};
use super::state::IdpState;
use crate::claims::{ClientId, ClientSecret, IdTokenClaims, Issuer, Nonce};
use crate::clock::{Clock, SystemClock};
use crate::keys::tls::TlsMaterial;
use crate::keys::Kid;

/// Why a [`MockIdp`] could not start or mint.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MockIdpError {
    /// The configuration was refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Certificates could not be made.
    #[error(transparent)]
    Keys(#[from] crate::keys::KeyError),
    /// The server could not start.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// The listener could not be bound.
    #[error("bind: {0}")]
    Bind(#[from] std::io::Error),
    /// Unknown persona or client, or a signing failure.
    #[error("{0}")]
    Mint(String),
}

impl From<AssembleError> for MockIdpError {
    fn from(err: AssembleError) -> Self {
        match err {
            AssembleError::Config(e) => Self::Config(e),
            AssembleError::Keys(e) => Self::Keys(e),
            AssembleError::Serve(e) => Self::Serve(e),
        }
    }
}

/// Builds a [`MockIdp`]; every setting has the `serve` default unless changed.
#[derive(Debug)]
pub struct MockIdpBuilder {
    config: IdpConfig,
    clock: Arc<dyn Clock>,
}

impl MockIdpBuilder {
    /// Serve plain HTTP instead of HTTPS. Defaults to HTTPS.
    pub fn no_tls(mut self) -> Self {
        self.config.tls = false;
        self
    }

    /// Use this issuer instead of the listening URL (`https://accounts.google.com`, say).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.config.issuer = Some(issuer.into());
        self
    }

    /// Use this clock for every `iat`, `exp` and expiry. Defaults to the system clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Adds (or replaces, by id) a registered client.
    pub fn client(mut self, client: ClientConfig) -> Self {
        self.config
            .clients
            .retain(|c| c.client_id != client.client_id);
        self.config.clients.push(client);
        self
    }

    /// Starts from a whole configuration (its `addr` is ignored: a free port is used).
    pub fn config(mut self, config: IdpConfig) -> Self {
        self.config = config;
        self
    }

    /// Binds `127.0.0.1:0` and starts serving.
    pub async fn start(self) -> Result<MockIdp, MockIdpError> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let app = app::assemble(self.config, addr, self.clock, Certificates::Ephemeral)?;
        let (router, server_config, limits) =
            (app.router, app.server_config, app.connection_limits);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(err) = serve_app(listener, router, server_config, limits, shutdown).await {
                tracing::error!(%err, "mock provider stopped");
            }
        });
        Ok(MockIdp {
            state: app.state,
            brands: app.brands,
            addr,
            base_url: app.origin,
            tls: app.tls,
            stop: Some(stop),
            task: Some(task),
        })
    }
}

/// What [`MockIdp::mint_id_token`] should put in the token.
#[derive(Debug, Clone, Default)]
pub struct MintOptions {
    /// The audience client. Defaults to `demo-client`.
    pub client_id: Option<String>,
    /// A nonce to echo.
    pub nonce: Option<String>,
    /// Grant `email` and `profile` claims. Defaults to `true` via [`MintOptions::full`].
    pub email_and_profile: bool,
}

impl MintOptions {
    /// Everything: the demo client, `email` and `profile` claims, no nonce.
    pub fn full() -> Self {
        Self {
            client_id: None,
            nonce: None,
            email_and_profile: true,
        }
    }
}

/// A running mock provider. Stops when dropped or on [`MockIdp::shutdown`].
#[derive(Debug)]
pub struct MockIdp {
    state: Arc<IdpState>,
    brands: Vec<Brand>,
    addr: SocketAddr,
    base_url: String,
    tls: Option<TlsMaterial>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl MockIdp {
    /// A builder with the `serve` defaults (HTTPS, fixture keys, clients and personas).
    pub fn builder() -> MockIdpBuilder {
        MockIdpBuilder {
            config: IdpConfig::default(),
            clock: Arc::new(SystemClock),
        }
    }

    /// Starts with every default.
    pub async fn start() -> Result<Self, MockIdpError> {
        Self::builder().start().await
    }

    /// The issuer (`iss`, and the base of the discovery URLs).
    pub fn issuer(&self) -> &Issuer {
        self.state.issuer()
    }

    /// Where it listens: `https://127.0.0.1:<port>`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The CA certificate (PEM) to trust, when serving HTTPS.
    pub fn ca_cert_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|t| t.ca_cert_pem.as_str())
    }

    /// The demo client's credentials.
    pub fn demo_client(&self) -> (ClientId, ClientSecret) {
        (
            ClientId::new("demo-client"),
            ClientSecret::new("demo-secret"),
        )
    }

    /// The provider state, for inspection (store sizes, published kids).
    pub fn state(&self) -> &Arc<IdpState> {
        &self.state
    }

    /// Brand `name`'s provider (`[[brand]]`), for inspection.
    pub fn brand(&self, name: &str) -> Option<&Arc<IdpState>> {
        self.brands
            .iter()
            .find(|b| b.name == name)
            .map(|b| &b.state)
    }

    /// Where brand `name` is reached: `<base_url>/brands/<name>`.
    pub fn brand_url(&self, name: &str) -> String {
        format!("{}/brands/{name}", self.base_url)
    }

    /// A reqwest client that trusts this provider's CA and does not follow redirects, so
    /// `Location` headers can be read.
    pub fn http_client(&self) -> reqwest::Client {
        let mut builder = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
        if let Some(cert) = self
            .ca_cert_pem()
            .and_then(|pem| reqwest::Certificate::from_pem(pem.as_bytes()).ok())
        {
            builder = builder.add_root_certificate(cert);
        }
        builder.build().unwrap_or_default()
    }

    /// Mints an ID token for a persona as the token endpoint would (signed, and encrypted if
    /// the client asks for envelopes), without a browser or a code.
    pub fn mint_id_token(
        &self,
        persona: &str,
        options: &MintOptions,
    ) -> Result<String, MockIdpError> {
        let persona = self
            .state
            .find_persona(persona)
            .ok_or_else(|| MockIdpError::Mint(format!("unknown persona {persona:?}")))?;
        let client_id = options.client_id.as_deref().unwrap_or("demo-client");
        let client = self
            .state
            .client(client_id)
            .ok_or_else(|| MockIdpError::Mint(format!("unknown client {client_id:?}")))?;
        let scopes = super::scope::Scopes {
            openid: true,
            email: options.email_and_profile,
            profile: options.email_and_profile,
        };
        let grant = Grant {
            client_id: client.id.clone(),
            persona,
            scopes,
            grant_id: Arc::from("minted"),
        };
        let nonce = options.nonce.clone().map(Nonce::new);
        self.state
            .id_token(&client, &grant, nonce.as_ref(), None, None)
            .map_err(|e| MockIdpError::Mint(format!("{e:?}")))
    }

    /// Signs arbitrary claims with the active key (and encrypts for `client_id` if it wants
    /// envelopes): the seam for hand-made tokens.
    pub fn sign_claims(
        &self,
        client_id: &str,
        claims: &IdTokenClaims,
    ) -> Result<String, MockIdpError> {
        let client = self
            .state
            .client(client_id)
            .ok_or_else(|| MockIdpError::Mint(format!("unknown client {client_id:?}")))?;
        self.state
            .seal(&client, claims)
            .map_err(|e| MockIdpError::Mint(format!("{e:?}")))
    }

    /// Rotates to a freshly generated signing key; returns its kid.
    pub fn rotate_keys(&self) -> Result<Kid, MockIdpError> {
        self.state.rotate().map_err(MockIdpError::Mint)
    }

    /// Stops serving and waits for in-flight requests.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for MockIdp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
