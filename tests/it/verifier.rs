//! The verifier against the mock provider over HTTPS (and against deliberately broken token
//! endpoints): the code flow, the implicit flow, envelopes, JWKS rotation, every transport
//! failure mapped to its reason.

use std::time::Duration;

use axum::routing::post;
use oidc_harness::claims::{ClientId, ClientSecret, Issuer, Nonce};
use oidc_harness::idp::MockIdp;
use oidc_harness::keys::fixture_platform_key;
use oidc_harness::verifier::{
    pkce_pair, strict_refusal, ClientAuth, CodeRedemption, FrontChannel, KeySource, Reading,
    RejectReason, Rule, Verifier, VerifierConfig, VerifyContext,
};

use crate::support::*;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The platform's connector for the mock provider's demo client.
fn connector(idp: &MockIdp, client: &str) -> VerifierConfig {
    let base = idp.base_url();
    VerifierConfig::new(
        Issuer::new(base),
        KeySource::JwksUrl(format!("{base}/oauth2/v3/certs").parse().unwrap()),
    )
    .token_endpoint(
        format!("{base}/token").parse().unwrap(),
        ClientId::new(client),
        ClientSecret::new("demo-secret"),
    )
    .decryption_key(fixture_platform_key().unwrap())
    .extra_root_pem(idp.ca_cert_pem().unwrap())
}

fn redemption(code: String) -> CodeRedemption {
    CodeRedemption {
        code,
        ..CodeRedemption::default()
    }
}

fn ctx_with_nonce() -> VerifyContext {
    VerifyContext {
        nonce: Some(Nonce::new("n-0S6_WzA2Mj")),
        ..VerifyContext::at(now())
    }
}

#[tokio::test]
async fn code_flow_with_every_client_authentication_style() {
    let (idp, http) = spawn().await;
    for auth in [ClientAuth::Basic, ClientAuth::Body, ClientAuth::JsonBody] {
        let verifier = Verifier::new(connector(&idp, "demo-client").client_auth(auth)).unwrap();
        let code = get_code(&idp, &http, &[]).await;
        let consumer = verifier
            .authenticate_code(&redemption(code), &ctx_with_nonce())
            .await
            .unwrap_or_else(|r| panic!("{auth:?}: {r}"));
        assert_eq!(consumer.sub().as_str(), "110169484474386276334");
        assert_eq!(consumer.iss().as_str(), idp.base_url());
        assert_eq!(
            consumer.field("ctmrinfo.customerId"),
            Some("CUST-0001-ALICE")
        );
        assert_eq!(
            consumer.field("personal.contacts[1].phoneType"),
            Some("WORK")
        );
        assert_eq!(
            consumer.kid(),
            Some(idp.state().published_kids()[0].as_str())
        );
        assert_eq!(
            consumer.warnings().len(),
            2,
            "storeNumber and storeZipCode dropped: {:?}",
            consumer.warnings()
        );
    }
}

#[tokio::test]
async fn code_flow_with_pkce_and_every_token_endpoint_refusal() {
    let (idp, http) = spawn().await;
    let verifier = Verifier::new(connector(&idp, "demo-client").pkce(true)).unwrap();
    let (code_verifier, challenge) = pkce_pair();
    let code = get_code(
        &idp,
        &http,
        &[
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    let consumer = verifier
        .authenticate_code(
            &CodeRedemption {
                code,
                code_verifier: Some(code_verifier),
                redirect_uri: None,
            },
            &ctx_with_nonce(),
        )
        .await
        .unwrap();
    assert_eq!(consumer.sub().as_str(), "110169484474386276334");

    let code = get_code(
        &idp,
        &http,
        &[
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    let rejection = verifier
        .authenticate_code(
            &CodeRedemption {
                code,
                code_verifier: Some(pkce_pair().0),
                redirect_uri: None,
            },
            &ctx_with_nonce(),
        )
        .await
        .unwrap_err();
    assert_eq!(rejection.reason, RejectReason::TokenEndpointError);
    assert_eq!(
        rejection.detail,
        "HTTP 400: invalid_grant: Invalid code verifier."
    );

    let rejection = verifier
        .authenticate_code(&redemption("4/0Anope".into()), &ctx_with_nonce())
        .await
        .unwrap_err();
    assert_eq!(
        (rejection.reason, rejection.detail.as_str()),
        (
            RejectReason::TokenEndpointError,
            "HTTP 400: invalid_grant: Bad Request"
        )
    );

    let mut wrong_secret = connector(&idp, "demo-client");
    wrong_secret.client_secret = Some(ClientSecret::new("nope"));
    let rejection = Verifier::new(wrong_secret)
        .unwrap()
        .authenticate_code(&redemption("4/0Ax".into()), &ctx_with_nonce())
        .await
        .unwrap_err();
    assert_eq!(
        (rejection.reason, rejection.detail.as_str()),
        (
            RejectReason::TokenEndpointError,
            "HTTP 401: invalid_client: Unauthorized"
        )
    );

    let platform = Verifier::new(connector(&idp, "demo-platform-errors")).unwrap();
    let rejection = platform
        .authenticate_code(&redemption("4/0Ax".into()), &ctx_with_nonce())
        .await
        .unwrap_err();
    assert_eq!(
        (rejection.reason, rejection.detail.as_str()),
        (RejectReason::TokenEndpointError, "HTTP 400: invalid_code")
    );
}

#[tokio::test]
async fn a_page_supplied_redirect_uri_is_sent_with_the_code() {
    let (idp, http) = spawn().await;
    let verifier = Verifier::new(connector(&idp, "demo-client")).unwrap();
    let redirect = "http://127.0.0.1:5000/after-login";
    let code = get_code(&idp, &http, &[("redirect_uri", redirect)]).await;
    let rejection = verifier
        .authenticate_code(&redemption(code), &ctx_with_nonce())
        .await
        .unwrap_err();
    assert_eq!(
        rejection.detail, "HTTP 400: redirect_uri_mismatch: Bad Request",
        "the default https://liveperson.net was sent"
    );
    let code = get_code(&idp, &http, &[("redirect_uri", redirect)]).await;
    let consumer = verifier
        .authenticate_code(
            &CodeRedemption {
                code,
                redirect_uri: Some(redirect.into()),
                code_verifier: None,
            },
            &ctx_with_nonce(),
        )
        .await
        .unwrap();
    assert_eq!(consumer.sub().as_str(), "110169484474386276334");
}

#[tokio::test]
async fn transport_failures() {
    let (idp, _) = spawn().await;
    // Not HTTPS.
    let mut plain = connector(&idp, "demo-client");
    plain.token_endpoint = Some(format!("http://{}/token", idp.addr()).parse().unwrap());
    let rejection = Verifier::new(plain)
        .unwrap()
        .redeem(&redemption("c".into()))
        .await
        .unwrap_err();
    assert_eq!(rejection.reason, RejectReason::InsecureTransport);
    // Nobody listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut gone = connector(&idp, "demo-client");
    gone.token_endpoint = Some(format!("https://{closed}/token").parse().unwrap());
    let rejection = Verifier::new(gone)
        .unwrap()
        .redeem(&redemption("c".into()))
        .await
        .unwrap_err();
    assert_eq!(rejection.reason, RejectReason::TokenEndpointUnreachable);
    // A certificate the platform does not trust.
    let mut untrusted = connector(&idp, "demo-client");
    untrusted.extra_root_pem = None;
    let rejection = Verifier::new(untrusted)
        .unwrap()
        .redeem(&redemption("c".into()))
        .await
        .unwrap_err();
    assert_eq!(rejection.reason, RejectReason::TokenEndpointUnreachable);
    assert!(
        rejection.detail.to_lowercase().contains("certificate"),
        "{}",
        rejection.detail
    );
}

/// A token endpoint that misbehaves in one way per path.
/// A connector whose token endpoint is a stub at `token_endpoint` (plain HTTP).
fn stub_connector(token_endpoint: &str) -> VerifierConfig {
    let mut config = VerifierConfig::new(
        Issuer::new("https://i"),
        KeySource::PublicKey(
            oidc_harness::keys::fixture_signing_keys().unwrap()[0]
                .key()
                .clone(),
        ),
    )
    .token_endpoint(
        token_endpoint.parse().unwrap(),
        ClientId::new("c"),
        ClientSecret::new("s"),
    );
    config.insecure_allow_http = true;
    config
}

async fn broken_endpoint() -> String {
    let app = axum::Router::new()
        .route(
            "/html",
            post(|| async { ([("content-type", "text/html")], "<html>Welcome</html>") }),
        )
        .route(
            "/no-id-token",
            post(|| async {
                axum::Json(serde_json::json!({"access_token": "x", "token_type": "Bearer"}))
            }),
        )
        .route(
            "/500",
            post(|| async { (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "oops") }),
        )
        .route("/huge", post(|| async { "x".repeat(200_000) }))
        .route(
            "/text-plain",
            post(|| async {
                (
                    [("content-type", "text/plain")],
                    r#"{"access_token":"x","token_type":"Bearer","id_token":"a.b.c"}"#,
                )
            }),
        )
        .route(
            "/json-charset",
            post(|| async {
                (
                    [("content-type", "Application/JSON; charset=utf-8")],
                    r#"{"access_token":"x","token_type":"Bearer","id_token":"a.b.c"}"#,
                )
            }),
        )
        .route(
            "/slow",
            post(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn broken_token_responses_map_to_reasons() {
    let base = broken_endpoint().await;
    let redeem = |path: &str| {
        let mut config = stub_connector(&format!("{base}{path}"));
        config.http_timeout = Duration::from_millis(300);
        async move {
            Verifier::new(config)
                .unwrap()
                .redeem(&redemption("c".into()))
                .await
        }
    };
    let redeem_err = |path: &str| {
        let answer = redeem(path);
        async move { answer.await.unwrap_err() }
    };
    let r = redeem_err("/html").await;
    assert_eq!(
        (r.reason, r.detail.as_str()),
        (
            RejectReason::TokenResponseInvalid,
            "the token response is text/html, not application/json"
        )
    );
    // A complete token response, ID token and all, is still refused under another type
    // (RFC 6749 §5.1); parameters and case in the type do not matter.
    let r = redeem_err("/text-plain").await;
    assert_eq!(
        (r.reason, r.detail.as_str()),
        (
            RejectReason::TokenResponseInvalid,
            "the token response is text/plain, not application/json"
        )
    );
    let r = redeem_err("/no-id-token").await;
    assert_eq!(
        (r.reason, r.detail.as_str()),
        (
            RejectReason::TokenResponseInvalid,
            "the token response has no id_token"
        )
    );
    let r = redeem_err("/500").await;
    assert_eq!(
        (r.reason, r.detail.as_str()),
        (
            RejectReason::TokenEndpointError,
            "HTTP 500 without an OAuth error body"
        )
    );
    let r = redeem_err("/huge").await;
    assert_eq!(r.reason, RejectReason::TokenResponseInvalid);
    let tokens = redeem("/json-charset").await.unwrap();
    assert_eq!(tokens.id_token, "a.b.c");
    let r = redeem_err("/slow").await;
    assert_eq!(r.reason, RejectReason::TokenEndpointUnreachable);
    assert!(r.detail.ends_with("timed out"), "{}", r.detail);
}

#[tokio::test]
async fn implicit_flow_with_an_envelope() {
    let (idp, http) = spawn().await;
    let verifier = Verifier::new(connector(&idp, "demo-encrypted")).unwrap();
    let location = authorize(
        &idp,
        &http,
        &code_request(&[
            ("client_id", "demo-encrypted"),
            ("response_type", "id_token"),
        ]),
    )
    .await;
    let jwe = redirect_params(&location).remove("id_token").unwrap();
    let consumer = verifier.verify(&jwe, &ctx_with_nonce()).await.unwrap();
    assert!(consumer.encrypted());
    assert_eq!(
        consumer.claims().email.as_deref(),
        Some("alice.liddell@example.com")
    );
    // The same token without the platform key cannot be opened.
    let mut keyless = connector(&idp, "demo-encrypted");
    keyless.decryption_key = None;
    let rejection = Verifier::new(keyless)
        .unwrap()
        .verify(&jwe, &ctx_with_nonce())
        .await
        .unwrap_err();
    assert_eq!(rejection.reason, RejectReason::DecryptFailed);
}

#[tokio::test]
async fn jwks_rotation_is_followed_with_a_rate_limited_refetch() {
    // A clock on a 6-hour mark, so the JWKS max-age is the full 21600 s and the cache holds.
    let t = 1_800_000_000 - 1_800_000_000 % 21_600;
    let idp = MockIdp::builder()
        .clock(std::sync::Arc::new(oidc_harness::clock::FixedClock::at(t)))
        .start()
        .await
        .unwrap();
    let verifier = Verifier::new(connector(&idp, "demo-client")).unwrap();
    let before = idp.mint_id_token("bob", &Default::default()).unwrap();
    verifier
        .verify(&before, &VerifyContext::at(t))
        .await
        .unwrap();
    idp.rotate_keys().unwrap();
    let after = idp.mint_id_token("bob", &Default::default()).unwrap();
    // An unknown kid causes one refetch, which finds the new key; the old token still verifies.
    verifier
        .verify(&after, &VerifyContext::at(t + 1))
        .await
        .unwrap();
    verifier
        .verify(&before, &VerifyContext::at(t + 1))
        .await
        .unwrap();
    // Another rotation within the refetch interval: no second refetch yet.
    idp.rotate_keys().unwrap();
    let latest = idp.mint_id_token("bob", &Default::default()).unwrap();
    let rejection = verifier
        .verify(&latest, &VerifyContext::at(t + 2))
        .await
        .unwrap_err();
    assert_eq!(rejection.reason, RejectReason::UnknownKid);
    // Once the interval has passed, the next unknown kid refetches again.
    verifier
        .verify(&latest, &VerifyContext::at(t + 31))
        .await
        .unwrap();
}

#[tokio::test]
async fn expiry_follows_the_injected_clock() {
    let (idp, _) = spawn().await;
    let verifier = Verifier::new(connector(&idp, "demo-client")).unwrap();
    let token = idp.mint_id_token("alice", &Default::default()).unwrap();
    let exp = verifier
        .verify(&token, &VerifyContext::at(now()))
        .await
        .unwrap()
        .expires_at();
    let rejection = verifier
        .verify(&token, &VerifyContext::at(exp + 60))
        .await
        .unwrap_err();
    assert_eq!(rejection.reason, RejectReason::Expired);
}

/// A hybrid response is verified front channel first, and its two ID tokens must name the same
/// consumer (OIDC Core §3.3.3.6): a front-channel token for someone else, with a c_hash that
/// does bind the code, is refused even though each token verifies on its own.
#[tokio::test]
async fn hybrid_tokens_must_name_the_same_subject() {
    let (idp, http) = spawn().await;
    let verifier = Verifier::new(connector(&idp, "demo-client")).unwrap();
    let hybrid = || async {
        let location = authorize(
            &idp,
            &http,
            &code_request(&[("response_type", "code id_token")]),
        )
        .await;
        let mut params = redirect_params(&location);
        (
            params.remove("code").unwrap(),
            params.remove("id_token").unwrap(),
        )
    };
    let (code, id_token) = hybrid().await;
    let honest = FrontChannel {
        code: Some(code),
        id_token: Some(id_token),
        access_token: None,
    };
    let consumer = verifier
        .authenticate_front_channel(&honest, None, &ctx_with_nonce())
        .await
        .unwrap();
    assert_eq!(consumer.sub().as_str(), "110169484474386276334");

    let (code, id_token) = hybrid().await;
    let (_, payload) = decode(&id_token);
    let mut claims: oidc_harness::claims::IdTokenClaims = serde_json::from_value(payload).unwrap();
    assert_eq!(
        claims.c_hash.as_deref(),
        Some(left_half_hash(&code).as_str())
    );
    claims.sub = oidc_harness::claims::Subject::new("999999999999999999999");
    let swapped = FrontChannel {
        code: Some(code),
        id_token: Some(idp.sign_claims("demo-client", &claims).unwrap()),
        access_token: None,
    };
    let verdict = verifier
        .authenticate_front_channel(&swapped, None, &ctx_with_nonce())
        .await;
    // The strict reading refuses (OIDC Core §3.3.3.6); the platform reading, which has no
    // published rule for it, keeps the token endpoint's consumer and names the finding.
    let rejection = strict_refusal(&verdict).cloned().expect("strict refuses");
    let kept = verdict
        .as_ref()
        .expect("the platform reading authenticates");
    assert_eq!(kept.sub().as_str(), "110169484474386276334");
    assert_eq!(kept.strict_findings(), std::slice::from_ref(&rejection));
    assert_eq!(rejection.rule, Rule::HybridSubject);
    assert_eq!(rejection.reason, RejectReason::SubjectMismatch);
    assert!(
        rejection.detail.contains("999999999999999999999")
            && rejection.detail.contains("110169484474386276334"),
        "{}",
        rejection.detail
    );
}

/// Keys fetched ahead are kept: with the provider gone, a token signed before still verifies.
#[tokio::test]
async fn prefetched_keys_serve_without_the_provider() {
    let idp = MockIdp::start().await.unwrap();
    let mut config = connector(&idp, "demo-client");
    config.client_id = Some(ClientId::new("demo-client"));
    let verifier = Verifier::new(config).unwrap();
    let token = idp
        .mint_id_token("alice", &oidc_harness::idp::MintOptions::full())
        .unwrap();
    verifier.prefetch_keys(now()).await.unwrap();
    idp.shutdown().await;
    let consumer = verifier
        .verify(&token, &VerifyContext::at(now()))
        .await
        .unwrap();
    assert_eq!(consumer.sub().as_str(), "110169484474386276334");
}

/// The size limit allows a token of exactly the limit and refuses one byte more.
#[tokio::test]
async fn the_size_limit_is_inclusive() {
    let (idp, _) = spawn().await;
    let token = idp
        .mint_id_token("alice", &oidc_harness::idp::MintOptions::full())
        .unwrap();
    for (limit, allowed) in [(token.len(), true), (token.len() - 1, false)] {
        let mut config = connector(&idp, "demo-client");
        config.client_id = Some(ClientId::new("demo-client"));
        config.max_token_bytes = limit;
        let verdict = Verifier::new(config.clone())
            .unwrap()
            .verify(&token, &VerifyContext::at(now()))
            .await;
        // The platform publishes no size limit: its reading takes the token either way and
        // names the finding; the strict reading refuses past the limit.
        let kept = verdict.expect("the platform reading takes it");
        let findings: Vec<Rule> = kept.strict_findings().iter().map(|f| f.rule).collect();
        let strict = Verifier::new(config.reading(Reading::Strict))
            .unwrap()
            .verify(&token, &VerifyContext::at(now()))
            .await;
        match (strict, allowed) {
            (Ok(_), true) => assert_eq!(findings, []),
            (Err(r), false) => {
                assert_eq!(r.reason, RejectReason::TokenTooLarge);
                assert_eq!(findings, [Rule::TokenSize]);
            }
            (other, _) => panic!("limit {limit}: {other:?}"),
        }
    }
}

/// The Code Flow verifies the token endpoint's ID token against what came with it, whatever
/// the caller's context held from a front channel: no `c_hash` check against the caller's code,
/// no `at_hash` demanded as if the token had come from the authorization endpoint.
#[tokio::test]
async fn the_code_flow_checks_its_own_artifacts_not_the_callers() {
    let (idp, http) = spawn().await;
    let admin = format!("{}/_harness", idp.base_url());
    let status = http
        .put(format!("{admin}/faults"))
        .json(&serde_json::json!({"mutate": ["at_hash-missing"]}))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, reqwest::StatusCode::OK);
    let status = http
        .post(format!("{admin}/queue"))
        .json(&serde_json::json!({"client": "demo-client", "claims": {"c_hash": "bm90IHRoaXMgY29kZQ"}}))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, reqwest::StatusCode::CREATED);
    let verifier = Verifier::new(connector(&idp, "demo-client")).unwrap();
    let code = get_code(&idp, &http, &[]).await;
    let ctx = VerifyContext {
        code: Some("a code from the front channel".into()),
        front_channel: true,
        ..ctx_with_nonce()
    };
    let consumer = verifier
        .authenticate_code(&redemption(code), &ctx)
        .await
        .unwrap();
    assert_eq!(consumer.sub().as_str(), "110169484474386276334");
}

/// The token response size limit is exact: a body of exactly the limit is read, one byte more
/// is refused, whether it comes in one piece or several.
#[tokio::test]
async fn the_token_response_limit_is_exact() {
    const BODY: &str = r#"{"access_token":"x","token_type":"Bearer","id_token":"a.b.c"}"#;
    let app = axum::Router::new().route(
        "/token",
        post(|| async { ([("content-type", "application/json")], BODY) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    for (limit, allowed) in [(BODY.len(), true), (BODY.len() - 1, false)] {
        let mut config = stub_connector(&format!("http://{addr}/token"));
        config.max_response_bytes = limit;
        let answer = Verifier::new(config)
            .unwrap()
            .redeem(&redemption("c".into()))
            .await;
        match (answer, allowed) {
            (Ok(tokens), true) => assert_eq!(tokens.id_token, "a.b.c"),
            (Err(r), false) => {
                assert_eq!(r.reason, RejectReason::TokenResponseInvalid);
                assert!(
                    r.detail.contains(&format!("larger than {limit} bytes")),
                    "{}",
                    r.detail
                );
            }
            (other, _) => panic!("limit {limit}: {other:?}"),
        }
    }
}

/// A JWKS URL is fetched once per `max-age` less its `Age`, ahead of time (`prefetch_keys`) or
/// when a token needs it; only an unknown kid forces a refetch inside that time (a token
/// without a kid among two keys is ambiguous whatever a refetch would bring); and a refetch that
/// fails keeps the keys already known.
#[tokio::test]
async fn the_jwks_is_fetched_once_per_max_age_and_forced_only_by_an_unknown_kid() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let fetches = std::sync::Arc::new(AtomicUsize::new(0));
    let down = std::sync::Arc::new(AtomicBool::new(false));
    let keys = oidc_harness::keys::fixture_signing_keys().unwrap();
    let jwks = serde_json::json!({
        "keys": keys.iter().map(|k| k.key().jwk("sig", "RS256")).collect::<Vec<_>>()
    })
    .to_string();
    let (counter, failing) = (
        std::sync::Arc::clone(&fetches),
        std::sync::Arc::clone(&down),
    );
    let app = axum::Router::new().route(
        "/jwks",
        axum::routing::get(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            let status = if failing.load(Ordering::SeqCst) {
                axum::http::StatusCode::SERVICE_UNAVAILABLE
            } else {
                axum::http::StatusCode::OK
            };
            let jwks = jwks.clone();
            // Cached 100 s by the origin, 40 of them already spent on the way.
            async move {
                (
                    status,
                    [("cache-control", "public, max-age=100"), ("age", "40")],
                    jwks,
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let idp = MockIdp::start().await.unwrap();
    let mut config = VerifierConfig::new(
        Issuer::new(idp.base_url()),
        KeySource::JwksUrl(format!("http://{addr}/jwks").parse().unwrap()),
    );
    config.insecure_allow_http = true;
    config.client_id = Some(ClientId::new("demo-client"));
    let verifier = Verifier::new(config).unwrap();
    let count = || fetches.load(Ordering::SeqCst);

    let t = now();
    verifier.prefetch_keys(t).await.unwrap();
    assert_eq!(count(), 1);
    verifier.prefetch_keys(t + 59).await.unwrap();
    assert_eq!(
        count(),
        1,
        "keys within max-age less Age are not fetched again"
    );
    verifier.prefetch_keys(t + 60).await.unwrap();
    assert_eq!(count(), 2, "keys past it are");

    let token = idp.mint_id_token("alice", &Default::default()).unwrap();
    verifier
        .verify(&token, &VerifyContext::at(t + 110))
        .await
        .unwrap();
    assert_eq!(count(), 2);
    verifier
        .verify(&token, &VerifyContext::at(t + 120))
        .await
        .unwrap();
    assert_eq!(count(), 3, "verification refetches keys past their time");

    let (_, claims) = decode(&token);
    let attacker = oidc_harness::keys::fixture_attacker_key().unwrap();
    let no_kid = oidc_harness::jose::malform::forge(
        &[],
        serde_json::Map::from_iter([("alg".to_owned(), "RS256".into())]),
        claims.as_object().unwrap().clone(),
        &oidc_harness::jose::malform::ForgeKeys {
            genuine: &keys[0],
            unpublished: &attacker,
            client_secret: "",
            envelope: None,
            now: t,
        },
    )
    .unwrap();
    let rejection = verifier
        .verify(&no_kid, &VerifyContext::at(t + 121))
        .await
        .unwrap_err();
    assert_eq!(rejection.reason, RejectReason::KidAmbiguous);
    assert_eq!(count(), 3, "an ambiguous kid forces no refetch");

    // The JWKS goes down: the refetch due fails, and the keys known still verify.
    down.store(true, Ordering::SeqCst);
    let consumer = verifier
        .verify(&token, &VerifyContext::at(t + 180))
        .await
        .unwrap();
    assert_eq!(consumer.sub().as_str(), "110169484474386276334");
    assert_eq!(count(), 4);
}
