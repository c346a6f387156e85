//! Faults on demand over the admin API, as an outside user of `serve` sets them.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn faults_are_set_read_and_cleared_over_the_admin_api() {
    let (idp, http) = spawn().await;
    let url = format!("{}/_harness/faults", idp.base_url());
    let response = http
        .put(&url)
        .json(&json!({"mutate": ["alg-none", "exp-past"], "jwks": "use-enc"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let current: serde_json::Value = get_json(&http, &url).await;
    assert_eq!(
        current,
        json!({"mutate": ["alg-none", "exp-past"], "token_response": null, "redirect": null, "jwks": "use-enc", "discovery_issuer": null, "userinfo_sub": null, "lapses": [], "token": null})
    );

    let location = authorize(&idp, &http, &code_request(&[("response_type", "id_token")])).await;
    let (header, claims) = decode(&redirect_params(&location)["id_token"]);
    assert_eq!(header, json!({"alg": "none"}));
    assert!(
        claims["exp"].as_i64().unwrap() < claims["iat"].as_i64().unwrap(),
        "exp-past applied too"
    );
    let jwks: serde_json::Value =
        get_json(&http, format!("{}/oauth2/v3/certs", idp.base_url())).await;
    assert_eq!(jwks["keys"][0]["use"], "enc");

    // A kept token (what `oidc-harness fixture` writes) is issued as written, its
    // placeholders filled in for this request.
    let header = r#"{ "kid":"${kid}", "alg":"RS256", "x":[1.50] }"#;
    let payload = r#"{"iss":"${iss}","aud":"${client_id}","nonce":"${nonce}","exp":1e3}"#;
    let response = http
        .put(&url)
        .json(&json!({"token": {"header": header, "payload": payload}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let location = authorize(&idp, &http, &code_request(&[("response_type", "id_token")])).await;
    let token = redirect_params(&location)["id_token"].clone();
    let segment = |i: usize| {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.split('.').nth(i).unwrap())
            .unwrap();
        String::from_utf8(bytes).unwrap()
    };
    let kid = idp.state().published_kids()[0].to_string();
    assert_eq!(segment(0), header.replace("${kid}", &kid));
    assert_eq!(
        segment(1),
        format!(
            r#"{{"iss":"{}","aud":"demo-client","nonce":"n-0S6_WzA2Mj","exp":1e3}}"#,
            idp.issuer().as_str()
        )
    );

    let response = http.delete(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let location = authorize(&idp, &http, &code_request(&[("response_type", "id_token")])).await;
    verify_with_jwks(&idp, &http, &redirect_params(&location)["id_token"]).await;
}

#[tokio::test]
async fn unknown_faults_are_a_400_and_change_nothing() {
    let (idp, http) = spawn().await;
    let url = format!("{}/_harness/faults", idp.base_url());
    for body in [
        json!({"mutate": ["alg-nothing"]}),
        json!({"colour": "red"}),
        json!({"token_response": "teapot"}),
        json!({"lapses": ["careless"]}),
    ] {
        let response = http.put(&url).json(&body).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let error: serde_json::Value = response.json().await.unwrap();
        assert_eq!(error["error"], "invalid_request");
    }
    let current: serde_json::Value = get_json(&http, &url).await;
    assert_eq!(current["mutate"], json!([]));
}

#[tokio::test]
async fn a_broken_token_endpoint_and_redirect() {
    let (idp, http) = spawn().await;
    let url = format!("{}/_harness/faults", idp.base_url());
    http.put(&url)
        .json(&json!({"token_response": "html", "redirect": "no-code"}))
        .send()
        .await
        .unwrap();
    let location = authorize(&idp, &http, &code_request(&[])).await;
    let params = redirect_params(&location);
    assert_eq!(params["state"], "st-1");
    assert!(!params.contains_key("code"));
    let response = http
        .post(format!("{}/token", idp.base_url()))
        .form(&[("grant_type", "authorization_code")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/html");
}

#[tokio::test]
async fn discovery_issuer_and_userinfo_sub_faults() {
    let (idp, http) = spawn().await;
    let url = format!("{}/_harness/faults", idp.base_url());
    http.put(&url)
        .json(&json!({"discovery_issuer": "https://other.example", "userinfo_sub": "someone-else"}))
        .send()
        .await
        .unwrap();
    let doc: serde_json::Value = get_json(
        &http,
        format!("{}/.well-known/openid-configuration", idp.base_url()),
    )
    .await;
    assert_eq!(doc["issuer"], "https://other.example");
    assert_eq!(
        doc["token_endpoint"],
        format!("{}/token", idp.base_url()),
        "only the issuer changes"
    );
    let code = get_code(&idp, &http, &[]).await;
    let (_, body) = redeem(&idp, &http, &code, &[]).await;
    let info: serde_json::Value = http
        .get(format!("{}/v1/userinfo", idp.base_url()))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["sub"], "someone-else");
    assert_eq!(
        decode(body["id_token"].as_str().unwrap()).1["sub"],
        "110169484474386276334"
    );
}
