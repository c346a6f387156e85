//! Drives each scenario over real HTTPS: a mock provider of its own (with the scenario's
//! faults), headless login, the redirect, then the verifier (redemption, decryption,
//! verification), and compares the verdict with the expectation.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::file::{ClientAuthSpec, FlowKind, KeySpec, Scenario, Verdict};
use crate::claims::{ClientId, ClientSecret, Issuer, Nonce};
use crate::clock::FixedClock;
use crate::idp::{ClientConfig, EncryptConfig, Faults, IdpConfig, MockIdp};
use crate::verifier::{
    pkce_pair, read_redirect, redirect_params, ClientAuth, CodeRedemption, Handover, KeySource,
    RejectReason, Verifier, VerifierConfig, VerifyContext,
};

/// The client every scenario registers at its provider.
const CLIENT_ID: &str = "harness-client";
const CLIENT_SECRET: &str = "harness-secret";

/// How a scenario ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The verdict matched the expectation.
    Pass,
    /// It did not, or the harness could not drive the flow.
    Fail,
    /// Not run; the scenario says why.
    Skip,
}

/// One scenario's result.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// The scenario id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// The folder it came from (`conformance`, `malformed`, `flows`), for grouping.
    pub group: String,
    /// Pass, fail or skip.
    pub status: Status,
    /// What the platform decided, if the flow got that far.
    pub verdict: Option<Verdict>,
    /// The reason code of a rejection.
    pub reason: Option<&'static str>,
    /// The rejection's detail, or why the scenario failed or was skipped.
    pub detail: String,
    /// What was expected, as `rejected (expired)`.
    pub expected: String,
    /// Wall time, milliseconds.
    pub millis: u64,
}

fn expected_text(scenario: &Scenario) -> String {
    let verdict = match scenario.expect.verdict {
        Verdict::Authenticated => "authenticated",
        Verdict::Rejected => "rejected",
        Verdict::Either => "either",
    };
    match &scenario.expect.reason {
        Some(reason) => format!("{verdict} ({reason})"),
        None => verdict.to_owned(),
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
                detail: format!("the scenario task failed: {err}"),
                expected: String::new(),
                millis: 0,
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
        detail: String::new(),
        expected: expected_text(scenario),
        millis: 0,
    };
    if let Some(why) = &scenario.skip {
        outcome.detail = why.clone();
        return outcome;
    }
    match drive(scenario).await {
        Ok(verdict) => {
            let (got, reason, detail) = match verdict {
                Ok(sub) => (Verdict::Authenticated, None, format!("sub {sub}")),
                Err(rejection) => (Verdict::Rejected, Some(rejection.reason), rejection.detail),
            };
            outcome.verdict = Some(got);
            outcome.reason = reason.map(RejectReason::code);
            outcome.detail = detail;
            let verdict_ok = match scenario.expect.verdict {
                Verdict::Either => true,
                expected => expected == got,
            };
            let reason_ok = match (got, scenario.reason) {
                (Verdict::Rejected, Some(expected)) => reason == Some(expected),
                _ => true,
            };
            outcome.status = if verdict_ok && reason_ok {
                Status::Pass
            } else {
                Status::Fail
            };
        }
        Err(harness) => {
            outcome.status = Status::Fail;
            outcome.detail = format!("harness: {harness}");
        }
    }
    outcome.millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    outcome
}

/// The platform's verdict (the consumer's sub, or the rejection), or why the harness could not
/// get one.
async fn drive(s: &Scenario) -> Result<Result<String, crate::verifier::Rejection>, String> {
    let p = &s.provider;
    let clock = Arc::new(FixedClock::at(s.now_unix));
    let mut config = IdpConfig::default();
    config.clients.push(ClientConfig {
        client_id: CLIENT_ID.into(),
        client_secret: ClientSecret::new(CLIENT_SECRET),
        redirect_uris: vec!["https://liveperson.net".into()],
        allow_loopback_redirects: true,
        error_style: p.error_style,
        encrypt_id_token: p.encrypt.then_some(EncryptConfig {
            public_key: None,
            alg: p.alg,
            enc: p.enc,
        }),
        rotate_refresh_tokens: false,
        require_pkce: false,
    });
    config.faults = Faults {
        mutate: p.mutate.clone(),
        token_response: p.token_response,
        redirect: p.redirect,
        jwks: p.jwks,
        discovery_issuer: None,
        userinfo_sub: None,
    };
    let idp = MockIdp::builder()
        .config(config)
        .clock(clock.clone())
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let verifier = Verifier::new(verifier_config(s, &idp)?).map_err(|e| e.to_string())?;
    let http = idp.http_client();

    let flow = s.flow;
    let code_flow = matches!(flow, FlowKind::Code | FlowKind::Popup);
    let popup = matches!(flow, FlowKind::Popup | FlowKind::PopupImplicit);
    let nonce = s.verifier.nonce.then(|| format!("n-{}", s.id));
    let state = format!("st-{}", s.id);
    let (code_verifier, challenge) = if s.verifier.pkce {
        let (v, c) = pkce_pair();
        (Some(v), Some(c))
    } else {
        (None, None)
    };
    let mut params: Vec<(&str, String)> = vec![
        ("client_id", CLIENT_ID.into()),
        ("redirect_uri", "https://liveperson.net".into()),
        (
            "response_type",
            if code_flow { "code" } else { "id_token" }.into(),
        ),
        ("scope", "openid email profile".into()),
        ("state", state.clone()),
        ("login_hint", s.persona.clone()),
        ("prompt", "none".into()),
    ];
    // An ID token from the authorization endpoint needs a nonce; without one the provider refuses.
    params.push(("nonce", nonce.clone().unwrap_or_else(|| "unchecked".into())));
    if let Some(challenge) = &challenge {
        params.push(("code_challenge", challenge.clone()));
        params.push(("code_challenge_method", "S256".into()));
    }
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())))
        .finish();

    // Verification sees the clock after the key rotation and the configured delay.
    if p.rotate_before_signing {
        // Prime the verifier's JWKS cache with the current keys first, then rotate.
        verifier
            .prefetch_keys(s.now_unix)
            .await
            .map_err(|e| e.to_string())?;
        idp.rotate_keys().map_err(|e| e.to_string())?;
    }
    let response = http
        .get(format!("{}/o/oauth2/v2/auth?{query}", idp.base_url()))
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
        .ok_or("authorize redirected without a Location")?
        .to_owned();
    let redirect = redirect_params(&location);

    // Only the separate window sees the redirect's state; embedded and mobile flows get the code
    // or token from the page or app.
    let expected_state = popup.then_some(state.as_str());
    let ctx = VerifyContext {
        now: s.now_unix + s.verifier.verify_after_secs,
        nonce: nonce.map(Nonce::new),
        access_token: None,
        code: None,
    };
    let verdict = match read_redirect(&redirect, expected_state) {
        Err(rejection) => Err(rejection),
        Ok(Handover::Code(code)) if code_flow => {
            verifier
                .authenticate_code(
                    &CodeRedemption {
                        code,
                        redirect_uri: None,
                        code_verifier,
                    },
                    &ctx,
                )
                .await
        }
        Ok(Handover::IdToken {
            id_token,
            access_token,
        }) if !code_flow => {
            let ctx = VerifyContext {
                access_token,
                ..ctx
            };
            let first = verifier.verify(&id_token, &ctx).await;
            match first {
                Ok(_) if s.replay => verifier.verify(&id_token, &ctx).await,
                first => first,
            }
        }
        Ok(other) => {
            return Err(format!(
                "the redirect handed over {other:?} in a {flow:?} flow"
            ))
        }
    };
    Ok(verdict.map(|consumer| consumer.sub().to_string()))
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
    if matches!(s.flow, FlowKind::Code | FlowKind::Popup) {
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
    config.http_timeout = Duration::from_millis(v.http_timeout_ms);
    config.extra_root_pem = idp.ca_cert_pem().map(str::to_owned);
    Ok(config)
}
