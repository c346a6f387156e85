//! The token endpoint's refusals: each one Google's status and exact body (or the platform's,
//! for a client that asks for platform error names).

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

async fn post_form(
    http: &reqwest::Client,
    url: &str,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut request = http.post(url).form(form);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.json().await.unwrap())
}

#[tokio::test]
async fn wrong_client_secret_both_ways_is_401_invalid_client() {
    let (idp, http) = spawn().await;
    let url = format!("{}/token", idp.base_url());
    let code = get_code(&idp, &http, &[]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    let (status, headers, body) =
        post_form(&http, &url, Some(("demo-client", "wrong")), &form).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_google_error(&body, "invalid_client", "Unauthorized");
    assert_eq!(headers["www-authenticate"], r#"Basic realm="oidc-harness""#);
    assert_eq!(
        headers["cache-control"],
        "no-cache, no-store, max-age=0, must-revalidate"
    );

    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("client_id", "demo-client"),
        ("client_secret", "demo-secret!"),
    ];
    let (status, headers, body) = post_form(&http, &url, None, &form).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_google_error(&body, "invalid_client", "Unauthorized");
    assert!(
        !headers.contains_key("www-authenticate"),
        "no Basic challenge for body credentials"
    );

    // A failed client authentication does not burn the code.
    let (status, _) = redeem(&idp, &http, &code, &[]).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn unknown_and_missing_clients() {
    let (idp, http) = spawn().await;
    let url = format!("{}/token", idp.base_url());
    let (status, _, body) = post_form(
        &http,
        &url,
        Some(("nobody", "x")),
        &[("grant_type", "authorization_code")],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_google_error(&body, "invalid_client", "The OAuth client was not found.");
    let (status, _, body) = post_form(
        &http,
        &url,
        None,
        &[("grant_type", "authorization_code"), ("code", "4/0Ax")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_google_error(
        &body,
        "invalid_request",
        "Could not determine client ID from request.",
    );
    let (status, _, body) = post_form(
        &http,
        &url,
        None,
        &[
            ("client_id", "demo-client"),
            ("grant_type", "authorization_code"),
        ],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a confidential client must send its secret"
    );
    assert_google_error(&body, "invalid_client", "Unauthorized");
}

#[tokio::test]
async fn two_authentication_methods_at_once_are_refused() {
    let (idp, http) = spawn().await;
    let url = format!("{}/token", idp.base_url());
    let (status, _, body) = post_form(
        &http,
        &url,
        Some(("demo-client", "demo-secret")),
        &[
            ("grant_type", "authorization_code"),
            ("client_secret", "demo-secret"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_google_error(
        &body,
        "invalid_request",
        "The client used more than one authentication method.",
    );
}

#[tokio::test]
async fn grant_type_code_and_redirect_uri_errors() {
    let (idp, http) = spawn().await;
    let url = format!("{}/token", idp.base_url());
    let basic = Some(("demo-client", "demo-secret"));
    let (status, _, body) = post_form(&http, &url, basic, &[("code", "x")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_google_error(&body, "unsupported_grant_type", "Invalid grant_type: ");
    let (_, _, body) = post_form(&http, &url, basic, &[("grant_type", "password")]).await;
    assert_google_error(
        &body,
        "unsupported_grant_type",
        "Invalid grant_type: password",
    );
    let (status, _, body) =
        post_form(&http, &url, basic, &[("grant_type", "authorization_code")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_google_error(&body, "invalid_request", "Missing required parameter: code");
    let (_, _, body) = post_form(
        &http,
        &url,
        basic,
        &[("grant_type", "authorization_code"), ("code", "4%2F0Abc")],
    )
    .await;
    assert_google_error(&body, "invalid_grant", "Malformed auth code.");
    let (_, _, body) = post_form(
        &http,
        &url,
        basic,
        &[
            ("grant_type", "authorization_code"),
            ("code", "4/0Aunknown"),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_google_error(&body, "invalid_grant", "Bad Request");
    let code = get_code(&idp, &http, &[]).await;
    let (status, _, body) = post_form(
        &http,
        &url,
        basic,
        &[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_google_error(&body, "invalid_request", "Missing parameter: redirect_uri");
}

#[tokio::test]
async fn a_code_issued_to_another_client_is_invalid_grant() {
    let (idp, http) = spawn().await;
    let code = get_code(&idp, &http, &[]).await;
    let (status, _, body) = post_form(
        &http,
        &format!("{}/token", idp.base_url()),
        Some(("demo-encrypted", "demo-secret")),
        &[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_google_error(&body, "invalid_grant", "Bad Request");
}

#[tokio::test]
async fn malformed_bodies_get_google_shaped_errors() {
    let (idp, http) = spawn().await;
    let url = format!("{}/token", idp.base_url());
    let send = |body: &'static str, content_type: &'static str| {
        http.post(&url)
            .basic_auth("demo-client", Some("demo-secret"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let response = send("{not json", "application/json").await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_google_error(
        &response.json().await.unwrap(),
        "invalid_request",
        "Invalid JSON payload received.",
    );
    let response = send(r#"{"grant_type": 5}"#, "application/json")
        .await
        .unwrap();
    assert_google_error(
        &response.json().await.unwrap(),
        "invalid_request",
        "Every parameter must be a string.",
    );
    let response = send(
        "grant_type=a&grant_type=b",
        "application/x-www-form-urlencoded",
    )
    .await
    .unwrap();
    assert_google_error(
        &response.json().await.unwrap(),
        "invalid_request",
        "A parameter was repeated.",
    );
    let response = send("<xml/>", "text/xml").await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );
    let big = "a".repeat(70_000);
    let response = http
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_google_error(
        &response.json().await.unwrap(),
        "invalid_request",
        "Request body too large",
    );
}

#[tokio::test]
async fn platform_error_style_uses_the_platforms_names_with_400() {
    let (idp, http) = spawn().await;
    let url = format!("{}/token", idp.base_url());
    let client = Some(("demo-platform-errors", "demo-secret"));
    let (status, _, body) = post_form(
        &http,
        &url,
        client,
        &[
            ("grant_type", "authorization_code"),
            ("code", "4/0Abad"),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"error": "invalid_code"}));
    let (status, _, body) = post_form(
        &http,
        &url,
        Some(("demo-platform-errors", "wrong")),
        &[("grant_type", "authorization_code")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"error": "unauthorized_client"}));
    let response = http
        .post(&url)
        .basic_auth("demo-platform-errors", Some("demo-secret"))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"error": "json_parse_error"})
    );
    // Its successful redemptions are ordinary.
    let code = get_code(&idp, &http, &[("client_id", "demo-platform-errors")]).await;
    let (status, _, body) = post_form(
        &http,
        &url,
        client,
        &[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        decode(body["id_token"].as_str().unwrap()).1["aud"],
        "demo-platform-errors"
    );
}

#[tokio::test]
async fn basic_credentials_are_form_urldecoded() {
    use oidc_harness::claims::ClientSecret;
    use oidc_harness::idp::{ClientConfig, ErrorStyle, MockIdp};
    let client = ClientConfig {
        client_id: "odd:id".into(),
        client_secret: ClientSecret::new("s3cr&t:%"),
        redirect_uris: vec![REDIRECT.into()],
        allow_loopback_redirects: false,
        error_style: ErrorStyle::Google,
        encrypt_id_token: None,
        rotate_refresh_tokens: false,
        require_pkce: false,
        implicit_param: None,
        token_endpoint_auth_method: None,
    };
    let idp = MockIdp::builder().client(client).start().await.unwrap();
    let http = idp.http_client();
    let code = get_code(&idp, &http, &[("client_id", "odd:id")]).await;
    // RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
    let (status, _, _) = post_form(
        &http,
        &format!("{}/token", idp.base_url()),
        Some(("odd%3Aid", "s3cr%26t%3A%25")),
        &[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}
