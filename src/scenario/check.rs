//! `oidc-harness check`: a brand's own provider against the platform's expectations and Google's
//! format. The harness cannot log into someone else's login page, so codes and tokens come from
//! commands the user supplies. Each check is one line of the report.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::runner::{Outcome, Status};
use crate::claims::{ClientId, Issuer};
use crate::keys::RsaKey;
use crate::verifier::{KeySource, Verifier, VerifierConfig, VerifyContext};

/// What to check and how to reach the provider.
#[derive(Debug, Clone)]
pub struct CheckPlan {
    /// The provider's discovery URL.
    pub discovery: url::Url,
    /// The platform's client id at the provider.
    pub client_id: String,
    /// Its secret.
    pub client_secret: String,
    /// The redirect URI codes were issued for.
    pub redirect_uri: String,
    /// A shell command that prints a fresh authorization code (run once per token-endpoint check).
    pub code_from: Option<String>,
    /// A shell command that prints an ID token (Implicit Flow).
    pub token_from: Option<String>,
    /// The platform's private key for envelopes.
    pub decrypt_key: Option<RsaKey>,
    /// An extra CA to trust (PEM), such as `serve`'s local CA.
    pub extra_root_pem: Option<String>,
    /// Now, Unix seconds.
    pub now: i64,
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

struct Checklist {
    outcomes: Vec<Outcome>,
}

impl Checklist {
    fn record(&mut self, id: &str, title: &str, started: Instant, result: Result<String, String>) {
        let (status, detail) = match result {
            Ok(detail) => (Status::Pass, detail),
            Err(detail) => (Status::Fail, detail),
        };
        self.outcomes.push(Outcome {
            id: id.to_owned(),
            title: title.to_owned(),
            group: "check".to_owned(),
            status,
            verdict: None,
            reason: None,
            detail,
            expected: "conforms".to_owned(),
            millis: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        });
    }

    fn skip(&mut self, id: &str, title: &str, why: &str) {
        self.outcomes.push(Outcome {
            id: id.to_owned(),
            title: title.to_owned(),
            group: "check".to_owned(),
            status: Status::Skip,
            verdict: None,
            reason: None,
            detail: why.to_owned(),
            expected: "conforms".to_owned(),
            millis: 0,
        });
    }
}

fn http_client(plan: &CheckPlan) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none());
    if let Some(pem) = &plan.extra_root_pem {
        builder = builder.add_root_certificate(
            reqwest::Certificate::from_pem(pem.as_bytes()).map_err(|e| e.to_string())?,
        );
    }
    builder.build().map_err(|e| e.to_string())
}

async fn get_json(http: &reqwest::Client, url: &str) -> Result<Value, String> {
    let response = http
        .get(url)
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    response
        .json()
        .await
        .map_err(|e| format!("{url}: not JSON: {e}"))
}

/// Runs a shell command and returns its trimmed output, percent-decoded if it looks encoded.
async fn from_command(command: &str) -> Result<String, String> {
    let output = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .output()
        .await
        .map_err(|e| format!("{command}: {e}"))?;
    if !output.status.success() {
        return Err(format!("{command}: exited with {}", output.status));
    }
    let text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if text.is_empty() {
        return Err(format!("{command}: printed nothing"));
    }
    Ok(if text.contains('%') {
        form_urlencoded::parse(format!("x={text}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or(text)
    } else {
        text
    })
}

/// Checks a provider; every check is an outcome in the returned list.
pub async fn run_check(plan: &CheckPlan) -> Vec<Outcome> {
    let mut list = Checklist {
        outcomes: Vec::new(),
    };
    let http = match http_client(plan) {
        Ok(http) => http,
        Err(e) => {
            list.record(
                "http-client",
                "an HTTPS client for the provider",
                Instant::now(),
                Err(e),
            );
            return list.outcomes;
        }
    };
    let started = Instant::now();
    let discovery = get_json(&http, plan.discovery.as_str()).await;
    let doc = match discovery {
        Ok(doc) => {
            list.record(
                "discovery-fetch",
                "the discovery document is served over HTTPS as JSON",
                started,
                Ok(plan.discovery.to_string()),
            );
            doc
        }
        Err(e) => {
            list.record(
                "discovery-fetch",
                "the discovery document is served over HTTPS as JSON",
                started,
                Err(e),
            );
            return list.outcomes;
        }
    };
    let text = |key: &str| {
        doc.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };

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
    let result = if missing.iter().any(|m| essential.contains(m)) {
        Err(format!("missing {}", missing.join(", ")))
    } else if missing.is_empty() {
        Ok("every field of Google's document".to_owned())
    } else {
        Ok(format!(
            "the essentials; not Google's {}",
            missing.join(", ")
        ))
    };
    list.record(
        "discovery-fields",
        "discovery has Google's fields (issuer, endpoints, jwks_uri, algorithms, ...)",
        started,
        result,
    );

    let started = Instant::now();
    let issuer = text("issuer");
    let expected_issuer = plan
        .discovery
        .as_str()
        .trim_end_matches("/.well-known/openid-configuration")
        .to_owned();
    let result = if issuer == expected_issuer {
        Ok(issuer.clone())
    } else {
        Err(format!(
            "issuer {issuer:?} is not {expected_issuer:?} (OpenID Discovery §4.3)"
        ))
    };
    list.record(
        "discovery-issuer",
        "the issuer is the discovery URL's base, exactly",
        started,
        result,
    );

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
    list.record(
        "https-everywhere",
        "every URL is HTTPS: all authentication traffic is (liveperson-auth.md §4.2)",
        started,
        result,
    );

    let started = Instant::now();
    let algs = doc
        .get("id_token_signing_alg_values_supported")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let result = if algs.iter().any(|a| a == "RS256") {
        Ok("RS256 offered".to_owned())
    } else {
        Err(format!("RS256 is not in {algs:?}"))
    };
    list.record(
        "id-token-alg",
        "ID tokens can be signed with RS256 (liveperson-auth.md §2)",
        started,
        result,
    );

    let started = Instant::now();
    let jwks_uri = text("jwks_uri");
    let result = match get_json(&http, &jwks_uri).await {
        Err(e) => Err(e),
        Ok(jwks) => {
            let keys = jwks
                .get("keys")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let usable: Vec<String> = keys
                .iter()
                .filter(|k| {
                    k.get("kty").and_then(Value::as_str) == Some("RSA")
                        && k.get("use")
                            .and_then(Value::as_str)
                            .is_none_or(|u| u == "sig")
                })
                .filter_map(|k| {
                    let kid = k.get("kid")?.as_str()?.to_owned();
                    let key =
                        RsaKey::from_jwk_components(k.get("n")?.as_str()?, k.get("e")?.as_str()?)
                            .ok()?;
                    (key.bits() >= 2048).then_some(kid)
                })
                .collect();
            if usable.is_empty() {
                Err(format!("{jwks_uri}: no RSA signing key of 2048 bits or more with a kid and base64url n/e ({} keys)", keys.len()))
            } else {
                Ok(format!(
                    "{} usable key(s): {}",
                    usable.len(),
                    usable.join(", ")
                ))
            }
        }
    };
    list.record(
        "jwks-usable",
        "the JWKS has RSA signing keys with a kid, base64url n and e, 2048 bits or more",
        started,
        result,
    );

    let verifier = Verifier::new({
        let mut config = VerifierConfig::new(
            Issuer::new(&issuer),
            KeySource::JwksUrl(jwks_uri.parse().unwrap_or_else(|_| plan.discovery.clone())),
        );
        config.client_id = Some(ClientId::new(&plan.client_id));
        config.decryption_key = plan.decrypt_key.clone();
        config.extra_root_pem = plan.extra_root_pem.clone();
        // https-everywhere reports plain HTTP; the other checks still run.
        config.insecure_allow_http = true;
        config
    });
    let verifier = match verifier {
        Ok(v) => v,
        Err(e) => {
            list.record(
                "verifier",
                "the platform side can be set up for this provider",
                Instant::now(),
                Err(e.to_string()),
            );
            return list.outcomes;
        }
    };

    match &plan.code_from {
        None => {
            for (id, title) in [
                (
                    "token-basic",
                    "the token endpoint redeems a code with HTTP Basic client authentication",
                ),
                (
                    "token-body",
                    "the token endpoint redeems a code with client credentials in the body",
                ),
            ] {
                list.skip(id, title, "no --code-from command");
            }
        }
        Some(command) => {
            let token_endpoint = text("token_endpoint");
            for (id, title, basic) in [
                (
                    "token-basic",
                    "the token endpoint redeems a code with HTTP Basic client authentication",
                    true,
                ),
                (
                    "token-body",
                    "the token endpoint redeems a code with client credentials in the body",
                    false,
                ),
            ] {
                let started = Instant::now();
                let result = redeem_and_check(&http, plan, command, &token_endpoint, basic).await;
                let (shape, token) = match result {
                    Ok(ok) => ok,
                    Err(e) => {
                        list.record(id, title, started, Err(e));
                        continue;
                    }
                };
                list.record(id, title, started, Ok("200 with an id_token".to_owned()));
                if basic {
                    list.record(
                        "token-response-shape",
                        "the token response has Google's members and no-store caching",
                        Instant::now(),
                        shape,
                    );
                    id_token_checks(&mut list, &verifier, plan, &token, "code").await;
                }
            }
        }
    }
    match &plan.token_from {
        None => list.skip(
            "implicit-token",
            "an ID token handed over by the page verifies",
            "no --token-from command",
        ),
        Some(command) => {
            let started = Instant::now();
            match from_command(command).await {
                Err(e) => list.record(
                    "implicit-token",
                    "an ID token handed over by the page verifies",
                    started,
                    Err(e),
                ),
                Ok(token) => id_token_checks(&mut list, &verifier, plan, &token, "implicit").await,
            }
        }
    }
    list.outcomes
}

/// Redeems one code; returns the response-shape verdict and the ID token.
async fn redeem_and_check(
    http: &reqwest::Client,
    plan: &CheckPlan,
    command: &str,
    token_endpoint: &str,
    basic: bool,
) -> Result<(Result<String, String>, String), String> {
    let code = from_command(command).await?;
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", plan.redirect_uri.as_str()),
    ];
    let mut request = http.post(token_endpoint);
    if basic {
        let escape = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        request = request.basic_auth(escape(&plan.client_id), Some(escape(&plan.client_secret)));
    } else {
        form.push(("client_id", &plan.client_id));
        form.push(("client_secret", &plan.client_secret));
    }
    let response = request
        .form(&form)
        .send()
        .await
        .map_err(|e| format!("{token_endpoint}: {e}"))?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!(
            "HTTP {status}: {}",
            body.chars().take(200).collect::<String>()
        ));
    }
    let json: Value =
        serde_json::from_str(&body).map_err(|_| "the token response is not JSON".to_owned())?;
    let id_token = json
        .get("id_token")
        .and_then(Value::as_str)
        .ok_or("the token response has no id_token")?
        .to_owned();
    let mut problems = Vec::new();
    for member in ["access_token", "expires_in", "token_type", "id_token"] {
        if json.get(member).is_none() {
            problems.push(format!("no {member}"));
        }
    }
    if json
        .get("token_type")
        .and_then(Value::as_str)
        .is_some_and(|t| !t.eq_ignore_ascii_case("bearer"))
    {
        problems.push("token_type is not Bearer".to_owned());
    }
    let content_type = headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with("application/json") {
        problems.push(format!("Content-Type {content_type:?}"));
    }
    let cache = headers
        .get(reqwest::header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !cache.contains("no-store") {
        problems.push("no Cache-Control: no-store (liveperson-auth.md §1.3)".to_owned());
    }
    let shape = if problems.is_empty() {
        Ok("access_token, expires_in, token_type Bearer, id_token; no-store".to_owned())
    } else {
        Err(problems.join("; "))
    };
    Ok((shape, id_token))
}

async fn id_token_checks(
    list: &mut Checklist,
    verifier: &Verifier,
    plan: &CheckPlan,
    token: &str,
    flow: &str,
) {
    let started = Instant::now();
    let encrypted = token.split('.').count() == 5;
    if encrypted {
        let result = if plan.decrypt_key.is_none() {
            Err("an envelope arrived and no --decrypt-key was given".to_owned())
        } else {
            Ok("JWE".to_owned())
        };
        list.record(
            &format!("{flow}-envelope"),
            "the envelope opens with the platform key",
            started,
            result.clone(),
        );
        if result.is_err() {
            return;
        }
    }
    let verdict = verifier.verify(token, &VerifyContext::at(plan.now)).await;
    let result = match &verdict {
        Ok(consumer) => Ok(format!(
            "sub {}, {} authenticated field(s){}",
            consumer.sub(),
            consumer.fields().len(),
            if consumer.warnings().is_empty() {
                String::new()
            } else {
                format!("; warnings: {}", consumer.warnings().join("; "))
            }
        )),
        Err(rejection) => Err(rejection.to_string()),
    };
    list.record(
        &format!("{flow}-id-token"),
        "the ID token verifies as the platform does: RS256, issuer, audience, exp/iat in seconds, sub, lp_sdes schema",
        started,
        result,
    );
}
