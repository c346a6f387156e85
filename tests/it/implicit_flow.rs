//! Implicit and hybrid responses from the authorization endpoint, and the response modes.

use reqwest::StatusCode;

use crate::support::*;

#[tokio::test]
async fn implicit_id_token_arrives_in_the_fragment() {
    let (idp, http) = spawn().await;
    let location = authorize(&idp, &http, &code_request(&[("response_type", "id_token")])).await;
    assert!(
        location.starts_with("https://liveperson.net#state=st-1&id_token="),
        "{location}"
    );
    let params = redirect_params(&location);
    assert!(!params.contains_key("code") && !params.contains_key("access_token"));
    let claims = verify_with_jwks(&idp, &http, &params["id_token"]).await;
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    assert!(claims.get("at_hash").is_none() && claims.get("c_hash").is_none());
    assert_eq!(claims["sub"], "110169484474386276334");
}

#[tokio::test]
async fn token_id_token_carries_at_hash_and_the_access_token_works() {
    let (idp, http) = spawn().await;
    let location = authorize(
        &idp,
        &http,
        &code_request(&[("response_type", "id_token token")]),
    )
    .await;
    let params = redirect_params(&location);
    assert_eq!(params["token_type"], "Bearer");
    assert_eq!(params["expires_in"], "3599");
    let claims = verify_with_jwks(&idp, &http, &params["id_token"]).await;
    assert_eq!(claims["at_hash"], left_half_hash(&params["access_token"]));
    let response = http
        .get(format!("{}/v1/userinfo", idp.base_url()))
        .bearer_auth(&params["access_token"])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn hybrid_code_id_token_carries_c_hash_and_the_code_redeems() {
    let (idp, http) = spawn().await;
    let location = authorize(
        &idp,
        &http,
        &code_request(&[("response_type", "code id_token")]),
    )
    .await;
    let params = redirect_params(&location);
    let claims = verify_with_jwks(&idp, &http, &params["id_token"]).await;
    assert_eq!(claims["c_hash"], left_half_hash(&params["code"]));
    assert!(claims.get("at_hash").is_none());
    let (status, body) = redeem(&idp, &http, &params["code"], &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        decode(body["id_token"].as_str().unwrap()).1["nonce"],
        "n-0S6_WzA2Mj"
    );
}

#[tokio::test]
async fn response_type_none_returns_only_state() {
    let (idp, http) = spawn().await;
    let location = authorize(&idp, &http, &code_request(&[("response_type", "none")])).await;
    let params = redirect_params(&location);
    assert_eq!(params["state"], "st-1");
    assert!(!params.contains_key("code") && !params.contains_key("id_token"));
}

#[tokio::test]
async fn code_in_the_fragment_and_form_post_mode() {
    let (idp, http) = spawn().await;
    let location = authorize(&idp, &http, &code_request(&[("response_mode", "fragment")])).await;
    assert!(
        location.starts_with("https://liveperson.net#state=st-1&code=4%2F0A"),
        "{location}"
    );

    let response = http
        .get(auth_url(
            &idp,
            &code_request(&[
                ("response_type", "id_token"),
                ("response_mode", "form_post"),
            ]),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(
        html.contains(r#"<form method="post" action="https://liveperson.net" id="response">"#),
        "{html}"
    );
    assert!(html.contains(r#"<input type="hidden" name="state" value="st-1">"#));
    let id_token = html
        .split(r#"name="id_token" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("id_token field");
    verify_with_jwks(&idp, &http, id_token).await;
}
