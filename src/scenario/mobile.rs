//! Mobile flows: the app's backend gets a code (with the redirect URI it was issued for) or an
//! ID token from the brand's provider, and the app hands it to the platform's IDP over HTTP as
//! the SDK does (`liveperson-auth.md` §8.3). The IDP is [`crate::platform::idp_api`] itself,
//! with one account whose connector is the scenario's verifier; what it decided is read back
//! for both readings, and what it answered is kept for the expectations on the IDP's answer.

use std::collections::HashMap;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;

use super::file::{FlowKind, Scenario};
use crate::clock::FixedClock;
use crate::platform::idp_api::{self, Account, IdpApi, Verdict};
use crate::verifier::{
    read_implicit_redirect, read_redirect, Handover, RejectReason, Rejection, Verifier,
};

/// The account the scenario's connector is at.
pub(super) const ACCOUNT: &str = "scenario";

/// What the IDP answered one call.
#[derive(Debug, Clone)]
pub(super) struct Answer {
    /// The HTTP status.
    pub(super) status: u16,
    /// The `internalErrorCode` of a refusal.
    pub(super) code: Option<String>,
    /// The consumer JWT's claims, on success.
    pub(super) consumer: Option<Value>,
}

/// A mobile flow's outcome: the last call's verdict and every answer, in order.
pub(super) struct Driven {
    pub(super) verdict: Verdict,
    pub(super) answers: Vec<Answer>,
}

/// The IDP, served on a loopback port for the length of one scenario.
struct Served {
    api: Arc<IdpApi>,
    url: String,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve(verifier: Verifier, clock: Arc<FixedClock>) -> Result<Served, String> {
    let signer = crate::keys::fixture_platform_signing_key()
        .map_err(|e| e.to_string())
        .and_then(|key| crate::jose::Signer::rs256(&key).map_err(|e| e.to_string()))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("the IDP's listener: {e}"))?;
    let origin = format!(
        "http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let api = Arc::new(
        IdpApi::new(
            vec![Account {
                id: ACCOUNT.into(),
                verifier,
                redirect_uri: crate::platform::DEFAULT_REDIRECT_URI.into(),
            }],
            signer,
            origin.clone(),
            clock,
        )
        .recording(),
    );
    let app = idp_api::router(Arc::clone(&api));
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(Served {
        api,
        url: format!(
            "{origin}{}?v=2.0",
            idp_api::SDK_AUTHENTICATE_PATH.replace("{account}", ACCOUNT)
        ),
        server,
    })
}

/// The body the SDK posts for what the app's backend got from the provider's redirect.
fn body_of(s: &Scenario, redirect: &HashMap<String, String>) -> Result<Value, Rejection> {
    match s.flow {
        FlowKind::MobileCode => match read_redirect(redirect, None)? {
            Handover::Code(code) => Ok(serde_json::json!({
                "code": code,
                "redirect_uri": s
                    .mobile
                    .hands_over_redirect_uri
                    .as_deref()
                    .unwrap_or(&s.mobile.redirect_uri),
            })),
            other => Err(Rejection::new(
                RejectReason::HandoverMissing,
                format!("the app's backend got {other:?}, not a code"),
            )),
        },
        _ => match read_implicit_redirect(redirect, None)? {
            Handover::IdToken { id_token, .. } => Ok(serde_json::json!({ "jwt": id_token })),
            other => Err(Rejection::new(
                RejectReason::HandoverMissing,
                format!("the app's backend got {other:?}, not an ID token"),
            )),
        },
    }
}

impl Served {
    /// One call, as the SDK makes it; the answer and the verdict behind it.
    async fn call(
        &self,
        http: &reqwest::Client,
        body: &Value,
    ) -> Result<(Answer, Verdict), String> {
        let response = http
            .post(&self.url)
            .json(body)
            .send()
            .await
            .map_err(|e| format!("the IDP: {e}"))?;
        let status = response.status().as_u16();
        let json: Value = response
            .json()
            .await
            .map_err(|e| format!("the IDP's answer is not JSON: {e}"))?;
        let verdict = self
            .api
            .take_verdicts()
            .pop()
            .ok_or_else(|| format!("the IDP answered {status} {json} without deciding"))?;
        let consumer = json["jwt"].as_str().map(claims_of).transpose()?;
        let code = json["internalErrorCode"].as_str().map(str::to_owned);
        Ok((
            Answer {
                status,
                code,
                consumer,
            },
            verdict,
        ))
    }
}

fn claims_of(jwt: &str) -> Result<Value, String> {
    let payload = jwt
        .split('.')
        .nth(1)
        .ok_or("the consumer JWT has no payload")?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|e| format!("the consumer JWT: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("the consumer JWT: {e}"))
}

/// Drives a mobile flow: sign in, hand over, and for `replay` hand the same over again, or for
/// `reauthenticate_after_secs` let the consumer JWT expire and sign in again.
pub(super) async fn drive(
    s: &Scenario,
    verifier: Verifier,
    clock: Arc<FixedClock>,
    http: &reqwest::Client,
    sign_in_base: &str,
    query_for: &(dyn Fn(&str) -> String + Sync),
) -> Result<Driven, String> {
    let sign_in = |persona: &str| {
        let query = query_for(persona);
        async move { super::runner::authorize(http, sign_in_base, &query).await }
    };
    let served = serve(verifier, Arc::clone(&clock)).await?;
    let mut answers = Vec::new();
    let first = sign_in(&s.persona).await?;
    let body = match body_of(s, &first) {
        Ok(body) => body,
        Err(rejection) => {
            return Ok(Driven {
                verdict: Err(rejection),
                answers,
            })
        }
    };
    clock.advance(s.verifier.verify_after_secs);
    let (answer, mut verdict) = served.call(http, &body).await?;
    answers.push(answer);
    if s.replay && verdict.is_ok() {
        let (answer, again) = served.call(http, &body).await?;
        answers.push(answer);
        verdict = again;
    }
    if let (Some(after), Ok(_)) = (s.reauthenticate_after_secs, &verdict) {
        // The consumer JWT must have run out by then (the SDK's onTokenExpired), or nothing is
        // re-proved.
        let exp = answers
            .last()
            .and_then(|a| a.consumer.as_ref())
            .and_then(|c| c["exp"].as_i64())
            .ok_or("the first consumer JWT has no exp")?;
        let later = crate::clock::Clock::now(&*clock) + after;
        if exp > later {
            return Err(format!(
                "the first consumer JWT was not expired {after} s later (exp {exp})"
            ));
        }
        clock.advance(after);
        let persona = s.reauthenticate_as.as_deref().unwrap_or(&s.persona);
        let again = sign_in(persona).await?;
        let body = match body_of(s, &again) {
            Ok(body) => body,
            Err(rejection) => {
                return Ok(Driven {
                    verdict: Err(rejection),
                    answers,
                })
            }
        };
        let (answer, second) = served.call(http, &body).await?;
        answers.push(answer);
        verdict = second;
    }
    Ok(Driven { verdict, answers })
}

/// What the IDP's answers miss of the scenario's expectations, and where they disagree with the
/// verdict behind them.
pub(super) fn misses(s: &Scenario, driven: &Driven, misses: &mut Vec<String>) {
    let Some(last) = driven.answers.last() else {
        if s.expect.internal_error_code.is_some() {
            misses.push("the app had nothing to hand the IDP".into());
        }
        return;
    };
    match (&driven.verdict, last) {
        (
            Ok(consumer),
            Answer {
                status: 200,
                consumer: Some(claims),
                ..
            },
        ) => {
            if claims["lp.ext"]["sub"] != consumer.sub().as_str() {
                misses.push(format!(
                    "the consumer JWT's lp.ext.sub is {}, the verified sub {}",
                    claims["lp.ext"]["sub"],
                    consumer.sub()
                ));
            }
            if claims["aud"] != format!("acc:{ACCOUNT}").as_str() {
                misses.push(format!("the consumer JWT's aud is {}", claims["aud"]));
            }
        }
        (
            Err(rejection),
            Answer {
                status: 500,
                code: Some(code),
                ..
            },
        ) => {
            let flow = if s.flow.redeems_a_code() {
                crate::verifier::Flow::Code
            } else {
                crate::verifier::Flow::Implicit
            };
            let mapped = idp_api::error_code(rejection, flow);
            if code != mapped {
                misses.push(format!(
                    "the IDP answered {code}, its mapping gives {mapped}"
                ));
            }
        }
        (verdict, answer) => misses.push(format!(
            "the IDP answered {} ({:?}) for {}",
            answer.status,
            answer.code,
            match verdict {
                Ok(_) => "an authenticated consumer".to_owned(),
                Err(r) => format!("a refusal ({})", r.reason.code()),
            }
        )),
    }
    if let Some(expected) = &s.expect.internal_error_code {
        if last.code.as_deref() != Some(expected.as_str()) {
            misses.push(format!(
                "the IDP answered internalErrorCode {:?}, expected {expected:?}",
                last.code
            ));
        }
    }
    if let Some(same) = s.expect.same_consumer {
        let subs: Vec<&Value> = driven
            .answers
            .iter()
            .filter_map(|a| a.consumer.as_ref().map(|c| &c["sub"]))
            .collect();
        match subs.as_slice() {
            [first, .., last] if (first == last) == same => {}
            [first, .., last] => misses.push(format!(
                "the consumer ids were {first} then {last}: expected {}",
                if same {
                    "the same consumer"
                } else {
                    "another consumer"
                }
            )),
            _ => misses.push("same_consumer needs two consumer JWTs".into()),
        }
    }
}
