//! Scenario files: TOML, one scenario a file, read strictly. A bad file is an error that names
//! the file and the line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::idp::{
    BodySeen, ClientAuthSeen, ErrorStyle, ImplicitParam, JwksFault, PkceSeen, RedirectFault,
    TokenFault,
};
use crate::jose::malform::Mutation;
use crate::jose::template::{Recipient, Sign, TokenTemplate};
use crate::jose::{ContentEnc, KeyAlg};
use crate::verifier::RejectReason;

/// How the consumer's token reaches the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FlowKind {
    /// Code Flow, embedded window: the page's JS method hands the platform a code.
    Code,
    /// Implicit Flow, embedded window: the page hands the platform an ID token.
    Implicit,
    /// Code Flow through the provider's authorization endpoint in a separate window: the
    /// redirect brings the code back with `state`, which the window checks.
    Popup,
    /// Implicit Flow through the provider's authorization endpoint in a separate window: the ID
    /// token comes back in the redirect's fragment with `state`, which the window checks.
    PopupImplicit,
    /// A mobile app's backend supplies an ID token (Implicit Flow), which the app hands to the
    /// platform's IDP as the SDK does (`liveperson-auth.md` §8.3).
    Mobile,
    /// A mobile app's backend supplies a code and the redirect URI it was issued for; the app
    /// hands both to the platform's IDP, which redeems the code at the brand's token endpoint.
    MobileCode,
}

impl FlowKind {
    /// Whether the platform redeems a code at the token endpoint.
    pub fn redeems_a_code(self) -> bool {
        matches!(self, Self::Code | Self::Popup | Self::MobileCode)
    }

    /// Whether the handover goes through the platform's IDP API, as an app's does.
    pub fn through_the_idp(self) -> bool {
        matches!(self, Self::Mobile | Self::MobileCode)
    }
}

/// `[mobile]`: what the app's backend did for `mobile-code`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MobileSpec {
    /// The redirect URI the app's backend asked the code for. Defaults to
    /// `https://liveperson.net`, the SDKs' default.
    pub redirect_uri: String,
    /// The redirect URI the app names to the IDP, when it is not the one the code was issued
    /// for (the flip check puts it back).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hands_over_redirect_uri: Option<String>,
}

impl Default for MobileSpec {
    fn default() -> Self {
        Self {
            redirect_uri: "https://liveperson.net".into(),
            hands_over_redirect_uri: None,
        }
    }
}

/// The outcome a scenario expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The consumer is authenticated.
    Authenticated,
    /// The token or code is refused.
    Rejected,
    /// Either is acceptable (behaviour the platform's docs leave open).
    Either,
}

/// `[provider]`: what the mock provider does differently.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProviderSpec {
    /// Malformations applied to the ID token.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mutate: Vec<Mutation>,
    /// Sign, then encrypt to the platform key.
    #[serde(skip_serializing_if = "is_false")]
    pub encrypt: bool,
    /// JWE key management when encrypting. Defaults to `RSA-OAEP-256`.
    #[serde(skip_serializing_if = "is_default")]
    pub alg: KeyAlg,
    /// JWE content encryption when encrypting. Defaults to `A256GCM`.
    #[serde(skip_serializing_if = "is_default")]
    pub enc: ContentEnc,
    /// The token endpoint's error names.
    #[serde(skip_serializing_if = "is_default")]
    pub error_style: ErrorStyle,
    /// A broken token endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_response: Option<TokenFault>,
    /// A broken authorization redirect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect: Option<RedirectFault>,
    /// A broken JWKS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks: Option<JwksFault>,
    /// Where an implicit response puts the ID token: `token` or `code` are the platform's
    /// older handovers (`liveperson-auth.md` §1.4). Defaults to `id_token`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub implicit_param: Option<ImplicitParam>,
    /// Rotate to a new signing key just before the token is signed (the verifier's cached
    /// keys are then stale).
    #[serde(skip_serializing_if = "is_false")]
    pub rotate_before_signing: bool,
    /// With `reauthenticate_after_secs`: rotate to a new signing key between the two logins,
    /// after the verifier has cached the first key set.
    #[serde(skip_serializing_if = "is_false")]
    pub rotate_between_logins: bool,
    /// Issue this token instead of minting one (`oidc-harness fixture` writes these): the
    /// header and payload as text, placeholders filled, signed and sealed as the original was.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "write_token"
    )]
    pub token: Option<TokenTemplate>,
    /// Safety checks the provider skips (`reusable-code`, `any-redirect-uri`, ...): a scenario
    /// that proves a check of the provider's fails with it skipped.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lapses: Vec<crate::idp::Lapse>,
}

/// How the platform authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientAuthSpec {
    /// HTTP Basic, form body. The default.
    #[default]
    Basic,
    /// Credentials in the form body.
    Body,
    /// HTTP Basic, JSON body.
    Json,
}

/// How the platform gets the brand's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeySpec {
    /// The provider's JWKS URL. The default.
    #[default]
    Jwks,
    /// The console's one-line public key (the active signing key).
    PublicKey,
}

/// `[verifier]`: how the platform side is configured.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct VerifierSpec {
    /// Client authentication at the token endpoint.
    #[serde(skip_serializing_if = "is_default")]
    pub client_auth: ClientAuthSpec,
    /// Send a PKCE challenge and verifier.
    #[serde(skip_serializing_if = "is_false")]
    pub pkce: bool,
    /// Check `aud` against the client id. Defaults to `true`.
    #[serde(skip_serializing_if = "is_true")]
    pub check_audience: bool,
    /// Send a nonce and check it. Defaults to `true`.
    #[serde(skip_serializing_if = "is_true")]
    pub nonce: bool,
    /// Where the key comes from.
    #[serde(skip_serializing_if = "is_default")]
    pub key: KeySpec,
    /// Refuse plain JWS.
    #[serde(skip_serializing_if = "is_false")]
    pub require_encryption: bool,
    /// Give the verifier the platform's private key. Defaults to `true`.
    #[serde(skip_serializing_if = "is_true")]
    pub decryption_key: bool,
    /// The docs' millisecond timestamps.
    #[serde(skip_serializing_if = "is_false")]
    pub insecure_allow_millisecond_timestamps: bool,
    /// The docs' string timestamps.
    #[serde(skip_serializing_if = "is_false")]
    pub insecure_allow_string_timestamps: bool,
    /// Token endpoint and JWKS timeout, milliseconds. Defaults to `5000`; the slow-provider
    /// scenarios set it under the provider's 3-second delay.
    #[serde(skip_serializing_if = "is_default_http_timeout")]
    pub http_timeout_ms: u64,
    /// Verify this many seconds after the token was issued. Defaults to `0`.
    #[serde(skip_serializing_if = "is_default")]
    pub verify_after_secs: i64,
    /// Accept each ID token once (`reject_replays`). Defaults to `false`, as the platform.
    #[serde(skip_serializing_if = "is_false")]
    pub reject_replays: bool,
    /// Audiences besides the client that `aud` may name. Defaults to none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trusted_audiences: Vec<String>,
    /// The looser reading of `aud`: untrusted audiences pass when `azp` is the client.
    #[serde(skip_serializing_if = "is_false")]
    pub allow_untrusted_audiences: bool,
    /// Where `phone_number` is shown. Defaults to `customer-imei`.
    #[serde(skip_serializing_if = "is_default")]
    pub phone_number_mapping: PhoneMappingSpec,
    /// Refuse a token whose `lp_sdes` breaks the schema. Defaults to `false`, as the platform.
    #[serde(skip_serializing_if = "is_false")]
    pub lp_sdes_strict: bool,
    /// Clock skew allowed on `exp`, `iat` and `nbf`, seconds. Defaults to `60`, as `verify`.
    #[serde(skip_serializing_if = "is_default_leeway")]
    pub leeway_secs: i64,
}

/// Where `phone_number` is shown (`liveperson-auth.md` §3.2, §7.1 item 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PhoneMappingSpec {
    /// `ctmrinfo.imei`, the newer pages. The default.
    #[default]
    CustomerImei,
    /// `personal.contacts[0].phone`, the older pages.
    PersonalContactPhone,
}

impl Default for VerifierSpec {
    fn default() -> Self {
        Self {
            client_auth: ClientAuthSpec::Basic,
            pkce: false,
            check_audience: true,
            nonce: true,
            key: KeySpec::Jwks,
            require_encryption: false,
            decryption_key: true,
            insecure_allow_millisecond_timestamps: false,
            insecure_allow_string_timestamps: false,
            http_timeout_ms: HTTP_TIMEOUT_MS,
            verify_after_secs: 0,
            reject_replays: false,
            trusted_audiences: Vec::new(),
            allow_untrusted_audiences: false,
            phone_number_mapping: PhoneMappingSpec::CustomerImei,
            lp_sdes_strict: false,
            leeway_secs: LEEWAY_SECS,
        }
    }
}

/// `[expect]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The verdict.
    pub verdict: Verdict,
    /// The reason code, for `rejected` (and allowed with `either`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What the platform reading decides, where it differs from `verdict` and `reason` (which
    /// are the strict reading's): `"authenticated"` (the platform's published rules take the
    /// token; the strict reading's refusal is then its first finding), or the reason code it
    /// refuses with. Absent: both readings agree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// The consumer's `sub`, exactly, when authenticated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Agent-view fields that must be shown with exactly these values
    /// (`"personal.firstname" = "Alice"`), when authenticated.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
    /// Paths that must have been dropped from what the agent sees, each named by a warning
    /// (`"ctmrinfo.info.storeNumber"`, `"lp_sdes[2] type \"cart\""`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<String>,
    /// Text that must appear in one of the verdict's warnings, each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// What the provider must have seen the platform send.
    #[serde(default, skip_serializing_if = "ExpectProvider::is_empty")]
    pub provider: ExpectProvider,
    /// The platform IDP's `internalErrorCode` for a flow through it (`"9011"`), when rejected.
    /// Whatever is given, the IDP's answer must be the one its mapping gives for the verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_error_code: Option<String>,
    /// After re-authenticating through the IDP: whether the second consumer JWT names the same
    /// consumer as the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_consumer: Option<bool>,
}

impl Expect {
    /// `verdict` and nothing else: no reason, no consumer, nothing the provider must have seen.
    pub fn only(verdict: Verdict) -> Self {
        Self {
            verdict,
            reason: None,
            platform: None,
            sub: None,
            fields: BTreeMap::new(),
            dropped: Vec::new(),
            warnings: Vec::new(),
            provider: ExpectProvider::default(),
            internal_error_code: None,
            same_consumer: None,
        }
    }
}

/// `[expect.provider]`: what the platform's requests carried, as the provider recorded them.
/// Each member, when given, must hold for every request of its kind the scenario made.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectProvider {
    /// How the token request authenticated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_auth: Option<ClientAuthSeen>,
    /// How the token request's body was encoded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<BodySeen>,
    /// Whether the authorization request carried a nonce.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<bool>,
    /// The PKCE method of the authorization request; with `S256` or `plain`, the token
    /// request must also have carried a `code_verifier`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pkce: Option<PkceSeen>,
    /// How many token requests the platform made (`0`: it redeemed nothing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_requests: Option<usize>,
}

impl ExpectProvider {
    /// Whether anything is asked.
    pub fn is_empty(&self) -> bool {
        self.client_auth.is_none()
            && self.body.is_none()
            && self.nonce.is_none()
            && self.pkce.is_none()
            && self.token_requests.is_none()
    }
}

/// `[brands]`: the platform's connector is this brand's (its issuer, JWKS, client and token
/// endpoint); a second brand, `other`, is served beside it with keys of its own and the same
/// client id under another secret. What a multi-tenant platform must refuse crosses between
/// them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct BrandsSpec {
    /// Where the consumer signs in; the code or token still goes to this brand's connector.
    pub sign_in: BrandSide,
    /// The other brand signs under this brand's active kid (a different key, the same id).
    pub same_kid: bool,
    /// This brand's JWKS also publishes the other brand's signing key.
    pub jwks_with_other_key: bool,
}

impl BrandsSpec {
    /// Whether a second brand is served at all.
    pub fn in_use(&self) -> bool {
        *self != Self::default()
    }
}

/// One of the two brands of `[brands]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BrandSide {
    /// The brand whose connector the platform uses.
    #[default]
    This,
    /// The other one.
    Other,
}

/// One scenario as written.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Stable id: the OpenID RP test id or the catalog entry.
    pub id: String,
    /// Why this case matters.
    pub title: String,
    /// The flow.
    pub flow: FlowKind,
    /// The persona to log in. Defaults to `alice`.
    #[serde(default = "alice", skip_serializing_if = "is_alice")]
    pub persona: String,
    /// The fixed time the scenario runs at (RFC 3339). Defaults to `2026-06-01T12:00:00Z`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub now: Option<String>,
    /// Why this scenario is not run; it is reported as SKIP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip: Option<String>,
    /// The document and section the expectation rests on; required for a run `either`, which
    /// only a source that allows both outcomes justifies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Why this rejecting scenario would not authenticate with its `[provider]` faults
    /// removed (the flip check, [`Scenario::flipped`]); absent, it must.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flip: Option<String>,
    /// The ID token is handed to the platform a second time, as a replay; the second verdict
    /// is the scenario's. Only for flows that hand over an ID token.
    #[serde(default, skip_serializing_if = "is_false")]
    pub replay: bool,
    /// The `response_type` the platform asks for. Defaults to `code` for the code flows and
    /// `id_token` for the others; the code flows also take the hybrid `code id_token`,
    /// `code token` and `code id_token token`, the others `id_token token` and the legacy
    /// `token` (with `implicit_param`, the ID token comes back as `token`). With more than
    /// one artifact, the front channel's ID token is verified before the code is redeemed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_type: Option<String>,
    /// Log in once, check that this many seconds later the ID token has expired, then log
    /// in again at that time; the second verdict is the scenario's. Only for flows that hand
    /// over an ID token, and `mobile-code` (whose consumer JWT expires with its ID token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reauthenticate_after_secs: Option<i64>,
    /// Who logs in the second time. Defaults to `persona`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reauthenticate_as: Option<String>,
    /// What the app's backend did (`mobile-code`).
    #[serde(default, skip_serializing_if = "is_default")]
    pub mobile: MobileSpec,
    /// Provider behaviour.
    #[serde(default, skip_serializing_if = "is_default")]
    pub provider: ProviderSpec,
    /// Verifier configuration.
    #[serde(default, skip_serializing_if = "is_default")]
    pub verifier: VerifierSpec,
    /// Two brands in one provider, and what crosses between them.
    #[serde(default, skip_serializing_if = "is_default")]
    pub brands: BrandsSpec,
    /// The expectation.
    pub expect: Expect,
    /// Where it was read from.
    #[serde(skip)]
    pub path: PathBuf,
    /// The expected reason, checked.
    #[serde(skip)]
    pub reason: Option<RejectReason>,
    /// The platform reading's expected verdict, checked: `None` where it is the same as the
    /// strict reading's, `Some(None)` authenticated, `Some(Some(reason))` rejected.
    #[serde(skip)]
    pub platform: Option<Option<RejectReason>>,
    /// The fixed time, parsed.
    #[serde(skip)]
    pub now_unix: i64,
}

fn alice() -> String {
    "alice".to_owned()
}

/// The verifier's token endpoint and JWKS timeout unless a file says otherwise.
const HTTP_TIMEOUT_MS: u64 = 5000;

/// The verifier's clock skew allowance unless a file says otherwise, as `verify`'s.
const LEEWAY_SECS: i64 = 60;

// What a written file leaves out: the members whose value is the one a reader assumes.

fn is_alice(persona: &str) -> bool {
    persona == alice()
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

fn is_false(flag: &bool) -> bool {
    !flag
}

fn is_true(flag: &bool) -> bool {
    *flag
}

fn is_default_http_timeout(ms: &u64) -> bool {
    *ms == HTTP_TIMEOUT_MS
}

fn is_default_leeway(secs: &i64) -> bool {
    *secs == LEEWAY_SECS
}

/// `[provider.token]` as a file holds it: the text first, then how it is signed and sealed,
/// leaving out a default that does not apply (`sign` beside `compact`, `encrypt_to` without
/// an envelope).
fn write_token<S: serde::Serializer>(
    token: &Option<TokenTemplate>,
    out: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Written<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        header: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        payload: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        envelope: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        compact: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        sign: Option<Sign>,
        #[serde(skip_serializing_if = "Option::is_none")]
        signature_len: Option<usize>,
        #[serde(skip_serializing_if = "Option::is_none")]
        encrypt_to: Option<Recipient>,
        #[serde(skip_serializing_if = "Option::is_none")]
        segment_lens: Option<[usize; 4]>,
    }
    let written = token.as_ref().map(|t| Written {
        header: t.header.as_deref(),
        payload: t.payload.as_deref(),
        envelope: t.envelope.as_deref(),
        compact: t.compact.as_deref(),
        sign: (t.compact.is_none() || !is_default(&t.sign)).then_some(t.sign),
        signature_len: t.signature_len,
        encrypt_to: (t.envelope.is_some() || !is_default(&t.encrypt_to)).then_some(t.encrypt_to),
        segment_lens: t.segment_lens,
    });
    written.serialize(out)
}

/// The time scenarios run at unless they say otherwise.
pub const DEFAULT_NOW: &str = "2026-06-01T12:00:00Z";

/// A scenario file that could not be used: `file: line: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {line}: {message}", path.display())]
pub struct ScenarioError {
    /// The file.
    pub path: PathBuf,
    /// The line (1-based; 1 when the problem is the whole file).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// A file being read: where its problems are reported.
struct Source<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Source<'_> {
    /// A problem on `line`.
    fn at_line(&self, line: usize, message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            path: self.path.to_owned(),
            line,
            message: message.into(),
        }
    }

    /// A problem on the first line that starts with `key` (1 when there is none).
    fn at(&self, key: &str, message: impl Into<String>) -> ScenarioError {
        self.at_line(self.line_of_key(key), message)
    }

    fn line_of_key(&self, key: &str) -> usize {
        self.text
            .lines()
            .position(|l| l.trim_start().starts_with(key))
            .map_or(1, |i| i + 1)
    }
}

impl Scenario {
    /// Parses and checks one scenario file's text.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ScenarioError> {
        let file = Source { path, text };
        let mut scenario: Scenario = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |span| line_of(text, span.start));
            file.at_line(line, e.message())
        })?;
        scenario.check_names(&file)?;
        scenario.read_reasons(&file)?;
        scenario.check_verdict(&file)?;
        scenario.check_response_type(&file)?;
        scenario.check_kept_token(&file)?;
        scenario.check_second_login(&file)?;
        scenario.check_app(&file)?;
        scenario.read_clock_and_persona(&file)?;
        scenario.path = path.to_owned();
        Ok(scenario)
    }

    /// `id` is one word; `title` says something.
    fn check_names(&self, file: &Source<'_>) -> Result<(), ScenarioError> {
        if self.id.trim().is_empty() || self.id.contains(char::is_whitespace) {
            return Err(file.at("id", "id must be non-empty and without spaces"));
        }
        if self.title.trim().is_empty() {
            return Err(file.at("title", "title must say why this scenario matters"));
        }
        Ok(())
    }

    /// `reason` and `platform` as reason codes, into [`Scenario::reason`] and
    /// [`Scenario::platform`].
    fn read_reasons(&mut self, file: &Source<'_>) -> Result<(), ScenarioError> {
        if let Some(code) = &self.expect.reason {
            let reason = RejectReason::from_code(code)
                .ok_or_else(|| file.at("reason", format!("unknown reason code {code:?}")))?;
            self.reason = Some(reason);
        }
        let Some(platform) = &self.expect.platform else {
            return Ok(());
        };
        let verdict = match platform.as_str() {
            "authenticated" => None,
            code => Some(RejectReason::from_code(code).ok_or_else(|| {
                file.at(
                    "platform",
                    format!("platform is \"authenticated\" or a reason code, not {code:?}"),
                )
            })?),
        };
        if self.expect.verdict != Verdict::Rejected {
            return Err(file.at(
                "platform",
                "platform differs only from a rejected verdict: the strict reading refuses \
                 whatever the platform reading does",
            ));
        }
        if verdict == self.reason {
            return Err(file.at(
                "platform",
                "platform repeats the verdict: leave it out where both readings agree",
            ));
        }
        self.platform = Some(verdict);
        Ok(())
    }

    /// The verdict goes with what else `[expect]` says: a reason, a source, a flip, the
    /// consumer.
    fn check_verdict(&self, file: &Source<'_>) -> Result<(), ScenarioError> {
        let e = &self.expect;
        match (e.verdict, &self.reason) {
            (Verdict::Rejected, None) => {
                return Err(file.at("verdict", "a rejected verdict needs a reason"))
            }
            (Verdict::Authenticated, Some(_)) => {
                return Err(file.at("reason", "an authenticated verdict has no reason"))
            }
            _ => {}
        }
        if e.verdict == Verdict::Either
            && self.skip.is_none()
            && self.source.as_deref().is_none_or(|s| s.trim().is_empty())
        {
            return Err(file.at("verdict", "either needs a source that allows both outcomes"));
        }
        if self.flip.is_some() && e.verdict != Verdict::Rejected {
            return Err(file.at("flip", "flip explains a rejecting scenario only"));
        }
        let someone_authenticates =
            e.verdict == Verdict::Authenticated || self.platform == Some(None);
        if !someone_authenticates
            && (e.sub.is_some()
                || !e.fields.is_empty()
                || !e.dropped.is_empty()
                || !e.warnings.is_empty())
        {
            return Err(file.at(
                "verdict",
                "sub, fields, dropped and warnings describe an authenticated consumer (the strict \
                 reading's, or the platform reading's with platform = \"authenticated\")",
            ));
        }
        Ok(())
    }

    /// `response_type` is one the flow can ask for.
    fn check_response_type(&self, file: &Source<'_>) -> Result<(), ScenarioError> {
        let Some(rt) = &self.response_type else {
            return Ok(());
        };
        let code_flow = self.flow.redeems_a_code();
        let allowed: &[&str] = if code_flow {
            &["code", "code id_token", "code token", "code id_token token"]
        } else {
            &["id_token", "id_token token", "token"]
        };
        if allowed.contains(&rt.as_str()) {
            return Ok(());
        }
        Err(file.at(
            "response_type",
            format!(
                "response_type {rt:?} does not fit a {} flow: use one of {}",
                if code_flow { "code" } else { "token-handing" },
                allowed.join(", ")
            ),
        ))
    }

    /// `[provider.token]` is whole, and issued as it is.
    fn check_kept_token(&self, file: &Source<'_>) -> Result<(), ScenarioError> {
        let p = &self.provider;
        let Some(token) = &p.token else {
            return Ok(());
        };
        let problem = token.problem().or_else(|| {
            (!p.mutate.is_empty() || p.encrypt).then_some(
                "a kept token is issued as it is: leave out mutate and encrypt (its envelope \
                 is its own)",
            )
        });
        match problem {
            Some(problem) => Err(file.at("[provider.token]", format!("token: {problem}"))),
            None => Ok(()),
        }
    }

    /// A replay or a second login fits the flow, and what it asks for is there.
    fn check_second_login(&self, file: &Source<'_>) -> Result<(), ScenarioError> {
        let hands_no_token = matches!(self.flow, FlowKind::Code | FlowKind::Popup);
        if self.provider.rotate_between_logins && self.reauthenticate_after_secs.is_none() {
            return Err(file.at(
                "rotate_between_logins",
                "rotate_between_logins needs reauthenticate_after_secs",
            ));
        }
        if self.reauthenticate_after_secs.is_some() && (self.replay || hands_no_token) {
            return Err(file.at(
                "reauthenticate_after_secs",
                "reauthenticate_after_secs needs a flow that hands over an ID token, or \
                 mobile-code, without replay",
            ));
        }
        if self.replay && hands_no_token {
            return Err(file.at(
                "replay",
                "replay needs a flow that hands over an ID token (implicit, popup-implicit, \
                 mobile) or an app's code (mobile-code)",
            ));
        }
        let Some(persona) = &self.reauthenticate_as else {
            return Ok(());
        };
        if self.reauthenticate_after_secs.is_none() {
            return Err(file.at(
                "reauthenticate_as",
                "reauthenticate_as needs reauthenticate_after_secs",
            ));
        }
        if crate::claims::fixture_personas().find(persona).is_none() {
            return Err(file.at("reauthenticate_as", format!("unknown persona {persona:?}")));
        }
        Ok(())
    }

    /// What only an app's flows have: `[mobile]`, the IDP's answers.
    fn check_app(&self, file: &Source<'_>) -> Result<(), ScenarioError> {
        if self.mobile != MobileSpec::default() && self.flow != FlowKind::MobileCode {
            return Err(file.at(
                "[mobile]",
                "[mobile] describes an app's code: flow = \"mobile-code\"",
            ));
        }
        if self.flow == FlowKind::MobileCode && self.verifier.pkce {
            return Err(file.at(
                "pkce",
                "an app hands the platform no PKCE verifier: mobile-code takes pkce = false",
            ));
        }
        let e = &self.expect;
        if (e.internal_error_code.is_some() || e.same_consumer.is_some())
            && !self.flow.through_the_idp()
        {
            return Err(file.at_line(
                file.line_of_key("internal_error_code")
                    .max(file.line_of_key("same_consumer")),
                "internal_error_code and same_consumer are the IDP's answers: flow = \"mobile\" \
                 or \"mobile-code\"",
            ));
        }
        if e.same_consumer.is_some() && self.reauthenticate_after_secs.is_none() {
            return Err(file.at(
                "same_consumer",
                "same_consumer compares two sign-ins: it needs reauthenticate_after_secs",
            ));
        }
        Ok(())
    }

    /// `now` into [`Scenario::now_unix`]; `persona` is one of the fixture personas.
    fn read_clock_and_persona(&mut self, file: &Source<'_>) -> Result<(), ScenarioError> {
        let now = self.now.as_deref().unwrap_or(DEFAULT_NOW);
        self.now_unix = crate::clock::parse_rfc3339(now)
            .map_err(|e| file.at("now", format!("now {now:?}: {e}")))?;
        if crate::claims::fixture_personas()
            .find(&self.persona)
            .is_none()
        {
            return Err(file.at("persona", format!("unknown persona {:?}", self.persona)));
        }
        Ok(())
    }
}

impl Scenario {
    /// A scenario with `id`, `title`, `flow` and `expect`, and everything else as a file that
    /// leaves it out has it.
    pub fn new(id: String, title: String, flow: FlowKind, expect: Expect) -> Self {
        Self {
            id,
            title,
            flow,
            persona: alice(),
            now: None,
            skip: None,
            source: None,
            flip: None,
            replay: false,
            response_type: None,
            reauthenticate_after_secs: None,
            reauthenticate_as: None,
            mobile: MobileSpec::default(),
            provider: ProviderSpec::default(),
            verifier: VerifierSpec::default(),
            brands: BrandsSpec::default(),
            expect,
            path: PathBuf::new(),
            reason: None,
            platform: None,
            now_unix: 0,
        }
    }

    /// The scenario as a file's text, leaving out what is as a reader assumes it;
    /// [`Scenario::parse`] reads it back.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string(self)
    }

    /// The `response_type` the platform asks for.
    pub fn response_type(&self) -> &str {
        match (&self.response_type, self.flow) {
            (Some(rt), _) => rt,
            (None, FlowKind::Code | FlowKind::Popup | FlowKind::MobileCode) => "code",
            (None, _) => "id_token",
        }
    }

    /// The flip check's twin: the same scenario with its `[provider]` faults removed (no
    /// mutation, no broken endpoint, redirect or JWKS, no rotation) and no replay, expected to
    /// authenticate.
    /// `None` for a scenario that does not expect `rejected`, is skipped, or says in `flip`
    /// why its rejection does not come from its faults.
    pub fn flipped(&self) -> Option<Scenario> {
        if self.expect.verdict != Verdict::Rejected || self.skip.is_some() || self.flip.is_some() {
            return None;
        }
        let mut twin = self.clone();
        twin.id = format!("{}~flipped", self.id);
        twin.replay = false;
        twin.mobile.hands_over_redirect_uri = None;
        let p = &mut twin.provider;
        p.mutate.clear();
        p.lapses.clear();
        p.token_response = None;
        p.redirect = None;
        p.jwks = None;
        p.rotate_before_signing = false;
        p.rotate_between_logins = false;
        p.token = None;
        // The envelope's algorithms can be the cause too (the strict reading refuses some).
        p.alg = Default::default();
        p.enc = Default::default();
        // The consumer signs in where the connector points; nothing crosses.
        twin.brands = BrandsSpec::default();
        twin.expect = Expect::only(Verdict::Authenticated);
        twin.reason = None;
        twin.platform = None;
        Some(twin)
    }
}

/// Reads every `*.toml` under `paths` (files or folders, recursively, in name order) and checks
/// that ids are unique. The first bad file stops the load.
pub fn load(paths: &[PathBuf]) -> Result<Vec<Scenario>, ScenarioError> {
    let mut files = Vec::new();
    for path in paths {
        collect(path, &mut files)?;
    }
    files.sort();
    let mut scenarios: Vec<Scenario> = Vec::with_capacity(files.len());
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|e| ScenarioError {
            path: file.clone(),
            line: 1,
            message: e.to_string(),
        })?;
        let scenario = Scenario::parse(&file, &text)?;
        if let Some(other) = scenarios.iter().find(|s| s.id == scenario.id) {
            return Err(ScenarioError {
                path: file,
                line: 1,
                message: format!(
                    "id {:?} is also used by {}",
                    scenario.id,
                    other.path.display()
                ),
            });
        }
        scenarios.push(scenario);
    }
    Ok(scenarios)
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), ScenarioError> {
    let io = |e: std::io::Error| ScenarioError {
        path: path.to_owned(),
        line: 1,
        message: e.to_string(),
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_file() {
        out.push(path.to_owned());
        return Ok(());
    }
    for entry in std::fs::read_dir(path).map_err(io)? {
        let entry = entry.map_err(io)?.path();
        if entry.is_dir() {
            collect(&entry, out)?;
        } else if entry.extension().is_some_and(|e| e == "toml") {
            out.push(entry);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scenario of `flow` that authenticates, and nothing else.
    fn bare(flow: FlowKind) -> Scenario {
        Scenario::new(
            "x".into(),
            "t".into(),
            flow,
            Expect::only(Verdict::Authenticated),
        )
    }

    /// `scenario` written and read back, and `Debug` of both: every member, checked or not.
    fn rewritten(scenario: &Scenario) -> (String, String, String) {
        let text = scenario.to_toml().unwrap();
        let again =
            Scenario::parse(&scenario.path, &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        (format!("{scenario:?}"), format!("{again:?}"), text)
    }

    #[test]
    fn every_scenario_file_reads_back_as_it_is_written() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let scenarios = load(&[dir]).unwrap();
        assert!(scenarios.len() >= 250, "{}", scenarios.len());
        for scenario in &scenarios {
            let (before, after, text) = rewritten(scenario);
            assert_eq!(before, after, "{}:\n{text}", scenario.path.display());
        }
    }

    #[test]
    fn a_written_file_leaves_out_what_a_reader_assumes() {
        let mut scenario = bare(FlowKind::Code);
        assert_eq!(
            scenario.to_toml().unwrap(),
            "id = \"x\"\ntitle = \"t\"\nflow = \"code\"\n\n[expect]\nverdict = \"authenticated\"\n"
        );
        scenario.verifier.leeway_secs = 0;
        scenario.verifier.check_audience = false;
        scenario.verifier.trusted_audiences = vec!["b".into()];
        scenario.provider.token = Some(TokenTemplate {
            compact: Some("a.b".into()),
            ..TokenTemplate::default()
        });
        assert_eq!(
            scenario.to_toml().unwrap(),
            "id = \"x\"\ntitle = \"t\"\nflow = \"code\"\n\n\
             [provider.token]\ncompact = \"a.b\"\n\n\
             [verifier]\ncheck_audience = false\ntrusted_audiences = [\"b\"]\nleeway_secs = 0\n\n\
             [expect]\nverdict = \"authenticated\"\n"
        );
    }

    #[test]
    fn a_kept_token_reads_back_byte_for_byte() {
        let texts = [
            "{\n  \"alg\": \"RS256\",\n\t\"kid\": \"${kid}\"\n}\n",
            "\n{\"a\":\"'''\\\"\\\"\\\"\",\"b\":\"\"\"\"}",
            "{\"x\":\"it's \\\\ \\u00e9 é\"}\r\n",
            "ends with a backslash \\",
            "\u{1}\u{7f} controls",
            "'''",
            "\"\"\"",
        ];
        for text in texts {
            let mut scenario = bare(FlowKind::Implicit);
            let token = TokenTemplate {
                header: Some(text.into()),
                payload: Some(text.into()),
                envelope: Some(text.into()),
                sign: Sign::Zeros,
                signature_len: Some(3),
                encrypt_to: Recipient::Nobody,
                segment_lens: Some([1, 2, 3, 4]),
                ..TokenTemplate::default()
            };
            scenario.provider.token = Some(token.clone());
            let text = scenario.to_toml().unwrap();
            let again = Scenario::parse(Path::new("t.toml"), &text).unwrap();
            assert_eq!(again.provider.token, Some(token), "{text}");
        }
        // What does not apply is left out only where it is the default, so nothing is lost.
        for (sign, encrypt_to) in [
            (Sign::Published, Recipient::Platform),
            (Sign::Unpublished, Recipient::Other),
        ] {
            let token = TokenTemplate {
                compact: Some("a.b.c".into()),
                sign,
                encrypt_to,
                ..TokenTemplate::default()
            };
            let mut scenario = bare(FlowKind::Implicit);
            scenario.provider.token = Some(token.clone());
            let text = scenario.to_toml().unwrap();
            let read: Scenario = toml::from_str(&text).unwrap();
            assert_eq!(read.provider.token, Some(token), "{text}");
            assert_eq!(text.contains("sign ="), sign != Sign::Published, "{text}");
        }
    }
}
