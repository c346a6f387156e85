//! Several brands in one server: each below `/brands/<name>` with its own issuer, keys, clients
//! and personas, answering the same discovery, JWKS and code-flow tests as the default.

use oidc_harness::idp::{IdpConfig, MockIdp};
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::*;

const BRANDS: &str = r#"
[[brand]]
name = "acme"

[[brand]]
name = "globex"
[[brand.client]]
client_id = "globex-connector"
client_secret = "globex-secret"
"#;

async fn three_providers() -> (MockIdp, reqwest::Client) {
    let config = IdpConfig::from_toml(BRANDS).unwrap();
    let idp = MockIdp::builder().config(config).start().await.unwrap();
    let http = idp.http_client();
    (idp, http)
}

/// The default's code flow, run against `base` with `client`.
async fn code_flow(http: &reqwest::Client, base: &str, client: (&str, &str)) -> (Value, Value) {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("client_id", client.0),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "openid email profile"),
            ("state", "s"),
            ("nonce", "n"),
            ("login_hint", "alice"),
            ("prompt", "none"),
        ])
        .finish();
    let response = http
        .get(format!("{base}/o/oauth2/v2/auth?{query}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND, "{base}");
    let code = redirect_params(&location(&response))
        .remove("code")
        .unwrap();
    let response = http
        .post(format!("{base}/token"))
        .basic_auth(client.0, Some(client.1))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{base}");
    let tokens: Value = response.json().await.unwrap();
    decode(tokens["id_token"].as_str().unwrap())
}

#[tokio::test]
async fn two_brands_and_the_default_answer_side_by_side() {
    let (idp, http) = three_providers().await;
    let root = idp.base_url().to_owned();
    let acme = idp.brand_url("acme");
    let globex = idp.brand_url("globex");
    let mut kids = Vec::new();
    for (base, client) in [
        (root.as_str(), ("demo-client", "demo-secret")),
        (acme.as_str(), ("demo-client", "demo-secret")),
        (globex.as_str(), ("globex-connector", "globex-secret")),
    ] {
        let doc = get_json(&http, format!("{base}/.well-known/openid-configuration")).await;
        assert_eq!(doc["issuer"], base);
        for (key, path) in [
            ("authorization_endpoint", "/o/oauth2/v2/auth"),
            ("token_endpoint", "/token"),
            ("jwks_uri", "/oauth2/v3/certs"),
            ("userinfo_endpoint", "/v1/userinfo"),
        ] {
            assert_eq!(doc[key], format!("{base}{path}"), "{base} {key}");
        }
        let jwks = get_json(&http, format!("{base}/oauth2/v3/certs")).await;
        let published: Vec<String> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(published.len(), 2, "{base}");
        let (header, claims) = code_flow(&http, base, client).await;
        assert_eq!(claims["iss"], base);
        assert_eq!(claims["aud"], client.0);
        assert_eq!(claims["sub"], "110169484474386276334");
        assert_eq!(header["kid"], published[0]);
        kids.push(published);
    }
    // Each brand signs with keys of its own, none shared with the default or each other.
    let all: std::collections::HashSet<&String> = kids.iter().flatten().collect();
    assert_eq!(all.len(), 6, "{kids:?}");
    // The same brand gets the same keys at every start.
    let (again, _) = three_providers().await;
    assert_eq!(
        again.brand("acme").unwrap().published_kids(),
        idp.brand("acme").unwrap().published_kids()
    );
    // A brand's clients are its own: globex does not know demo-client.
    let response = http
        .get(format!(
            "{globex}/o/oauth2/v2/auth?client_id=demo-client&redirect_uri=https://liveperson.net&response_type=code&scope=openid"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // The index lists the brands.
    let index = get_json(&http, format!("{root}/?format=json")).await;
    assert_eq!(index["brands"][0]["name"], "acme");
    assert_eq!(index["brands"][0]["issuer"], acme);
    assert_eq!(
        index["brands"][1]["discovery"],
        format!("{globex}/.well-known/openid-configuration")
    );
    // Faults are per brand: acme breaks, the default and globex do not.
    let response = http
        .put(format!("{acme}/_harness/faults"))
        .json(&serde_json::json!({"token_response": "http500"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = http
        .post(format!("{acme}/token"))
        .form(&[("grant_type", "authorization_code"), ("code", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let code = get_code(&idp, &http, &[]).await;
    let (status, _) = redeem(&idp, &http, &code, &[]).await;
    assert_eq!(status, StatusCode::OK);
    code_flow(&http, &globex, ("globex-connector", "globex-secret")).await;
}

#[test]
fn brand_names_are_path_segments_and_unique() {
    for (toml, problem) in [
        ("[[brand]]\nname = \"Acme\"\n", "\"Acme\""),
        ("[[brand]]\nname = \"a/b\"\n", "\"a/b\""),
        ("[[brand]]\nname = \"\"\n", "\"\""),
        (
            "[[brand]]\nname = \"a\"\n[[brand]]\nname = \"a\"\n",
            "\"a\"",
        ),
    ] {
        let err = IdpConfig::from_toml(toml).unwrap_err().to_string();
        assert!(
            err.contains(&format!(
                "brand name {problem} must be unique, 1 to 63 of a-z, 0-9 and -"
            )),
            "{err}"
        );
    }
    let err = IdpConfig::from_toml("[[brand]]\nname = \"a\"\nclient = []\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("brand a: ") && err.contains("at least one [[client]] is needed"),
        "{err}"
    );
}

/// The same persona at two brands has the same `sub`; the platform tells the two consumers
/// apart by issuer, and each connector takes only its own brand's token.
#[tokio::test]
async fn the_same_sub_at_two_brands_is_two_consumers() {
    use oidc_harness::claims::{ClientId, Issuer};
    use oidc_harness::idp::MintOptions;
    use oidc_harness::verifier::{
        KeySource, RejectReason, Verifier, VerifierConfig, VerifyContext,
    };

    let (idp, _) = three_providers().await;
    let connector = |base: &str| {
        let mut config = VerifierConfig::new(
            Issuer::new(base),
            KeySource::JwksUrl(format!("{base}/oauth2/v3/certs").parse().unwrap()),
        )
        .extra_root_pem(idp.ca_cert_pem().unwrap());
        config.client_id = Some(ClientId::new("demo-client"));
        Verifier::new(config).unwrap()
    };
    let root = idp.base_url().to_owned();
    let acme = idp.brand_url("acme");
    let at_root = idp.mint_id_token("alice", &MintOptions::full()).unwrap();
    // Issued by acme's own provider: its issuer, its key.
    let query = "client_id=demo-client&redirect_uri=https://liveperson.net&response_type=id_token&scope=openid%20email&nonce=n&login_hint=alice&prompt=none";
    let response = idp
        .http_client()
        .get(format!("{acme}/o/oauth2/v2/auth?{query}"))
        .send()
        .await
        .unwrap();
    let at_acme = redirect_params(&location(&response))
        .remove("id_token")
        .unwrap();
    let now = VerifyContext::at(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64,
    );
    let one = connector(&root).verify(&at_root, &now).await.unwrap();
    let two = connector(&acme).verify(&at_acme, &now).await.unwrap();
    assert_eq!(one.sub(), two.sub());
    assert_ne!(one.iss(), two.iss());
    assert_eq!(one.iss().as_str(), root);
    assert_eq!(two.iss().as_str(), acme);
    // Crossed, each is refused: the other brand's kid is unknown to the connector.
    for (verifier, token) in [(connector(&root), &at_acme), (connector(&acme), &at_root)] {
        let rejection = verifier.verify(token, &now).await.unwrap_err();
        assert_eq!(rejection.reason, RejectReason::UnknownKid);
    }
}
