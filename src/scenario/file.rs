//! Scenario files: TOML, one scenario a file, read strictly. A bad file is an error that names
//! the file and the line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::idp::{
    BodySeen, ClientAuthSeen, ErrorStyle, ImplicitParam, JwksFault, PkceSeen, RedirectFault,
    TokenFault,
};
use crate::jose::malform::Mutation;
use crate::jose::{ContentEnc, KeyAlg};
use crate::verifier::RejectReason;

/// How the consumer's token reaches the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MobileSpec {
    /// The redirect URI the app's backend asked the code for. Defaults to
    /// `https://liveperson.net`, the SDKs' default.
    pub redirect_uri: String,
    /// The redirect URI the app names to the IDP, when it is not the one the code was issued
    /// for (the flip check puts it back).
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
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
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProviderSpec {
    /// Malformations applied to the ID token.
    pub mutate: Vec<Mutation>,
    /// Sign, then encrypt to the platform key.
    pub encrypt: bool,
    /// JWE key management when encrypting. Defaults to `RSA-OAEP-256`.
    pub alg: KeyAlg,
    /// JWE content encryption when encrypting. Defaults to `A256GCM`.
    pub enc: ContentEnc,
    /// The token endpoint's error names.
    pub error_style: ErrorStyle,
    /// A broken token endpoint.
    pub token_response: Option<TokenFault>,
    /// A broken authorization redirect.
    pub redirect: Option<RedirectFault>,
    /// A broken JWKS.
    pub jwks: Option<JwksFault>,
    /// Where an implicit response puts the ID token: `token` or `code` are the platform's
    /// older handovers (`liveperson-auth.md` §1.4). Defaults to `id_token`.
    pub implicit_param: Option<ImplicitParam>,
    /// Rotate to a new signing key just before the token is signed (the verifier's cached
    /// keys are then stale).
    pub rotate_before_signing: bool,
    /// With `reauthenticate_after_secs`: rotate to a new signing key between the two logins,
    /// after the verifier has cached the first key set.
    pub rotate_between_logins: bool,
    /// Issue this token instead of minting one (`oidc-harness fixture` writes these): the
    /// header and payload as text, placeholders filled, signed and sealed as the original was.
    pub token: Option<crate::jose::template::TokenTemplate>,
    /// Safety checks the provider skips (`reusable-code`, `any-redirect-uri`, ...): a scenario
    /// that proves a check of the provider's fails with it skipped.
    pub lapses: Vec<crate::idp::Lapse>,
}

/// How the platform authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeySpec {
    /// The provider's JWKS URL. The default.
    #[default]
    Jwks,
    /// The console's one-line public key (the active signing key).
    PublicKey,
}

/// `[verifier]`: how the platform side is configured.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VerifierSpec {
    /// Client authentication at the token endpoint.
    pub client_auth: ClientAuthSpec,
    /// Send a PKCE challenge and verifier.
    pub pkce: bool,
    /// Check `aud` against the client id. Defaults to `true`.
    pub check_audience: bool,
    /// Send a nonce and check it. Defaults to `true`.
    pub nonce: bool,
    /// Where the key comes from.
    pub key: KeySpec,
    /// Refuse plain JWS.
    pub require_encryption: bool,
    /// Give the verifier the platform's private key. Defaults to `true`.
    pub decryption_key: bool,
    /// The docs' millisecond timestamps.
    pub insecure_allow_millisecond_timestamps: bool,
    /// The docs' string timestamps.
    pub insecure_allow_string_timestamps: bool,
    /// Token endpoint and JWKS timeout, milliseconds. Defaults to `5000`; the slow-provider
    /// scenarios set it under the provider's 3-second delay.
    pub http_timeout_ms: u64,
    /// Verify this many seconds after the token was issued. Defaults to `0`.
    pub verify_after_secs: i64,
    /// Accept each ID token once (`reject_replays`). Defaults to `false`, as the platform.
    pub reject_replays: bool,
    /// Audiences besides the client that `aud` may name. Defaults to none.
    pub trusted_audiences: Vec<String>,
    /// The looser reading of `aud`: untrusted audiences pass when `azp` is the client.
    pub allow_untrusted_audiences: bool,
    /// Where `phone_number` is shown. Defaults to `customer-imei`.
    pub phone_number_mapping: PhoneMappingSpec,
    /// Refuse a token whose `lp_sdes` breaks the schema. Defaults to `false`, as the platform.
    pub lp_sdes_strict: bool,
    /// Clock skew allowed on `exp`, `iat` and `nbf`, seconds. Defaults to `60`, as `verify`.
    pub leeway_secs: i64,
}

/// Where `phone_number` is shown (`liveperson-auth.md` §3.2, §7.1 item 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
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
            http_timeout_ms: 5000,
            verify_after_secs: 0,
            reject_replays: false,
            trusted_audiences: Vec::new(),
            allow_untrusted_audiences: false,
            phone_number_mapping: PhoneMappingSpec::CustomerImei,
            lp_sdes_strict: false,
            leeway_secs: 60,
        }
    }
}

/// `[expect]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The verdict.
    pub verdict: Verdict,
    /// The reason code, for `rejected` (and allowed with `either`).
    pub reason: Option<String>,
    /// What the platform reading decides, where it differs from `verdict` and `reason` (which
    /// are the strict reading's): `"authenticated"` (the platform's published rules take the
    /// token; the strict reading's refusal is then its first finding), or the reason code it
    /// refuses with. Absent: both readings agree.
    #[serde(default)]
    pub platform: Option<String>,
    /// The consumer's `sub`, exactly, when authenticated.
    #[serde(default)]
    pub sub: Option<String>,
    /// Agent-view fields that must be shown with exactly these values
    /// (`"personal.firstname" = "Alice"`), when authenticated.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// Paths that must have been dropped from what the agent sees, each named by a warning
    /// (`"ctmrinfo.info.storeNumber"`, `"lp_sdes[2] type \"cart\""`).
    #[serde(default)]
    pub dropped: Vec<String>,
    /// Text that must appear in one of the verdict's warnings, each.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// What the provider must have seen the platform send.
    #[serde(default)]
    pub provider: ExpectProvider,
    /// The platform IDP's `internalErrorCode` for a flow through it (`"9011"`), when rejected.
    /// Whatever is given, the IDP's answer must be the one its mapping gives for the verdict.
    #[serde(default)]
    pub internal_error_code: Option<String>,
    /// After re-authenticating through the IDP: whether the second consumer JWT names the same
    /// consumer as the first.
    #[serde(default)]
    pub same_consumer: Option<bool>,
}

/// `[expect.provider]`: what the platform's requests carried, as the provider recorded them.
/// Each member, when given, must hold for every request of its kind the scenario made.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectProvider {
    /// How the token request authenticated.
    pub client_auth: Option<ClientAuthSeen>,
    /// How the token request's body was encoded.
    pub body: Option<BodySeen>,
    /// Whether the authorization request carried a nonce.
    pub nonce: Option<bool>,
    /// The PKCE method of the authorization request; with `S256` or `plain`, the token
    /// request must also have carried a `code_verifier`.
    pub pkce: Option<PkceSeen>,
    /// How many token requests the platform made (`0`: it redeemed nothing).
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BrandSide {
    /// The brand whose connector the platform uses.
    #[default]
    This,
    /// The other one.
    Other,
}

/// One scenario as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Stable id: the OpenID RP test id or the catalog entry.
    pub id: String,
    /// Why this case matters.
    pub title: String,
    /// The flow.
    pub flow: FlowKind,
    /// The persona to log in. Defaults to `alice`.
    #[serde(default = "alice")]
    pub persona: String,
    /// The fixed time the scenario runs at (RFC 3339). Defaults to `2026-06-01T12:00:00Z`.
    #[serde(default)]
    pub now: Option<String>,
    /// Why this scenario is not run; it is reported as SKIP.
    #[serde(default)]
    pub skip: Option<String>,
    /// The document and section the expectation rests on; required for a run `either`, which
    /// only a source that allows both outcomes justifies.
    #[serde(default)]
    pub source: Option<String>,
    /// Why this rejecting scenario would not authenticate with its `[provider]` faults
    /// removed (the flip check, [`Scenario::flipped`]); absent, it must.
    #[serde(default)]
    pub flip: Option<String>,
    /// The ID token is handed to the platform a second time, as a replay; the second verdict
    /// is the scenario's. Only for flows that hand over an ID token.
    #[serde(default)]
    pub replay: bool,
    /// The `response_type` the platform asks for. Defaults to `code` for the code flows and
    /// `id_token` for the others; the code flows also take the hybrid `code id_token`,
    /// `code token` and `code id_token token`, the others `id_token token` and the legacy
    /// `token` (with `implicit_param`, the ID token comes back as `token`). With more than
    /// one artifact, the front channel's ID token is verified before the code is redeemed.
    #[serde(default)]
    pub response_type: Option<String>,
    /// Log in once, check that this many seconds later the ID token has expired, then log
    /// in again at that time; the second verdict is the scenario's. Only for flows that hand
    /// over an ID token, and `mobile-code` (whose consumer JWT expires with its ID token).
    #[serde(default)]
    pub reauthenticate_after_secs: Option<i64>,
    /// Who logs in the second time. Defaults to `persona`.
    #[serde(default)]
    pub reauthenticate_as: Option<String>,
    /// What the app's backend did (`mobile-code`).
    #[serde(default)]
    pub mobile: MobileSpec,
    /// Provider behaviour.
    #[serde(default)]
    pub provider: ProviderSpec,
    /// Verifier configuration.
    #[serde(default)]
    pub verifier: VerifierSpec,
    /// Two brands in one provider, and what crosses between them.
    #[serde(default)]
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

impl Scenario {
    /// Parses and checks one scenario file's text.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ScenarioError> {
        let err = |line: usize, message: String| ScenarioError {
            path: path.to_owned(),
            line,
            message,
        };
        let mut scenario: Scenario = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |span| line_of(text, span.start));
            err(line, e.message().to_owned())
        })?;
        let line_of_key = |key: &str| {
            text.lines()
                .position(|l| l.trim_start().starts_with(key))
                .map_or(1, |i| i + 1)
        };
        if scenario.id.trim().is_empty() || scenario.id.contains(char::is_whitespace) {
            return Err(err(
                line_of_key("id"),
                "id must be non-empty and without spaces".into(),
            ));
        }
        if scenario.title.trim().is_empty() {
            return Err(err(
                line_of_key("title"),
                "title must say why this scenario matters".into(),
            ));
        }
        if let Some(code) = &scenario.expect.reason {
            let reason = RejectReason::from_code(code).ok_or_else(|| {
                err(
                    line_of_key("reason"),
                    format!("unknown reason code {code:?}"),
                )
            })?;
            scenario.reason = Some(reason);
        }
        if let Some(platform) = &scenario.expect.platform {
            let verdict = match platform.as_str() {
                "authenticated" => None,
                code => Some(RejectReason::from_code(code).ok_or_else(|| {
                    err(
                        line_of_key("platform"),
                        format!("platform is \"authenticated\" or a reason code, not {code:?}"),
                    )
                })?),
            };
            if scenario.expect.verdict != Verdict::Rejected {
                return Err(err(
                    line_of_key("platform"),
                    "platform differs only from a rejected verdict: the strict reading refuses \
                     whatever the platform reading does"
                        .into(),
                ));
            }
            if verdict == scenario.reason {
                return Err(err(
                    line_of_key("platform"),
                    "platform repeats the verdict: leave it out where both readings agree".into(),
                ));
            }
            scenario.platform = Some(verdict);
        }
        match (scenario.expect.verdict, &scenario.reason) {
            (Verdict::Rejected, None) => {
                return Err(err(
                    line_of_key("verdict"),
                    "a rejected verdict needs a reason".into(),
                ))
            }
            (Verdict::Authenticated, Some(_)) => {
                return Err(err(
                    line_of_key("reason"),
                    "an authenticated verdict has no reason".into(),
                ))
            }
            _ => {}
        }
        if scenario.expect.verdict == Verdict::Either
            && scenario.skip.is_none()
            && scenario
                .source
                .as_deref()
                .is_none_or(|s| s.trim().is_empty())
        {
            return Err(err(
                line_of_key("verdict"),
                "either needs a source that allows both outcomes".into(),
            ));
        }
        if scenario.flip.is_some() && scenario.expect.verdict != Verdict::Rejected {
            return Err(err(
                line_of_key("flip"),
                "flip explains a rejecting scenario only".into(),
            ));
        }
        let e = &scenario.expect;
        let someone_authenticates =
            e.verdict == Verdict::Authenticated || scenario.platform == Some(None);
        if !someone_authenticates
            && (e.sub.is_some()
                || !e.fields.is_empty()
                || !e.dropped.is_empty()
                || !e.warnings.is_empty())
        {
            return Err(err(
                line_of_key("verdict"),
                "sub, fields, dropped and warnings describe an authenticated consumer (the strict \
                 reading's, or the platform reading's with platform = \"authenticated\")"
                    .into(),
            ));
        }
        if let Some(rt) = &scenario.response_type {
            let code_flow = scenario.flow.redeems_a_code();
            let allowed: &[&str] = if code_flow {
                &["code", "code id_token", "code token", "code id_token token"]
            } else {
                &["id_token", "id_token token", "token"]
            };
            if !allowed.contains(&rt.as_str()) {
                return Err(err(
                    line_of_key("response_type"),
                    format!(
                        "response_type {rt:?} does not fit a {} flow: use one of {}",
                        if code_flow { "code" } else { "token-handing" },
                        allowed.join(", ")
                    ),
                ));
            }
        }
        if let Some(token) = &scenario.provider.token {
            let p = &scenario.provider;
            let problem = token.problem().or_else(|| {
                (!p.mutate.is_empty() || p.encrypt).then_some(
                    "a kept token is issued as it is: leave out mutate and encrypt (its envelope \
                     is its own)",
                )
            });
            if let Some(problem) = problem {
                return Err(err(
                    line_of_key("[provider.token]"),
                    format!("token: {problem}"),
                ));
            }
        }
        if scenario.provider.rotate_between_logins && scenario.reauthenticate_after_secs.is_none() {
            return Err(err(
                line_of_key("rotate_between_logins"),
                "rotate_between_logins needs reauthenticate_after_secs".into(),
            ));
        }
        if scenario.reauthenticate_after_secs.is_some()
            && (scenario.replay || matches!(scenario.flow, FlowKind::Code | FlowKind::Popup))
        {
            return Err(err(
                line_of_key("reauthenticate_after_secs"),
                "reauthenticate_after_secs needs a flow that hands over an ID token, or \
                 mobile-code, without replay"
                    .into(),
            ));
        }
        if scenario.replay && matches!(scenario.flow, FlowKind::Code | FlowKind::Popup) {
            return Err(err(
                line_of_key("replay"),
                "replay needs a flow that hands over an ID token (implicit, popup-implicit, \
                 mobile) or an app's code (mobile-code)"
                    .into(),
            ));
        }
        if let Some(persona) = &scenario.reauthenticate_as {
            if scenario.reauthenticate_after_secs.is_none() {
                return Err(err(
                    line_of_key("reauthenticate_as"),
                    "reauthenticate_as needs reauthenticate_after_secs".into(),
                ));
            }
            if crate::claims::fixture_personas().find(persona).is_none() {
                return Err(err(
                    line_of_key("reauthenticate_as"),
                    format!("unknown persona {persona:?}"),
                ));
            }
        }
        if scenario.mobile != MobileSpec::default() && scenario.flow != FlowKind::MobileCode {
            return Err(err(
                line_of_key("[mobile]"),
                "[mobile] describes an app's code: flow = \"mobile-code\"".into(),
            ));
        }
        if scenario.flow == FlowKind::MobileCode && scenario.verifier.pkce {
            return Err(err(
                line_of_key("pkce"),
                "an app hands the platform no PKCE verifier: mobile-code takes pkce = false".into(),
            ));
        }
        let e = &scenario.expect;
        if (e.internal_error_code.is_some() || e.same_consumer.is_some())
            && !scenario.flow.through_the_idp()
        {
            return Err(err(
                line_of_key("internal_error_code").max(line_of_key("same_consumer")),
                "internal_error_code and same_consumer are the IDP's answers: flow = \"mobile\" \
                 or \"mobile-code\""
                    .into(),
            ));
        }
        if e.same_consumer.is_some() && scenario.reauthenticate_after_secs.is_none() {
            return Err(err(
                line_of_key("same_consumer"),
                "same_consumer compares two sign-ins: it needs reauthenticate_after_secs".into(),
            ));
        }
        let now = scenario.now.as_deref().unwrap_or(DEFAULT_NOW);
        scenario.now_unix = crate::clock::parse_rfc3339(now)
            .map_err(|e| err(line_of_key("now"), format!("now {now:?}: {e}")))?;
        if crate::claims::fixture_personas()
            .find(&scenario.persona)
            .is_none()
        {
            return Err(err(
                line_of_key("persona"),
                format!("unknown persona {:?}", scenario.persona),
            ));
        }
        scenario.path = path.to_owned();
        Ok(scenario)
    }
}

impl Scenario {
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
        twin.expect = Expect {
            verdict: Verdict::Authenticated,
            reason: None,
            platform: None,
            sub: None,
            fields: BTreeMap::new(),
            dropped: Vec::new(),
            warnings: Vec::new(),
            provider: ExpectProvider::default(),
            internal_error_code: None,
            same_consumer: None,
        };
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
