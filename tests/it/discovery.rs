//! Discovery, JWKS and the PEM certs endpoint, against Google's recorded shapes.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use oidc_harness::idp::MockIdp;
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{get_json, keys, spawn};

/// Google's live discovery document as captured (fixtures/google/openid-configuration.json).
fn google() -> Value {
    serde_json::from_str(include_str!(
        "../../fixtures/google/openid-configuration.json"
    ))
    .unwrap()
}

#[tokio::test]
async fn discovery_has_googles_fields_in_googles_order() {
    let (idp, http) = spawn().await;
    let response = http
        .get(format!(
            "{}/.well-known/openid-configuration",
            idp.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let h = response.headers();
    assert_eq!(h["content-type"], "application/json");
    assert_eq!(h["cache-control"], "public, max-age=3600");
    assert_eq!(h["access-control-allow-origin"], "*");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h.contains_key("expires"));
    let ours: Value = response.json().await.unwrap();
    let google = google();
    assert_eq!(
        keys(&ours),
        keys(&google),
        "field names and order differ from Google's"
    );
    // Every non-URL value is Google's, byte for byte.
    for (name, value) in google.as_object().unwrap() {
        if value.is_array() {
            assert_eq!(&ours[name], value, "{name}");
        }
    }
    // URLs are rebased on the issuer, on Google's paths.
    let base = idp.base_url();
    assert_eq!(ours["issuer"], base);
    assert_eq!(
        ours["authorization_endpoint"],
        format!("{base}/o/oauth2/v2/auth")
    );
    assert_eq!(
        ours["device_authorization_endpoint"],
        format!("{base}/device/code")
    );
    assert_eq!(ours["token_endpoint"], format!("{base}/token"));
    assert_eq!(ours["userinfo_endpoint"], format!("{base}/v1/userinfo"));
    assert_eq!(ours["revocation_endpoint"], format!("{base}/revoke"));
    assert_eq!(ours["jwks_uri"], format!("{base}/oauth2/v3/certs"));
}

#[tokio::test]
async fn issuer_can_impersonate_google_while_listening_locally() {
    let idp = MockIdp::builder()
        .issuer("https://accounts.google.com")
        .start()
        .await
        .unwrap();
    let http = idp.http_client();
    let doc: Value = get_json(
        &http,
        format!("{}/.well-known/openid-configuration", idp.base_url()),
    )
    .await;
    assert_eq!(doc["issuer"], "https://accounts.google.com");
    // The issuer only: every endpoint stays where the provider listens.
    assert_eq!(doc["token_endpoint"], format!("{}/token", idp.base_url()));
    let token = idp.mint_id_token("bob", &Default::default()).unwrap();
    assert_eq!(
        crate::support::decode(&token).1["iss"],
        "https://accounts.google.com"
    );
}

#[tokio::test]
async fn rfc9207_option_adds_the_two_reference_fields_in_reference_order() {
    let mut config = oidc_harness::idp::IdpConfig::default();
    config.discovery.rfc9207 = true;
    let idp = MockIdp::builder().config(config).start().await.unwrap();
    let http = idp.http_client();
    let doc: Value = get_json(
        &http,
        format!("{}/.well-known/openid-configuration", idp.base_url()),
    )
    .await;
    let order = keys(&doc);
    let pos = |name: &str| order.iter().position(|k| *k == name).unwrap();
    assert_eq!(
        pos("response_modes_supported"),
        pos("response_types_supported") + 1
    );
    assert_eq!(
        pos("authorization_response_iss_parameter_supported"),
        pos("response_modes_supported") + 1
    );
    assert_eq!(
        doc["response_modes_supported"],
        serde_json::json!(["query", "fragment", "form_post"])
    );
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    // ... and the authorization response carries iss.
    let location = crate::support::authorize(&idp, &http, &crate::support::code_request(&[])).await;
    assert_eq!(
        crate::support::redirect_params(&location)["iss"],
        idp.base_url()
    );
}

#[tokio::test]
async fn jwks_has_googles_six_members_and_caching_headers() {
    let (idp, http) = spawn().await;
    let response = http
        .get(format!("{}/oauth2/v3/certs", idp.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "application/json; charset=UTF-8"
    );
    let cache = response.headers()["cache-control"]
        .to_str()
        .unwrap()
        .to_owned();
    let max_age: i64 = cache
        .strip_prefix("public, max-age=")
        .and_then(|rest| rest.strip_suffix(", must-revalidate, no-transform"))
        .expect("Google's Cache-Control shape")
        .parse()
        .unwrap();
    assert!((1..=21_600).contains(&max_age), "{cache}");
    assert!(response.headers().contains_key("expires"));
    let jwks: Value = response.json().await.unwrap();
    let keys_ = jwks["keys"].as_array().unwrap();
    assert_eq!(keys_.len(), 2, "Google normally publishes two keys");
    for key in keys_ {
        let mut members = keys(key);
        members.sort_unstable();
        assert_eq!(members, ["alg", "e", "kid", "kty", "n", "use"]);
        assert_eq!(key["alg"], "RS256");
        assert_eq!(key["use"], "sig");
        assert_eq!(key["kty"], "RSA");
        assert_eq!(key["e"], "AQAB");
        assert_eq!(key["n"].as_str().unwrap().len(), 342);
        let kid = key["kid"].as_str().unwrap();
        assert!(
            kid.len() == 40
                && kid
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
    }
    assert_eq!(keys_[0]["kid"], idp.state().published_kids()[0].as_str());
}

#[tokio::test]
async fn v1_certs_map_the_same_kids_to_certificates_of_the_same_keys() {
    let (idp, http) = spawn().await;
    let jwks: Value = get_json(&http, format!("{}/oauth2/v3/certs", idp.base_url())).await;
    let response = http
        .get(format!("{}/oauth2/v1/certs", idp.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["cache-control"]
        .to_str()
        .unwrap()
        .starts_with("public, max-age="));
    let certs: Value = response.json().await.unwrap();
    let jwks_kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(keys(&certs), jwks_kids);
    for key in oidc_harness::keys::fixture_signing_keys().unwrap() {
        let pem = certs[key.kid().as_str()].as_str().unwrap();
        assert!(
            pem.starts_with("-----BEGIN CERTIFICATE-----\n")
                && pem.ends_with("-----END CERTIFICATE-----\n")
        );
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = STANDARD.decode(body).unwrap();
        // The certificate carries exactly this key's SubjectPublicKeyInfo.
        let spki = STANDARD.decode(key.key().public_base64_line()).unwrap();
        assert!(
            der.windows(spki.len()).any(|w| w == spki.as_slice()),
            "certificate for {} holds another key",
            key.kid()
        );
    }
}

#[tokio::test]
async fn index_page_says_what_is_running() {
    let (idp, http) = spawn().await;
    let json: Value = get_json(&http, format!("{}/?format=json", idp.base_url())).await;
    assert_eq!(json["issuer"], idp.base_url());
    assert_eq!(
        json["personas"],
        serde_json::json!(["alice", "bob", "zoe", "dana", "mallory"])
    );
    assert_eq!(json["clients"][0]["client_id"], "demo-client");
    assert_eq!(
        json["clients"][1]["encrypt_id_token"],
        "RSA-OAEP-256/A256GCM"
    );
    assert_eq!(json["keys"].as_array().unwrap().len(), 2);
    let response = http.get(idp.base_url()).send().await.unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    let html = response.text().await.unwrap();
    assert!(
        html.contains("oidc-harness mock provider")
            && html.contains("/oauth2/v3/certs")
            && html.contains("demo-encrypted")
    );
}

#[tokio::test]
async fn unknown_paths_and_wrong_methods_are_plain_404s() {
    let (idp, http) = spawn().await;
    // GET /revoke is what Google answers with a 404 too; GET /token is a wrong method.
    for path in ["/revoke", "/nope", "/token"] {
        let status = http
            .get(format!("{}{path}", idp.base_url()))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
}
