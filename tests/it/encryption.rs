//! Signed-then-encrypted ID tokens for clients configured with the platform's public key.

use oidc_harness::claims::ClientSecret;
use oidc_harness::idp::{ClientConfig, EncryptConfig, ErrorStyle, MockIdp};
use oidc_harness::jose::{decrypt, ContentEnc, KeyAlg};
use oidc_harness::keys::fixture_platform_key;
use reqwest::StatusCode;

use crate::support::*;

/// Opens a JWE with the fixture platform key; returns its header and the inner JWS.
fn open(jwe: &str) -> (serde_json::Value, String) {
    assert_eq!(jwe.split('.').count(), 5, "a compact JWE has five parts");
    let (header, plain) = decrypt(jwe, &fixture_platform_key().unwrap())
        .expect("decrypts with the fixture platform key");
    (header, String::from_utf8(plain).unwrap())
}

#[tokio::test]
async fn code_flow_for_an_encrypting_client_returns_a_jwe_around_the_signed_token() {
    let (idp, http) = spawn().await;
    let code = get_code(&idp, &http, &[("client_id", "demo-encrypted")]).await;
    let response = http
        .post(format!("{}/token", idp.base_url()))
        .basic_auth("demo-encrypted", Some("demo-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    let (header, jws) = open(body["id_token"].as_str().unwrap());
    assert_eq!(keys(&header), ["alg", "enc", "cty", "kid"]);
    assert_eq!(header["alg"], "RSA-OAEP-256");
    assert_eq!(header["enc"], "A256GCM");
    assert_eq!(header["cty"], "JWT");
    assert_eq!(
        header["kid"],
        fixture_platform_key().unwrap().kid().as_str()
    );
    let claims = verify_with_jwks(&idp, &http, &jws).await;
    assert_eq!(claims["aud"], "demo-encrypted");
    assert_eq!(claims["lp_sdes"][0]["info"]["ctype"], "vip");
}

#[tokio::test]
async fn implicit_flow_envelopes_too() {
    let (idp, http) = spawn().await;
    let location = authorize(
        &idp,
        &http,
        &code_request(&[
            ("client_id", "demo-encrypted"),
            ("response_type", "id_token"),
        ]),
    )
    .await;
    let (_, jws) = open(&redirect_params(&location)["id_token"]);
    assert_eq!(
        verify_with_jwks(&idp, &http, &jws).await["nonce"],
        "n-0S6_WzA2Mj"
    );
}

#[tokio::test]
async fn every_alg_and_enc_is_selectable() {
    let mut builder = MockIdp::builder();
    let mut expected = Vec::new();
    for alg in [KeyAlg::RsaOaep256, KeyAlg::RsaOaep] {
        for enc in ContentEnc::ALL {
            let id = format!("enc-{}-{}", alg.name(), enc.name());
            builder = builder.client(ClientConfig {
                client_id: id.clone(),
                client_secret: ClientSecret::new("s"),
                redirect_uris: vec![REDIRECT.into()],
                allow_loopback_redirects: false,
                error_style: ErrorStyle::Google,
                encrypt_id_token: Some(EncryptConfig {
                    public_key: None,
                    alg,
                    enc,
                }),
                rotate_refresh_tokens: false,
                require_pkce: false,
                implicit_param: None,
                token_endpoint_auth_method: None,
            });
            expected.push((id, alg, enc));
        }
    }
    let idp = builder.start().await.unwrap();
    let http = idp.http_client();
    for (id, alg, enc) in expected {
        let location = authorize(
            &idp,
            &http,
            &code_request(&[("client_id", id.as_str()), ("response_type", "id_token")]),
        )
        .await;
        let (header, jws) = open(&redirect_params(&location)["id_token"]);
        assert_eq!(header["alg"], alg.name());
        assert_eq!(header["enc"], enc.name());
        assert_eq!(verify_with_jwks(&idp, &http, &jws).await["aud"], id);
    }
}

#[tokio::test]
async fn a_kept_envelope_is_sealed_to_the_clients_own_platform_key() {
    // The client's platform key is one whose private half the test holds: a brand key.
    let own = oidc_harness::keys::fixture_signing_keys()
        .unwrap()
        .remove(1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("platform.pub.pem");
    std::fs::write(&path, own.key().public_pem()).unwrap();
    let idp = MockIdp::builder()
        .client(ClientConfig {
            client_id: "own-platform".into(),
            client_secret: ClientSecret::new("s"),
            redirect_uris: vec![REDIRECT.into()],
            allow_loopback_redirects: false,
            error_style: ErrorStyle::Google,
            encrypt_id_token: Some(EncryptConfig {
                public_key: Some(path),
                alg: KeyAlg::RsaOaep256,
                enc: ContentEnc::A256Gcm,
            }),
            rotate_refresh_tokens: false,
            require_pkce: false,
            implicit_param: None,
            token_endpoint_auth_method: None,
        })
        .start()
        .await
        .unwrap();
    let http = idp.http_client();
    let envelope = r#"{"enc":"A128CBC-HS256","alg":"RSA-OAEP","cty":"JWT"}"#;
    let response = http
        .put(format!("{}/_harness/faults", idp.base_url()))
        .json(&serde_json::json!({"token": {
            "header": r#"{"alg":"RS256","kid":"${kid}"}"#,
            "payload": r#"{"iss":"${iss}","aud":"${client_id}","sub":"kept"}"#,
            "envelope": envelope,
        }}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let location = authorize(
        &idp,
        &http,
        &code_request(&[("client_id", "own-platform"), ("response_type", "id_token")]),
    )
    .await;
    let jwe = redirect_params(&location)["id_token"].clone();
    assert!(
        decrypt(&jwe, &fixture_platform_key().unwrap()).is_err(),
        "not sealed to the fixture platform key"
    );
    let (header, jws) = decrypt(&jwe, own.key()).expect("sealed to the client's platform key");
    assert_eq!(header["alg"], "RSA-OAEP");
    assert_eq!(header["enc"], "A128CBC-HS256");
    let jws = String::from_utf8(jws).unwrap();
    assert_eq!(verify_with_jwks(&idp, &http, &jws).await["sub"], "kept");
}
