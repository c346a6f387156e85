//! The verifier's configuration, field for field the platform connector's
//! (`liveperson-auth.md` §1.1). Every field documents its default; relaxations are `insecure_*`
//! and are listed in every verdict's report.

use std::time::Duration;

use super::rule::Reading;
use crate::claims::{ClientId, ClientSecret, Issuer};
use crate::keys::RsaKey;

/// Which flow the connector is set up for (`liveperson-auth.md` §1.1 "OAuth 2.0 Authentication
/// Type"; one per account).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flow {
    /// The platform redeems a code at the token endpoint (§1); needs the token endpoint, the
    /// client id and the client secret.
    Code,
    /// The page or app hands over the ID token itself (§2). The default, as it needs nothing
    /// but the issuer and the key.
    #[default]
    Implicit,
}

/// Where the brand's signing key comes from (§2 "Key provisioning", either one).
#[derive(Debug, Clone)]
pub enum KeySource {
    /// The console's "JWT Public Key": one RSA public key (one-line base64 SPKI or PEM), used
    /// whatever `kid` the token names.
    PublicKey(RsaKey),
    /// A JWKS endpoint (HTTPS); the key is chosen by the token's `kid` (§2 (b)).
    JwksUrl(url::Url),
    /// A JWKS held in memory (read from a file), chosen by `kid` like the endpoint's.
    JwksDocument(String),
}

/// How the platform authenticates to the token endpoint (§1.2; §7.1 items 1 and 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuth {
    /// `Authorization: Basic base64(client_id:client_secret)`, form body (S1, S2, S8: "required").
    /// The default.
    #[default]
    Basic,
    /// `client_id` and `client_secret` in the form body (the S5/S6 examples).
    Body,
    /// Basic header and a JSON body `{"code","grant_type","redirect_uri"}` (one S1 version).
    JsonBody,
}

/// Where the `phone_number` claim goes (§3.2; the docs disagree, §7.1 item 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PhoneNumberMapping {
    /// Consumer info, `CustomerInfo.imei` (the newer S1/S2 pages). The default.
    #[default]
    CustomerImei,
    /// Personal info, `contacts[].phone` (S8 and the older S1).
    PersonalContactPhone,
}

/// How the verifier behaves. Build with [`VerifierConfig::new`] and the setters.
#[derive(Debug, Clone)]
pub struct VerifierConfig {
    /// The flow. Defaults to [`Flow::Implicit`]; [`VerifierConfig::token_endpoint`] sets
    /// [`Flow::Code`].
    pub flow: Flow,
    /// "JWT issuer (iss)": compared exactly and case-sensitively (§1.1, §4.1). Required.
    pub issuer: Issuer,
    /// When set, `aud` must contain it, every other audience must be trusted, and `azp` must
    /// equal it when `aud` has several values (OIDC Core §3.1.3.7 items 3 to 5). Defaults to
    /// none, which accepts any audience: the platform documents no `aud` check (§4.2), and
    /// that is the unsafe reading, so [`relaxations`](Self::relaxations) lists it as
    /// `any_audience` and the command line asks for `--client-id` or `--any-audience`.
    pub client_id: Option<ClientId>,
    /// Audiences besides the client id that `aud` may name. Defaults to none.
    pub trusted_audiences: Vec<String>,
    /// Accept an `aud` that names audiences the client does not trust, as long as `azp` is
    /// the client: the looser reading many libraries take, where OIDC Core §3.1.3.7 item 3
    /// says such a token MUST be rejected. Defaults to `false`.
    pub allow_untrusted_audiences: bool,
    /// The client secret for the token endpoint. Defaults to none (required for the code flow).
    pub client_secret: Option<ClientSecret>,
    /// The token endpoint (code flow). Defaults to none (required for the code flow).
    pub token_endpoint: Option<url::Url>,
    /// How to authenticate there. Defaults to [`ClientAuth::Basic`].
    pub client_auth: ClientAuth,
    /// The `redirect_uri` sent with the code unless the page supplies one (§1.2). Defaults to
    /// `https://liveperson.net`.
    pub redirect_uri: String,
    /// Send a PKCE `code_verifier` with the code (§1.6). Defaults to `false`.
    pub pkce: bool,
    /// The brand's signing key. Required.
    pub signing_key: KeySource,
    /// The platform's private key for envelopes (§2 "Encryption"). Defaults to none: a JWE is
    /// then `decrypt_failed`.
    pub decryption_key: Option<RsaKey>,
    /// Refuse tokens that are not encrypted. Defaults to `false` (encryption is optional, §2).
    pub require_encryption: bool,
    /// JWS algorithms accepted. Defaults to `["RS256"]`, the only one the platform names (§2);
    /// `none` is refused whatever this says.
    pub allowed_algs: Vec<String>,
    /// JWE key-management algorithms accepted. Defaults to `["RSA-OAEP-256", "RSA-OAEP"]`.
    pub allowed_key_algs: Vec<String>,
    /// JWE content encryptions accepted. Defaults to `A256GCM`, `A128GCM`, `A128CBC-HS256`,
    /// `A256CBC-HS512` (the platform documents none, §7.2).
    pub allowed_encs: Vec<String>,
    /// Clock skew allowed on `exp` and `iat`, in seconds. The platform documents none (§4.2);
    /// Google's Node and Java libraries allow 300, Python 0. Defaults to `60`.
    pub leeway_secs: i64,
    /// Largest token accepted, in bytes. Defaults to `32768`.
    pub max_token_bytes: usize,
    /// Longest `exp - iat` accepted, in seconds: an older `iat` with a far `exp` is refused.
    /// Defaults to `86400`, the limit Google's Node library applies (Google's tokens live 3600).
    pub max_lifetime_secs: i64,
    /// Where `phone_number` goes. Defaults to [`PhoneNumberMapping::CustomerImei`].
    pub phone_number_mapping: PhoneNumberMapping,
    /// Token endpoint and JWKS request timeout. Defaults to 10 s (the platform's is not
    /// documented, §7.2).
    pub http_timeout: Duration,
    /// Largest token-endpoint or JWKS response read, in bytes. Defaults to `65536`.
    pub max_response_bytes: usize,
    /// Seconds between JWKS refetches caused by an unknown `kid`. Defaults to `30`.
    pub jwks_refetch_interval_secs: i64,
    /// An extra CA certificate (PEM) to trust for HTTPS, such as `serve`'s local CA.
    /// Defaults to none (the system roots only).
    pub extra_root_pem: Option<String>,
    /// Accept `exp`/`iat` in milliseconds, as the docs' own example token has them (§3.1,
    /// §7.1 item 5). Defaults to `false`.
    pub insecure_allow_millisecond_timestamps: bool,
    /// Accept `exp`/`iat` as numeric strings, as the S5/S6 examples have them (§3.1). Defaults
    /// to `false`.
    pub insecure_allow_string_timestamps: bool,
    /// Allow `http://` token and JWKS endpoints (all authentication traffic is HTTPS, §4.2).
    /// Defaults to `false`.
    pub insecure_allow_http: bool,
    /// Accept each ID token once: a second presentation before it expires is
    /// `token_replayed` (OIDC Core §15.5.2; catalog N04). The platform documents no replay
    /// rule beyond `exp` (§4.2), so this defaults to `false`. Tokens are remembered by their
    /// signature (never by the token's text) until `exp` plus the leeway, at most
    /// `replay_cache_entries` of them.
    pub reject_replays: bool,
    /// Refuse a token whose `lp_sdes` breaks the schema (`lp_sdes_invalid`) in both readings.
    /// Defaults to `false`: the platform's docs drop unsupported types and fields (§3.3), so
    /// the platform reading drops a bad or unknown field, however deep, names it in a warning
    /// and keeps the login, with the `lp-sdes-schema` finding naming the risk of the IDP's
    /// 1026 (§8.4); only the strict reading refuses.
    pub lp_sdes_strict: bool,
    /// Which reading decides [`Verifier::verify`](super::Verifier::verify)'s result. Both are
    /// worked out in one pass whatever this says: under [`Reading::Platform`] (the default) a
    /// token only the strict reading refuses authenticates and carries the refusals as
    /// [`strict_findings`](super::AuthenticatedConsumer::strict_findings); under
    /// [`Reading::Strict`] the first of them is the refusal.
    pub reading: Reading,
    /// How many accepted tokens `reject_replays` remembers; when full, the one closest to
    /// expiry is forgotten first. Defaults to `100000`.
    pub replay_cache_entries: usize,
}

impl VerifierConfig {
    /// A configuration with every default, for `issuer` and its signing key.
    pub fn new(issuer: Issuer, signing_key: KeySource) -> Self {
        Self {
            flow: Flow::Implicit,
            issuer,
            client_id: None,
            trusted_audiences: Vec::new(),
            allow_untrusted_audiences: false,
            client_secret: None,
            token_endpoint: None,
            client_auth: ClientAuth::Basic,
            redirect_uri: "https://liveperson.net".to_owned(),
            pkce: false,
            signing_key,
            decryption_key: None,
            require_encryption: false,
            allowed_algs: vec!["RS256".to_owned()],
            allowed_key_algs: vec!["RSA-OAEP-256".to_owned(), "RSA-OAEP".to_owned()],
            allowed_encs: ["A256GCM", "A128GCM", "A128CBC-HS256", "A256CBC-HS512"]
                .map(str::to_owned)
                .to_vec(),
            leeway_secs: 60,
            max_token_bytes: 32_768,
            max_lifetime_secs: 86_400,
            phone_number_mapping: PhoneNumberMapping::CustomerImei,
            http_timeout: Duration::from_secs(10),
            max_response_bytes: 65_536,
            jwks_refetch_interval_secs: 30,
            extra_root_pem: None,
            insecure_allow_millisecond_timestamps: false,
            insecure_allow_string_timestamps: false,
            insecure_allow_http: false,
            reject_replays: false,
            lp_sdes_strict: false,
            reading: Reading::Platform,
            replay_cache_entries: 100_000,
        }
    }

    /// Sets the flow.
    pub fn flow(mut self, flow: Flow) -> Self {
        self.flow = flow;
        self
    }

    /// Requires `aud` to contain `client_id`.
    pub fn client_id(mut self, client_id: ClientId) -> Self {
        self.client_id = Some(client_id);
        self
    }

    /// The token endpoint and client credentials: the code flow.
    pub fn token_endpoint(
        mut self,
        url: url::Url,
        client_id: ClientId,
        secret: ClientSecret,
    ) -> Self {
        self.flow = Flow::Code;
        self.token_endpoint = Some(url);
        self.client_id = Some(client_id);
        self.client_secret = Some(secret);
        self
    }

    /// How to authenticate at the token endpoint.
    pub fn client_auth(mut self, auth: ClientAuth) -> Self {
        self.client_auth = auth;
        self
    }

    /// Sends a PKCE verifier with codes.
    pub fn pkce(mut self, on: bool) -> Self {
        self.pkce = on;
        self
    }

    /// The platform's private key for envelopes.
    pub fn decryption_key(mut self, key: RsaKey) -> Self {
        self.decryption_key = Some(key);
        self
    }

    /// Trusts this CA certificate (PEM) too.
    pub fn extra_root_pem(mut self, pem: impl Into<String>) -> Self {
        self.extra_root_pem = Some(pem.into());
        self
    }

    /// Decides verdicts by `reading`.
    pub fn reading(mut self, reading: Reading) -> Self {
        self.reading = reading;
        self
    }

    /// The relaxations in force, by name, for reports.
    pub fn relaxations(&self) -> Vec<&'static str> {
        [
            (
                self.insecure_allow_millisecond_timestamps,
                "insecure_allow_millisecond_timestamps",
            ),
            (
                self.insecure_allow_string_timestamps,
                "insecure_allow_string_timestamps",
            ),
            (self.insecure_allow_http, "insecure_allow_http"),
            (self.client_id.is_none(), "any_audience"),
            (
                self.client_id.is_some() && self.allow_untrusted_audiences,
                "allow_untrusted_audiences",
            ),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
    }
}
