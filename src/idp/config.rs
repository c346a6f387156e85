//! `harness.toml`: the provider's configuration. Every field has a documented default, unknown
//! keys are rejected, and an empty file (or none at all) gives the embedded fixtures.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::claims::{ClientSecret, Personas};
use crate::jose::{ContentEnc, KeyAlg};

/// The provider's configuration (`harness.toml`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdpConfig {
    /// Address to listen on. Defaults to `127.0.0.1:8443`; anything but loopback is announced
    /// with a warning.
    pub addr: SocketAddr,
    /// Serve HTTPS with a local CA. Defaults to `true` (the platform requires HTTPS).
    pub tls: bool,
    /// The issuer: `iss` and the discovery document's `issuer`, nothing else. Defaults to
    /// `public_url` when that is set (where clients reach the provider is the issuer they
    /// expect), otherwise to the listening URL
    /// `https://127.0.0.1:<port>` (`http://` without TLS). May be `https://accounts.google.com`
    /// to impersonate Google while listening locally.
    pub issuer: Option<String>,
    /// Where clients reach this provider: the base of every endpoint URL in discovery and on
    /// the pages (`http://idp:8443` in a compose file). Defaults to the issuer in library mode,
    /// and to the listening URL in `serve`.
    pub public_url: Option<String>,
    /// Folder for the local CA and server certificate. Defaults to `.oidc-harness`.
    pub state_dir: PathBuf,
    /// A bearer token that opens the admin API (`/_harness/*`, every brand's too) to callers
    /// from any address that send `Authorization: Bearer <token>`; loopback callers must send
    /// it too. Compared in constant time, never written out. Defaults to none: loopback
    /// callers only, no token asked.
    #[serde(skip_serializing)]
    pub admin_token: Option<ClientSecret>,
    /// A personas file in the format of `fixtures/personas.toml`. Defaults to the embedded
    /// fixture personas.
    pub personas: Option<PathBuf>,
    /// Signing keys and their publication.
    pub keys: KeysConfig,
    /// Token lifetimes.
    pub tokens: TokensConfig,
    /// Store sizes and request limits.
    pub limits: LimitsConfig,
    /// Optional discovery fields.
    pub discovery: DiscoveryConfig,
    /// Faults in force from the start. Defaults to none.
    pub faults: super::faults::Faults,
    /// Registered clients. Defaults to the three clients of `fixtures/clients.toml`.
    #[serde(rename = "client")]
    pub clients: Vec<ClientConfig>,
    /// More providers in the same server, one per brand, each below `/brands/<name>`.
    #[serde(rename = "brand")]
    pub brands: Vec<BrandConfig>,
    /// `[platform]`: the platform side's settings (its IDP's accounts), which the provider
    /// does not read: `serve` hands them to the platform as they are.
    pub platform: toml::Table,
    /// Set for a brand's provider (by [`IdpConfig::for_brand`]): its default signing keys are
    /// derived from the name instead of being the fixture keys, the same at every start, and
    /// its sign-in cookie is its own.
    #[serde(skip)]
    pub brand: Option<String>,
    /// Where a brand's derived keys are kept once made, so a restart reads them instead of
    /// deriving them again (`serve` sets it to its state folder; library mode keeps nothing).
    #[serde(skip)]
    pub key_cache: Option<PathBuf>,
}

/// `[[brand]]`: a provider of its own in the same server: issuer, keys, clients, personas,
/// tokens, faults. What it leaves out is the default's (the fixture clients and personas); its
/// keys are its own, derived from its name, unless it names key files.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrandConfig {
    /// Lower-case letters, digits and `-`: the path segment (`/brands/<name>`).
    pub name: String,
    /// The issuer. Defaults to the public URL plus `/brands/<name>`.
    #[serde(default)]
    pub issuer: Option<String>,
    /// A personas file. Defaults to the fixture personas.
    #[serde(default)]
    pub personas: Option<PathBuf>,
    /// Signing keys (`signing` empty: two keys of its own, derived from the name).
    #[serde(default)]
    pub keys: KeysConfig,
    /// Token lifetimes.
    #[serde(default)]
    pub tokens: TokensConfig,
    /// Optional discovery fields.
    #[serde(default)]
    pub discovery: DiscoveryConfig,
    /// Faults in force from the start.
    #[serde(default)]
    pub faults: super::faults::Faults,
    /// Its clients. Defaults to the fixture clients.
    #[serde(default = "fixture_clients", rename = "client")]
    pub clients: Vec<ClientConfig>,
}

impl IdpConfig {
    /// The configuration of brand `brand`'s provider, reached at `public_base` (which ends in
    /// `/brands/<name>`): the server-wide settings are this one's, the rest the brand's.
    pub fn for_brand(&self, brand: &BrandConfig, public_base: &str) -> Self {
        Self {
            addr: self.addr,
            tls: self.tls,
            issuer: brand.issuer.clone(),
            public_url: Some(public_base.to_owned()),
            state_dir: self.state_dir.clone(),
            admin_token: self.admin_token.clone(),
            personas: brand.personas.clone(),
            keys: brand.keys.clone(),
            tokens: brand.tokens.clone(),
            limits: self.limits.clone(),
            discovery: brand.discovery.clone(),
            faults: brand.faults.clone(),
            clients: brand.clients.clone(),
            brands: Vec::new(),
            platform: toml::Table::new(),
            brand: Some(brand.name.clone()),
            key_cache: self.key_cache.clone(),
        }
    }
}

impl Default for IdpConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8443)),
            tls: true,
            issuer: None,
            public_url: None,
            state_dir: PathBuf::from(".oidc-harness"),
            admin_token: None,
            personas: None,
            keys: KeysConfig::default(),
            tokens: TokensConfig::default(),
            limits: LimitsConfig::default(),
            discovery: DiscoveryConfig::default(),
            faults: super::faults::Faults::default(),
            clients: fixture_clients(),
            brands: Vec::new(),
            platform: toml::Table::new(),
            brand: None,
            key_cache: None,
        }
    }
}

/// `[keys]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeysConfig {
    /// PEM private keys (PKCS#8 or PKCS#1), first one signs, all are published. Defaults to the
    /// two fixture keys.
    pub signing: Vec<PathBuf>,
    /// How many keys the JWKS keeps after rotations (newest first). Defaults to `3`, the most
    /// Google was seen publishing during a rotation.
    pub max_published: usize,
    /// The JWKS `Cache-Control` max-age counts down to the next multiple of this many seconds,
    /// like Google's. Defaults to `21600` (6 h).
    pub jwks_max_age_secs: u64,
    /// Key ids for the signing keys, in their order; a key without one here keeps the kid
    /// derived from it. Defaults to none.
    pub kids: Vec<String>,
    /// Public keys published after the provider's own, never signing (library mode: a JWKS
    /// that also lists another brand's key, as a misconfigured tenant's would).
    #[serde(skip)]
    pub also_publish: Vec<crate::keys::SigningKey>,
}

impl Default for KeysConfig {
    fn default() -> Self {
        Self {
            signing: Vec::new(),
            max_published: 3,
            jwks_max_age_secs: 21_600,
            kids: Vec::new(),
            also_publish: Vec::new(),
        }
    }
}

/// `[tokens]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokensConfig {
    /// ID token lifetime (`exp - iat`). Defaults to `3600`, as in every real Google token.
    pub id_token_lifetime_secs: i64,
    /// Access token lifetime, reported as `expires_in`. Defaults to `3599`, Google's value.
    pub access_token_lifetime_secs: i64,
    /// Authorization code lifetime. Defaults to `600` (RFC 6749 §4.1.2's maximum).
    pub code_lifetime_secs: i64,
    /// Refresh token lifetime. Defaults to `15552000` (180 days).
    pub refresh_token_lifetime_secs: i64,
    /// How long the login page's sign-in request stays open. Defaults to `900`.
    pub login_lifetime_secs: i64,
    /// How long a sign-in at the login page is remembered (the provider's session cookie), so
    /// that `prompt=none` without `login_hint` answers for the same person. Defaults to
    /// `43200` (12 hours).
    pub session_lifetime_secs: i64,
    /// Device code lifetime. Defaults to `1800`, Google's value.
    pub device_code_lifetime_secs: i64,
    /// Minimum seconds between device-code polls. Defaults to `5`, Google's value.
    pub device_poll_interval_secs: i64,
}

impl Default for TokensConfig {
    fn default() -> Self {
        Self {
            id_token_lifetime_secs: 3600,
            access_token_lifetime_secs: 3599,
            code_lifetime_secs: 600,
            refresh_token_lifetime_secs: 15_552_000,
            login_lifetime_secs: 900,
            session_lifetime_secs: 43_200,
            device_code_lifetime_secs: 1800,
            device_poll_interval_secs: 5,
        }
    }
}

/// `[limits]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Entries each store (codes, access tokens, refresh tokens, sign-in requests, device
    /// codes) may hold; expired entries are purged first, then the soonest to expire is
    /// dropped. Defaults to `100000`.
    pub max_store_entries: usize,
    /// Largest accepted request body. Defaults to `65536` bytes.
    pub max_body_bytes: usize,
    /// Longest accepted request URL. Defaults to `16384` bytes.
    pub max_url_bytes: usize,
    /// Seconds a client has for the TLS handshake, and for each HTTP/1.1 request head from its
    /// first byte asked for to its blank line; then the connection is closed without an answer.
    /// hyper's clock for the next head starts as soon as an answer is sent, so this also closes
    /// an HTTP/1.1 keep-alive connection that sends nothing more. Defaults to `10`.
    pub header_read_timeout_secs: u64,
    /// Seconds a connection may pass with no byte read or written while no answer is being
    /// made; then it is closed (an HTTP/2 connection with a GOAWAY). Defaults to `60`.
    pub idle_timeout_secs: u64,
    /// Connections served at once. At the cap the server stops accepting: a new connection
    /// waits in the kernel's listen queue and is served as soon as another one closes.
    /// Defaults to `512`.
    pub max_connections: usize,
    /// Largest request head, the request line and every header field together; a larger one is
    /// answered `431`. Must be more than `max_url_bytes`, so that a long URL gets its own
    /// `414`. Defaults to `32768` bytes.
    pub max_header_bytes: usize,
    /// Most header fields in one request; more are answered `431`. Defaults to `100`.
    pub max_headers: usize,
    /// Threads that serve requests (`serve`'s runtime workers). Defaults to one per CPU core.
    /// One spends less of a flow's CPU in the kernel and in looking for work, though not
    /// clearly less in all (docs/configuration.md), and caps the server at one core's worth
    /// of signatures.
    pub worker_threads: Option<usize>,
}

/// The most connections `[limits] max_connections` may allow.
const MAX_CONNECTIONS: usize = 1 << 20;
/// The most threads `[limits] worker_threads` may ask for.
const MAX_WORKER_THREADS: usize = 256;

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_store_entries: 100_000,
            max_body_bytes: 65_536,
            max_url_bytes: 16_384,
            header_read_timeout_secs: 10,
            idle_timeout_secs: 60,
            max_connections: 512,
            max_header_bytes: 32_768,
            max_headers: 100,
            worker_threads: None,
        }
    }
}

impl LimitsConfig {
    /// Refuses limits a server cannot run with, naming the first.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("max_store_entries", self.max_store_entries as u64),
            ("max_body_bytes", self.max_body_bytes as u64),
            ("max_url_bytes", self.max_url_bytes as u64),
            ("header_read_timeout_secs", self.header_read_timeout_secs),
            ("idle_timeout_secs", self.idle_timeout_secs),
            ("max_connections", self.max_connections as u64),
            ("max_header_bytes", self.max_header_bytes as u64),
            ("max_headers", self.max_headers as u64),
            ("worker_threads", self.worker_threads.unwrap_or(1) as u64),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, value)| *value == 0) {
            return Err(format!("limits.{name} must be positive"));
        }
        if self.worker_threads.is_some_and(|n| n > MAX_WORKER_THREADS) {
            return Err(format!(
                "limits.worker_threads must be at most {MAX_WORKER_THREADS}"
            ));
        }
        if self.max_connections > MAX_CONNECTIONS {
            return Err(format!(
                "limits.max_connections must be at most {MAX_CONNECTIONS}"
            ));
        }
        if self.max_header_bytes <= self.max_url_bytes {
            return Err(format!(
                "limits.max_header_bytes ({}) must be more than limits.max_url_bytes ({})",
                self.max_header_bytes, self.max_url_bytes
            ));
        }
        Ok(())
    }
}

/// `[discovery]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiscoveryConfig {
    /// Add the two fields Google's reference table lists but no captured live document has:
    /// `response_modes_supported` and `authorization_response_iss_parameter_supported`, and
    /// send the RFC 9207 `iss` parameter on authorization responses. Defaults to `false`
    /// (the live document as captured, `google-oidc.md` §1.1).
    pub rfc9207: bool,
}

/// How the token endpoint names its errors for a client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorStyle {
    /// Google's names, statuses and descriptions (`google-oidc.md` §4.3). The default.
    #[default]
    Google,
    /// The platform's documented names, all HTTP 400: `invalid_code`, `unauthorized_client`,
    /// `json_parse_error` (`liveperson-auth.md` §1.3, §6.1).
    Platform,
}

/// `[[client]]`: one registered OAuth client.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// The client id.
    pub client_id: String,
    /// The client secret; compared in constant time.
    pub client_secret: ClientSecret,
    /// Registered redirect URIs, matched exactly (scheme, case, trailing slash). Defaults to
    /// `["https://liveperson.net"]`, the platform's default.
    #[serde(default = "default_redirect_uris")]
    pub redirect_uris: Vec<String>,
    /// Also accept any `http(s)://127.0.0.1`, `[::1]` or `localhost` URL on any port
    /// (RFC 8252 §7.3). Defaults to `true`.
    #[serde(default = "yes")]
    pub allow_loopback_redirects: bool,
    /// Error names at the token endpoint. Defaults to `google`.
    #[serde(default)]
    pub error_style: ErrorStyle,
    /// Sign, then encrypt every ID token issued to this client. Defaults to off.
    #[serde(default)]
    pub encrypt_id_token: Option<EncryptConfig>,
    /// Issue a new refresh token on every refresh and revoke the old one. Defaults to `false`
    /// (Google keeps the refresh token).
    #[serde(default)]
    pub rotate_refresh_tokens: bool,
    /// Refuse authorization requests without PKCE. Defaults to `false`.
    #[serde(default)]
    pub require_pkce: bool,
    /// The platform's older implicit handovers (`liveperson-auth.md` §1.4): the ID token is
    /// returned under this parameter instead of `id_token`, and `response_type=token` (the
    /// legacy "openID" mode) is answered with the ID token rather than an access token.
    /// Defaults to none: Google's `id_token`.
    #[serde(default)]
    pub implicit_param: Option<ImplicitParam>,
    /// The one client authentication method the token endpoint accepts from this client
    /// (OpenID Dynamic Client Registration's `token_endpoint_auth_method`). Defaults to none:
    /// both, as Google accepts.
    #[serde(default)]
    pub token_endpoint_auth_method: Option<TokenAuthMethod>,
}

/// How a client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenAuthMethod {
    /// HTTP Basic (RFC 6749 §2.3.1).
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the body.
    ClientSecretPost,
}

/// Where an implicit response puts the ID token (`liveperson-auth.md` §1.4: "the token goes
/// in query/hash param `code`, `token` or `id_token`").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImplicitParam {
    /// `id_token`, as OpenID Connect and Google have it.
    IdToken,
    /// `token`, the legacy "openID" mode.
    Token,
    /// `code`, though it holds the JWT itself.
    Code,
}

impl ImplicitParam {
    /// The parameter's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::IdToken => "id_token",
            Self::Token => "token",
            Self::Code => "code",
        }
    }
}

fn default_redirect_uris() -> Vec<String> {
    vec!["https://liveperson.net".to_owned()]
}

fn yes() -> bool {
    true
}

/// `[client.encrypt_id_token]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncryptConfig {
    /// The platform's public key: PEM SPKI or one-line base64 SPKI. Defaults to the fixture
    /// platform key (`fixtures/keys/platform-encryption.pub.pem`).
    #[serde(default)]
    pub public_key: Option<PathBuf>,
    /// Key management: `RSA-OAEP-256` (default) or `RSA-OAEP`.
    #[serde(default)]
    pub alg: KeyAlg,
    /// Content encryption: `A256GCM` (default), `A128GCM`, `A128CBC-HS256`, `A256CBC-HS512`.
    #[serde(default)]
    pub enc: ContentEnc,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientsFile {
    client: Vec<ClientConfig>,
}

/// The clients of `fixtures/clients.toml`.
pub fn fixture_clients() -> Vec<ClientConfig> {
    // Checked by a unit test; an unreadable fixture would fail `cargo test`, not users.
    toml::from_str::<ClientsFile>(include_str!("../../fixtures/clients.toml"))
        .map(|file| file.client)
        .unwrap_or_default()
}

/// An admin token must be one a client can send: an RFC 6750 `b64token`, so that it fits an
/// `Authorization: Bearer` header as it is.
fn check_admin_token(token: &str) -> Result<(), String> {
    if token.is_empty() {
        return Err(
            "admin_token is empty: give a token, or none to keep the admin API to \
                    loopback callers"
                .into(),
        );
    }
    let body = token.trim_end_matches('=');
    let b64token = !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b));
    if b64token {
        Ok(())
    } else {
        Err(
            "admin_token may hold only A-Z a-z 0-9 - . _ ~ + / and trailing = \
             (a bearer token, RFC 6750 section 2.1)"
                .into(),
        )
    }
}

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// The TOML is malformed or has an unknown key; the message carries line and column.
    #[error("{path}: {message}")]
    Toml {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A value breaks a rule.
    #[error("{0}")]
    Invalid(String),
}

impl IdpConfig {
    /// Reads `harness.toml`. Relative paths inside it are taken from the file's folder.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_owned(),
            source,
        })?;
        let mut config = Self::from_toml(&text).map_err(|err| match err {
            ConfigError::Toml { message, .. } => ConfigError::Toml {
                path: path.to_owned(),
                message,
            },
            other => other,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.rebase(base);
        Ok(config)
    }

    /// Parses a configuration text.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text).map_err(|err| ConfigError::Toml {
            path: PathBuf::from("<config>"),
            message: err.to_string().trim_end().replace('\n', " "),
        })?;
        config.check()?;
        Ok(config)
    }

    fn rebase(&mut self, base: &Path) {
        let join = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        self.keys.signing.iter_mut().for_each(join);
        if let Some(p) = self.personas.as_mut() {
            join(p);
        }
        let client_keys = |clients: &mut Vec<ClientConfig>| {
            clients
                .iter_mut()
                .filter_map(|c| c.encrypt_id_token.as_mut()?.public_key.as_mut())
                .for_each(join);
        };
        client_keys(&mut self.clients);
        for brand in &mut self.brands {
            brand.keys.signing.iter_mut().for_each(join);
            if let Some(p) = brand.personas.as_mut() {
                join(p);
            }
            client_keys(&mut brand.clients);
        }
    }

    /// Checks the rules serde cannot express.
    pub fn check(&self) -> Result<(), ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        if let Some(token) = &self.admin_token {
            check_admin_token(token.expose()).map_err(ConfigError::Invalid)?;
        }
        let mut names = std::collections::HashSet::new();
        for brand in &self.brands {
            let name = brand.name.as_str();
            let well_formed = !name.is_empty()
                && name.len() <= 63
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !well_formed || !names.insert(name) {
                return invalid(format!(
                    "brand name {name:?} must be unique, 1 to 63 of a-z, 0-9 and -"
                ));
            }
            let brand_config = self.for_brand(brand, "https://brand.invalid");
            brand_config
                .check()
                .map_err(|e| ConfigError::Invalid(format!("brand {name}: {e}")))?;
        }
        if self.clients.is_empty() {
            return invalid("at least one [[client]] is needed".into());
        }
        let mut ids = std::collections::HashSet::new();
        for client in &self.clients {
            if client.client_id.is_empty() || !ids.insert(client.client_id.as_str()) {
                return invalid(format!(
                    "client_id {:?} is empty or used twice",
                    client.client_id
                ));
            }
            for uri in &client.redirect_uris {
                match url::Url::parse(uri) {
                    Ok(parsed) if parsed.fragment().is_none() => {}
                    _ => return invalid(format!("client {}: redirect URI {uri:?} must be an absolute URL without a fragment", client.client_id)),
                }
            }
        }
        for (name, value) in [("issuer", &self.issuer), ("public_url", &self.public_url)] {
            let Some(value) = value else { continue };
            match url::Url::parse(value) {
                Ok(url) if matches!(url.scheme(), "https" | "http") && url.query().is_none() && url.fragment().is_none() && !value.ends_with('/') => {}
                _ => return invalid(format!("{name} {value:?} must be an http(s) URL with no query, fragment or trailing slash")),
            }
        }

        if self.keys.max_published == 0 || self.keys.jwks_max_age_secs == 0 {
            return invalid(
                "keys.max_published and keys.jwks_max_age_secs must be positive".into(),
            );
        }
        let t = &self.tokens;
        if [
            t.id_token_lifetime_secs,
            t.access_token_lifetime_secs,
            t.code_lifetime_secs,
            t.refresh_token_lifetime_secs,
            t.login_lifetime_secs,
            t.session_lifetime_secs,
            t.device_code_lifetime_secs,
        ]
        .iter()
        .any(|v| *v <= 0)
        {
            return invalid("every [tokens] lifetime must be positive".into());
        }
        self.limits.validate().map_err(ConfigError::Invalid)
    }

    /// Loads the personas this configuration names (the fixtures by default).
    pub fn load_personas(&self) -> Result<Personas, ConfigError> {
        match &self.personas {
            None => Ok(crate::claims::fixture_personas()),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
                    path: path.clone(),
                    source,
                })?;
                Personas::from_toml(&text)
                    .map_err(|err| ConfigError::Invalid(format!("{}: {err}", path.display())))
            }
        }
    }
}
