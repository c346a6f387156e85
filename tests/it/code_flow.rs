//! The Code Flow end to end: headless login -> code -> token -> ID token verified with the JWKS.

use std::sync::Arc;

use oidc_harness::clock::FixedClock;
use oidc_harness::idp::MockIdp;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn full_code_flow_gives_a_google_shaped_verified_id_token() {
    let (idp, http) = spawn().await;
    let location = authorize(&idp, &http, &code_request(&[("state", "a b/c+d%e&f")])).await;
    assert!(
        location.starts_with("https://liveperson.net?state="),
        "the registered URI is kept as is: {location}"
    );
    let params = redirect_params(&location);
    assert_eq!(params["state"], "a b/c+d%e&f", "state echoed byte for byte");
    let code = &params["code"];
    assert!(code.starts_with("4/0A") && code.len() == 73, "{code}");
    assert!(
        location.contains("code=4%2F0A"),
        "the / arrives percent-encoded like Google's"
    );
    assert_eq!(
        params["scope"],
        "email profile openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile"
    );
    assert_eq!(params["authuser"], "0");
    assert_eq!(params["prompt"], "none");
    let order: Vec<&str> = location
        .split_once('?')
        .unwrap()
        .1
        .split('&')
        .map(|kv| kv.split('=').next().unwrap())
        .collect();
    assert_eq!(order, ["state", "code", "scope", "authuser", "prompt"]);

    let response = http
        .post(format!("{}/token", idp.base_url()))
        .basic_auth("demo-client", Some("demo-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let h = response.headers();
    assert_eq!(h["content-type"], "application/json; charset=utf-8");
    assert_eq!(
        h["cache-control"],
        "no-cache, no-store, max-age=0, must-revalidate"
    );
    assert_eq!(h["pragma"], "no-cache");
    assert_eq!(h["expires"], "Mon, 01 Jan 1990 00:00:00 GMT");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        keys(&body),
        [
            "access_token",
            "expires_in",
            "scope",
            "token_type",
            "id_token"
        ]
    );
    assert!(body["access_token"].as_str().unwrap().starts_with("ya29."));
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(
        body["scope"],
        "https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile openid"
    );

    let id_token = body["id_token"].as_str().unwrap();
    let (header, _) = decode(id_token);
    assert_eq!(keys(&header), ["alg", "kid", "typ"]);
    assert_eq!(header["typ"], "JWT");
    let claims = verify_with_jwks(&idp, &http, id_token).await;
    assert_eq!(
        keys(&claims),
        [
            "iss",
            "azp",
            "aud",
            "sub",
            "email",
            "email_verified",
            "at_hash",
            "nonce",
            "name",
            "picture",
            "given_name",
            "family_name",
            "iat",
            "exp",
            "lp_sdes"
        ]
    );
    assert_eq!(claims["iss"], idp.base_url());
    assert_eq!(claims["aud"], "demo-client");
    assert_eq!(claims["azp"], "demo-client");
    assert_eq!(claims["sub"], "110169484474386276334");
    assert_eq!(claims["email"], "alice.liddell@example.com");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(claims["name"], "Alice Liddell");
    assert_eq!(
        claims["at_hash"],
        left_half_hash(body["access_token"].as_str().unwrap())
    );
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    assert_eq!(claims["lp_sdes"][0]["type"], "ctmrinfo");
    assert_eq!(
        claims["lp_sdes"][0]["info"]["customerId"],
        "CUST-0001-ALICE"
    );
    assert_eq!(claims["lp_sdes"][0]["info"]["balance"], -400.99);
    assert_eq!(
        claims["lp_sdes"][1]["personal"]["contacts"][0]["phoneType"],
        "MOBILE"
    );
}

#[tokio::test]
async fn client_secret_in_the_body_and_json_bodies_work_too() {
    let (idp, http) = spawn().await;
    let code = get_code(&idp, &http, &[]).await;
    let response = http
        .post(format!("{}/oauth2/v3/token", idp.base_url()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("client_id", "demo-client"),
            ("client_secret", "demo-secret"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let code = get_code(&idp, &http, &[]).await;
    let response = http
        .post(format!("{}/token", idp.base_url()))
        .basic_auth("demo-client", Some("demo-secret"))
        .json(&json!({"code": code, "grant_type": "authorization_code", "redirect_uri": REDIRECT}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        decode(body["id_token"].as_str().unwrap()).1["sub"],
        "110169484474386276334"
    );
}

#[tokio::test]
async fn codes_are_single_use_and_a_replay_revokes_the_first_tokens() {
    let (idp, http) = spawn().await;
    let code = get_code(&idp, &http, &[]).await;
    let (status, first) = redeem(&idp, &http, &code, &[]).await;
    assert_eq!(status, StatusCode::OK);
    let access = first["access_token"].as_str().unwrap();
    let userinfo = |token: String| {
        let http = http.clone();
        let url = format!("{}/v1/userinfo", idp.base_url());
        async move {
            http.get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(userinfo(access.to_owned()).await, StatusCode::OK);
    let (status, body) = redeem(&idp, &http, &code, &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_google_error(&body, "invalid_grant", "Bad Request");
    assert_eq!(
        userinfo(access.to_owned()).await,
        StatusCode::UNAUTHORIZED,
        "tokens from a replayed code are revoked"
    );
}

#[tokio::test]
async fn sixty_four_concurrent_redemptions_of_one_code_give_one_success() {
    let (idp, http) = spawn().await;
    let code = get_code(&idp, &http, &[]).await;
    let idp = Arc::new(idp);
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (idp, http, code) = (Arc::clone(&idp), http.clone(), code.clone());
            tokio::spawn(async move { redeem(&idp, &http, &code, &[]).await.0 })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        match task.await.unwrap() {
            StatusCode::OK => ok += 1,
            StatusCode::BAD_REQUEST => {}
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(ok, 1);
}

#[tokio::test]
async fn an_expired_code_is_invalid_grant() {
    let clock = Arc::new(FixedClock::at(1_800_000_000));
    let idp = MockIdp::builder()
        .clock(clock.clone())
        .start()
        .await
        .unwrap();
    let http = idp.http_client();
    let code = get_code(&idp, &http, &[]).await;
    clock.advance(600);
    let (status, body) = redeem(&idp, &http, &code, &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_google_error(&body, "invalid_grant", "Bad Request");
    // One second earlier it would have worked.
    let code = get_code(&idp, &http, &[]).await;
    clock.advance(599);
    let (status, body) = redeem(&idp, &http, &code, &[]).await;
    assert_eq!(status, StatusCode::OK);
    let claims = decode(body["id_token"].as_str().unwrap()).1;
    assert_eq!(
        claims["iat"], 1_800_001_199,
        "iat comes from the injected clock"
    );
}

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

#[tokio::test]
async fn pkce_s256_success_missing_and_wrong_verifier() {
    let (idp, http) = spawn().await;
    let pkce = [
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    let code = get_code(&idp, &http, &pkce).await;
    let (status, _) = redeem(&idp, &http, &code, &[("code_verifier", VERIFIER)]).await;
    assert_eq!(status, StatusCode::OK);

    let code = get_code(&idp, &http, &pkce).await;
    let (status, body) = redeem(&idp, &http, &code, &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_google_error(&body, "invalid_grant", "Missing code verifier.");

    let code = get_code(&idp, &http, &pkce).await;
    let (status, body) = redeem(
        &idp,
        &http,
        &code,
        &[(
            "code_verifier",
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXx",
        )],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_google_error(&body, "invalid_grant", "Invalid code verifier.");
}

#[tokio::test]
async fn pkce_plain_is_the_default_method_and_a_verifier_without_challenge_is_refused() {
    let (idp, http) = spawn().await;
    let code = get_code(&idp, &http, &[("code_challenge", VERIFIER)]).await;
    let (status, _) = redeem(&idp, &http, &code, &[("code_verifier", VERIFIER)]).await;
    assert_eq!(status, StatusCode::OK);
    let code = get_code(&idp, &http, &[]).await;
    let (status, body) = redeem(&idp, &http, &code, &[("code_verifier", VERIFIER)]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_google_error(&body, "invalid_grant", "Invalid code verifier.");
}

#[tokio::test]
async fn a_loopback_redirect_on_any_port_is_accepted_and_bound_to_the_code() {
    let (idp, http) = spawn().await;
    let redirect = "http://127.0.0.1:49152/callback?x=1";
    let location = authorize(&idp, &http, &code_request(&[("redirect_uri", redirect)])).await;
    assert!(
        location.starts_with("http://127.0.0.1:49152/callback?x=1&state=st-1&code="),
        "{location}"
    );
    let code = redirect_params(&location)["code"].clone();
    let (status, body) = redeem(&idp, &http, &code, &[]).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "redeemed with https://liveperson.net instead"
    );
    assert_google_error(&body, "redirect_uri_mismatch", "Bad Request");
}
