//! Every authorization-endpoint error: untrusted client or redirect URI -> an error page and
//! never a redirect; anything after -> `error=…&state=…` at the redirect URI.

use reqwest::StatusCode;

use crate::support::*;

async fn page_error(params: &[(&str, &str)], status: StatusCode, error: &str, description: &str) {
    let (idp, http) = spawn().await;
    let response = http.get(auth_url(&idp, params)).send().await.unwrap();
    assert_eq!(response.status(), status, "{params:?}");
    assert!(
        response.headers().get("location").is_none(),
        "never redirect an untrusted request: {params:?}"
    );
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    let html = response.text().await.unwrap();
    assert!(
        html.contains(&format!(r#"<code id="error">{error}</code>"#)),
        "{params:?}: {html}"
    );
    assert!(html.contains(description), "{params:?}: {html}");
}

#[tokio::test]
async fn client_and_redirect_uri_failures_are_pages() {
    page_error(
        &[("redirect_uri", REDIRECT), ("response_type", "code")],
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "Missing required parameter: client_id",
    )
    .await;
    page_error(
        &[
            ("client_id", "nobody"),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
        ],
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "The OAuth client was not found.",
    )
    .await;
    page_error(
        &[("client_id", "demo-client"), ("response_type", "code")],
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "Missing required parameter: redirect_uri",
    )
    .await;
    page_error(
        &[("client_id", "demo-client"), ("redirect_uri", REDIRECT)],
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "Missing required parameter: response_type",
    )
    .await;
    page_error(
        &[
            ("client_id", "demo-client"),
            ("client_id", "demo-client"),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
        ],
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "Parameter repeated",
    )
    .await;
}

#[tokio::test]
async fn unregistered_and_look_alike_redirect_uris_are_refused_without_redirecting() {
    for uri in [
        "https://evil.example/cb",
        "https://liveperson.net/",
        "HTTPS://liveperson.net",
        "https://liveperson.net.evil.example",
        "https://liveperson.net@evil.example",
        "http://127.0.0.1@evil.example/cb",
        "http://127.0.0.1.evil.example/cb",
        "http://localhost.evil.example/cb",
        "http://user:pw@localhost/cb",
        "http://127.0.0.1:8080/cb#frag",
        "javascript:alert(1)",
        "//evil.example",
    ] {
        page_error(
            &[
                ("client_id", "demo-client"),
                ("redirect_uri", uri),
                ("response_type", "code"),
                ("scope", "openid"),
            ],
            StatusCode::BAD_REQUEST,
            "redirect_uri_mismatch",
            "does not match the ones authorized for the OAuth client",
        )
        .await;
    }
}

/// Sends `extra` over the default headless request and returns the redirect's parameters.
async fn redirected_error(
    extra: &[(&str, &str)],
) -> (String, std::collections::HashMap<String, String>) {
    let (idp, http) = spawn().await;
    let location = authorize(&idp, &http, &code_request(extra)).await;
    (location.clone(), redirect_params(&location))
}

async fn expect_error(extra: &[(&str, &str)], error: &str, description: &str) {
    let (location, params) = redirected_error(extra).await;
    assert_eq!(
        params.get("error").map(String::as_str),
        Some(error),
        "{extra:?}: {location}"
    );
    assert_eq!(params["error_description"], description, "{extra:?}");
    assert_eq!(params["state"], "st-1", "state echoed on errors too");
    assert!(!params.contains_key("code") && !params.contains_key("id_token"));
}

#[tokio::test]
async fn errors_after_the_redirect_uri_is_trusted_go_back_to_it() {
    let (location, _) = redirected_error(&[("response_type", "code token_x")]).await;
    assert!(
        location.starts_with(
            "https://liveperson.net?error=unsupported_response_type&error_description="
        ),
        "{location}"
    );
    expect_error(
        &[("response_type", "token_x")],
        "unsupported_response_type",
        "Unsupported response_type: token_x",
    )
    .await;
    expect_error(
        &[("response_mode", "web_message")],
        "invalid_request",
        "Invalid response_mode.",
    )
    .await;
    expect_error(
        &[("response_type", "id_token"), ("response_mode", "query")],
        "invalid_request",
        "response_mode=query cannot carry tokens.",
    )
    .await;
    expect_error(
        &[("scope", "")],
        "invalid_request",
        "Missing required parameter: scope",
    )
    .await;
    expect_error(
        &[("scope", "email profile")],
        "invalid_scope",
        "The scope must contain openid.",
    )
    .await;
    expect_error(
        &[("scope", "openid https://mail.google.com/")],
        "invalid_scope",
        "Some requested scopes were invalid.",
    )
    .await;
    expect_error(
        &[("response_type", "id_token"), ("nonce", "")],
        "invalid_request",
        "Missing required parameter: nonce",
    )
    .await;
    expect_error(
        &[
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "S512"),
        ],
        "invalid_request",
        "Invalid code_challenge_method: use S256 or plain.",
    )
    .await;
    expect_error(
        &[
            ("code_challenge", "too-short"),
            ("code_challenge_method", "S256"),
        ],
        "invalid_request",
        "Invalid code_challenge.",
    )
    .await;
    expect_error(
        &[("code_challenge_method", "S256")],
        "invalid_request",
        "code_challenge_method without code_challenge.",
    )
    .await;
    expect_error(
        &[("prompt", "none consent")],
        "invalid_request",
        "prompt=none cannot be combined with other values.",
    )
    .await;
    expect_error(&[("prompt", "login")], "invalid_request", "Invalid prompt.").await;
    expect_error(
        &[("access_type", "forever")],
        "invalid_request",
        "Invalid access_type.",
    )
    .await;
    expect_error(
        &[("login_hint", "nobody")],
        "login_required",
        "No signed-in session, and no persona matches login_hint.",
    )
    .await;
}

#[tokio::test]
async fn implicit_errors_go_in_the_fragment() {
    let (location, params) =
        redirected_error(&[("response_type", "id_token"), ("login_hint", "nobody")]).await;
    assert!(
        location.starts_with("https://liveperson.net#error=login_required"),
        "{location}"
    );
    assert_eq!(params["state"], "st-1");
}

#[tokio::test]
async fn a_repeated_parameter_is_invalid_request() {
    let (idp, http) = spawn().await;
    let mut params = code_request(&[]);
    params.push(("state", "second"));
    let location = authorize(&idp, &http, &params).await;
    let params = redirect_params(&location);
    assert_eq!(params["error"], "invalid_request");
    assert_eq!(params["error_description"], "Parameter repeated: state");
}

#[tokio::test]
async fn a_client_that_requires_pkce_refuses_requests_without_it() {
    let mut config = oidc_harness::idp::IdpConfig::default();
    config.clients[0].require_pkce = true;
    let idp = oidc_harness::idp::MockIdp::builder()
        .config(config)
        .start()
        .await
        .unwrap();
    let http = idp.http_client();
    let location = authorize(&idp, &http, &code_request(&[])).await;
    assert_eq!(
        redirect_params(&location)["error_description"],
        "Missing required parameter: code_challenge"
    );
}

#[tokio::test]
async fn an_oversized_url_is_414() {
    let (idp, http) = spawn().await;
    let long = "x".repeat(20_000);
    let response = http
        .get(auth_url(&idp, &code_request(&[("state", long.as_str())])))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::URI_TOO_LONG);
}
