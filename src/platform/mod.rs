//! The platform's web side, so people can watch a flow end to end in a browser: the brand's
//! demo page that loads the platform's tag, the conversation window (embedded in the page, or a
//! popup through the provider's authorization endpoint) that hands a code or an ID token to the
//! verifier, and the agent workspace that shows who the consumer is and how we know it
//! (`liveperson-auth.md` §1.4, §1.5, §4.3, §4.4, §4.6).
//!
//! This module drives the [`crate::verifier`] and renders [`crate::pages`] pages; it never
//! imports `idp`. It meets the provider over HTTP(S) and through tokens, like the verifier does:
//! [`PlatformConfig`] names the provider's endpoints, and nothing here assumes the mock.

mod api;
mod conversation;
pub mod idp_api;
mod pages;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::routing::{get, post};
use axum::Router;

use crate::claims::{ClientId, ClientSecret, Issuer};
use crate::clock::Clock;
use crate::jose::Decrypter;
use crate::keys::RsaKey;
use crate::store::Store;
use crate::verifier::{Flow, KeySource, Verifier, VerifierConfig, VerifierError};

use idp_api::{Account, IdpApi};

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
    /// Accounts at the platform's IDP besides each brand's two (`<brand>` with a Code Flow
    /// connector and `<brand>-implicit`; `demo` and `demo-implicit` for the default brand).
    pub accounts: Vec<AccountConfig>,
}

/// `[[platform.account]]`: an account at the platform's IDP and its authentication connector,
/// as the console sets one up. What it leaves out is its brand's.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// The account id in `/api/account/{id}/...`: letters, digits, `-` and `_`.
    pub id: String,
    /// The connector's type.
    pub flow: AccountFlow,
    /// Whose provider the connector points at (a `[[brand]]` name). Defaults to the default
    /// provider.
    #[serde(default)]
    pub brand: Option<String>,
    /// The connector's "JWT issuer". Defaults to the brand's issuer.
    #[serde(default)]
    pub issuer: Option<String>,
    /// The console's "JWT Public Key" (one-line base64 SPKI, or PEM). Defaults to the brand's
    /// JWKS.
    #[serde(default)]
    pub public_key: Option<String>,
    /// The client id an Implicit Flow connector compares `aud` with (the strict reading
    /// only). Defaults to the brand's client when the connector uses the brand's issuer and
    /// keys, and to none otherwise, as the platform's tutorial connector has none.
    #[serde(default)]
    pub client_id: Option<String>,
    /// The redirect URI a code is redeemed with when the call names none. Defaults to
    /// `https://liveperson.net`, as the SDKs do.
    #[serde(default)]
    pub redirect_uri: Option<String>,
}

/// `[platform]` in `harness.toml`: how `serve`'s demo platform talks to the provider, and its
/// IDP's accounts.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlatformSettings {
    /// The `scope` the popup (external) window sends to the authorization endpoint. Defaults
    /// to `openid`, all the platform's window was seen sending (`liveperson-auth.md` §1.4,
    /// §8.5); `openid email profile` asks a Google-shaped provider for the e-mail and profile
    /// claims too. Space-separated scope tokens, `openid` among them.
    pub window_scope: String,
    /// `[[platform.account]]`.
    #[serde(rename = "account")]
    pub accounts: Vec<AccountConfig>,
}

impl Default for PlatformSettings {
    fn default() -> Self {
        Self {
            window_scope: DEFAULT_WINDOW_SCOPE.to_owned(),
            accounts: Vec::new(),
        }
    }
}

impl PlatformSettings {
    /// Reads the `[platform]` table; unknown keys and a window scope that is not scope tokens
    /// with `openid` among them are an error naming them.
    pub fn from_table(table: &toml::Table) -> Result<Self, String> {
        let settings: Self = toml::Value::Table(table.clone())
            .try_into()
            .map_err(|e: toml::de::Error| format!("[platform]: {}", e.message()))?;
        // RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), joined by single spaces.
        let token = |t: &str| {
            !t.is_empty()
                && t.bytes()
                    .all(|b| matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E))
        };
        let scope = &settings.window_scope;
        if scope.split(' ').all(token) && scope.split(' ').any(|t| t == "openid") {
            Ok(settings)
        } else {
            Err(format!(
                "platform.window_scope {scope:?} must be scope tokens separated by single \
                 spaces, openid among them"
            ))
        }
    }
}

/// An account connector's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountFlow {
    /// Code Flow: a code is redeemed at the brand's token endpoint.
    Code,
    /// Implicit Flow: the brand's JWT is verified.
    Implicit,
}

/// Why the platform side could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// A connector's verifier.
    #[error(transparent)]
    Verifier(#[from] VerifierError),
    /// An account's configuration.
    #[error("{0}")]
    Account(String),
    /// The platform's signing key.
    #[error("the platform's signing key: {0}")]
    Key(String),
}

/// The redirect URI the SDKs name when the app gives none.
pub const DEFAULT_REDIRECT_URI: &str = "https://liveperson.net";

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
    idp: Arc<IdpApi>,
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
    pub fn new(config: PlatformConfig, clock: Arc<dyn Clock>) -> Result<Self, SetupError> {
        let default = BrandConnection {
            name: String::new(),
            issuer: config.issuer.clone(),
            authorization_endpoint: config.authorization_endpoint.clone(),
            token_endpoint: config.token_endpoint.clone(),
            jwks_uri: config.jwks_uri.clone(),
            plain: config.plain.clone(),
            encrypted: config.encrypted.clone(),
        };
        // Every connector opens JWEs with the one platform key: parsed once, shared.
        let decrypter = Verifier::decrypter_for(config.decryption_key.as_ref())?;
        let tenants = std::iter::once(default)
            .chain(config.brands.iter().cloned())
            .map(|connection| {
                let verifiers = Self::verifiers(&config, &connection, decrypter.as_ref())?;
                Ok(Tenant {
                    connection,
                    verifiers,
                })
            })
            .collect::<Result<Vec<_>, VerifierError>>()?;
        let accounts = Self::accounts(&config, &tenants, decrypter.as_ref())?;
        let signer = crate::keys::fixture_platform_signing_key()
            .map_err(|e| e.to_string())
            .and_then(|key| crate::jose::Signer::rs256(&key).map_err(|e| e.to_string()))
            .map_err(|e| SetupError::Account(format!("the platform's signing key: {e}")))?;
        let idp = Arc::new(IdpApi::new(
            accounts,
            signer,
            config.origin.clone(),
            Arc::clone(&clock),
        ));
        Ok(Self {
            conversations: Store::new(config.max_conversations),
            recent: Mutex::new(VecDeque::with_capacity(RECENT)),
            tenants,
            idp,
            config,
            clock,
        })
    }

    /// Each brand's two accounts, then the configured ones.
    fn accounts(
        config: &PlatformConfig,
        tenants: &[Tenant],
        decrypter: Option<&Decrypter>,
    ) -> Result<Vec<Account>, SetupError> {
        let defaults = tenants.iter().flat_map(|t| {
            let name = if t.connection.name.is_empty() {
                "demo".to_owned()
            } else {
                t.connection.name.clone()
            };
            let brand = (!t.connection.name.is_empty()).then(|| t.connection.name.clone());
            [AccountFlow::Code, AccountFlow::Implicit].map(|flow| AccountConfig {
                id: match flow {
                    AccountFlow::Code => name.clone(),
                    AccountFlow::Implicit => format!("{name}-implicit"),
                },
                flow,
                brand: brand.clone(),
                issuer: None,
                public_key: None,
                client_id: None,
                redirect_uri: None,
            })
        });
        let all: Vec<AccountConfig> = defaults.chain(config.accounts.iter().cloned()).collect();
        let mut accounts = Vec::with_capacity(all.len());
        for (i, account) in all.iter().enumerate() {
            let valid = !account.id.is_empty()
                && account.id.len() <= 64
                && account
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !valid {
                return Err(SetupError::Account(format!(
                    "platform account {:?}: an id is 1 to 64 letters, digits, '-' or '_'",
                    account.id
                )));
            }
            if all[..i].iter().any(|a| a.id == account.id) {
                return Err(SetupError::Account(format!(
                    "platform account {:?} is named twice (each brand has <brand> and \
                     <brand>-implicit already)",
                    account.id
                )));
            }
            let tenant = tenants
                .iter()
                .find(|t| match &account.brand {
                    None => t.connection.name.is_empty(),
                    Some(name) => t.connection.name == *name,
                })
                .ok_or_else(|| {
                    SetupError::Account(format!(
                        "platform account {:?}: no brand {:?}",
                        account.id,
                        account.brand.as_deref().unwrap_or_default()
                    ))
                })?;
            accounts.push(Account {
                id: account.id.clone(),
                verifier: Verifier::with_decrypter(
                    Self::account_verifier(config, &tenant.connection, account)?,
                    decrypter.cloned(),
                )?,
                redirect_uri: account
                    .redirect_uri
                    .clone()
                    .unwrap_or_else(|| DEFAULT_REDIRECT_URI.to_owned()),
            });
        }
        Ok(accounts)
    }

    /// The connector of one account: the brand's issuer, keys and client unless it names its
    /// own. A Code Flow connector sends no PKCE verifier: an app hands over none.
    fn account_verifier(
        config: &PlatformConfig,
        brand: &BrandConnection,
        account: &AccountConfig,
    ) -> Result<VerifierConfig, SetupError> {
        let issuer = account
            .issuer
            .as_deref()
            .map_or_else(|| brand.issuer.clone(), Issuer::new);
        let key = match &account.public_key {
            Some(text) => {
                KeySource::PublicKey(RsaKey::from_public_pem_or_base64(text).map_err(|e| {
                    SetupError::Account(format!(
                        "platform account {:?}: public_key: {e}",
                        account.id
                    ))
                })?)
            }
            None => KeySource::JwksUrl(brand.jwks_uri.clone()),
        };
        let own = account.issuer.is_some() || account.public_key.is_some();
        let mut c = VerifierConfig::new(issuer, key);
        c.insecure_allow_http = config.insecure_allow_http;
        c.extra_root_pem.clone_from(&config.extra_root_pem);
        c.decryption_key.clone_from(&config.decryption_key);
        Ok(match account.flow {
            AccountFlow::Code => c.token_endpoint(
                brand.token_endpoint.clone(),
                brand.plain.client_id.clone(),
                brand.plain.client_secret.clone(),
            ),
            AccountFlow::Implicit => {
                let c = c.flow(Flow::Implicit);
                match (&account.client_id, own) {
                    (Some(id), _) => c.client_id(ClientId::new(id)),
                    (None, false) => c.client_id(brand.plain.client_id.clone()),
                    (None, true) => c,
                }
            }
        })
    }

    /// The platform's IDP.
    pub fn idp(&self) -> &Arc<IdpApi> {
        &self.idp
    }

    fn verifiers(
        config: &PlatformConfig,
        brand: &BrandConnection,
        decrypter: Option<&Decrypter>,
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
            Verifier::with_decrypter(
                base()
                    .token_endpoint(
                        brand.token_endpoint.clone(),
                        connector.client_id.clone(),
                        connector.client_secret.clone(),
                    )
                    .pkce(true),
                decrypter.cloned(),
            )
        };
        let implicit = |connector: &Connector| {
            Verifier::with_decrypter(
                base()
                    .flow(Flow::Implicit)
                    .client_id(connector.client_id.clone()),
                decrypter.cloned(),
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
        .with_state(Arc::clone(&platform))
        .merge(idp_api::router(Arc::clone(&platform.idp)))
}
