//! Google's tokeninfo: the payload of a live ID token this provider signed, every value as a
//! string plus `alg`, `kid`, `typ`; what an access token grants; `invalid_token` otherwise.

use std::sync::Arc;

use oidc_harness::clock::FixedClock;
use oidc_harness::idp::MockIdp;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

async fn tokeninfo(
    http: &reqwest::Client,
    idp: &MockIdp,
    query: &[(&str, &str)],
) -> (StatusCode, Value) {
    let response = http
        .get(format!("{}/tokeninfo", idp.base_url()))
        .query(query)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn an_id_token_is_its_payload_as_strings_with_alg_kid_and_typ() {
    let clock = Arc::new(FixedClock::at(1_795_000_000));
    let idp = MockIdp::builder()
        .clock(clock.clone())
        .start()
        .await
        .unwrap();
    let http = idp.http_client();
    let code = get_code(&idp, &http, &[]).await;
    let (_, tokens) = redeem(&idp, &http, &code, &[]).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let (header, claims) = decode(id_token);
    let (status, info) = tokeninfo(&http, &idp, &[("id_token", id_token)]).await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["iss"], claims["iss"]);
    assert_eq!(info["sub"], "110169484474386276334");
    assert_eq!(info["iat"], "1795000000");
    assert_eq!(info["exp"], "1795003600");
    assert_eq!(info["email_verified"], "true");
    assert_eq!(info["alg"], "RS256");
    assert_eq!(info["kid"], header["kid"]);
    assert_eq!(info["typ"], "JWT");
    // Every claim is there, in the token's order, then the header's three.
    let keys: Vec<&str> = info
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected: Vec<&str> = claims
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    expected.extend(["alg", "kid", "typ"]);
    assert_eq!(keys, expected);
    assert!(
        info.as_object().unwrap().values().all(Value::is_string),
        "{info}"
    );
    // The same by POST.
    let response = http
        .post(format!("{}/oauth2/v3/tokeninfo", idp.base_url()))
        .form(&[("id_token", id_token)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap(), info);

    // An access token: what it grants.
    let access = tokens["access_token"].as_str().unwrap();
    let (status, info) = tokeninfo(&http, &idp, &[("access_token", access)]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        info,
        json!({
            "azp": "demo-client", "aud": "demo-client", "sub": "110169484474386276334",
            "scope": "https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile openid",
            "exp": "1795003599", "expires_in": "3599", "email": "alice.liddell@example.com",
            "email_verified": "true", "access_type": "online"
        })
    );

    // Expired: both refused.
    clock.advance(3_600);
    for query in [("id_token", id_token), ("access_token", access)] {
        let (status, body) = tokeninfo(&http, &idp, &[query]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query:?}");
        assert_eq!(
            body,
            json!({"error": "invalid_token", "error_description": "Invalid Value"})
        );
    }
}

#[tokio::test]
async fn anything_this_provider_did_not_sign_is_invalid() {
    let (idp, http) = spawn().await;
    let good = idp.mint_id_token("alice", &Default::default()).unwrap();
    let (status, _) = tokeninfo(&http, &idp, &[("id_token", &good)]).await;
    assert_eq!(status, StatusCode::OK);
    let mut forged = good.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    // Forged while the provider was told to: signed with a key it does not publish, alg none.
    let url = format!("{}/_harness/faults", idp.base_url());
    let mut forgeries = Vec::new();
    for mutation in ["sign-with-unpublished-key", "alg-none", "kid-unknown"] {
        let response = http
            .put(&url)
            .json(&json!({"mutate": [mutation]}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        forgeries.push(idp.mint_id_token("alice", &Default::default()).unwrap());
    }
    http.delete(&url).send().await.unwrap();
    for token in forgeries.iter().map(String::as_str).chain([
        forged.as_str(),
        "e30.e30.",
        "a.b.c.d.e",
        "not a token",
        "",
    ]) {
        let (status, body) = tokeninfo(&http, &idp, &[("id_token", token)]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{token}");
        assert_eq!(body["error"], "invalid_token", "{token}");
    }
    let (status, body) = tokeninfo(&http, &idp, &[("access_token", "ya29.forged")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_token");
    let (status, body) = tokeninfo(&http, &idp, &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error": "invalid_request", "error_description": "Missing id_token or access_token"})
    );
}
