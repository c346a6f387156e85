//! Drives each scenario over real HTTPS: a mock provider of its own (with the scenario's
//! faults), headless login, the redirect, then the verifier (redemption, decryption,
//! verification), and compares the verdict with the expectation.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::file::{
    BrandSide, ClientAuthSpec, FlowKind, KeySpec, PhoneMappingSpec, Scenario, Verdict,
};
use super::report::{Evidence, Outcome, RuleShown, Status};
use crate::claims::{ClientId, ClientSecret, Issuer, Nonce};
use crate::clock::FixedClock;
use crate::idp::{ClientConfig, EncryptConfig, Faults, IdpConfig, MockIdp, Observation, PkceSeen};
use crate::verifier::{
    pkce_pair, read_front_channel, read_implicit_redirect, read_redirect, redirect_params,
    strict_refusal, AuthenticatedConsumer, ClientAuth, CodeRedemption, Handover, KeySource,
    PhoneNumberMapping, RejectReason, Verifier, VerifierConfig, VerifyContext,
};

/// The client every scenario registers at its provider.
const CLIENT_ID: &str = "harness-client";
const CLIENT_SECRET: &str = "harness-secret";
/// `[brands]`'s second brand, and its secret for the same client id.
const OTHER_BRAND: &str = "other";
const OTHER_SECRET: &str = "other-secret";

fn expected_text(scenario: &Scenario) -> String {
    let verdict = match scenario.expect.verdict {
        Verdict::Authenticated => "authenticated",
        Verdict::Rejected => "rejected",
        Verdict::Either => "either",
    };
    let strict = match &scenario.expect.reason {
        Some(reason) => format!("{verdict} ({reason})"),
        None => verdict.to_owned(),
    };
    match scenario.platform {
        None => strict,
        Some(None) => format!("{strict}; platform: authenticated"),
        Some(Some(reason)) => format!("{strict}; platform: rejected ({})", reason.code()),
    }
}

fn group_of(scenario: &Scenario) -> String {
    scenario
        .path
        .parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Runs `scenarios`, at most `jobs` at a time, and returns the outcomes in input order.
pub async fn run_all(scenarios: Vec<Scenario>, jobs: usize) -> Vec<Outcome> {
    let limit = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let tasks: Vec<_> = scenarios
        .into_iter()
        .map(|scenario| {
            let limit = Arc::clone(&limit);
            tokio::spawn(async move {
                let _permit = limit.acquire().await;
                run_one(&scenario).await
            })
        })
        .collect();
    let mut outcomes = Vec::with_capacity(tasks.len());
    for task in tasks {
        match task.await {
            Ok(outcome) => outcomes.push(outcome),
            Err(err) => outcomes.push(Outcome {
                id: "?".into(),
                title: String::new(),
                group: String::new(),
                status: Status::Fail,
                verdict: None,
                reason: None,
                rule: None,
                platform: None,
                detail: format!("the scenario task failed: {err}"),
                expected: String::new(),
                millis: 0,
                evidence: Evidence::default(),
                basis: None,
                citation: None,
            }),
        }
    }
    outcomes
}

/// Runs one scenario.
pub async fn run_one(scenario: &Scenario) -> Outcome {
    let started = Instant::now();
    let mut outcome = Outcome {
        id: scenario.id.clone(),
        title: scenario.title.clone(),
        group: group_of(scenario),
        status: Status::Skip,
        verdict: None,
        reason: None,
        rule: None,
        platform: None,
        detail: String::new(),
        expected: expected_text(scenario),
        millis: 0,
        evidence: Evidence::default(),
        basis: None,
        citation: None,
    };
    if let Some(why) = &scenario.skip {
        outcome.detail = why.clone();
        return outcome;
    }
    match drive(scenario).await {
        Ok(driven) => {
            // `verdict` and `reason` are the strict reading's; the platform reading is the
            // same pass's result, checked against `platform` (or the same expectation).
            let strict = strict_refusal(&driven.verdict);
            let (got, reason, detail) = match (strict, &driven.verdict) {
                (Some(rejection), _) => (
                    Verdict::Rejected,
                    Some(rejection.reason),
                    rejection.detail.clone(),
                ),
                (None, Ok(consumer)) => (
                    Verdict::Authenticated,
                    None,
                    format!("sub {}", consumer.sub()),
                ),
                (None, Err(rejection)) => (
                    Verdict::Rejected,
                    Some(rejection.reason),
                    rejection.detail.clone(),
                ),
            };
            let platform_got = driven.verdict.as_ref().err().map(|r| r.reason);
            outcome.verdict = Some(got);
            outcome.reason = reason.map(RejectReason::code);
            outcome.rule = strict.map(RuleShown::of);
            if platform_got != reason {
                outcome.platform = Some(match &driven.verdict {
                    Ok(_) => "authenticated".to_owned(),
                    Err(r) => format!("rejected ({})", r.reason.code()),
                });
            }
            outcome.detail = detail;
            let verdict_ok = match scenario.expect.verdict {
                Verdict::Either => true,
                expected => expected == got,
            };
            let reason_ok = match (got, scenario.reason) {
                (Verdict::Rejected, Some(expected)) => reason == Some(expected),
                _ => true,
            };
            let platform_ok = match (scenario.platform, scenario.expect.verdict) {
                (Some(expected), _) => platform_got == expected,
                (None, Verdict::Either) => true,
                (None, Verdict::Authenticated) => platform_got.is_none(),
                (None, Verdict::Rejected) => platform_got == scenario.reason,
            };
            let mut misses = Vec::new();
            if let Ok(consumer) = &driven.verdict {
                consumer_misses(scenario, consumer, &mut misses);
            }
            provider_misses(scenario, &driven.observed, &mut misses);
            if let Some(answers) = &driven.answers {
                super::mobile::misses(scenario, answers, &mut misses);
            }
            outcome.evidence = evidence_of(scenario, &driven.observed);
            if !platform_ok {
                misses.push(format!(
                    "the platform reading {}, expected {}",
                    outcome
                        .platform
                        .as_deref()
                        .unwrap_or("agrees with the strict one"),
                    match scenario.platform {
                        Some(None) => "authenticated".to_owned(),
                        Some(Some(r)) => format!("rejected ({})", r.code()),
                        None => "the same verdict".to_owned(),
                    }
                ));
            }
            outcome.status = if verdict_ok && reason_ok && misses.is_empty() {
                Status::Pass
            } else {
                Status::Fail
            };
            if !misses.is_empty() {
                outcome.detail = format!("{}; {}", misses.join("; "), outcome.detail);
            }
        }
        Err(harness) => {
            outcome.status = Status::Fail;
            outcome.detail = format!("harness: {harness}");
        }
    }
    outcome.millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    outcome
}

/// What the report shows of a scenario: the last ID token the provider issued, and the faults
/// its file sets.
fn evidence_of(s: &Scenario, observed: &[Observation]) -> Evidence {
    let mut evidence = observed
        .iter()
        .rev()
        .find_map(|o| match o {
            Observation::Issued { id_token } => Some(Evidence::of_token(id_token)),
            _ => None,
        })
        .unwrap_or_default();
    let p = &s.provider;
    // A fault's name is its serialized form, as the scenario file writes it.
    let fault = |key: &str, value: Option<serde_json::Value>| {
        value.map(|v| format!("{key} = {}", v.as_str().unwrap_or_default()))
    };
    evidence.mutations = p
        .mutate
        .iter()
        .map(|m| m.name().to_owned())
        .chain(fault(
            "token_response",
            p.token_response.and_then(|f| serde_json::to_value(f).ok()),
        ))
        .chain(fault(
            "redirect",
            p.redirect.and_then(|f| serde_json::to_value(f).ok()),
        ))
        .chain(fault(
            "jwks",
            p.jwks.and_then(|f| serde_json::to_value(f).ok()),
        ))
        .collect();
    evidence
}

/// What an authenticated consumer's expectation asks that it does not have.
fn consumer_misses(s: &Scenario, consumer: &AuthenticatedConsumer, misses: &mut Vec<String>) {
    let e = &s.expect;
    if let Some(sub) = e
        .sub
        .as_deref()
        .filter(|sub| *sub != consumer.sub().as_str())
    {
        misses.push(format!("sub {:?} is not {sub:?}", consumer.sub().as_str()));
    }
    for (key, want) in &e.fields {
        match consumer.field(key) {
            Some(got) if got == want => {}
            Some(got) => misses.push(format!("field {key} shows {got:?}, not {want:?}")),
            None => misses.push(format!("field {key} is not shown")),
        }
    }
    let warnings = consumer.warnings();
    for path in &e.dropped {
        let named = warnings
            .iter()
            .any(|w| w.starts_with(path.as_str()) && w[path.len()..].starts_with(" dropped"));
        if !named {
            misses.push(format!("{path} was not dropped (warnings: {warnings:?})"));
        }
    }
    for text in &e.warnings {
        if !warnings.iter().any(|w| w.contains(text.as_str())) {
            misses.push(format!("no warning says {text:?} (warnings: {warnings:?})"));
        }
    }
}

/// What `[expect.provider]` asks that the provider did not see.
fn provider_misses(s: &Scenario, observed: &[Observation], misses: &mut Vec<String>) {
    let want = &s.expect.provider;
    let authorizes: Vec<_> = observed
        .iter()
        .filter_map(|o| match o {
            Observation::Authorize { nonce, pkce, .. } => Some((*nonce, *pkce)),
            _ => None,
        })
        .collect();
    let tokens: Vec<_> = observed
        .iter()
        .filter_map(|o| match o {
            Observation::Token {
                client_auth,
                body,
                code_verifier,
                ..
            } => Some((*client_auth, *body, *code_verifier)),
            _ => None,
        })
        .collect();
    if let Some(count) = want.token_requests.filter(|count| *count != tokens.len()) {
        misses.push(format!(
            "the provider saw {} token requests, not {count}",
            tokens.len()
        ));
    }
    let mut check = |what: &str, seen: Vec<String>, want: String| {
        if seen.is_empty() {
            misses.push(format!("the provider saw no request with a {what}"));
        } else if let Some(other) = seen.iter().find(|got| **got != want) {
            misses.push(format!("the provider saw {what} {other}, not {want}"));
        }
    };
    if let Some(nonce) = want.nonce {
        let seen = authorizes.iter().map(|(n, _)| n.to_string()).collect();
        check("nonce sent", seen, nonce.to_string());
    }
    if let Some(pkce) = want.pkce {
        let seen = authorizes
            .iter()
            .map(|(_, p)| p.name().to_owned())
            .collect();
        check("PKCE method", seen, pkce.name().to_owned());
        if pkce != PkceSeen::None {
            let seen = tokens.iter().map(|(_, _, v)| v.to_string()).collect();
            check("code_verifier sent", seen, "true".into());
        }
    }
    if let Some(auth) = want.client_auth {
        let seen = tokens.iter().map(|(a, _, _)| a.name().to_owned()).collect();
        check("client authentication", seen, auth.name().to_owned());
    }
    if let Some(body) = want.body {
        let seen = tokens.iter().map(|(_, b, _)| b.name().to_owned()).collect();
        check("token request body", seen, body.name().to_owned());
    }
}

/// One headless login: the authorization request, and the parameters its redirect carries.
pub(super) async fn authorize(
    http: &reqwest::Client,
    base: &str,
    query: &str,
) -> Result<std::collections::HashMap<String, String>, String> {
    let response = http
        .get(format!("{base}/o/oauth2/v2/auth?{query}"))
        .send()
        .await
        .map_err(|e| format!("authorize: {e}"))?;
    if response.status() != reqwest::StatusCode::FOUND {
        return Err(format!(
            "authorize answered {} instead of a redirect",
            response.status()
        ));
    }
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or("authorize redirected without a Location")?;
    Ok(redirect_params(location))
}

/// What a scenario's flow came to: the platform's verdict and what the provider saw.
struct Driven {
    verdict: Result<AuthenticatedConsumer, crate::verifier::Rejection>,
    observed: Vec<Observation>,
    /// What the platform's IDP answered, for the flows through it.
    answers: Option<super::mobile::Driven>,
}

/// The platform's verdict and the provider's observations, or why the harness could not get
/// them.
async fn drive(s: &Scenario) -> Result<Driven, String> {
    let clock = Arc::new(FixedClock::at(s.now_unix));
    let idp = start_provider(s, &clock).await?;
    let verifier = Verifier::new(verifier_config(s, &idp)?).map_err(|e| e.to_string())?;
    let http = idp.http_client();
    let request = Authorization::of(s);
    if s.provider.rotate_before_signing {
        // Prime the verifier's JWKS cache with the current keys first, then rotate.
        verifier
            .prefetch_keys(s.now_unix)
            .await
            .map_err(|e| e.to_string())?;
        idp.rotate_keys().map_err(|e| e.to_string())?;
    }
    // The consumer signs in at this brand, or at the other one of `[brands]`.
    let sign_in_base = match s.brands.sign_in {
        BrandSide::This => idp.base_url().to_owned(),
        BrandSide::Other => idp.brand_url(OTHER_BRAND),
    };
    if s.flow.through_the_idp() {
        let query_for = |persona: &str| request.query(s, persona);
        let driven = super::mobile::drive(
            s,
            verifier,
            Arc::clone(&clock),
            &http,
            &sign_in_base,
            &query_for,
        )
        .await?;
        return Ok(Driven {
            verdict: driven.verdict.clone(),
            observed: idp.state().observed(),
            answers: Some(driven),
        });
    }
    let flow = Flow {
        s,
        idp: &idp,
        verifier: &verifier,
        http: &http,
        clock: &clock,
        sign_in_base: &sign_in_base,
        request: &request,
    };
    let redirect = authorize(&http, &sign_in_base, &request.query(s, &s.persona)).await?;
    let verdict = flow.hand_over(&redirect).await?;
    Ok(Driven {
        verdict,
        observed: idp.state().observed(),
        answers: None,
    })
}

/// The scenario's provider: its client (with the scenario's envelope and error names), the
/// other brand of `[brands]`, and its `[provider]` faults, on the scenario's clock.
async fn start_provider(s: &Scenario, clock: &Arc<FixedClock>) -> Result<MockIdp, String> {
    let p = &s.provider;
    let mut config = IdpConfig::default();
    config.clients.push(ClientConfig {
        client_id: CLIENT_ID.into(),
        client_secret: ClientSecret::new(CLIENT_SECRET),
        // An app's backend asks for codes at its own redirect URI.
        redirect_uris: std::iter::once("https://liveperson.net".to_owned())
            .chain((s.flow == FlowKind::MobileCode).then(|| s.mobile.redirect_uri.clone()))
            .collect(),
        allow_loopback_redirects: true,
        error_style: p.error_style,
        encrypt_id_token: p.encrypt.then_some(EncryptConfig {
            public_key: None,
            alg: p.alg,
            enc: p.enc,
        }),
        rotate_refresh_tokens: false,
        require_pkce: false,
        implicit_param: p.implicit_param,
        token_endpoint_auth_method: None,
    });
    if s.brands.in_use() {
        other_brand(s, &mut config)?;
    }
    config.faults = Faults {
        mutate: p.mutate.clone(),
        token_response: p.token_response,
        redirect: p.redirect,
        jwks: p.jwks,
        discovery_issuer: None,
        userinfo_sub: None,
        lapses: p.lapses.clone(),
        token: p.token.clone(),
    };
    MockIdp::builder()
        .config(config)
        .clock(Arc::clone(clock) as Arc<dyn crate::clock::Clock>)
        .start()
        .await
        .map_err(|e| e.to_string())
}

/// The platform's authorization request: its `state`, `nonce`, PKCE pair and redirect URI.
struct Authorization {
    state: String,
    nonce: Option<String>,
    code_verifier: Option<String>,
    challenge: Option<String>,
    redirect_uri: String,
}

impl Authorization {
    fn of(s: &Scenario) -> Self {
        // An app's code comes with no nonce the platform could know.
        let nonce =
            (s.verifier.nonce && s.flow != FlowKind::MobileCode).then(|| format!("n-{}", s.id));
        let (code_verifier, challenge) = if s.verifier.pkce {
            let (v, c) = pkce_pair();
            (Some(v), Some(c))
        } else {
            (None, None)
        };
        Self {
            state: format!("st-{}", s.id),
            nonce,
            code_verifier,
            challenge,
            redirect_uri: match s.flow {
                FlowKind::MobileCode => s.mobile.redirect_uri.clone(),
                _ => "https://liveperson.net".into(),
            },
        }
    }

    /// The query that logs `persona` in headlessly.
    fn query(&self, s: &Scenario, persona: &str) -> String {
        let mut params: Vec<(&str, &str)> = vec![
            ("client_id", CLIENT_ID),
            ("redirect_uri", &self.redirect_uri),
            ("response_type", s.response_type()),
            ("scope", "openid email profile"),
            ("state", &self.state),
            ("login_hint", persona),
            ("prompt", "none"),
        ];
        // An ID token from the authorization endpoint needs a nonce (the provider refuses the
        // request without one); a code flow sends one only when the platform checks it.
        match &self.nonce {
            Some(nonce) => params.push(("nonce", nonce)),
            None if !s.flow.redeems_a_code() => params.push(("nonce", "unchecked")),
            None => {}
        }
        if let Some(challenge) = &self.challenge {
            params.push(("code_challenge", challenge));
            params.push(("code_challenge_method", "S256"));
        }
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish()
    }
}

/// What the platform decided: the consumer, or the refusal (the strict reading's findings ride
/// on the consumer).
type Decided = Result<AuthenticatedConsumer, crate::verifier::Rejection>;

/// One web flow's moving parts, for its steps.
struct Flow<'a> {
    s: &'a Scenario,
    idp: &'a MockIdp,
    verifier: &'a Verifier,
    http: &'a reqwest::Client,
    clock: &'a Arc<FixedClock>,
    sign_in_base: &'a str,
    request: &'a Authorization,
}

impl Flow<'_> {
    fn code_flow(&self) -> bool {
        self.s.flow.redeems_a_code()
    }

    /// Only the separate window sees the redirect's state; embedded flows get the code or
    /// token from the page.
    fn expected_state(&self) -> Option<&str> {
        matches!(self.s.flow, FlowKind::Popup | FlowKind::PopupImplicit)
            .then_some(self.request.state.as_str())
    }

    /// The code flows read a code; the others the JWT, wherever the provider put it.
    fn read_handover(
        &self,
        redirect: &std::collections::HashMap<String, String>,
    ) -> Result<Handover, crate::verifier::Rejection> {
        if self.code_flow() {
            read_redirect(redirect, self.expected_state())
        } else {
            read_implicit_redirect(redirect, self.expected_state())
        }
    }

    /// What the redirect hands over, verified as the platform does (the replay and the second
    /// login included).
    async fn hand_over(
        &self,
        redirect: &std::collections::HashMap<String, String>,
    ) -> Result<Decided, String> {
        let s = self.s;
        let ctx = VerifyContext {
            now: s.now_unix + s.verifier.verify_after_secs,
            nonce: self.request.nonce.as_deref().map(Nonce::new),
            access_token: None,
            code: None,
            front_channel: !self.code_flow(),
        };
        let code_verifier = self.request.code_verifier.clone();
        if let Some(several) = s.response_type.as_deref().filter(|rt| rt.contains(' ')) {
            return Ok(
                match read_front_channel(redirect, self.expected_state(), several) {
                    Ok(front) => {
                        self.verifier
                            .authenticate_front_channel(&front, code_verifier, &ctx)
                            .await
                    }
                    Err(rejection) => Err(rejection),
                },
            );
        }
        match self.read_handover(redirect) {
            Err(rejection) => Ok(Err(rejection)),
            Ok(Handover::Code(code)) if self.code_flow() => {
                let redemption = CodeRedemption {
                    code,
                    redirect_uri: None,
                    code_verifier,
                };
                Ok(self.verifier.authenticate_code(&redemption, &ctx).await)
            }
            Ok(Handover::IdToken {
                id_token,
                access_token,
            }) if !self.code_flow() => {
                let ctx = VerifyContext {
                    access_token,
                    ..ctx
                };
                let first = self.verifier.verify(&id_token, &ctx).await;
                match (first, s.reauthenticate_after_secs) {
                    (Ok(_), _) if s.replay => Ok(self.verifier.verify(&id_token, &ctx).await),
                    (Ok(_), Some(after)) => self.reauthenticate(&id_token, &ctx, after).await,
                    (first, _) => Ok(first),
                }
            }
            Ok(other) => Err(format!(
                "the redirect handed over {other:?} in a {:?} flow",
                s.flow
            )),
        }
    }

    /// `after` seconds later the first ID token must have expired (or nothing is re-proved);
    /// then a second login, whose verdict counts.
    async fn reauthenticate(
        &self,
        id_token: &str,
        ctx: &VerifyContext,
        after: i64,
    ) -> Result<Decided, String> {
        let later = VerifyContext {
            now: ctx.now + after,
            ..ctx.clone()
        };
        match self.verifier.verify(id_token, &later).await {
            Err(r) if r.reason == RejectReason::Expired => {}
            other => {
                return Err(format!(
                    "the first ID token was not expired {after} s later: {}",
                    match other {
                        Ok(_) => "still accepted".to_owned(),
                        Err(r) => r.reason.code().to_owned(),
                    }
                ))
            }
        }
        self.clock.advance(after);
        if self.s.provider.rotate_between_logins {
            self.idp.rotate_keys().map_err(|e| e.to_string())?;
        }
        let persona = self
            .s
            .reauthenticate_as
            .as_deref()
            .unwrap_or(&self.s.persona);
        let query = self.request.query(self.s, persona);
        let again = authorize(self.http, self.sign_in_base, &query).await?;
        match self.read_handover(&again) {
            Ok(Handover::IdToken {
                id_token,
                access_token,
            }) => {
                let ctx = VerifyContext {
                    access_token,
                    ..later
                };
                Ok(self.verifier.verify(&id_token, &ctx).await)
            }
            Ok(other) => Err(format!("the second login handed over {other:?}")),
            Err(rejection) => Ok(Err(rejection)),
        }
    }
}

/// Adds `[brands]`'s other brand beside the scenario's provider (this brand): keys of its own,
/// the same client id under another secret, and what the scenario makes cross.
fn other_brand(s: &Scenario, config: &mut IdpConfig) -> Result<(), String> {
    let this_kid = crate::keys::fixture_signing_keys()
        .map_err(|e| e.to_string())?
        .first()
        .map(|k| k.kid().to_string())
        .ok_or("no fixture key")?;
    let mut keys = crate::idp::KeysConfig::default();
    if s.brands.same_kid {
        keys.kids = vec![this_kid];
    }
    if s.brands.jwks_with_other_key {
        let other = crate::keys::seeded_signing_keys(&format!("brand {OTHER_BRAND}"))
            .map_err(|e| e.to_string())?;
        config.keys.also_publish = other.into_iter().take(1).collect();
    }
    let mut client = config
        .clients
        .iter()
        .find(|c| c.client_id == CLIENT_ID)
        .cloned()
        .ok_or("the scenario registers no client")?;
    client.client_secret = ClientSecret::new(OTHER_SECRET);
    config.brands.push(crate::idp::BrandConfig {
        name: OTHER_BRAND.to_owned(),
        issuer: None,
        personas: None,
        keys,
        tokens: config.tokens.clone(),
        discovery: config.discovery.clone(),
        faults: Faults::default(),
        clients: vec![client],
    });
    Ok(())
}

fn verifier_config(s: &Scenario, idp: &MockIdp) -> Result<VerifierConfig, String> {
    let v = &s.verifier;
    let base = idp.base_url();
    let key = match v.key {
        KeySpec::Jwks => KeySource::JwksUrl(
            format!("{base}/oauth2/v3/certs")
                .parse()
                .map_err(|e| format!("{e}"))?,
        ),
        KeySpec::PublicKey => {
            let kid = idp
                .state()
                .published_kids()
                .first()
                .cloned()
                .ok_or("no published key")?;
            let key = crate::keys::fixture_signing_keys()
                .map_err(|e| e.to_string())?
                .into_iter()
                .find(|k| *k.kid() == kid)
                .ok_or("the active key is not a fixture key")?;
            KeySource::PublicKey(
                crate::keys::RsaKey::from_public_pem_or_base64(&key.key().public_base64_line())
                    .map_err(|e| e.to_string())?,
            )
        }
    };
    let mut config = VerifierConfig::new(Issuer::new(idp.issuer().as_str()), key);
    if s.flow.redeems_a_code() {
        config = config.token_endpoint(
            format!("{base}/token")
                .parse()
                .map_err(|e| format!("{e}"))?,
            ClientId::new(CLIENT_ID),
            ClientSecret::new(CLIENT_SECRET),
        );
    }
    config.client_id = v.check_audience.then(|| ClientId::new(CLIENT_ID));
    config.client_auth = match v.client_auth {
        ClientAuthSpec::Basic => ClientAuth::Basic,
        ClientAuthSpec::Body => ClientAuth::Body,
        ClientAuthSpec::Json => ClientAuth::JsonBody,
    };
    config.pkce = v.pkce;
    config.require_encryption = v.require_encryption;
    if v.decryption_key {
        config.decryption_key =
            Some(crate::keys::fixture_platform_key().map_err(|e| e.to_string())?);
    }
    config.insecure_allow_millisecond_timestamps = v.insecure_allow_millisecond_timestamps;
    config.insecure_allow_string_timestamps = v.insecure_allow_string_timestamps;
    config.reject_replays = v.reject_replays;
    config.lp_sdes_strict = v.lp_sdes_strict;
    config.leeway_secs = v.leeway_secs;
    config.trusted_audiences.clone_from(&v.trusted_audiences);
    config.allow_untrusted_audiences = v.allow_untrusted_audiences;
    config.phone_number_mapping = match v.phone_number_mapping {
        PhoneMappingSpec::CustomerImei => PhoneNumberMapping::CustomerImei,
        PhoneMappingSpec::PersonalContactPhone => PhoneNumberMapping::PersonalContactPhone,
    };
    config.http_timeout = Duration::from_millis(v.http_timeout_ms);
    config.extra_root_pem = idp.ca_cert_pem().map(str::to_owned);
    Ok(config)
}
