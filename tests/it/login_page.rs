//! The interactive login page: pick a persona, edit its claims, consent or deny.

use reqwest::StatusCode;

use crate::support::*;

/// Opens the login page for a code request (no prompt=none) and returns the request id.
async fn open_login(
    idp: &oidc_harness::idp::MockIdp,
    http: &reqwest::Client,
    extra: &[(&str, &str)],
) -> (String, String) {
    let mut params = code_request(extra);
    params.retain(|(k, _)| *k != "prompt");
    let response = http.get(auth_url(idp, &params)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    let html = response.text().await.unwrap();
    let id = html
        .split(r#"name="request" value=""#)
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_owned();
    (id, html)
}

/// Submits the login page's form.
async fn submit(
    idp: &oidc_harness::idp::MockIdp,
    http: &reqwest::Client,
    form: &[(&str, &str)],
) -> reqwest::Response {
    http.post(format!("{}/o/oauth2/v2/auth/login", idp.base_url()))
        .form(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_page_lists_every_persona_with_editable_claims_and_escapes_markup() {
    let (idp, http) = spawn().await;
    let (_, html) = open_login(&idp, &http, &[("login_hint", "zoe")]).await;
    for id in ["alice", "bob", "zoe", "mallory"] {
        assert!(
            html.contains(&format!(
                r#"<input type="hidden" name="persona" value="{id}">"#
            )),
            "{id}"
        );
    }
    assert!(
        html.contains(r#"<details open id="persona-zoe">"#),
        "login_hint opens its persona"
    );
    assert!(html.contains("Zoë Ångström-Łukasiewicz"));
    assert!(
        html.contains("&#34;customerId&#34;: &#34;CUST-0001-ALICE&#34;"),
        "lp_sdes is shown for editing"
    );
    assert!(
        !html.contains("<script>alert"),
        "a persona's markup must render as text"
    );
    assert!(html.contains("&#60;script&#62;alert("));
}

#[tokio::test]
async fn consenting_with_edited_claims_puts_the_edits_in_the_token() {
    let (idp, http) = spawn().await;
    let (request, _) = open_login(&idp, &http, &[]).await;
    let response = submit(
        &idp,
        &http,
        &[
            ("request", request.as_str()),
            ("persona", "bob"),
            ("action", "allow"),
            ("sub", "999"),
            ("name", "Robert Stone"),
            ("given_name", "Robert"),
            ("family_name", ""),
            ("email", "bob@example.com"),
            ("email_verified", "on"),
            ("picture", ""),
            (
                "lp_sdes",
                r#"[{"type":"ctmrinfo","info":{"ctype":"gold"}}]"#,
            ),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let params = redirect_params(&location(&response));
    assert_eq!(params["prompt"], "consent");
    assert_eq!(params["state"], "st-1");
    let (status, body) = redeem(&idp, &http, &params["code"], &[]).await;
    assert_eq!(status, StatusCode::OK);
    let claims = verify_with_jwks(&idp, &http, body["id_token"].as_str().unwrap()).await;
    assert_eq!(claims["sub"], "999");
    assert_eq!(claims["name"], "Robert Stone");
    assert_eq!(claims["email"], "bob@example.com");
    assert_eq!(claims["email_verified"], true);
    assert!(claims.get("family_name").is_none());
    assert_eq!(
        claims["lp_sdes"],
        serde_json::json!([{"type": "ctmrinfo", "info": {"ctype": "gold"}}])
    );
    // UserInfo answers for the edited person too, and stops once the grant is revoked.
    let access_token = body["access_token"].as_str().unwrap();
    let userinfo = || {
        http.get(format!("{}/v1/userinfo", idp.base_url()))
            .bearer_auth(access_token)
            .send()
    };
    let info: serde_json::Value = userinfo().await.unwrap().json().await.unwrap();
    assert_eq!(info["sub"], "999");
    assert_eq!(info["name"], "Robert Stone");
    let revoked = http
        .post(format!("{}/revoke", idp.base_url()))
        .form(&[("token", access_token)])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    assert_eq!(userinfo().await.unwrap().status(), StatusCode::UNAUTHORIZED);

    // The sign-in request was single-use.
    let again = submit(
        &idp,
        &http,
        &[
            ("request", request.as_str()),
            ("persona", "bob"),
            ("action", "allow"),
            ("sub", "1"),
        ],
    )
    .await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert!(again.headers().get("location").is_none());
}

#[tokio::test]
async fn invalid_lp_sdes_json_shows_the_page_again() {
    let (idp, http) = spawn().await;
    let (request, _) = open_login(&idp, &http, &[]).await;
    let response = submit(
        &idp,
        &http,
        &[
            ("request", request.as_str()),
            ("persona", "alice"),
            ("action", "allow"),
            ("sub", "1"),
            ("lp_sdes", "[{"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("lp_sdes is not valid JSON"));
    // The request is still open: fixing the JSON completes it.
    let response = submit(
        &idp,
        &http,
        &[
            ("request", request.as_str()),
            ("persona", "alice"),
            ("action", "allow"),
            ("sub", "1"),
            ("lp_sdes", "[]"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::FOUND);
}

#[tokio::test]
async fn deny_sends_access_denied_with_state() {
    let (idp, http) = spawn().await;
    let (request, _) = open_login(&idp, &http, &[("response_type", "id_token")]).await;
    let response = submit(
        &idp,
        &http,
        &[("request", request.as_str()), ("action", "deny")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = location(&response);
    assert!(
        location.starts_with("https://liveperson.net#error=access_denied"),
        "{location}"
    );
    assert_eq!(redirect_params(&location)["state"], "st-1");
}

#[tokio::test]
async fn an_unknown_sign_in_request_is_an_error_page() {
    let (idp, http) = spawn().await;
    let response = submit(
        &idp,
        &http,
        &[
            ("request", "forged"),
            ("persona", "alice"),
            ("action", "allow"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get("location").is_none());
}

#[tokio::test]
async fn a_sign_in_is_remembered_for_prompt_none_and_only_with_its_cookie() {
    let (idp, http) = spawn().await;
    let (request, _) = open_login(&idp, &http, &[]).await;
    let response = submit(
        &idp,
        &http,
        &[
            ("request", request.as_str()),
            ("persona", "zoe"),
            ("action", "allow"),
            ("sub", "edited-zoe"),
            ("name", "Zoë Edited"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    let (pair, attributes) = cookie.split_once(';').unwrap();
    assert!(pair.starts_with("oidc_harness_session="), "{cookie}");
    assert_eq!(
        attributes.trim(),
        "Path=/; Max-Age=43200; HttpOnly; SameSite=Lax; Secure"
    );

    // prompt=none with no login_hint answers for whoever signed in, as edited.
    let mut params = code_request(&[]);
    params.retain(|(k, _)| *k != "login_hint");
    let silent = http
        .get(auth_url(&idp, &params))
        .header("cookie", format!("other=1; {pair}"))
        .send()
        .await
        .unwrap();
    assert_eq!(silent.status(), StatusCode::FOUND);
    let answer = redirect_params(&location(&silent));
    assert_eq!(answer["prompt"], "none");
    let (status, body) = redeem(&idp, &http, &answer["code"], &[]).await;
    assert_eq!(status, StatusCode::OK);
    let claims = verify_with_jwks(&idp, &http, body["id_token"].as_str().unwrap()).await;
    assert_eq!(claims["sub"], "edited-zoe");
    assert_eq!(claims["name"], "Zoë Edited");

    // Without the cookie, or with a made-up one, nobody is signed in.
    for cookie in [None, Some("oidc_harness_session=forged")] {
        let mut request = http.get(auth_url(&idp, &params));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FOUND);
        let answer = redirect_params(&location(&response));
        assert_eq!(answer["error"], "login_required", "{cookie:?}");
    }
}
