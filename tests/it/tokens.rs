//! Refresh, userinfo, revocation, the device grant and key rotation.

use std::sync::Arc;

use oidc_harness::idp::{IdpConfig, MockIdp};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

async fn refresh(
    idp: &MockIdp,
    http: &reqwest::Client,
    client: &str,
    token: &str,
) -> (StatusCode, Value) {
    let response = http
        .post(format!("{}/token", idp.base_url()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", token),
            ("client_id", client),
            ("client_secret", "demo-secret"),
        ])
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn offline_access_gives_a_refresh_token_that_refreshes_like_google() {
    let (idp, http) = spawn().await;
    let code = get_code(&idp, &http, &[("access_type", "offline")]).await;
    let (status, body) = redeem(&idp, &http, &code, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        keys(&body),
        [
            "access_token",
            "expires_in",
            "refresh_token",
            "scope",
            "token_type",
            "id_token"
        ]
    );
    let refresh_token = body["refresh_token"].as_str().unwrap();
    assert!(refresh_token.starts_with("1//0"));

    let (status, refreshed) = refresh(&idp, &http, "demo-client", refresh_token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        keys(&refreshed),
        [
            "access_token",
            "expires_in",
            "scope",
            "token_type",
            "id_token"
        ],
        "no new refresh token without rotation"
    );
    assert_ne!(refreshed["access_token"], body["access_token"]);
    let claims = verify_with_jwks(&idp, &http, refreshed["id_token"].as_str().unwrap()).await;
    assert!(
        claims.get("nonce").is_none(),
        "a refreshed ID token has no nonce"
    );
    assert_eq!(
        claims["at_hash"],
        left_half_hash(refreshed["access_token"].as_str().unwrap())
    );
    assert_eq!(claims["sub"], "110169484474386276334");
    // The same refresh token still works (Google does not rotate).
    assert_eq!(
        refresh(&idp, &http, "demo-client", refresh_token).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn without_offline_access_there_is_no_refresh_token() {
    let (idp, http) = spawn().await;
    let code = get_code(&idp, &http, &[]).await;
    let (_, body) = redeem(&idp, &http, &code, &[]).await;
    assert!(body.get("refresh_token").is_none());
}

#[tokio::test]
async fn unknown_foreign_and_revoked_refresh_tokens_never_yield_tokens() {
    let (idp, http) = spawn().await;
    let (status, body) = refresh(&idp, &http, "demo-client", "1//0bogus").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_google_error(&body, "invalid_grant", "Token has been expired or revoked.");

    let code = get_code(&idp, &http, &[("access_type", "offline")]).await;
    let (_, body) = redeem(&idp, &http, &code, &[]).await;
    let token = body["refresh_token"].as_str().unwrap();
    let (status, body_) = refresh(&idp, &http, "demo-encrypted", token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_google_error(&body_, "invalid_grant", "Bad Request");

    let response = http
        .post(format!("{}/revoke", idp.base_url()))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (status, body) = refresh(&idp, &http, "demo-client", token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_google_error(&body, "invalid_grant", "Token has been expired or revoked.");
}

#[tokio::test]
async fn a_replayed_code_revokes_its_refresh_token_and_replays_after_it_change_nothing() {
    let (idp, http) = spawn().await;
    let code = get_code(&idp, &http, &[("access_type", "offline")]).await;
    let (status, body) = redeem(&idp, &http, &code, &[]).await;
    assert_eq!(status, StatusCode::OK);
    let token = body["refresh_token"].as_str().unwrap();
    let access = body["access_token"].as_str().unwrap();
    let (status, _) = refresh(&idp, &http, "demo-client", token).await;
    assert_eq!(status, StatusCode::OK, "live before the replay");
    // The first replay revokes the grant; the later ones find it revoked already.
    for _ in 0..3 {
        let (status, body) = redeem(&idp, &http, &code, &[]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_google_error(&body, "invalid_grant", "Bad Request");
    }
    let (status, body) = refresh(&idp, &http, "demo-client", token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_google_error(&body, "invalid_grant", "Token has been expired or revoked.");
    let userinfo = http
        .get(format!("{}/v1/userinfo", idp.base_url()))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn rotation_replaces_the_refresh_token_and_one_concurrent_refresh_wins() {
    let mut config = IdpConfig::default();
    config
        .clients
        .iter_mut()
        .for_each(|c| c.rotate_refresh_tokens = true);
    let idp = Arc::new(MockIdp::builder().config(config).start().await.unwrap());
    let http = idp.http_client();
    let code = get_code(&idp, &http, &[("access_type", "offline")]).await;
    let (_, body) = redeem(&idp, &http, &code, &[]).await;
    let token = body["refresh_token"].as_str().unwrap().to_owned();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (idp, http, token) = (Arc::clone(&idp), http.clone(), token.clone());
            tokio::spawn(async move { refresh(&idp, &http, "demo-client", &token).await })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        if status == StatusCode::OK {
            winners.push(body);
        } else {
            assert_google_error(&body, "invalid_grant", "Token has been expired or revoked.");
        }
    }
    assert_eq!(winners.len(), 1);
    let new_token = winners[0]["refresh_token"]
        .as_str()
        .expect("rotation issues a new refresh token");
    assert_ne!(new_token, token);
    assert_eq!(
        refresh(&idp, &http, "demo-client", new_token).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn userinfo_answers_the_granted_claims_and_refuses_bad_tokens() {
    let (idp, http) = spawn().await;
    let code = get_code(&idp, &http, &[("scope", "openid email")]).await;
    let (_, body) = redeem(&idp, &http, &code, &[]).await;
    let url = format!("{}/v1/userinfo", idp.base_url());
    let response = http
        .get(&url)
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let info: Value = response.json().await.unwrap();
    assert_eq!(
        info,
        json!({"sub": "110169484474386276334", "email": "alice.liddell@example.com", "email_verified": true})
    );

    for bad in [Some("ya29.bogus"), None] {
        let mut request = http.get(&url);
        if let Some(token) = bad {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers()["www-authenticate"],
            r#"Bearer error="invalid_token""#
        );
        assert_google_error(
            &response.json().await.unwrap(),
            "invalid_request",
            "Invalid Credentials",
        );
    }
}

#[tokio::test]
async fn revoke_by_query_or_form_and_twice() {
    let (idp, http) = spawn().await;
    let code = get_code(&idp, &http, &[("access_type", "offline")]).await;
    let (_, body) = redeem(&idp, &http, &code, &[]).await;
    let access = body["access_token"].as_str().unwrap();
    let url = format!("{}/revoke", idp.base_url());
    // Google's Node library posts ?token=… with an empty body.
    let response = http
        .post(format!("{url}?token={access}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap(), json!({}));
    // Revoking the access token revoked its refresh token too.
    let (status, _) = refresh(
        &idp,
        &http,
        "demo-client",
        body["refresh_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let response = http
        .post(&url)
        .form(&[("token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_google_error(
        &response.json().await.unwrap(),
        "invalid_token",
        "Token expired or revoked",
    );
    let response = http
        .post(&url)
        .form(&[("nothing", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_google_error(
        &response.json().await.unwrap(),
        "invalid_request",
        "Missing required parameter: token",
    );
}

#[tokio::test]
async fn device_grant_pending_then_approved() {
    let clock = Arc::new(oidc_harness::clock::FixedClock::at(1_800_000_000));
    let idp = MockIdp::builder()
        .clock(clock.clone())
        .start()
        .await
        .unwrap();
    let http = idp.http_client();
    let response = http
        .post(format!("{}/device/code", idp.base_url()))
        .form(&[("client_id", "demo-client"), ("scope", "openid email")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let device: Value = response.json().await.unwrap();
    assert_eq!(
        keys(&device),
        [
            "device_code",
            "user_code",
            "expires_in",
            "interval",
            "verification_url"
        ]
    );
    assert_eq!(device["expires_in"], 1800);
    assert_eq!(device["interval"], 5);
    assert_eq!(
        device["verification_url"],
        format!("{}/device", idp.base_url())
    );
    let user_code = device["user_code"].as_str().unwrap();
    assert!(user_code.len() == 9 && user_code.as_bytes()[4] == b'-');
    let poll = || {
        http.post(format!("{}/token", idp.base_url()))
            .basic_auth("demo-client", Some("demo-secret"))
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("device_code", device["device_code"].as_str().unwrap()),
            ])
            .send()
    };
    let response = poll().await.unwrap();
    assert_eq!(response.status(), StatusCode::PRECONDITION_REQUIRED);
    assert_google_error(
        &response.json().await.unwrap(),
        "authorization_pending",
        "Precondition Required",
    );
    let response = poll().await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "polling faster than the interval"
    );
    assert_google_error(&response.json().await.unwrap(), "slow_down", "Forbidden");

    let page = http
        .get(format!("{}/device?user_code={user_code}", idp.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains(user_code));
    let approve = http
        .post(format!("{}/device", idp.base_url()))
        .form(&[
            ("user_code", user_code.to_ascii_lowercase().as_str()),
            ("persona", "zoe"),
            ("action", "allow"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(approve.status(), StatusCode::OK);
    clock.advance(5);
    let response = poll().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let claims = verify_with_jwks(&idp, &http, body["id_token"].as_str().unwrap()).await;
    assert_eq!(claims["sub"], "117033125970118273645");
    assert_eq!(claims["email"], "zoe@example.org");
    clock.advance(5);
    let response = poll().await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::BAD_REQUEST,
        "a device code is used once"
    );
    assert_google_error(
        &response.json().await.unwrap(),
        "expired_token",
        "Bad Request",
    );
}

#[tokio::test]
async fn rotation_puts_a_new_key_first_and_keeps_the_old_one_published() {
    let (idp, http) = spawn().await;
    let before = idp.state().published_kids();
    let old_token = idp.mint_id_token("alice", &Default::default()).unwrap();
    let response = http
        .post(format!("{}/_harness/keys/rotate", idp.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let new_kid = body["kid"].as_str().unwrap().to_owned();
    assert!(!before.iter().any(|k| k.as_str() == new_kid));
    let jwks: Value = get_json(&http, format!("{}/oauth2/v3/certs", idp.base_url())).await;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(
        kids,
        [new_kid.as_str(), before[0].as_str(), before[1].as_str()]
    );
    let pem: Value = get_json(&http, format!("{}/oauth2/v1/certs", idp.base_url())).await;
    assert_eq!(keys(&pem), kids);
    // New tokens are signed with the new key; old tokens still verify.
    let code = get_code(&idp, &http, &[]).await;
    let (_, body) = redeem(&idp, &http, &code, &[]).await;
    let id_token = body["id_token"].as_str().unwrap();
    assert_eq!(decode(id_token).0["kid"], new_kid);
    verify_with_jwks(&idp, &http, id_token).await;
    verify_with_jwks(&idp, &http, &old_token).await;
    // A fourth key pushes the oldest out (keys.max_published = 3).
    idp.rotate_keys().unwrap();
    let kids_after = idp.state().published_kids();
    assert_eq!(kids_after.len(), 3);
    assert!(!kids_after.contains(&before[1]));
}
