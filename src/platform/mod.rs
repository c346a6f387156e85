//! The platform's web side, so people can watch a flow end to end in a browser: the brand's
//! demo page that loads the platform's tag, the conversation window (embedded in the page, or a
//! popup through the provider's authorization endpoint) that hands a code or an ID token to the
//! verifier, and the agent workspace that shows who the consumer is and how we know it
//! (`liveperson-auth.md` §1.4, §1.5, §4.3, §4.4, §4.6).
//!
//! This module drives the [`crate::verifier`] and renders [`crate::workspace`] pages; it never
//! imports `idp`. It meets the provider over HTTP(S) and through tokens, like the verifier does:
//! [`PlatformConfig`] names the provider's endpoints, and nothing here assumes the mock.

mod api;
mod conversation;
mod pages;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::routing::{get, post};
use axum::Router;

use crate::claims::{ClientId, ClientSecret, Issuer};
use crate::clock::Clock;
use crate::keys::RsaKey;
use crate::store::Store;
use crate::verifier::{Flow, KeySource, Verifier, VerifierConfig, VerifierError};

pub use conversation::{FlowKind, Mode};

use conversation::Conversation;

/// Where the popup window receives the provider's redirect, below the platform's origin.
pub const WINDOW_CALLBACK_PATH: &str = "/platform/window/callback";
/// The popup window's `scope`: all the platform's window was seen sending
/// (`liveperson-auth.md` §1.4, §8.5).
pub const DEFAULT_WINDOW_SCOPE: &str = "openid";
/// Where the brand page's silent sign-in frame receives the provider's answer.
pub const BRAND_SILENT_PATH: &str = "/demo/brand/silent";

/// How the platform's connector is registered at the brand's provider (§1.1).
#[derive(Debug, Clone)]
pub struct Connector {
    /// The platform's client id there.
    pub client_id: ClientId,
    /// Its secret, for the token endpoint.
    pub client_secret: ClientSecret,
}

/// What the platform side needs to know: the brand's provider and the platform's own key.
#[derive(Debug, Clone)]
pub struct PlatformConfig {
    /// Where these pages are served (`https://127.0.0.1:8443`), for redirect URIs.
    pub origin: String,
    /// The brand's "JWT issuer (iss)".
    pub issuer: Issuer,
    /// The brand's authorization endpoint (popup window, and the brand page's own sign-in).
    pub authorization_endpoint: String,
    /// The brand's token endpoint (Code Flow).
    pub token_endpoint: url::Url,
    /// The brand's JWKS endpoint: signing keys are chosen by `kid`.
    pub jwks_uri: url::Url,
    /// The connector whose ID tokens are signed only.
    pub plain: Connector,
    /// The connector whose ID tokens are signed, then encrypted to `decryption_key`.
    pub encrypted: Option<Connector>,
    /// The platform's private key for envelopes.
    pub decryption_key: Option<RsaKey>,
    /// An extra CA to trust for the provider's HTTPS (`serve`'s local CA).
    pub extra_root_pem: Option<String>,
    /// Let the verifier use `http://` endpoints (`serve --no-tls`).
    pub insecure_allow_http: bool,
    /// Conversations kept at once; the oldest go first.
    pub max_conversations: usize,
    /// The `scope` the popup window sends to the authorization endpoint:
    /// [`DEFAULT_WINDOW_SCOPE`] as the platform was seen sending it (§1.4, §8.5), or more.
    pub window_scope: String,
    /// More brands, each with a connector of its own (a multi-tenant platform): a conversation
    /// started for one is verified with that brand's issuer, keys, client and token endpoint
    /// only.
    pub brands: Vec<BrandConnection>,
}

/// Another brand's provider, as the platform's connector for it knows it.
#[derive(Debug, Clone)]
pub struct BrandConnection {
    /// The brand's name (`/demo/brands/<name>`).
    pub name: String,
    /// Its issuer.
    pub issuer: Issuer,
    /// Its authorization endpoint.
    pub authorization_endpoint: String,
    /// Its token endpoint.
    pub token_endpoint: url::Url,
    /// Its JWKS.
    pub jwks_uri: url::Url,
    /// The connector for signed ID tokens.
    pub plain: Connector,
    /// The connector for encrypted ones.
    pub encrypted: Option<Connector>,
}

/// The verifiers, one per connector and flow, built once.
#[derive(Debug)]
struct Verifiers {
    code_plain: Verifier,
    code_encrypted: Option<Verifier>,
    /// The implicit connectors check `aud` too: a token minted for another client is refused.
    implicit_plain: Verifier,
    implicit_encrypted: Option<Verifier>,
}

/// One brand's connection and its verifiers; the first is the default brand's.
#[derive(Debug)]
struct Tenant {
    connection: BrandConnection,
    verifiers: Verifiers,
}

/// The platform side, shared by every request.
#[derive(Debug)]
pub struct Platform {
    config: PlatformConfig,
    tenants: Vec<Tenant>,
    conversations: Store<Conversation>,
    /// The newest conversation ids first, for the agent's list.
    recent: Mutex<VecDeque<String>>,
    clock: Arc<dyn Clock>,
}

/// How long a conversation is kept: a working day.
const CONVERSATION_LIFETIME_SECS: i64 = 86_400;
/// Conversations listed on the agent's index page.
const RECENT: usize = 50;

impl Platform {
    /// Builds the verifiers for each connector of each brand from `config`.
    pub fn new(config: PlatformConfig, clock: Arc<dyn Clock>) -> Result<Self, VerifierError> {
        let default = BrandConnection {
            name: String::new(),
            issuer: config.issuer.clone(),
            authorization_endpoint: config.authorization_endpoint.clone(),
            token_endpoint: config.token_endpoint.clone(),
            jwks_uri: config.jwks_uri.clone(),
            plain: config.plain.clone(),
            encrypted: config.encrypted.clone(),
        };
        let tenants = std::iter::once(default)
            .chain(config.brands.iter().cloned())
            .map(|connection| {
                let verifiers = Self::verifiers(&config, &connection)?;
                Ok(Tenant {
                    connection,
                    verifiers,
                })
            })
            .collect::<Result<Vec<_>, VerifierError>>()?;
        Ok(Self {
            conversations: Store::new(config.max_conversations),
            recent: Mutex::new(VecDeque::with_capacity(RECENT)),
            tenants,
            config,
            clock,
        })
    }

    fn verifiers(
        config: &PlatformConfig,
        brand: &BrandConnection,
    ) -> Result<Verifiers, VerifierError> {
        let base = || {
            let mut c = VerifierConfig::new(
                brand.issuer.clone(),
                KeySource::JwksUrl(brand.jwks_uri.clone()),
            );
            c.insecure_allow_http = config.insecure_allow_http;
            c.extra_root_pem.clone_from(&config.extra_root_pem);
            c.decryption_key.clone_from(&config.decryption_key);
            c
        };
        let code = |connector: &Connector| {
            Verifier::new(
                base()
                    .token_endpoint(
                        brand.token_endpoint.clone(),
                        connector.client_id.clone(),
                        connector.client_secret.clone(),
                    )
                    .pkce(true),
            )
        };
        let implicit = |connector: &Connector| {
            Verifier::new(
                base()
                    .flow(Flow::Implicit)
                    .client_id(connector.client_id.clone()),
            )
        };
        Ok(Verifiers {
            code_plain: code(&brand.plain)?,
            code_encrypted: brand.encrypted.as_ref().map(code).transpose()?,
            implicit_plain: implicit(&brand.plain)?,
            implicit_encrypted: brand.encrypted.as_ref().map(implicit).transpose()?,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &PlatformConfig {
        &self.config
    }

    fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Brand `name`'s tenant (`None`: the default brand's).
    fn tenant(&self, brand: Option<&str>) -> Option<&Tenant> {
        match brand {
            None => self.tenants.first(),
            Some(name) => self
                .tenants
                .iter()
                .skip(1)
                .find(|t| t.connection.name == name),
        }
    }

    /// Brand `name`'s connection.
    fn connection(&self, brand: Option<&str>) -> Option<&BrandConnection> {
        self.tenant(brand).map(|t| &t.connection)
    }

    fn verifier(&self, brand: Option<&str>, flow: FlowKind, encrypted: bool) -> Option<&Verifier> {
        let v = &self.tenant(brand)?.verifiers;
        match (flow, encrypted) {
            (FlowKind::Code, false) => Some(&v.code_plain),
            (FlowKind::Code, true) => v.code_encrypted.as_ref(),
            (FlowKind::Implicit, false) => Some(&v.implicit_plain),
            (FlowKind::Implicit, true) => v.implicit_encrypted.as_ref(),
        }
    }

    fn connector(&self, brand: Option<&str>, encrypted: bool) -> Option<&Connector> {
        let connection = self.connection(brand)?;
        if encrypted {
            connection.encrypted.as_ref()
        } else {
            Some(&connection.plain)
        }
    }

    fn remember(&self, conversation: Conversation) {
        let now = self.now();
        let id = conversation.id.clone();
        self.conversations.insert(
            id.clone(),
            conversation,
            now + CONVERSATION_LIFETIME_SECS,
            now,
        );
        let mut recent = self
            .recent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if recent.len() == RECENT {
            recent.pop_back();
        }
        recent.push_front(id);
    }

    fn recent_ids(&self) -> Vec<String> {
        self.recent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .cloned()
            .collect()
    }
}

/// The platform's routes and the brand demo page. Request bodies are capped at 64 KiB.
pub fn router(platform: Arc<Platform>) -> Router {
    Router::new()
        .route("/demo/brand", get(pages::brand))
        .route("/demo/brands/{name}", get(pages::other_brand))
        .route(BRAND_SILENT_PATH, get(pages::brand_silent))
        .route("/demo/assets/{file}", get(pages::asset))
        .route("/platform/assets/{file}", get(pages::asset))
        .route(WINDOW_CALLBACK_PATH, get(pages::window))
        .route("/platform/agent", get(pages::agent_index))
        .route("/platform/agent/{id}", get(pages::agent))
        .route("/platform/api/conversations", post(api::start))
        .route("/platform/api/conversations/{id}", get(api::show))
        .route(
            "/platform/api/conversations/{id}/token",
            post(api::handover),
        )
        .route("/platform/api/conversations/{id}/renew", post(api::renew))
        .route("/platform/api/window/callback", post(api::window_callback))
        .layer(axum::extract::DefaultBodyLimit::max(65_536))
        .with_state(platform)
}
