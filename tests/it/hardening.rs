//! Hostile input, load and races: the provider answers every request with a 4xx in the
//! caller's format (never a 5xx), keeps serving correct flows, holds its limits, and loses
//! nothing valid under concurrent key rotation.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use axum::extract::ConnectInfo;
use oidc_harness::claims::{ClientId, ClientSecret, Issuer, Nonce};
use oidc_harness::clock::SystemClock;
use oidc_harness::idp::{IdpConfig, IdpState, MockIdp};
use oidc_harness::verifier::{CodeRedemption, KeySource, Verifier, VerifierConfig, VerifyContext};
use proptest::prelude::*;
use reqwest::StatusCode;
use tower::ServiceExt as _;

use crate::support::*;

/// One provider and runtime shared by every fuzz case.
fn shared() -> &'static (tokio::runtime::Runtime, MockIdp, reqwest::Client) {
    static SHARED: OnceLock<(tokio::runtime::Runtime, MockIdp, reqwest::Client)> = OnceLock::new();
    SHARED.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let idp = runtime.block_on(MockIdp::start()).unwrap();
        let http = idp.http_client();
        (runtime, idp, http)
    })
}

const PATHS: [&str; 14] = [
    "/",
    "/.well-known/openid-configuration",
    "/oauth2/v3/certs",
    "/oauth2/v1/certs",
    "/o/oauth2/v2/auth",
    "/o/oauth2/v2/auth/login",
    "/token",
    "/oauth2/v3/token",
    "/v1/userinfo",
    "/revoke",
    "/device/code",
    "/device",
    "/_harness/faults",
    "/nope/../token",
];

const KEYS: [&str; 16] = [
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "prompt",
    "login_hint",
    "response_mode",
    "code_challenge",
    "code_challenge_method",
    "grant_type",
    "code",
    "refresh_token",
    "token",
    "x",
];

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("demo-client".to_owned()),
        Just("https://liveperson.net".to_owned()),
        Just("http://127.0.0.1@evil.example/".to_owned()),
        Just("//evil.example".to_owned()),
        Just("code".to_owned()),
        Just("id_token".to_owned()),
        Just("openid".to_owned()),
        Just("none".to_owned()),
        Just("alice".to_owned()),
        Just("authorization_code".to_owned()),
        Just("%zz%ff%fe%00".to_owned()),
        Just("x".repeat(5000)),
        "\\PC{0,40}",
        "[%&=+#?/ -~]{0,40}",
    ]
}

fn query() -> impl Strategy<Value = String> {
    proptest::collection::vec((prop::sample::select(KEYS.to_vec()), value()), 0..8).prop_map(
        |pairs| {
            pairs
                .into_iter()
                .map(|(k, v)| {
                    // Half the values go raw (percent tricks, invalid escapes), half encoded.
                    if v.len() % 2 == 0 {
                        format!("{k}={v}")
                    } else {
                        format!(
                            "{k}={}",
                            form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
                        )
                    }
                })
                .collect::<Vec<_>>()
                .join("&")
        },
    )
}

fn content_type() -> impl Strategy<Value = Option<&'static str>> {
    prop::option::of(prop::sample::select(vec![
        "application/x-www-form-urlencoded",
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        "multipart/form-data; boundary=x",
        "\u{1}garbage",
    ]))
}

fn authorization() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        Just("Basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ=".to_owned()),
        Just("Basic !!!".to_owned()),
        Just("Bearer ya29.nothing".to_owned()),
        Just("Basic ZGVtby1jbGllbnQ=".to_owned()),
        "[ -~]{0,60}",
    ])
}

/// The provider still serves a complete, correct code flow.
async fn flow_still_works(idp: &MockIdp, http: &reqwest::Client) {
    let code = get_code(idp, http, &[]).await;
    let (status, body) = redeem(idp, http, &code, &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    verify_with_jwks(idp, http, body["id_token"].as_str().unwrap()).await;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

    #[test]
    fn any_request_gets_a_4xx_in_the_callers_format_never_a_5xx(
        method in prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]),
        path in prop::sample::select(PATHS.to_vec()),
        query in query(),
        body in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..400),
            query().prop_map(String::into_bytes),
            Just(br#"{"grant_type":"authorization_code","code":"4/0Ax","redirect_uri":"https://liveperson.net"}"#.to_vec()),
            Just(br#"{"grant_type":{"nested":[1,2,{"deep":null}]}}"#.to_vec()),
        ],
        content_type in content_type(),
        authorization in authorization(),
    ) {
        let (runtime, idp, http) = shared();
        // After every batch of 100 hostile requests, a correct flow must still work.
        static CASES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        if CASES.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 100 == 99 {
            runtime.block_on(flow_still_works(idp, http));
        }
        let url = format!("{}{path}?{query}", idp.base_url());
        let result = runtime.block_on(async {
            let mut request = http.request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), &url).body(body.clone());
            if let Some(ct) = content_type {
                request = request.header("content-type", ct);
            }
            if let Some(auth) = &authorization {
                if let Ok(value) = reqwest::header::HeaderValue::from_str(auth) {
                    request = request.header("authorization", value);
                }
            }
            let response = request.send().await?;
            let status = response.status();
            let headers = response.headers().clone();
            let text = response.text().await.unwrap_or_default();
            Ok::<_, reqwest::Error>((status, headers, text))
        });
        // A URL reqwest itself refuses to send is not the provider's business.
        let Ok((status, headers, text)) = result else { return Ok(()) };
        prop_assert!(status.as_u16() < 500, "{method} {url} -> {status}: {text}");
        if let Some(location) = headers.get("location").and_then(|v| v.to_str().ok()) {
            prop_assert!(
                location.starts_with("https://liveperson.net?") || location.starts_with("https://liveperson.net#")
                    || location.starts_with("http://127.0.0.1") || location.starts_with("http://localhost") || location.starts_with("http://[::1]")
                    || location.starts_with("https://127.0.0.1") || location.starts_with("https://localhost") || location.starts_with("https://[::1]"),
                "redirected to an unregistered place: {location}"
            );
        }
        let json_endpoint = ["/token", "/oauth2/v3/token", "/revoke", "/device/code"].contains(&path) && method == "POST";
        if json_endpoint && status.is_client_error() && status != StatusCode::PAYLOAD_TOO_LARGE {
            let body: serde_json::Value = serde_json::from_str(&text).map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
            prop_assert!(body["error"].is_string(), "{text}");
        }
    }
}

#[test]
fn after_the_fuzz_the_provider_still_serves_a_correct_flow() {
    let (runtime, idp, http) = shared();
    runtime.block_on(flow_still_works(idp, http));
}

#[tokio::test]
async fn oversized_bodies_urls_and_headers_get_clear_errors() {
    let (idp, http) = spawn().await;
    let response = http
        .post(format!("{}/revoke", idp.base_url()))
        .body(vec![b'a'; 100_000])
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_google_error(
        &response.json().await.unwrap(),
        "invalid_request",
        "Request body too large",
    );
    // A page and a JSON endpoint get the same shape (the fuzz test found a plain-text answer).
    let long = "x".repeat(20_000);
    for request in [
        http.get(format!("{}/?q={long}", idp.base_url())),
        http.post(format!("{}/revoke?client_id={long}", idp.base_url())),
    ] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::URI_TOO_LONG);
        assert_google_error(
            &response.json().await.unwrap(),
            "invalid_request",
            "Request URI too long",
        );
    }
    let mut request = http.get(format!("{}/", idp.base_url()));
    for i in 0..200 {
        request = request.header(format!("x-h{i}"), "v".repeat(2000));
    }
    // hyper refuses a header section this large; either status is a clear refusal.
    match request.send().await {
        Ok(response) => assert!(
            [
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                StatusCode::BAD_REQUEST
            ]
            .contains(&response.status()),
            "{}",
            response.status()
        ),
        Err(err) => assert!(
            err.is_request() || err.is_connect() || err.is_body(),
            "{err}"
        ),
    }
    flow_still_works(&idp, &http).await;
}

#[tokio::test]
async fn the_admin_api_refuses_callers_beyond_loopback() {
    let config = IdpConfig::default();
    let state = Arc::new(
        IdpState::new(
            config,
            Issuer::new("https://127.0.0.1:8443"),
            Arc::new(SystemClock),
        )
        .unwrap(),
    );
    for (method, path) in [
        ("PUT", "/_harness/faults"),
        ("GET", "/_harness/faults"),
        ("DELETE", "/_harness/faults"),
        ("POST", "/_harness/keys/rotate"),
        ("GET", "/_harness/state"),
        ("GET", "/_harness/personas"),
        ("PUT", "/_harness/personas/eve"),
        ("DELETE", "/_harness/personas/alice"),
        ("GET", "/_harness/clients"),
        ("PUT", "/_harness/clients/evil"),
        ("DELETE", "/_harness/clients/demo-client"),
        ("GET", "/_harness/queue"),
        ("POST", "/_harness/queue"),
        ("DELETE", "/_harness/queue"),
    ] {
        let mut request = axum::http::Request::builder()
            .method(method)
            .uri(path)
            .body(axum::body::Body::from("{}"))
            .unwrap();
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([192, 0, 2, 7], 40000))));
        let response = oidc_harness::idp::router(Arc::clone(&state))
            .oneshot(request)
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{method} {path}");
    }
    let kids = state.published_kids();
    assert_eq!(kids.len(), 2, "nothing was rotated");
    assert_eq!(state.personas().list.len(), 5, "no persona changed");
    assert_eq!(state.client_credentials().len(), 3, "no client changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_rotation_during_a_flow_load_loses_no_valid_flow() {
    let idp = Arc::new(MockIdp::start().await.unwrap());
    let base = idp.base_url().to_owned();
    let mut config = VerifierConfig::new(
        Issuer::new(&base),
        KeySource::JwksUrl(format!("{base}/oauth2/v3/certs").parse().unwrap()),
    )
    .token_endpoint(
        format!("{base}/token").parse().unwrap(),
        ClientId::new("demo-client"),
        ClientSecret::new("demo-secret"),
    )
    .extra_root_pem(idp.ca_cert_pem().unwrap());
    config.jwks_refetch_interval_secs = 0;
    let verifier = Arc::new(Verifier::new(config).unwrap());
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let (idp, verifier) = (Arc::clone(&idp), Arc::clone(&verifier));
            tokio::spawn(async move {
                let http = idp.http_client();
                let mut done = 0;
                for _ in 0..25 {
                    let code = get_code(&idp, &http, &[]).await;
                    let ctx = VerifyContext {
                        nonce: Some(Nonce::new("n-0S6_WzA2Mj")),
                        ..VerifyContext::at(now())
                    };
                    verifier
                        .authenticate_code(
                            &CodeRedemption {
                                code,
                                ..CodeRedemption::default()
                            },
                            &ctx,
                        )
                        .await
                        .unwrap_or_else(|r| panic!("a valid flow was lost during rotation: {r}"));
                    done += 1;
                }
                done
            })
        })
        .collect();
    for _ in 0..2 {
        tokio::time::sleep(std::time::Duration::from_millis(40)).await;
        let rotating = Arc::clone(&idp);
        tokio::task::spawn_blocking(move || rotating.rotate_keys().unwrap())
            .await
            .unwrap();
    }
    let mut total = 0;
    for client in clients {
        total += client.await.unwrap();
    }
    assert_eq!(total, 200);
    assert_eq!(
        idp.state().published_kids().len(),
        3,
        "two rotations happened during the load"
    );
}

fn now() -> i64 {
    oidc_harness::clock::Clock::now(&SystemClock)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_stay_within_their_cap_under_a_long_load() {
    let clock = Arc::new(oidc_harness::clock::FixedClock::at(1_800_000_000));
    let mut config = IdpConfig::default();
    config.limits.max_store_entries = 64;
    let idp = MockIdp::builder()
        .config(config)
        .clock(clock.clone())
        .start()
        .await
        .unwrap();
    let http = idp.http_client();
    for round in 0..400 {
        let code = get_code(&idp, &http, &[("access_type", "offline")]).await;
        let (status, _) = redeem(&idp, &http, &code, &[]).await;
        assert_eq!(status, StatusCode::OK, "round {round}");
        if round % 50 == 0 {
            clock.advance(120);
        }
        for size in idp.state().store_sizes() {
            assert!(
                size <= 64,
                "a store holds {size} entries: {:?}",
                idp.state().store_sizes()
            );
        }
    }
    flow_still_works(&idp, &http).await;
}
