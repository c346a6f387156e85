//! The platform's IDP as a mobile app's SDK and a Messaging Window API client call it, over
//! HTTP with reqwest: the tutorial's connector and JWT, a Code Flow account redeeming an app's
//! code, and every way a call is refused, each with the IDP's `internalErrorCode`.

use std::sync::Arc;

use oidc_harness::claims::Issuer;
use oidc_harness::clock::FixedClock;
use oidc_harness::idp::{Faults, MockIdp, Observation};
use oidc_harness::keys::RsaKey;
use oidc_harness::platform::{self, AccountConfig, AccountFlow, Platform, PlatformConfig};
use oidc_harness::verifier::{KeySource, Verifier, VerifierConfig, VerifyContext};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

const NOW: i64 = 1_800_000_000;
const ALICE: &str = "110169484474386276334";
const REPO: &str = env!("CARGO_MANIFEST_DIR");

fn tutorial(file: &str) -> String {
    std::fs::read_to_string(format!("{REPO}/fixtures/platform-tutorial/{file}"))
        .unwrap()
        .trim()
        .to_owned()
}

/// A provider, and the platform's IDP beside it on another origin with the default brand's two
/// accounts (`demo`, `demo-implicit`) and the tutorial's connector as account `qa57221676`.
struct Idp {
    provider: MockIdp,
    http: reqwest::Client,
    base: String,
    clock: Arc<FixedClock>,
}

async fn idp() -> Idp {
    let clock = Arc::new(FixedClock::at(NOW));
    let provider = MockIdp::builder()
        .clock(clock.clone())
        .start()
        .await
        .expect("provider starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = PlatformConfig {
        accounts: vec![AccountConfig {
            id: "qa57221676".into(),
            flow: AccountFlow::Implicit,
            brand: None,
            issuer: Some("https://idp.liveperson.net".into()),
            public_key: Some(tutorial("public-key.txt")),
            client_id: None,
            redirect_uri: None,
        }],
        ..platform_config(&provider, &base)
    };
    let platform = Arc::new(Platform::new(config, clock.clone()).expect("platform builds"));
    tokio::spawn(async move { axum::serve(listener, platform::router(platform)).await });
    let http = provider.http_client();
    Idp {
        provider,
        http,
        base,
        clock,
    }
}

impl Idp {
    /// POSTs `body` to `path` as JSON; the status, the body and the reason header.
    async fn call(&self, path: &str, body: Value) -> (StatusCode, Value, Option<String>) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        answer(response).await
    }

    /// A code for alice issued for `redirect_uri`, as an app's backend gets one.
    async fn code_for(&self, redirect_uri: &str) -> String {
        get_code(
            &self.provider,
            &self.http,
            &[("redirect_uri", redirect_uri)],
        )
        .await
    }

    /// An ID token for alice from the provider's Implicit Flow.
    async fn id_token(&self) -> String {
        let location = authorize(
            &self.provider,
            &self.http,
            &code_request(&[("response_type", "id_token")]),
        )
        .await;
        let fragment = location.split_once('#').unwrap().1.to_owned();
        form_urlencoded::parse(fragment.as_bytes())
            .find(|(k, _)| k == "id_token")
            .unwrap()
            .1
            .into_owned()
    }
}

async fn answer(response: reqwest::Response) -> (StatusCode, Value, Option<String>) {
    let status = response.status();
    let reason = response
        .headers()
        .get("x-harness-reason")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text:?}"));
    (status, body, reason)
}

/// The consumer JWT verifies with the platform's published key as `iss` = the IDP's origin.
async fn consumer(idp: &Idp, body: &Value) -> Value {
    let jwt = body["jwt"].as_str().unwrap_or_else(|| panic!("{body}"));
    let pem =
        std::fs::read_to_string(format!("{REPO}/fixtures/keys/platform-signing.pub.pem")).unwrap();
    let verifier = Verifier::new(VerifierConfig::new(
        Issuer::new(&idp.base),
        KeySource::PublicKey(RsaKey::from_public_pem_or_base64(&pem).unwrap()),
    ))
    .unwrap();
    verifier
        .verify(
            jwt,
            &VerifyContext::at(oidc_harness::clock::Clock::now(&*idp.clock)),
        )
        .await
        .unwrap_or_else(|r| panic!("the consumer JWT: {r}"));
    decode(jwt).1
}

#[tokio::test]
async fn the_tutorials_jwt_gets_a_consumer_jwt_and_a_broken_one_the_idps_code() {
    let idp = idp().await;
    let path = "/api/account/qa57221676/authenticate";
    let jwt = tutorial("external-jwt.txt");
    let (status, body, reason) = idp.call(path, json!({"authCode": jwt})).await;
    assert_eq!(status, StatusCode::OK, "{body} {reason:?}");
    let claims = consumer(&idp, &body).await;
    assert_eq!(claims["aud"], "acc:qa57221676");
    assert_eq!(claims["iss"], idp.base.as_str());
    assert_eq!(
        claims["lp.ext"],
        json!({"sub": "+972-3-5555-555", "iss": "https://idp.liveperson.net"})
    );
    // The brand token's lifetime: the consumer JWT expires when it does.
    assert_eq!(
        (claims["iat"].as_i64(), claims["exp"].as_i64()),
        (Some(1_521_605_592), Some(1_934_971_930))
    );
    let sub = claims["sub"].as_str().unwrap();
    assert_eq!(sub.len(), 64, "{sub}");
    assert!(sub.bytes().all(|b| b.is_ascii_hexdigit()), "{sub}");
    // The same person again is the same consumer.
    let (_, again, _) = idp.call(path, json!({"authCode": jwt})).await;
    assert_eq!(consumer(&idp, &again).await["sub"], sub);

    // One byte of the signature changed: the IDP's 500 with the code as a string.
    let mut broken = jwt.clone().into_bytes();
    let last = broken.len() - 2;
    broken[last] = if broken[last] == b'A' { b'B' } else { b'A' };
    let broken = String::from_utf8(broken).unwrap();
    let (status, body, reason) = idp.call(path, json!({"authCode": broken})).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body, json!({"internalErrorCode": "9007"}));
    assert_eq!(reason.as_deref(), Some("signature_invalid"));
    // The tutorial's JWT at another account, whose connector reads the brand's JWKS: no kid
    // beside two published keys, refused before its claims are read.
    let (status, body, reason) = idp
        .call(
            "/api/account/demo-implicit/authenticate",
            json!({"authCode": jwt}),
        )
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body, json!({"internalErrorCode": "1042"}));
    assert_eq!(reason.as_deref(), Some("kid_ambiguous"));
}

#[tokio::test]
async fn an_apps_code_is_redeemed_once_with_the_redirect_uri_it_was_issued_for() {
    let idp = idp().await;
    let sdk = "/api/account/demo/app/default/authenticate?v=2.0";
    let app_redirect = "https://liveperson.net";
    let code = idp.code_for(app_redirect).await;
    let (status, body, reason) = idp
        .call(sdk, json!({"code": code, "redirect_uri": app_redirect}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body} {reason:?}");
    let claims = consumer(&idp, &body).await;
    assert_eq!(claims["aud"], "acc:demo");
    assert_eq!(claims["lp.ext"]["sub"], ALICE);
    assert_eq!(claims["lp.ext"]["iss"], idp.provider.issuer().as_str());
    // alice's authenticated SDEs ride along as the platform kept them.
    let sdes = claims["lp.ext"]["lp_sdes"].as_array().unwrap();
    assert_eq!(sdes[0]["type"], "ctmrinfo", "{sdes:?}");
    assert_eq!(sdes[1]["type"], "personal", "{sdes:?}");
    // What the provider saw: HTTP Basic, and no PKCE verifier (an app hands over none).
    let seen = idp.provider.state().observed();
    let token = seen
        .iter()
        .rev()
        .find(|o| matches!(o, Observation::Token { .. }))
        .unwrap();
    assert_eq!(
        serde_json::to_value(token).unwrap(),
        json!({"endpoint": "token", "grant_type": "authorization_code", "client_auth": "basic", "body": "form", "code_verifier": false})
    );

    // The same code again: the provider refuses it, and so does the IDP.
    let (status, body, reason) = idp
        .call(sdk, json!({"code": code, "redirect_uri": app_redirect}))
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body, json!({"internalErrorCode": "9011"}));
    assert_eq!(reason.as_deref(), Some("token_endpoint_error"));
    // A code issued for another redirect URI than the one the app names.
    let code = idp.code_for("http://127.0.0.1:9/app").await;
    let (status, body, reason) = idp
        .call(sdk, json!({"code": code, "redirect_uri": app_redirect}))
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"internalErrorCode": "9011"})
        )
    );
    assert_eq!(reason.as_deref(), Some("token_endpoint_error"));
    // The Messaging Window API's member carries a code too, redeemed with the default
    // redirect URI when the call names none.
    let code = idp.code_for(app_redirect).await;
    let (status, body, _) = idp
        .call("/api/account/demo/authenticate", json!({"authCode": code}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn an_expired_jwt_is_1012_and_the_app_gets_a_fresh_one() {
    let idp = idp().await;
    let path = "/api/account/demo-implicit/app/default/authenticate?v=2.0";
    let token = idp.id_token().await;
    let (status, body, _) = idp.call(path, json!({"jwt": token})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let first = consumer(&idp, &body).await;
    // An hour and two minutes later the token has expired: the SDK's onTokenExpired.
    idp.clock.advance(3720);
    let (status, body, reason) = idp.call(path, json!({"jwt": token})).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body, json!({"internalErrorCode": "1012"}));
    assert_eq!(reason.as_deref(), Some("expired"));
    // The app signs in again: a fresh token, the same consumer.
    let fresh = idp.id_token().await;
    let (status, body, _) = idp.call(path, json!({"jwt": fresh})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let second = consumer(&idp, &body).await;
    assert_eq!(second["sub"], first["sub"]);
    assert!(second["exp"].as_i64() > first["exp"].as_i64());
    // A token naming a kid the provider never published.
    idp.provider.state().set_faults(Faults {
        mutate: vec![serde_json::from_value(json!("kid-unknown")).unwrap()],
        ..Faults::default()
    });
    let (status, body, reason) = idp.call(path, json!({"jwt": idp.id_token().await})).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"internalErrorCode": "1041"})
        ),
        "{reason:?}"
    );
}

#[tokio::test]
async fn input_the_idp_cannot_use_is_9012_and_an_unknown_account_1024() {
    let idp = idp().await;
    let url = format!("{}/api/account/demo-implicit/authenticate", idp.base);
    let refused = |body: &Value, reason: &Option<String>, code: &str, why: &str| {
        assert_eq!(body, &json!({"internalErrorCode": code}));
        assert_eq!(reason.as_deref(), Some(why));
    };
    for body in [
        json!({}),
        json!({"authCode": ""}),
        json!({"authCode": "a.b.c", "jwt": "a.b.c"}),
        json!({"authCode": 7}),
        json!({"authCode": "a.b.c", "extra": 1}),
        json!(["a.b.c"]),
    ] {
        let (status, answer, reason) = idp
            .call("/api/account/demo-implicit/authenticate", body.clone())
            .await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
        refused(&answer, &reason, "9012", "invalid_input");
    }
    // No body, another content type, a body over 64 KiB.
    let sent = [
        idp.http.post(&url).send(),
        idp.http
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("authCode=a.b.c")
            .send(),
        idp.http
            .post(&url)
            .json(&json!({"authCode": "a".repeat(70_000)}))
            .send(),
    ];
    for response in sent {
        let (status, answer, reason) = answer(response.await.unwrap()).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        refused(&answer, &reason, "9012", "invalid_input");
    }
    // A malformed JWT is the verifier's own refusal, with its code.
    let (_, answer, reason) = idp
        .call(
            "/api/account/demo-implicit/authenticate",
            json!({"authCode": "not-a-jwt"}),
        )
        .await;
    refused(&answer, &reason, "1008", "malformed");
    let (status, answer, reason) = idp
        .call(
            "/api/account/nobody/authenticate",
            json!({"authCode": "a.b.c"}),
        )
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    refused(&answer, &reason, "1024", "unknown_account");
}

/// `serve` with the tutorial's connector as an account: the banner and the overview name every
/// account's call, and the call answers as the platform's IDP does.
#[test]
fn serve_lists_each_accounts_calls_and_answers_them() {
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("harness.toml");
    std::fs::write(
        &toml,
        format!(
            "addr = \"127.0.0.1:0\"\n[[brand]]\nname = \"acme\"\n\n[[platform.account]]\nid = \
             \"qa57221676\"\nflow = \"implicit\"\nissuer = \"https://idp.liveperson.net\"\n\
             public_key = \"{}\"\n",
            tutorial("public-key.txt")
        ),
    )
    .unwrap();
    let state = dir.path().to_str().unwrap();
    let server = super::cli::start(&["--config", toml.to_str().unwrap(), "--state-dir", state]);
    let base = super::cli::field(&server.banner, "listening").to_owned();
    let lines: Vec<&str> = server
        .banner
        .iter()
        .map(String::as_str)
        .filter(|l| l.trim_start().starts_with("IDP"))
        .collect();
    assert_eq!(
        lines,
        [
            format!("  IDP account   demo          code     POST {base}/api/account/demo/authenticate"),
            format!("  IDP account   demo-implicit implicit POST {base}/api/account/demo-implicit/authenticate"),
            format!("  IDP account   acme          code     POST {base}/api/account/acme/authenticate"),
            format!("  IDP account   acme-implicit implicit POST {base}/api/account/acme-implicit/authenticate"),
            format!("  IDP account   qa57221676    implicit POST {base}/api/account/qa57221676/authenticate"),
            format!("  IDP (SDKs)    POST {base}/api/account/{{account}}/app/default/authenticate?v=2.0"),
        ]
    );
    let ca = dir.path().join("ca.pem");
    let curl = |args: &[&str]| {
        let out = std::process::Command::new("curl")
            .args(["-s", "--cacert", ca.to_str().unwrap()])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let overview: Value = serde_json::from_str(&curl(&[&format!("{base}/?format=json")])).unwrap();
    assert_eq!(
        overview["platform_accounts"][4],
        json!({
            "account": "qa57221676",
            "flow": "implicit",
            "authenticate": format!("{base}/api/account/qa57221676/authenticate"),
            "sdk_authenticate": format!("{base}/api/account/qa57221676/app/default/authenticate?v=2.0"),
        })
    );
    // The tutorial's own call, as its curl line sends it.
    let body = format!(r#"{{"authCode" : "{}"}}"#, tutorial("external-jwt.txt"));
    let answer: Value = serde_json::from_str(&curl(&[
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "-d",
        &body,
        &format!("{base}/api/account/qa57221676/authenticate"),
    ]))
    .unwrap();
    let (_, claims) = decode(answer["jwt"].as_str().unwrap());
    assert_eq!(claims["lp.ext"]["sub"], "+972-3-5555-555");

    // A [platform] key the platform does not know: one line, exit 2.
    std::fs::write(&toml, "addr = \"127.0.0.1:0\"\n[platform]\nwindow = 1\n").unwrap();
    let (code, _, stderr) = super::cli::run(&[
        "serve",
        "--config",
        toml.to_str().unwrap(),
        "--state-dir",
        state,
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("[platform]: unknown field `window`"),
        "{stderr}"
    );
}
