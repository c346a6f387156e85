//! `oidc-harness check`: a brand's own provider, checked the way the platform will use it.
//!
//! Discovery, keys and TLS are read directly. Codes and ID tokens come from sign-ins: a person
//! in a browser with the answer coming back to a loopback listener, or the user's commands.
//! Each sign-in is our own authorization request (`state`, `nonce`, PKCE S256), so what comes
//! back is checked against what was sent. Every check is one line of the report, at one level:
//! FAIL (the platform would refuse the consumer, or the provider is unsafe), WARN (differs from
//! Google's shape, or advisable), PASS, SKIP.
//!
//! With `mobile` (`--flow mobile-code`) the codes are taken as an app gets them for the mobile
//! SDK: the SDK hands the platform a code and its redirect URI, nothing else
//! (`liveperson-auth.md` §8.3), so the requests carry no PKCE challenge, the redemption no
//! verifier, and state and nonce are the app's: those lines are skipped, saying why.

mod http;
mod sign_in;

use std::time::{Duration, Instant};

use serde_json::Value;

use self::http::TokenAnswer;
use self::sign_in::Source as SignInSource;
use self::sign_in::{Failed, Request, Returned};
use super::report::{Answer, Evidence, Outcome, Status};
use crate::claims::{ClientId, Issuer, Nonce};
use crate::keys::RsaKey;
use crate::verifier::{
    AuthenticatedConsumer, Basis, ClientAuth, KeySource, Rejection, Verifier, VerifierConfig,
    VerifyContext,
};

/// The connector's PKCE toggle (`liveperson-auth.md` §1.1, §1.6), as `check` follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pkce {
    /// No challenge is sent, as a connector with PKCE off does.
    Off,
    /// A challenge is sent with every Code Flow request, as a connector with PKCE on does.
    On,
    /// As `On`, and one more sign-in without a challenge tells whether the provider requires
    /// PKCE (then the connector's toggle must be on) or takes a code without it. The default.
    #[default]
    Auto,
}

/// What to check and how to reach the provider.
#[derive(Debug, Clone)]
pub struct CheckPlan {
    /// The connector's PKCE toggle.
    pub pkce: Pkce,
    /// Codes as an app gets them and hands them to the mobile SDK (`--flow mobile-code`):
    /// asked for without a PKCE challenge whatever `pkce` says, redeemed as the platform
    /// redeems an app's code, state and nonce left to the app.
    pub mobile: bool,
    /// The provider's discovery URL.
    pub discovery: url::Url,
    /// The platform's client id at the provider.
    pub client_id: String,
    /// Its secret (empty for an Implicit-only run, which redeems nothing).
    pub client_secret: String,
    /// The client id for the Implicit Flow, for providers that register one client per flow
    /// (`--implicit-client-id`); `client_id` when `None`.
    pub implicit_client_id: Option<String>,
    /// That client's secret (`--implicit-client-secret`): the Implicit Flow redeems nothing,
    /// so it is only kept for the record.
    pub implicit_client_secret: Option<String>,
    /// The redirect URI registered for the commands' sign-ins.
    pub redirect_uri: String,
    /// The scopes asked for.
    pub scope: String,
    /// Where sign-ins come from.
    pub sign_in: SignIn,
    /// How long one command, or one sign-in in the browser, may take.
    pub command_timeout: Duration,
    /// The platform's private key for envelopes.
    pub decrypt_key: Option<RsaKey>,
    /// An extra CA to trust (PEM), such as `serve`'s local CA.
    pub extra_root_pem: Option<String>,
    /// Warnings count as failures.
    pub strict: bool,
    /// Now, Unix seconds.
    pub now: i64,
    /// Write a fixture scenario for every ID token the provider issued into this folder
    /// (`--save-fixtures`).
    pub save_fixtures: Option<std::path::PathBuf>,
}

/// Where `check` gets codes and ID tokens.
#[derive(Debug, Clone)]
pub enum SignIn {
    /// None: discovery, keys and TLS only, and the report says so.
    DiscoveryOnly,
    /// Commands that print a code / an ID token (or the whole redirect URL), run once per
    /// sign-in with the authorization request in `OIDC_HARNESS_AUTH_URL`.
    Commands {
        /// For the Code Flow.
        code_from: Option<String>,
        /// For the Implicit Flow.
        token_from: Option<String>,
    },
    /// A person signs in in a browser; the answer comes back to
    /// `http://127.0.0.1:<port>/callback`.
    Interactive {
        /// The listener's port; 0 picks a free one (RFC 8252 §7.3 providers accept any).
        port: u16,
        /// Run the Code Flow.
        code: bool,
        /// Run the Implicit Flow.
        implicit: bool,
        /// Open the first URL in the desktop's browser.
        open: bool,
    },
}

/// Google's discovery members (`google-oidc.md` §1.1), the platform's reference format.
const GOOGLE_FIELDS: [&str; 15] = [
    "issuer",
    "authorization_endpoint",
    "device_authorization_endpoint",
    "token_endpoint",
    "userinfo_endpoint",
    "revocation_endpoint",
    "jwks_uri",
    "response_types_supported",
    "subject_types_supported",
    "id_token_signing_alg_values_supported",
    "scopes_supported",
    "token_endpoint_auth_methods_supported",
    "claims_supported",
    "code_challenge_methods_supported",
    "grant_types_supported",
];

/// What a check found: its level, what was seen, and, when it is not the check's usual
/// rule, what the finding rests on.
struct Found {
    status: Status,
    detail: String,
    rests_on: Option<(Basis, &'static str)>,
}

impl Found {
    fn pass(detail: String) -> Self {
        Self::at(Status::Pass, detail)
    }
    fn warn(detail: String) -> Self {
        Self::at(Status::Warn, detail)
    }
    fn fail(detail: String) -> Self {
        Self::at(Status::Fail, detail)
    }
    /// Differs from Google's shape only: never a failure.
    fn note(detail: String) -> Self {
        Self::at(Status::Note, detail)
    }
    fn at(status: Status, detail: String) -> Self {
        Self {
            status,
            detail,
            rests_on: None,
        }
    }
    /// This finding rests on `basis`, written at `citation`, rather than on the check's rule.
    fn on(mut self, basis: Basis, citation: &'static str) -> Self {
        self.rests_on = Some((basis, citation));
        self
    }
}

impl From<Result<String, String>> for Found {
    fn from(result: Result<String, String>) -> Self {
        match result {
            Ok(detail) => Self::pass(detail),
            Err(detail) => Self::fail(detail),
        }
    }
}

/// What each check's rule rests on, and where it is written: a line's basis unless its finding
/// names another. The liveperson-auth.md and google-oidc.md sections are those of the
/// reference pages in docs/reference.
fn rule_of(id: &str) -> (Basis, &'static str) {
    use Basis::{Assumed, Documented, Observed, Standard};
    match id {
        "tls" | "https-everywhere" => (Documented, "liveperson-auth.md §4.2"),
        "discovery-fetch" => (Standard, "OpenID Discovery §4"),
        "discovery-fields" => (Documented, "liveperson-auth.md §1.1"),
        "discovery-issuer" => (Standard, "OpenID Discovery §4.3"),
        "id-token-alg" | "token-response-shape" => (Documented, "liveperson-auth.md §1.3"),
        "jwks-usable"
        | "code-id-token"
        | "implicit-id-token"
        | "iss-matches-discovery"
        | "id-token-verified" => (Documented, "liveperson-auth.md §4.1"),
        "jwks-cache-control" => (Assumed, "liveperson-auth.md §8.5"),
        "state-echoed" => (Documented, "liveperson-auth.md §1.4"),
        "token-basic" => (Documented, "liveperson-auth.md §1.2"),
        "token-no-store" => (Standard, "RFC 6749 §5.1"),
        "code-single-use" => (Standard, "RFC 6749 §4.1.2"),
        "code-envelope" | "implicit-envelope" => (Documented, "liveperson-auth.md §8.2"),
        "client-secret-checked" => (Standard, "RFC 6749 §2.3.1"),
        "redirect-uri-compared" => (Standard, "RFC 6749 §4.1.3"),
        "pkce-verifier-checked" => (Standard, "RFC 7636 §4.6"),
        "pkce-required" => (Documented, "liveperson-auth.md §1.1, §1.6"),
        "mobile-code-pkce" => (Assumed, "liveperson-auth.md §8.3"),
        "token-body" => (Documented, "liveperson-auth.md §7.1"),
        "nonce-echoed" | "aud-client-id" => (Standard, "OIDC Core §3.1.3.7"),
        "id-token-lifetime" => (Assumed, "liveperson-auth.md §8.1"),
        "kid-in-jwks" => (Observed, "liveperson-auth.md §8.4"),
        "error-json" => (Standard, "RFC 6749 §5.2"),
        _ => (Assumed, "oidc-harness"),
    }
}

struct Checklist {
    outcomes: Vec<Outcome>,
}

impl Checklist {
    fn push(&mut self, id: &str, title: &str, status: Status, detail: String, millis: u64) {
        let (basis, citation) = rule_of(id);
        self.outcomes.push(Outcome {
            id: id.to_owned(),
            title: title.to_owned(),
            group: "check".to_owned(),
            status,
            verdict: None,
            reason: None,
            rule: None,
            platform: None,
            detail,
            expected: "conforms".to_owned(),
            millis,
            evidence: Evidence::default(),
            basis: Some(basis),
            citation: Some(citation.to_owned()),
        });
    }

    fn record(&mut self, id: &str, title: &str, started: Instant, found: impl Into<Found>) {
        let found = found.into();
        let millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.push(id, title, found.status, found.detail, millis);
        if let (Some((basis, citation)), Some(last)) = (found.rests_on, self.outcomes.last_mut()) {
            last.basis = Some(basis);
            last.citation = Some(citation.to_owned());
        }
    }

    fn skip(&mut self, id: &str, title: &str, why: &str) {
        self.push(id, title, Status::Skip, why.to_owned(), 0);
    }

    /// Attaches what the last check saw.
    fn evidence(&mut self, evidence: Evidence) {
        if let Some(last) = self.outcomes.last_mut() {
            last.evidence = evidence;
        }
    }
}

/// The checks' titles, one place: a check keeps its id and title whatever happens to it.
mod title {
    pub(super) const TLS: &str = "TLS 1.2 or later with a certificate the platform trusts";
    pub(super) const DISCOVERY: &str = "the discovery document is served as JSON";
    pub(super) const FIELDS: &str =
        "discovery has Google's fields (issuer, endpoints, jwks_uri, algorithms, ...)";
    pub(super) const ISSUER: &str = "the issuer is the discovery URL's base, exactly";
    pub(super) const HTTPS: &str =
        "every URL is HTTPS: all authentication traffic is (liveperson-auth.md §4.2)";
    pub(super) const ALG: &str = "ID tokens can be signed with RS256 (liveperson-auth.md §2)";
    pub(super) const JWKS: &str =
        "the JWKS has RSA signing keys with a kid, base64url n and e, 2048 bits or more";
    pub(super) const JWKS_CACHE: &str = "the JWKS says how long to keep it (Cache-Control)";
    pub(super) const STATE: &str = "state comes back byte for byte";
    pub(super) const BASIC: &str =
        "the token endpoint redeems a code with HTTP Basic client authentication";
    pub(super) const BODY: &str =
        "the token endpoint redeems a code with client credentials in the body";
    pub(super) const SHAPE: &str = "the token response has Google's members, as JSON";
    pub(super) const NO_STORE: &str = "the token response says Cache-Control: no-store";
    pub(super) const SINGLE_USE: &str = "a code works once: a second redemption fails";
    pub(super) const SECRET: &str = "a wrong client secret gets 401 invalid_client";
    pub(super) const REDIRECT: &str =
        "a redirect_uri other than the authorization request's is refused";
    pub(super) const PKCE: &str = "with a PKCE challenge sent, a wrong verifier is refused";
    pub(super) const PKCE_REQUIRED: &str =
        "whether the provider requires PKCE, so the connector's PKCE toggle must be on";
    pub(super) const MOBILE_PKCE: &str = "a code asked for with a PKCE challenge, as apps are told to (RFC 8252 §6), redeemed without a verifier, as the platform redeems an app's code";
    pub(super) const ERRORS: &str = "error responses are JSON with an error member";
    pub(super) const CODE_ENVELOPE: &str =
        "the Code Flow's envelope opens with the platform key (--decrypt-key)";
    pub(super) const CODE_ID_TOKEN: &str = "the Code Flow's ID token verifies as the platform does: RS256, issuer, audience, nonce, at_hash, exp/iat in seconds, sub, lp_sdes";
    pub(super) const IMPLICIT_ENVELOPE: &str =
        "the Implicit Flow's envelope opens with the platform key (--decrypt-key)";
    pub(super) const IMPLICIT_ID_TOKEN: &str = "the Implicit Flow's ID token verifies as the platform does: RS256, issuer, audience, nonce, exp/iat in seconds, sub, lp_sdes";
    pub(super) const NONCE: &str = "nonce is echoed into the ID token";
    pub(super) const AUD: &str = "aud is the client id (and azp, when aud has several)";
    pub(super) const LIFETIME: &str = "exp - iat is positive and at most a day";
    pub(super) const KID: &str = "the ID token's kid is in the JWKS";
    pub(super) const ISS: &str = "the ID token's iss is the discovery issuer, byte for byte";
    pub(super) const VERIFIED: &str = "at least one ID token verified as the platform does";
    pub(super) const FIXTURES: &str =
        "every ID token issued is kept as a fixture that reproduces its verdict (--save-fixtures)";
}

/// Writes a fixture scenario for each ID token into `dir`; each must reproduce its verdict.
async fn save_fixtures(
    plan: &CheckPlan,
    provider: &Provider,
    issued: Vec<(String, VerifyContext, bool)>,
    dir: &std::path::Path,
) -> Result<String, String> {
    use super::fixture::{make, reproduced, FixtureOptions, Original};
    if issued.is_empty() {
        return Err("no ID token arrived, so there is nothing to keep".to_owned());
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let count = issued.len();
    let mut written = Vec::new();
    let mut misses = Vec::new();
    for (n, (token, ctx, implicit)) in issued.into_iter().enumerate() {
        let flow = if implicit { "implicit" } else { "code" };
        let options = FixtureOptions {
            flow: if implicit {
                super::FlowKind::Implicit
            } else {
                super::FlowKind::Code
            },
            keep: Vec::new(),
            fake: Vec::new(),
            id: None,
            source: format!(
                "oidc-harness check --discovery {} --client-id {}: the {flow} flow's ID token, {} of {count}",
                plan.discovery,
                plan.client_id,
                n + 1
            ),
        };
        let original = Original {
            token,
            config: provider.config.clone(),
            ctx,
        };
        let fixture = make(original, &options).await?;
        let id = fixture
            .text
            .lines()
            .find_map(|l| l.strip_prefix("id = \""))
            .and_then(|l| l.strip_suffix('"'))
            .unwrap_or("fixture")
            .to_owned();
        let path = dir.join(format!("{id}.toml"));
        std::fs::write(&path, &fixture.text).map_err(|e| format!("{}: {e}", path.display()))?;
        if !reproduced(&fixture) {
            misses.push(format!(
                "{} expects {} and gets {}",
                path.display(),
                fixture.expected,
                fixture.replay.detail
            ));
        }
        written.push(path.display().to_string());
    }
    if misses.is_empty() {
        Ok(format!(
            "{} written, each reproduces its verdict: {}",
            written.len(),
            written.join(", ")
        ))
    } else {
        Err(misses.join("; "))
    }
}

/// Text from the provider or a command as a report line quotes it: ANSI escape sequences
/// (colours, cursor moves, window titles) left out, every other control character (a tab, a
/// carriage return, a line break) a space, and no space at either end. Every quoted piece of a
/// provider's answer or a command's stderr goes through here.
fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(if c.is_control() { ' ' } else { c });
            continue;
        }
        match chars.next() {
            // CSI (ESC [): parameter and intermediate bytes, up to a final byte.
            Some('[') => {
                while let Some(&c) = chars.peek() {
                    if !(' '..='~').contains(&c) {
                        break;
                    }
                    chars.next();
                    if c >= '@' {
                        break;
                    }
                }
            }
            // OSC, DCS, SOS, PM, APC: a string up to BEL or ESC \.
            Some(']' | 'P' | 'X' | '^' | '_') => {
                while let Some(c) = chars.next() {
                    if c == '\u{7}' {
                        break;
                    }
                    if c == '\u{1b}' {
                        chars.next_if_eq(&'\\');
                        break;
                    }
                }
            }
            // ESC, intermediate bytes, a final byte (ESC ( B); or ESC and one byte (ESC 7).
            Some(c) if (' '..='/').contains(&c) => {
                while chars.next_if(|c| (' '..='/').contains(c)).is_some() {}
                chars.next();
            }
            Some(_) | None => {}
        }
    }
    out.trim().to_owned()
}

/// The longest ID-token lifetime the check accepts, as the platform's verifier does.
const MAX_LIFETIME_SECS: i64 = 86_400;

/// What the discovery and key checks leave for the sign-in checks.
struct Provider {
    doc: Value,
    issuer: String,
    jwks_kids: Vec<String>,
    /// How many RSA signing keys the JWKS holds, with a kid or without.
    rsa_keys: usize,
    verifier: Verifier,
    /// The verifier of the Implicit Flow's connector, when it has a client of its own.
    implicit_verifier: Option<Verifier>,
    /// What `verifier` was made from, for fixtures.
    config: VerifierConfig,
}

impl Provider {
    fn text(&self, key: &str) -> String {
        self.doc
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }
}

/// Checks a provider; every check is an outcome in the returned list.
pub async fn run_check(plan: &CheckPlan) -> Vec<Outcome> {
    let mut list = Checklist {
        outcomes: Vec::new(),
    };
    let Some(provider) = provider_checks(plan, &mut list).await else {
        return finish(plan, list.outcomes);
    };
    let source = match &plan.sign_in {
        SignIn::DiscoveryOnly => {
            list.skip(
                "id-token-verified",
                title::VERIFIED,
                "--discovery-only: no sign-in, so no code and no ID token was checked",
            );
            return finish(plan, list.outcomes);
        }
        SignIn::Commands {
            code_from,
            token_from,
        } => Ok(SignInSource::Commands {
            code: code_from.clone(),
            token: token_from.clone(),
            timeout: plan.command_timeout,
        }),
        SignIn::Interactive {
            port,
            code,
            implicit,
            open,
        } => sign_in::Loopback::bind(*port, *code, *implicit, plan.command_timeout, *open)
            .await
            .map(SignInSource::Browser),
    };
    let mut source = match source {
        Ok(source) => source,
        Err(e) => {
            list.record("id-token-verified", title::VERIFIED, Instant::now(), Err(e));
            return finish(plan, list.outcomes);
        }
    };
    let mut flows = Flows {
        plan,
        provider: &provider,
        list: &mut list,
        verified: 0,
        obtained: 0,
        signed_in: 0,
        honest_refused: None,
        tokens: Vec::new(),
        refusals: Vec::new(),
        denied: Vec::new(),
        issued: Vec::new(),
    };
    flows.code_flow(&mut source).await;
    flows.implicit_flow(&mut source).await;
    source.finish().await;
    flows.token_properties();
    flows.error_shape();
    let (verified, obtained, signed_in) = (flows.verified, flows.obtained, flows.signed_in);
    let issued = std::mem::take(&mut flows.issued);
    if let Some(dir) = &plan.save_fixtures {
        let started = Instant::now();
        let saved = save_fixtures(plan, &provider, issued, dir).await;
        list.record("fixtures-saved", title::FIXTURES, started, saved);
    }
    if verified == 0 {
        // The lines that failed on the way to an ID token, in the report's order.
        let failed: Vec<&str> = list
            .outcomes
            .iter()
            .filter(|o| o.status == Status::Fail)
            .map(|o| o.id.as_str())
            .filter(|id| {
                [
                    "token-basic",
                    "code-envelope",
                    "code-id-token",
                    "implicit-envelope",
                    "implicit-id-token",
                ]
                .contains(id)
            })
            .collect();
        let see = match failed.split_last() {
            None => String::new(),
            Some((last, [])) => format!(": see {last}"),
            Some((last, rest)) => format!(": see {} and {last}", rest.join(", ")),
        };
        let why = if obtained > 0 {
            format!("the provider issued ID tokens and the platform would refuse them{see}")
        } else if signed_in > 0 {
            format!("sign-ins worked, but no redemption brought an ID token back{see}")
        } else {
            let discovery_only = if matches!(plan.sign_in, SignIn::Interactive { .. }) {
                "; --discovery-only checks discovery alone"
            } else {
                ""
            };
            format!(
                "no sign-in brought an ID token back, so the platform's use of this provider is \
                 unproven{see}{discovery_only}"
            )
        };
        list.record(
            "id-token-verified",
            title::VERIFIED,
            Instant::now(),
            Err(why),
        );
    } else {
        list.record(
            "id-token-verified",
            title::VERIFIED,
            Instant::now(),
            Ok(format!("{verified} verified")),
        );
    }
    finish(plan, list.outcomes)
}

/// Applies `--strict`: a warning is then a failure.
fn finish(plan: &CheckPlan, mut outcomes: Vec<Outcome>) -> Vec<Outcome> {
    if plan.strict {
        for o in &mut outcomes {
            if o.status == Status::Warn {
                o.status = Status::Fail;
                o.detail = format!("{} (--strict)", o.detail);
            }
        }
    }
    outcomes
}

/// The issuer a discovery URL names: the URL without query and fragment, trailing `/`s
/// removed, then without the well-known suffix (OpenID Discovery §4), or with the well-known
/// segment taken out from between host and path (RFC 8414 §3).
fn issuer_of(discovery: &url::Url) -> String {
    let origin = &discovery[..url::Position::BeforePath];
    let path = discovery.path().trim_end_matches('/');
    for known in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        if let Some(prefix) = path.strip_suffix(known) {
            return format!("{origin}{prefix}");
        }
        if let Some(rest) = path.strip_prefix(known) {
            return format!("{origin}{rest}");
        }
    }
    format!("{origin}{path}")
}

/// TLS, discovery and keys; the verifier the sign-in checks use.
async fn provider_checks(plan: &CheckPlan, list: &mut Checklist) -> Option<Provider> {
    let (http, doc) = fetch_discovery(plan, list).await?;
    let issuer = discovery_lines(plan, &doc, list);
    let jwks_uri = text_of(&doc, "jwks_uri");
    let keys = jwks_lines(&http, &jwks_uri, list).await;
    platform_side(plan, doc, issuer, &jwks_uri, keys, list)
}

/// `tls` and `discovery-fetch`: the HTTP client and the discovery document, if both work.
async fn fetch_discovery(
    plan: &CheckPlan,
    list: &mut Checklist,
) -> Option<(reqwest::Client, Value)> {
    let http = match http::client(plan) {
        Ok(http) => http,
        Err(e) => {
            list.record("tls", title::TLS, Instant::now(), Err(e));
            return None;
        }
    };
    let started = Instant::now();
    let fetched = http::get_json(&http, plan.discovery.as_str()).await;
    let https = plan.discovery.scheme() == "https";
    let tls_found = match (&fetched, https) {
        (Err(http::FetchError::Transport(e)), _) if plan.extra_root_pem.is_some() => {
            Found::fail(http::with_ca_given(e))
        }
        (Err(http::FetchError::Transport(e)), _) => Found::fail(e.clone()),
        (_, false) => Found::fail(format!(
            "{} is plain HTTP: the platform only talks to providers over TLS",
            plan.discovery
        )),
        (_, true) => Found::pass(if plan.extra_root_pem.is_some() {
            "TLS 1.2 or later; the certificate chains to --ca (a private CA: the platform \
             needs a publicly trusted one)"
                .to_owned()
        } else {
            "TLS 1.2 or later; the certificate is publicly trusted and names the host".to_owned()
        }),
    };
    list.record("tls", title::TLS, started, tls_found);
    let (doc, _) = match fetched {
        Ok(ok) => {
            list.record(
                "discovery-fetch",
                title::DISCOVERY,
                started,
                Ok(plan.discovery.to_string()),
            );
            ok
        }
        Err(e) => {
            list.record("discovery-fetch", title::DISCOVERY, started, Err(e.into()));
            return None;
        }
    };
    Some((http, doc))
}

fn text_of(doc: &Value, key: &str) -> String {
    doc.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// `discovery-fields`, `discovery-issuer`, `https-everywhere` and `id-token-alg`: what the
/// discovery document says; its issuer.
fn discovery_lines(plan: &CheckPlan, doc: &Value, list: &mut Checklist) -> String {
    let text = |key: &str| text_of(doc, key);
    let started = Instant::now();
    let missing: Vec<&str> = GOOGLE_FIELDS
        .iter()
        .copied()
        .filter(|f| doc.get(*f).is_none())
        .collect();
    let essential = [
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "id_token_signing_alg_values_supported",
    ];
    let found = if missing.iter().any(|m| essential.contains(m)) {
        Found::fail(format!("missing {}", missing.join(", ")))
    } else if missing.is_empty() {
        Found::pass("every field of Google's document".to_owned())
    } else {
        Found::note(format!(
            "the essentials; not Google's {}",
            missing.join(", ")
        ))
        .on(Basis::Assumed, "google-oidc.md §1.1")
    };
    list.record("discovery-fields", title::FIELDS, started, found);

    let started = Instant::now();
    let issuer = text("issuer");
    let expected_issuer = issuer_of(&plan.discovery);
    // OpenID Discovery §4: a terminating `/` of the issuer is removed before the well-known
    // path is appended, so `https://op/` is the issuer of `https://op/.well-known/…` too.
    let result = if issuer.trim_end_matches('/') == expected_issuer {
        Found::pass(issuer.clone())
    } else {
        Found::warn(format!(
            "issuer {issuer:?} is not {expected_issuer:?}, the issuer this discovery URL \
             names (OpenID Discovery §4.3): configure the connector with the issuer the ID \
             tokens carry (iss-matches-discovery)"
        ))
    };
    list.record("discovery-issuer", title::ISSUER, started, result);

    let started = Instant::now();
    let insecure: Vec<String> = [
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "userinfo_endpoint",
    ]
    .iter()
    .filter(|k| doc.get(**k).is_some())
    .map(|k| (k, text(k)))
    .filter(|(_, v)| !v.starts_with("https://"))
    .map(|(k, v)| format!("{k} {v}"))
    .collect();
    let result = if insecure.is_empty() {
        Ok("issuer and every endpoint".to_owned())
    } else {
        Err(format!("not HTTPS: {}", insecure.join(", ")))
    };
    list.record("https-everywhere", title::HTTPS, started, result);

    let started = Instant::now();
    let algs = doc
        .get("id_token_signing_alg_values_supported")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let result = if algs.iter().any(|a| a == "RS256") {
        Ok("RS256 offered".to_owned())
    } else {
        Err(format!(
            "RS256 is not in {algs:?}: the platform verifies RS256 signatures only"
        ))
    };
    list.record("id-token-alg", title::ALG, started, result);

    issuer
}

/// `jwks-usable` and `jwks-cache-control`: the kids the JWKS publishes and how many usable RSA
/// signing keys it has.
async fn jwks_lines(
    http: &reqwest::Client,
    jwks_uri: &str,
    list: &mut Checklist,
) -> (Vec<String>, usize) {
    let started = Instant::now();
    let mut jwks_kids = Vec::new();
    let mut rsa_keys = 0;
    match http::get_json(http, jwks_uri).await {
        Err(e) => {
            list.record("jwks-usable", title::JWKS, started, Err(e.into()));
            list.skip("jwks-cache-control", title::JWKS_CACHE, "no JWKS");
        }
        Ok((jwks, answer)) => {
            let keys = jwks
                .get("keys")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            jwks_kids = keys
                .iter()
                .filter_map(|k| k.get("kid")?.as_str().map(str::to_owned))
                .collect();
            // Every RSA signing key that parses, with its kid (if any) and size.
            let rsa: Vec<(Option<String>, usize)> = keys
                .iter()
                .filter(|k| {
                    k.get("kty").and_then(Value::as_str) == Some("RSA")
                        && k.get("use")
                            .and_then(Value::as_str)
                            .is_none_or(|u| u == "sig")
                })
                .filter_map(|k| {
                    let kid = k.get("kid").and_then(Value::as_str).map(str::to_owned);
                    let key =
                        RsaKey::from_jwk_components(k.get("n")?.as_str()?, k.get("e")?.as_str()?)
                            .ok()?;
                    Some((kid, key.bits()))
                })
                .collect();
            rsa_keys = rsa.len();
            let name = |(kid, bits): &(Option<String>, usize)| {
                format!("{} ({bits} bits)", kid.as_deref().unwrap_or("no kid"))
            };
            let strong: Vec<String> = rsa.iter().filter(|k| k.1 >= 2048).map(name).collect();
            let result = if rsa.is_empty() {
                Found::fail(format!(
                    "{jwks_uri}: no RSA signing key with base64url n and e ({} keys): the \
                     platform has no key to verify RS256 with",
                    keys.len()
                ))
            } else if rsa.iter().any(|k| k.1 < 2048) {
                let weak: Vec<String> = rsa.iter().filter(|k| k.1 < 2048).map(name).collect();
                Found::warn(format!(
                    "RSA keys under 2048 bits: {}; the platform was seen accepting a 1024-bit \
                     key (liveperson-auth.md §8.1), a strict reading refuses it",
                    weak.join(", ")
                ))
                .on(Basis::Standard, "RFC 7518 §3.3")
            } else {
                Found::pass(format!(
                    "{} usable key(s): {}",
                    strong.len(),
                    strong.join(", ")
                ))
            };
            list.record("jwks-usable", title::JWKS, started, result);
            let cache = answer.header("cache-control").unwrap_or_default();
            let result = if cache.contains("max-age") {
                Found::pass(format!("Cache-Control: {cache}"))
            } else {
                Found::warn(format!(
                    "Cache-Control is {cache:?}: a verifier cannot tell how long the keys stay \
                     good, so it refetches the JWKS for every login or keeps a key after \
                     rotation (Google: public, max-age=…); the platform is not known to read it"
                ))
            };
            list.record("jwks-cache-control", title::JWKS_CACHE, started, result);
            list.evidence(Evidence {
                response: Some(answer),
                ..Evidence::default()
            });
        }
    }

    (jwks_kids, rsa_keys)
}

/// The platform's verifier for the provider, as the connector would be set up; `None` (with
/// `id-token-verified` failing) when it cannot be.
fn platform_side(
    plan: &CheckPlan,
    doc: Value,
    issuer: String,
    jwks_uri: &str,
    (jwks_kids, rsa_keys): (Vec<String>, usize),
    list: &mut Checklist,
) -> Option<Provider> {
    let mut config = VerifierConfig::new(
        Issuer::new(&issuer),
        KeySource::JwksUrl(jwks_uri.parse().unwrap_or_else(|_| plan.discovery.clone())),
    );
    config.client_id = Some(ClientId::new(&plan.client_id));
    config.decryption_key = plan.decrypt_key.clone();
    config.extra_root_pem = plan.extra_root_pem.clone();
    // https-everywhere reports plain HTTP; the other checks still run.
    config.insecure_allow_http = true;
    let implicit_verifier = plan.implicit_client_id.as_ref().and_then(|id| {
        let mut config = config.clone();
        config.client_id = Some(ClientId::new(id));
        Verifier::new(config).ok()
    });
    match Verifier::new(config.clone()) {
        Ok(verifier) => Some(Provider {
            implicit_verifier,
            doc,
            issuer,
            jwks_kids,
            rsa_keys,
            verifier,
            config,
        }),
        Err(e) => {
            list.record(
                "id-token-verified",
                title::VERIFIED,
                Instant::now(),
                Err(format!("the platform side cannot be set up: {e}")),
            );
            None
        }
    }
}

/// How much a finding weighs when several ID tokens make one line: the worst makes it.
fn severity(status: Status) -> u8 {
    match status {
        Status::Skip => 0,
        Status::Pass => 1,
        Status::Note => 2,
        Status::Warn => 3,
        Status::Fail => 4,
    }
}

/// `aud-client-id` for one ID token: its audience is the client its request named.
fn aud_client_id(claims: &Value, request: &Request) -> Found {
    let client = request.client_id.as_str();
    let azp = claims.get("azp").and_then(Value::as_str);
    match claims.get("aud") {
        Some(Value::String(aud)) if aud == client => Found::pass(format!("{aud:?}")),
        Some(Value::Array(auds)) if auds.iter().any(|a| a == client) => {
            if azp == Some(client) {
                Found::pass(format!("{auds:?}, azp {client:?}"))
            } else {
                Found::warn(format!(
                    "aud {auds:?} has several audiences and azp is {azp:?}, not the client \
                     id: a strict reading refuses it"
                ))
            }
        }
        other => Found::warn(format!(
            "aud is {}, not {client:?}: a strict reading refuses a token that names \
             another audience; the platform was seen accepting aud acc:<account> \
             (liveperson-auth.md §8.1)",
            other.map_or_else(|| "missing".to_owned(), Value::to_string)
        )),
    }
}

/// `id-token-lifetime` for one ID token.
fn id_token_lifetime(claims: &Value) -> Found {
    let exp = claims.get("exp").and_then(Value::as_i64);
    let iat = claims.get("iat").and_then(Value::as_i64);
    match (exp, iat) {
        (Some(exp), Some(iat)) if exp > iat && exp - iat <= MAX_LIFETIME_SECS => {
            Found::pass(format!("exp - iat = {} s", exp - iat))
        }
        (Some(exp), Some(iat)) if exp > iat => Found::warn(format!(
            "exp - iat = {} s: longer than a day, so a leaked token stays good that long; \
             the platform was seen accepting lifetimes of years (liveperson-auth.md §8.1), \
             a strict reading refuses more than {MAX_LIFETIME_SECS} s",
            exp - iat
        )),
        (Some(exp), Some(iat)) => Found::fail(format!(
            "exp - iat = {} s: the token is never valid",
            exp - iat
        ))
        .on(Basis::Documented, "liveperson-auth.md §3.1"),
        _ => Found::fail(
            "exp or iat is not a number of seconds: the platform reads both as seconds".to_owned(),
        )
        .on(Basis::Documented, "liveperson-auth.md §3.1"),
    }
}

/// The sign-in checks: state shared across the Code and Implicit Flows.
struct Flows<'a> {
    plan: &'a CheckPlan,
    provider: &'a Provider,
    list: &'a mut Checklist,
    verified: usize,
    /// How many ID tokens arrived, verified or not.
    obtained: usize,
    /// How many sign-ins brought a code or an ID token back.
    signed_in: usize,
    /// Why the honest redemption (`token-basic`) got no tokens, if it did not: a refusal of a
    /// wrong redemption then says nothing about the property it tests.
    honest_refused: Option<String>,
    /// Every ID token's decoded header and claims, and the request it answered, in the order
    /// they arrived (at most one a flow).
    tokens: Vec<(Value, Value, Request)>,
    /// The provider's refusals, for `error-json`: which check, and the answer.
    refusals: Vec<(&'static str, Answer)>,
    /// The `error` of every error redirect from the authorization endpoint, once each.
    denied: Vec<String>,
    /// Every ID token as it arrived, what it was verified with, and whether it came from the
    /// Implicit Flow: `--save-fixtures` turns each into a scenario.
    issued: Vec<(String, VerifyContext, bool)>,
}

/// Why a line does not apply to an app's codes (`--flow mobile-code`).
mod mobile {
    pub(super) const STATE: &str = "--flow mobile-code: the app made the authorization request \
        and compares its own state; the SDK hands the platform only the code and its redirect URI \
        (liveperson-auth.md §8.3)";
    pub(super) const NONCE: &str = "--flow mobile-code: the SDK hands the platform no nonce, so \
        none is compared (liveperson-auth.md §8.3)";
    pub(super) const VERIFIER: &str = "--flow mobile-code: the platform has no verifier for an \
        app's code, so no challenge was sent and none is checked (mobile-code-pkce shows what a \
        challenge does)";
    pub(super) const REQUIRED: &str = "--flow mobile-code: the platform has no verifier for an \
        app's code, so the provider must take codes without PKCE: token-basic shows whether \
        it does";
    /// Added to a refusal of a request or a redemption without PKCE.
    pub(super) const NO_PKCE: &str = "--flow mobile-code asks and redeems without PKCE, as the \
        platform must for an app's code: a client that requires PKCE cannot be used for \
        mobile codes";
}

/// The Code Flow's lines from one sign-in, in the order they run.
const CODE_LINES: [(&str, &str); 6] = [
    ("state-echoed", title::STATE),
    ("token-basic", title::BASIC),
    ("token-response-shape", title::SHAPE),
    ("token-no-store", title::NO_STORE),
    ("code-single-use", title::SINGLE_USE),
    ("code-id-token", title::CODE_ID_TOKEN),
];

/// The Code Flow checks that each need a code of their own, in the order they run.
const CODE_PROPERTIES: [(&str, &str); 5] = [
    ("client-secret-checked", title::SECRET),
    ("redirect-uri-compared", title::REDIRECT),
    ("pkce-verifier-checked", title::PKCE),
    ("pkce-required", title::PKCE_REQUIRED),
    ("token-body", title::BODY),
];

impl Flows<'_> {
    fn http(&self) -> Option<reqwest::Client> {
        http::client(self.plan).ok()
    }

    /// Whether a Code Flow request carries a PKCE challenge: never for an app's code.
    fn challenges(&self) -> bool {
        !self.plan.mobile && self.plan.pkce != Pkce::Off
    }

    /// The checks that each need a code of their own, in the order they run: with `mobile`,
    /// `mobile-code-pkce` beside the PKCE lines it stands in for.
    fn code_properties(&self) -> Vec<(&'static str, &'static str)> {
        let mut ids = CODE_PROPERTIES.to_vec();
        if self.plan.mobile {
            let at = ids
                .iter()
                .position(|(id, _)| *id == "pkce-required")
                .map_or(0, |i| i + 1);
            ids.insert(at, ("mobile-code-pkce", title::MOBILE_PKCE));
        }
        ids
    }

    fn request_with(&self, source: &SignInSource, implicit: bool, pkce: bool) -> Option<Request> {
        let endpoint = self
            .provider
            .text("authorization_endpoint")
            .parse::<url::Url>()
            .ok()?;
        Some(Request::new(
            &endpoint,
            match (&self.plan.implicit_client_id, implicit) {
                (Some(id), true) => id,
                _ => &self.plan.client_id,
            },
            source.redirect_uri(&self.plan.redirect_uri),
            &self.plan.scope,
            implicit,
            pkce,
        ))
    }

    /// Signs in once; `Err` is the reason, ready for the report.
    async fn sign_in(
        &mut self,
        source: &mut SignInSource,
        implicit: bool,
    ) -> Result<(Request, Returned), Failed> {
        self.sign_in_with(source, implicit, self.challenges()).await
    }

    /// Signs in once, with or without a PKCE challenge; an error redirect's `error` is kept
    /// for `error-json`.
    async fn sign_in_with(
        &mut self,
        source: &mut SignInSource,
        implicit: bool,
        pkce: bool,
    ) -> Result<(Request, Returned), Failed> {
        let request = self.request_with(source, implicit, pkce).ok_or_else(|| {
            Failed::NoAnswer("discovery has no usable authorization_endpoint".to_owned())
        })?;
        match source.obtain(&request).await {
            Ok(returned) => Ok((request, returned)),
            Err(failed) => {
                if let Failed::Refused(refusal) = &failed {
                    if let Some(error) = &refusal.error {
                        if !self.denied.contains(error) {
                            self.denied.push(error.clone());
                        }
                    }
                }
                Err(failed)
            }
        }
    }

    /// The Code Flow's lines, in order: a sign-in, the first redemption and what its answer
    /// shows, a second redemption of the same code, the ID token's lines, then each property
    /// of the token endpoint with a sign-in of its own.
    async fn code_flow(&mut self, source: &mut SignInSource) {
        if !source.offers(false) {
            return self.code_flow_not_offered(source);
        }
        let Some(http) = self.http() else { return };
        let token_endpoint = self.provider.text("token_endpoint");
        let (request, returned) = match self.sign_in(source, false).await {
            Ok(ok) => ok,
            Err(e) => return self.code_sign_in_failed(&e),
        };
        self.signed_in += 1;
        if self.plan.mobile {
            self.list.skip("state-echoed", title::STATE, mobile::STATE);
        } else {
            self.state_echoed(&request, &returned);
        }
        let code = returned.get("code").unwrap_or_default().to_owned();
        let redeem = self.plan.redemption(
            &token_endpoint,
            &code,
            &request.redirect_uri,
            request.code_verifier(),
        );
        let token = self.first_redemption(&http, &redeem).await;
        if token.is_some() {
            self.code_single_use(&http, &redeem).await;
        }
        if let Some((id_token, access_token)) = token {
            self.id_token_checks(&request, &id_token, access_token, false)
                .await;
        }
        for (id, title) in self.code_properties() {
            if id == "mobile-code-pkce" {
                self.mobile_code_pkce(source, &http, &token_endpoint).await;
            } else {
                self.code_property(source, &http, &token_endpoint, id, title)
                    .await;
            }
        }
    }

    /// Every Code Flow line skipped: this check signs in with the Implicit Flow only.
    fn code_flow_not_offered(&mut self, source: &SignInSource) {
        let why = match self.plan.sign_in {
            SignIn::Interactive { .. } => "the Code Flow is not part of this check (--flow)",
            _ => "no --code-from command",
        };
        for (id, title) in CODE_LINES.iter().chain(self.code_properties().iter()) {
            // The Implicit Flow carries state too, and compares it there.
            if *id == "state-echoed" && source.offers(true) {
                continue;
            }
            self.list.skip(id, title, why);
        }
    }

    /// No code came back: `code-id-token` says why, the state of a redirect that came back
    /// anyway is compared, every other line points at `code-id-token`.
    fn code_sign_in_failed(&mut self, e: &Failed) {
        let detail = match e {
            Failed::Refused(why) if self.plan.mobile => format!("{why}; {}", mobile::NO_PKCE),
            e => e.to_string(),
        };
        self.list.record(
            "code-id-token",
            title::CODE_ID_TOKEN,
            Instant::now(),
            Err(detail),
        );
        for (id, title) in &CODE_LINES[..5] {
            match e {
                // A redirect came back, if not with a code: its state is compared.
                Failed::Refused(refusal)
                    if *id == "state-echoed"
                        && !self.plan.mobile
                        && refusal.returned.get("state").is_some() =>
                {
                    self.state_echoed(&refusal.request, &refusal.returned);
                }
                _ => self.list.skip(id, title, "no code: see code-id-token"),
            }
        }
        for (id, title) in self.code_properties() {
            // A line --pkce leaves out says so; with an app's codes every line points at
            // code-id-token, which says why no code the platform can use came.
            let why = self.not_asked(id).filter(|_| !self.plan.mobile);
            self.list
                .skip(id, title, why.unwrap_or("no code: see code-id-token"));
        }
    }

    /// The honest redemption: `token-basic` and the lines its answer shows; the ID token and
    /// access token when there is one. A refusal is kept to tell later refusals apart.
    async fn first_redemption(
        &mut self,
        http: &reqwest::Client,
        redeem: &http::Redeem<'_>,
    ) -> Option<(String, Option<String>)> {
        let started = Instant::now();
        match http::redeem(http, redeem).await {
            Err(e) => {
                self.honest_refused = Some(e.clone());
                self.list
                    .record("token-basic", title::BASIC, started, Err(e));
                for (id, title) in &CODE_LINES[2..] {
                    self.list
                        .skip(id, title, "no token response: see token-basic");
                }
                None
            }
            Ok(answer) => {
                let summary = answer.summary();
                let token = self.token_basic(started, answer, redeem.request.code);
                if token.is_none() {
                    self.honest_refused = Some(summary);
                }
                token
            }
        }
    }

    /// `code-single-use`: the code just redeemed, redeemed again, must be refused.
    async fn code_single_use(&mut self, http: &reqwest::Client, redeem: &http::Redeem<'_>) {
        let started = Instant::now();
        match http::redeem(http, redeem).await {
            Err(e) => self
                .list
                .record("code-single-use", title::SINGLE_USE, started, Err(e)),
            Ok(again) if again.answer.status < 300 => self.list.record(
                "code-single-use",
                title::SINGLE_USE,
                started,
                Err(format!(
                    "the second redemption got HTTP {} with tokens: a code leaked from a \
                     redirect or a log can be redeemed by someone else (RFC 6749 §4.1.2)",
                    again.answer.status
                )),
            ),
            Ok(again) => {
                self.list.record(
                    "code-single-use",
                    title::SINGLE_USE,
                    started,
                    Ok(format!("refused: {}", again.summary())),
                );
                self.list.evidence(Evidence {
                    response: Some(again.answer.clone()),
                    ..Evidence::default()
                });
                self.refusals.push(("code-single-use", again.answer));
            }
        }
    }

    /// `token-basic`, `token-response-shape` and `token-no-store` from the first redemption;
    /// the ID token and access token when there is one.
    fn token_basic(
        &mut self,
        started: Instant,
        answer: TokenAnswer,
        code: &str,
    ) -> Option<(String, Option<String>)> {
        let evidence = Evidence {
            response: Some(answer.answer.clone()),
            ..Evidence::default()
        };
        let json = answer.json.as_ref().filter(|_| answer.answer.status < 300);
        let id_token = json.and_then(|j| j.get("id_token")).and_then(Value::as_str);
        let (Some(json), Some(id_token)) = (json, id_token) else {
            let detail = if json.is_some() {
                format!(
                    "HTTP {} without an id_token: the platform has nothing to verify",
                    answer.answer.status
                )
            } else if code.contains('%') {
                format!(
                    "{} (the code has a '%': print the whole redirect URL, or the code decoded)",
                    answer.summary()
                )
            } else if self.plan.mobile && answer.answer.status == 400 {
                format!("{}; {}", answer.summary(), mobile::NO_PKCE)
            } else {
                answer.summary()
            };
            self.list
                .record("token-basic", title::BASIC, started, Err(detail));
            self.list.evidence(evidence);
            for (id, title) in [
                ("token-response-shape", title::SHAPE),
                ("token-no-store", title::NO_STORE),
                ("code-single-use", title::SINGLE_USE),
                ("code-id-token", title::CODE_ID_TOKEN),
            ] {
                self.list.skip(
                    id,
                    title,
                    "no ID token in a token response: see token-basic",
                );
            }
            return None;
        };
        self.list.record(
            "token-basic",
            title::BASIC,
            started,
            Ok(format!("HTTP {} with an id_token", answer.answer.status)),
        );
        self.list.evidence(evidence.clone());

        let started = Instant::now();
        let content_type = answer.answer.header("content-type").unwrap_or_default();
        let missing: Vec<&str> = ["access_token", "expires_in", "token_type"]
            .into_iter()
            .filter(|m| json.get(*m).is_none())
            .collect();
        let found = if !content_type.starts_with("application/json") {
            Found::fail(format!(
                "Content-Type {content_type:?}: the platform reads token responses labelled \
                 application/json only"
            ))
        } else if !missing.is_empty() {
            Found::note(format!("not Google's shape: no {}", missing.join(", ")))
                .on(Basis::Assumed, "google-oidc.md §4.2")
        } else if json
            .get("token_type")
            .and_then(Value::as_str)
            .is_some_and(|t| !t.eq_ignore_ascii_case("bearer"))
        {
            Found::note("not Google's shape: token_type is not Bearer".to_owned())
                .on(Basis::Assumed, "google-oidc.md §4.2")
        } else {
            Found::pass("access_token, expires_in, token_type Bearer, id_token".to_owned())
        };
        self.list
            .record("token-response-shape", title::SHAPE, started, found);
        self.list.evidence(evidence.clone());

        let cache = answer.answer.header("cache-control").unwrap_or_default();
        let result = if cache.contains("no-store") {
            Found::pass(format!("Cache-Control: {cache}"))
        } else {
            Found::warn(format!(
                "Cache-Control is {cache:?}: a cache between the platform and the provider may \
                 keep the tokens (RFC 6749 §5.1 requires no-store; the platform is not known to \
                 refuse the answer)"
            ))
        };
        self.list
            .record("token-no-store", title::NO_STORE, Instant::now(), result);
        self.list.evidence(evidence);
        let access_token = json
            .get("access_token")
            .and_then(Value::as_str)
            .map(str::to_owned);
        Some((id_token.to_owned(), access_token))
    }

    /// `state-echoed`, from every flow that carries state: the first comparison makes the
    /// line, a later one that fails replaces a pass or a skip.
    fn state_echoed(&mut self, request: &Request, returned: &Returned) {
        let flow = match (request.implicit, returned.get("error").is_some()) {
            (true, false) => "the Implicit Flow",
            (true, true) => "the Implicit Flow's error redirect",
            (false, false) => "the Code Flow",
            (false, true) => "the Code Flow's error redirect",
        };
        let earlier = self
            .list
            .outcomes
            .iter()
            .position(|o| o.id == "state-echoed");
        if let Some(at) = earlier {
            let before = self.list.outcomes.len();
            self.state_compared(request, returned, flow);
            let Some(now) = self
                .list
                .outcomes
                .pop()
                .filter(|_| self.list.outcomes.len() == before)
            else {
                return;
            };
            let kept = &mut self.list.outcomes[at];
            if now.status == Status::Fail || kept.status == Status::Skip {
                *kept = now;
            } else if now.status == Status::Pass && kept.status == Status::Pass {
                kept.detail = format!("{}; {}", kept.detail, now.detail);
            }
            return;
        }
        self.state_compared(request, returned, flow);
    }

    fn state_compared(&mut self, request: &Request, returned: &Returned, flow: &str) {
        if returned.bare {
            self.list.skip(
                "state-echoed",
                title::STATE,
                "the command printed a bare value; print the whole redirect URL to have state checked",
            );
            return;
        }
        let result = match returned.get("state") {
            Some(state) if state == request.state => Ok(format!("{state:?} ({flow})")),
            Some(state) => Err(format!(
                "sent {:?}, got {state:?} in {flow}: the platform refuses a sign-in whose state \
                 differs from the one it sent (CSRF protection)",
                request.state
            )),
            None => Err(format!(
                "no state came back in {flow}: the platform refuses a sign-in without the state \
                 it sent"
            )),
        };
        self.list
            .record("state-echoed", title::STATE, Instant::now(), result);
    }

    /// Why the property line `id` is not asked of the provider in this run at all, whatever
    /// the sign-ins bring: `--pkce` or `--flow mobile-code` leave it out.
    fn not_asked(&self, id: &str) -> Option<&'static str> {
        match (id, self.plan.pkce) {
            ("pkce-verifier-checked", _) if self.plan.mobile => Some(mobile::VERIFIER),
            ("pkce-required", _) if self.plan.mobile => Some(mobile::REQUIRED),
            ("pkce-verifier-checked", Pkce::Off) => {
                Some("--pkce off: the connector sends no PKCE challenge, so no verifier is checked")
            }
            ("pkce-required", Pkce::On | Pkce::Off) => Some(
                "--pkce on or off: the provider was not asked for a code without a challenge \
                 (--pkce auto does)",
            ),
            _ => None,
        }
    }

    /// One provider property that needs a code of its own: the code is redeemed the wrong way
    /// (or, for `token-body`, the other right way) and the answer judged.
    async fn code_property(
        &mut self,
        source: &mut SignInSource,
        http: &reqwest::Client,
        token_endpoint: &str,
        id: &'static str,
        title: &'static str,
    ) {
        if let Some(why) = self.not_asked(id) {
            return self.list.skip(id, title, why);
        }
        if id == "pkce-required" {
            return self.pkce_required(source, http, token_endpoint).await;
        }
        let (request, returned) = match self.sign_in(source, false).await {
            Ok(ok) => ok,
            Err(e) => {
                // A property left unproven is not a pass, nor a skip the run can exit 0 on.
                self.list.record(
                    id,
                    title,
                    Instant::now(),
                    Err(format!("no code for this check, so it could not run: {e}")),
                );
                return;
            }
        };
        self.signed_in += 1;
        let code = returned.get("code").unwrap_or_default();
        let other_redirect = format!("{}/elsewhere", request.redirect_uri.trim_end_matches('/'));
        let wrong_secret = format!("{}-wrong", self.plan.client_secret);
        let mut redeem = self.plan.redemption(
            token_endpoint,
            code,
            &request.redirect_uri,
            request.code_verifier(),
        );
        let wrong_verifier = format!("{}x", request.verifier);
        match id {
            "client-secret-checked" => redeem.request.client_secret = &wrong_secret,
            "redirect-uri-compared" => redeem.request.redirect_uri = &other_redirect,
            "pkce-verifier-checked" => redeem.request.code_verifier = Some(&wrong_verifier),
            _ => redeem.request.auth = ClientAuth::Body,
        }
        let started = Instant::now();
        let answer = match http::redeem(http, &redeem).await {
            Ok(answer) => answer,
            Err(e) => {
                self.list.record(id, title, started, Err(e));
                return;
            }
        };
        let found = self.property_verdict(id, &answer, &request.redirect_uri, &other_redirect);
        self.record_redemption(id, title, started, found, answer);
    }

    /// A redemption's line, its answer as evidence, and a refusal kept for the report.
    fn record_redemption(
        &mut self,
        id: &'static str,
        title: &'static str,
        started: Instant,
        found: Found,
        answer: TokenAnswer,
    ) {
        self.list.record(id, title, started, found);
        self.list.evidence(Evidence {
            response: Some(answer.answer.clone()),
            ..Evidence::default()
        });
        if answer.answer.status >= 300 {
            self.refusals.push((id, answer.answer));
        }
    }

    /// The verdict on one property from the answer to a redemption that differs from the
    /// right one in that property alone.
    fn property_verdict(
        &self,
        id: &str,
        answer: &TokenAnswer,
        redirect_uri: &str,
        other_redirect: &str,
    ) -> Found {
        let accepted = answer.answer.status < 300;
        let property = match id {
            "client-secret-checked" => "the client secret",
            "redirect-uri-compared" => "redirect_uri",
            "pkce-verifier-checked" => "the PKCE verifier",
            _ => "body credentials",
        };
        // A refusal proves the property only when the right redemption is accepted: then
        // this one differs from it in the property alone (for token-body, in where the
        // credentials travel).
        let unrelated = match &self.honest_refused {
            _ if accepted => None,
            Some(why) => Some(format!(
                "refused ({}), but so was the right redemption (token-basic: {why}): the \
                 refusal says nothing about {property}",
                answer.summary()
            )),
            None => None,
        };
        // Refused for the property, but named as the client's credentials.
        let as_the_client = !accepted
            && matches!(id, "redirect-uri-compared" | "pkce-verifier-checked")
            && (answer.answer.status == 401 || answer.error().as_deref() == Some("invalid_client"));
        match id {
            _ if unrelated.is_some() => Found::at(Status::Skip, unrelated.unwrap_or_default()),
            _ if as_the_client => Found::warn(format!(
                "refused, but as {}: the same credentials redeemed a code in token-basic, so \
                 the refusal is of {property}, which RFC 6749 §5.2 answers with 400 \
                 invalid_grant",
                answer.summary()
            ))
            .on(Basis::Standard, "RFC 6749 §5.2"),
            "token-body" if accepted => Found::pass(format!("HTTP {}", answer.answer.status)),
            "token-body" => Found::warn(format!(
                "{}: the platform's documentation names HTTP Basic (liveperson-auth.md §7.1); \
                 body credentials matter only if the connector is set up that way",
                answer.summary()
            )),
            "client-secret-checked" if accepted => Found::fail(
                "a wrong secret was accepted: anyone who knows the client id can redeem codes"
                    .to_owned(),
            ),
            "client-secret-checked"
                if answer.answer.status == 401
                    && answer.error().as_deref() == Some("invalid_client") =>
            {
                Found::pass(format!("refused: {}", answer.summary()))
            }
            "client-secret-checked" => Found::warn(format!(
                "refused, but {}: RFC 6749 §5.2 answers a client that used Basic with 401 \
                 invalid_client",
                answer.summary()
            ))
            .on(Basis::Standard, "RFC 6749 §5.2"),
            "redirect-uri-compared" if accepted => Found::fail(format!(
                "a code issued for {} was redeemed with redirect_uri {other_redirect}: a code \
                 stolen through an open redirect works (RFC 6749 §4.1.3)",
                redirect_uri
            )),
            "pkce-verifier-checked" if accepted => {
                let advertised = self
                    .provider
                    .doc
                    .get("code_challenge_methods_supported")
                    .and_then(Value::as_array)
                    .is_some_and(|m| m.iter().any(|m| m == "S256"));
                let detail = "a wrong code_verifier was accepted: PKCE protects nothing, and \
                              a platform with PKCE on gains nothing from it (RFC 7636 §4.6)";
                if advertised {
                    Found::fail(format!("{detail}; discovery advertises S256"))
                } else {
                    Found::warn(format!("{detail}; discovery does not advertise PKCE"))
                }
            }
            _ => Found::pass(format!("refused: {}", answer.summary())),
        }
    }

    /// `--pkce auto`: a sign-in without a challenge, and its code redeemed without a
    /// verifier. A refusal at either step is the provider requiring PKCE; a redemption is the
    /// provider taking codes without it.
    async fn pkce_required(
        &mut self,
        source: &mut SignInSource,
        http: &reqwest::Client,
        token_endpoint: &str,
    ) {
        let (id, title) = ("pkce-required", title::PKCE_REQUIRED);
        let started = Instant::now();
        // A refusal at the authorization step is about the missing challenge alone, whatever
        // the token endpoint makes of the credentials: it is judged first.
        let (request, returned) = match self.sign_in_with(source, false, false).await {
            Ok(ok) => ok,
            Err(Failed::Refused(e)) => {
                return self.list.record(
                    id,
                    title,
                    started,
                    Ok(format!(
                        "requires PKCE: a request without a challenge got no code ({e}); the \
                         connector's PKCE toggle must be on"
                    )),
                )
            }
            // Nothing came back at all: a provider requiring PKCE may show a page of its own
            // (RFC 7636 §4.4.1 says to redirect with an error), or nobody signed in.
            Err(Failed::NoAnswer(e)) => {
                return self.list.record(
                    id,
                    title,
                    started,
                    Found::warn(format!(
                        "unknown: a request without a challenge brought nothing back ({e}); if \
                         the provider showed an error page it requires PKCE, and the \
                         connector's PKCE toggle must be on"
                    )),
                )
            }
        };
        self.signed_in += 1;
        if let Some(why) = &self.honest_refused {
            let why = format!(
                "a code came without a challenge, and the right redemption was refused too \
                 (token-basic: {why}), so a refusal of this one would say nothing about PKCE"
            );
            return self.list.skip(id, title, &why);
        }
        let redeem = self.plan.redemption(
            token_endpoint,
            returned.get("code").unwrap_or_default(),
            &request.redirect_uri,
            None,
        );
        let found = match http::redeem(http, &redeem).await {
            Err(e) => Err(e),
            Ok(answer) if answer.answer.status < 300 => Ok(
                "does not require PKCE: a code asked for without a challenge was redeemed \
                 without a verifier, so the connector works with its PKCE toggle off or on"
                    .to_owned(),
            ),
            Ok(answer) => Ok(format!(
                "requires PKCE: a code asked for without a challenge was refused at the token \
                 endpoint ({}); the connector's PKCE toggle must be on",
                answer.summary()
            )),
        };
        self.list.record(id, title, started, found);
    }

    /// `--flow mobile-code`: a code asked for with a PKCE challenge, as an app may have asked,
    /// redeemed without a verifier, as the platform redeems an app's code. A refusal is right
    /// by RFC 7636 and means the platform cannot use such codes: check cannot see how the app
    /// asks, so it warns. A redemption is PKCE protecting nothing.
    async fn mobile_code_pkce(
        &mut self,
        source: &mut SignInSource,
        http: &reqwest::Client,
        token_endpoint: &str,
    ) {
        let (id, title) = ("mobile-code-pkce", title::MOBILE_PKCE);
        if let Some(why) = &self.honest_refused {
            let why = format!("the right redemption was refused too (token-basic: {why})");
            return self.list.skip(id, title, &why);
        }
        let started = Instant::now();
        let (request, returned) = match self.sign_in_with(source, false, true).await {
            Ok(ok) => ok,
            Err(e) => {
                let why = format!("no code for this check, so it could not run: {e}");
                return self.list.record(id, title, started, Err(why));
            }
        };
        self.signed_in += 1;
        let redeem = self.plan.redemption(
            token_endpoint,
            returned.get("code").unwrap_or_default(),
            &request.redirect_uri,
            None,
        );
        let started = Instant::now();
        let answer = match http::redeem(http, &redeem).await {
            Ok(answer) => answer,
            Err(e) => return self.list.record(id, title, started, Err(e)),
        };
        let accepted = answer.answer.status < 300;
        let found = if accepted {
            let advertised = self
                .provider
                .doc
                .get("code_challenge_methods_supported")
                .and_then(Value::as_array)
                .is_some_and(|m| m.iter().any(|m| m == "S256"));
            let detail = format!(
                "HTTP {}: a code asked for with a challenge was redeemed without its verifier, so \
                 whoever steals such a code redeems it and PKCE protects nothing (RFC 7636 §4.6)",
                answer.answer.status
            );
            if advertised {
                Found::fail(format!("{detail}; discovery advertises S256"))
            } else {
                Found::warn(format!("{detail}; discovery does not advertise PKCE"))
            }
            .on(Basis::Standard, "RFC 7636 §4.6")
        } else {
            Found::warn(format!(
                "refused ({}), as RFC 7636 §4.6 has it: if the app asks for its codes with a PKCE \
                 challenge, the platform cannot redeem them (the SDK hands it no verifier) and \
                 refuses the consumer; the codes an app hands to the platform must be asked for \
                 without one",
                answer.summary()
            ))
        };
        self.record_redemption(id, title, started, found, answer);
    }

    async fn implicit_flow(&mut self, source: &mut SignInSource) {
        if !source.offers(true) {
            let why = match self.plan.sign_in {
                SignIn::Interactive { .. } => {
                    "the Implicit Flow is not part of this check (--flow)"
                }
                _ => "no --token-from command",
            };
            self.list
                .skip("implicit-id-token", title::IMPLICIT_ID_TOKEN, why);
            return;
        }
        match self.sign_in(source, true).await {
            Err(e) => {
                match &e {
                    // A redirect came back, if not with an ID token: its state is compared.
                    Failed::Refused(refusal) if refusal.returned.get("state").is_some() => {
                        self.state_echoed(&refusal.request, &refusal.returned);
                    }
                    // An Implicit-only run has no other flow to make the line.
                    _ if !self.list.outcomes.iter().any(|o| o.id == "state-echoed") => {
                        self.list.skip(
                            "state-echoed",
                            title::STATE,
                            "no ID token: see implicit-id-token",
                        );
                    }
                    _ => {}
                }
                let mut why = e.to_string();
                let unauthorized = matches!(&e, Failed::Refused(refusal)
                    if refusal.error.as_deref() == Some("unauthorized_client"));
                if unauthorized && self.plan.implicit_client_id.is_none() && source.offers(false) {
                    why = format!(
                        "{why}; {} is the client of both flows: a provider that registers one \
                         client per flow takes the Implicit Flow's with --implicit-client-id",
                        self.plan.client_id
                    );
                }
                self.list.record(
                    "implicit-id-token",
                    title::IMPLICIT_ID_TOKEN,
                    Instant::now(),
                    Err(why),
                );
            }
            Ok((request, returned)) => {
                self.signed_in += 1;
                self.state_echoed(&request, &returned);
                let token = returned.get("id_token").unwrap_or_default().to_owned();
                self.id_token_checks(&request, &token, None, true).await;
            }
        }
    }

    /// The envelope (if any) and the ID token, verified as the platform does with the nonce
    /// and access token this sign-in knows.
    async fn id_token_checks(
        &mut self,
        request: &Request,
        token: &str,
        access_token: Option<String>,
        implicit: bool,
    ) {
        self.obtained += 1;
        let (envelope_id, envelope_title, id, title) = if implicit {
            (
                "implicit-envelope",
                title::IMPLICIT_ENVELOPE,
                "implicit-id-token",
                title::IMPLICIT_ID_TOKEN,
            )
        } else {
            (
                "code-envelope",
                title::CODE_ENVELOPE,
                "code-id-token",
                title::CODE_ID_TOKEN,
            )
        };
        let Some(signed) = self.open_envelope(token, (envelope_id, envelope_title), (id, title))
        else {
            return;
        };
        let evidence = Evidence::of_token(&signed);
        let started = Instant::now();
        let context = VerifyContext {
            now: self.plan.now,
            // The SDK hands the platform no nonce for an app's code.
            nonce: (implicit || !self.plan.mobile).then(|| Nonce::new(request.nonce.clone())),
            access_token,
            code: None,
            front_channel: implicit,
        };
        self.issued
            .push((token.to_owned(), context.clone(), implicit));
        let verifier = match (&self.provider.implicit_verifier, implicit) {
            (Some(verifier), true) => verifier,
            _ => &self.provider.verifier,
        };
        let verdict = verifier.verify(token, &context).await;
        if verdict.is_ok() {
            self.verified += 1;
        }
        let result = id_token_verdict(&verdict);
        self.list.record(id, title, started, result);
        self.list.evidence(evidence.clone());
        if let (Some(header), Some(claims)) = (evidence.header, evidence.claims) {
            self.tokens.push((header, claims, request.clone()));
        }
    }

    /// The signed token inside an envelope (`*-envelope`, opened with `--decrypt-key`), or
    /// the token itself; `None`, with the ID token's line skipped, when it does not open.
    fn open_envelope(
        &mut self,
        token: &str,
        (envelope_id, envelope_title): (&'static str, &'static str),
        (id, title): (&'static str, &'static str),
    ) -> Option<String> {
        if crate::jose::compact::segments(token) != 5 {
            return Some(token.to_owned());
        }
        let started = Instant::now();
        let opened = match &self.plan.decrypt_key {
            None => Err("an envelope (JWE) arrived and no --decrypt-key was given".to_owned()),
            Some(key) => crate::jose::decrypt(token, key)
                .map_err(|e| {
                    format!(
                        "the envelope does not open with --decrypt-key ({e}): it was \
                         encrypted to another key, or the key is not the platform's"
                    )
                })
                .and_then(|(header, plaintext)| {
                    String::from_utf8(plaintext)
                        .map(|jws| (header, jws))
                        .map_err(|_| "the envelope holds no text".to_owned())
                }),
        };
        match opened {
            Ok((header, jws)) => {
                let detail = format!(
                    "JWE {} {}",
                    header["alg"].as_str().unwrap_or("?"),
                    header["enc"].as_str().unwrap_or("?")
                );
                self.list
                    .record(envelope_id, envelope_title, started, Ok(detail));
                Some(jws)
            }
            Err(e) => {
                self.list
                    .record(envelope_id, envelope_title, started, Err(e));
                self.list.skip(
                    id,
                    title,
                    &format!("the envelope did not open: see {envelope_id}"),
                );
                None
            }
        }
    }

    /// What the platform relies on in an ID token, each its own line, judged on every ID token
    /// read (one for each flow): each flow's finding is in the detail, the worst makes the line.
    fn token_properties(&mut self) {
        type Judge = fn(&Flows<'_>, &Value, &Value, &Request) -> Found;
        let lines: [(&str, &str, Judge); 5] = [
            ("nonce-echoed", title::NONCE, |flows, _, claims, request| {
                flows.nonce_echoed(claims, request)
            }),
            ("aud-client-id", title::AUD, |_, _, claims, request| {
                aud_client_id(claims, request)
            }),
            ("id-token-lifetime", title::LIFETIME, |_, _, claims, _| {
                id_token_lifetime(claims)
            }),
            ("kid-in-jwks", title::KID, |flows, header, _, _| {
                flows.kid_in_jwks(header)
            }),
            (
                "iss-matches-discovery",
                title::ISS,
                |flows, _, claims, _| flows.iss_matches(claims),
            ),
        ];
        let tokens = std::mem::take(&mut self.tokens);
        if tokens.is_empty() {
            for (id, title, _) in lines {
                self.list.skip(id, title, "no ID token could be read");
            }
            return;
        }
        for (id, title, judge) in lines {
            let now = Instant::now();
            let mut parts: Vec<String> = Vec::new();
            let mut worst: Option<(Found, usize)> = None;
            for (n, (header, claims, request)) in tokens.iter().enumerate() {
                let found = judge(self, header, claims, request);
                let flow = if request.implicit {
                    "the Implicit Flow"
                } else {
                    "the Code Flow"
                };
                // A skip gives its reason, which names what it is about.
                parts.push(if found.status == Status::Skip {
                    found.detail.clone()
                } else {
                    format!("{} ({flow})", found.detail)
                });
                if worst
                    .as_ref()
                    .is_none_or(|(w, _)| severity(found.status) > severity(w.status))
                {
                    worst = Some((found, n));
                }
            }
            let Some((mut found, n)) = worst else {
                continue;
            };
            found.detail = parts.join("; ");
            self.list.record(id, title, now, found);
            let (header, claims, _) = &tokens[n];
            self.list.evidence(Evidence {
                header: Some(header.clone()),
                claims: Some(claims.clone()),
                ..Evidence::default()
            });
        }
    }

    /// `nonce-echoed` for one ID token.
    fn nonce_echoed(&self, claims: &Value, request: &Request) -> Found {
        match claims.get("nonce") {
            _ if self.plan.mobile && !request.implicit => {
                Found::at(Status::Skip, mobile::NONCE.to_owned())
            }
            Some(Value::String(n)) if *n == request.nonce => Found::pass(format!("{n:?}")),
            Some(other) => Found::fail(format!(
                "sent {:?}, got {other}: a token from another sign-in can be replayed into \
                 this one",
                request.nonce
            )),
            None => Found::warn(format!(
                "sent {:?}, the ID token has none: the platform was seen accepting tokens \
                 without a nonce (liveperson-auth.md §8.1), a strict reading refuses them",
                request.nonce
            )),
        }
    }

    /// `kid-in-jwks` for one ID token.
    fn kid_in_jwks(&self, header: &Value) -> Found {
        let alg = header.get("alg").and_then(Value::as_str).unwrap_or("none");
        match header.get("kid").and_then(Value::as_str) {
            _ if alg != "RS256" => Found::fail(format!(
                "alg is {alg}, not RS256: the platform verifies RS256 signatures only, so no \
                 key of the JWKS is looked at"
            ))
            .on(Basis::Documented, "liveperson-auth.md §1.3"),
            Some(kid) if self.provider.jwks_kids.iter().any(|k| k == kid) => {
                Found::pass(format!("{kid:?}"))
            }
            Some(kid) => Found::fail(format!(
                "kid {kid:?} is not in the JWKS ({}): the platform finds no key and refuses \
                 the token (IDP error 1041 JWK_ID_NOT_FOUND)",
                self.provider.jwks_kids.join(", ")
            )),
            None if self.provider.rsa_keys == 1 => Found::pass(
                "no kid, and the JWKS holds a single RSA key: the platform uses it; a second \
                 key published (as in every rotation) makes it refuse the token (IDP error \
                 1042)"
                    .to_owned(),
            ),
            None => Found::fail(format!(
                "the header has no kid and the JWKS holds {} RSA keys: the platform cannot \
                 pick one and refuses the token (IDP error 1042 \
                 MULTIPLE_JWK_WITHOUT_KID_HEADER)",
                self.provider.rsa_keys
            )),
        }
    }

    /// `iss-matches-discovery` for one ID token.
    fn iss_matches(&self, claims: &Value) -> Found {
        match claims.get("iss").and_then(Value::as_str) {
            Some(iss) if iss == self.provider.issuer => Found::pass(format!("{iss:?}")),
            other => Found::fail(format!(
                "iss {other:?}, discovery issuer {:?}: the platform compares them byte for \
                 byte and refuses the token",
                self.provider.issuer
            )),
        }
    }

    /// `error-json`, from every refusal seen.
    fn error_shape(&mut self) {
        if self.refusals.is_empty() {
            let why = if !self.denied.is_empty() {
                let errors: Vec<String> =
                    self.denied.iter().map(|e| format!("error={e}")).collect();
                format!(
                    "the provider's refusals were authorization redirects ({}), not \
                     token-endpoint answers, so no error response was seen",
                    errors.join(", ")
                )
            } else if self.signed_in == 0 {
                "no sign-in brought a code or an ID token back, so no token-endpoint answer \
                 was seen"
                    .to_owned()
            } else {
                "the provider refused nothing, so no error response was seen".to_owned()
            };
            self.list.skip("error-json", title::ERRORS, &why);
            return;
        }
        let bad: Vec<String> = self
            .refusals
            .iter()
            .filter(|(_, answer)| {
                serde_json::from_str::<Value>(&answer.body)
                    .ok()
                    .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
                    .is_none()
            })
            // The same answer to several checks is one finding, naming them all.
            .fold(
                Vec::<(Vec<&str>, String)>::new(),
                |mut seen, (id, answer)| {
                    let line =
                        http::one_line(answer.status, answer.header("content-type"), &answer.body);
                    match seen.iter_mut().find(|(_, l)| *l == line) {
                        Some((ids, _)) => ids.push(id),
                        None => seen.push((vec![id], line)),
                    }
                    seen
                },
            )
            .into_iter()
            .map(|(ids, line)| format!("{}: {line}", ids.join(", ")))
            .collect();
        let result = if bad.is_empty() {
            Found::pass(format!("{} error response(s)", self.refusals.len()))
        } else {
            Found::warn(format!(
                "not OAuth error JSON, so the platform can only say the login failed, not why: {}",
                bad.join("; ")
            ))
        };
        self.list
            .record("error-json", title::ERRORS, Instant::now(), result);
        if let Some((_, answer)) = self.refusals.first() {
            self.list.evidence(Evidence {
                response: Some(answer.clone()),
                ..Evidence::default()
            });
        }
    }
}

/// An ID token's line: a pass, a pass with warnings, a WARN when only the strict reading
/// refuses it (each finding with its rule, basis and risk), or the platform's refusal.
fn id_token_verdict(verdict: &Result<AuthenticatedConsumer, Rejection>) -> Found {
    match verdict {
        Ok(consumer) => {
            let shown = format!(
                "sub {}, {} authenticated field(s)",
                consumer.sub(),
                consumer.fields().len()
            );
            // The platform reading took it; what only the strict reading refuses is a
            // warning, each finding with its rule, basis and risk. An lp_sdes finding
            // names the platform IDP's error 1026 SDE_PARSE_EXCEPTION, which an lp_sdes
            // it cannot parse may draw.
            match consumer.strict_findings().first() {
                None if consumer.warnings().is_empty() => Found::pass(shown),
                None => Found::pass(format!(
                    "{shown}; warnings: {}",
                    consumer.warnings().join("; ")
                )),
                Some(first) => {
                    let sdes = if consumer.warnings().is_empty() {
                        String::new()
                    } else {
                        format!("; warnings: {}", consumer.warnings().join("; "))
                    };
                    Found::warn(format!(
                        "{shown}; the platform's published rules take it, the strict \
                         reading refuses it: {}{sdes}",
                        consumer.risks().join("; ")
                    ))
                    .on(first.basis(), first.rule.cite())
                }
            }
        }
        Err(rejection) => {
            Found::fail(rejection.explained()).on(rejection.basis(), rejection.rule.cite())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{issuer_of, printable};

    #[test]
    fn quoted_text_is_one_printable_line() {
        assert_eq!(
            printable("no\tsession: \u{1b}[31mrun login\u{1b}[0m first\r"),
            "no session: run login first"
        );
        assert_eq!(
            printable("\u{1b}]0;title\u{7}a\u{1b}]8;;https://x\u{1b}\\b\u{1b}(Bc\u{1b}7d\u{7f}e\n"),
            "abcd e"
        );
        assert_eq!(printable("\u{1b}[1;"), "");
        assert_eq!(printable("é\u{1b}[2Kü\u{9b}x"), "éü x");
    }

    #[test]
    fn a_discovery_url_names_its_issuer_as_the_specs_say() {
        let of = |u: &str| issuer_of(&u.parse().unwrap());
        assert_eq!(
            of("https://op/.well-known/openid-configuration"),
            "https://op"
        );
        assert_eq!(
            of("https://op/.well-known/openid-configuration/"),
            "https://op"
        );
        assert_eq!(
            of("https://op:8443/o/.well-known/openid-configuration/"),
            "https://op:8443/o"
        );
        assert_eq!(
            of("https://op/.well-known/oauth-authorization-server/tenant"),
            "https://op/tenant"
        );
        assert_eq!(
            of("https://op/realms/x/.well-known/openid-configuration?a=b"),
            "https://op/realms/x"
        );
    }
}
