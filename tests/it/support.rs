//! Shared helpers: start a provider, drive the authorization endpoint headlessly, decode and
//! verify tokens independently of the code under test (RS256 checked with the `rsa` crate).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use oidc_harness::idp::MockIdp;
use reqwest::header::LOCATION;
use reqwest::{Response, StatusCode};
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier as _;
use rsa::{BigUint, RsaPublicKey};
use serde_json::Value;
use sha2::Sha256;

pub(crate) const REDIRECT: &str = "https://liveperson.net";

/// A provider with every default (HTTPS, fixtures) and a client that trusts it.
pub(crate) async fn spawn() -> (MockIdp, reqwest::Client) {
    let idp = MockIdp::start().await.expect("mock provider starts");
    let http = idp.http_client();
    (idp, http)
}

/// The authorization URL for `params` (client_id defaults to demo-client, etc.).
pub(crate) fn auth_url(idp: &MockIdp, params: &[(&str, &str)]) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    format!("{}/o/oauth2/v2/auth?{query}", idp.base_url())
}

/// The usual headless code-flow request for alice, plus `extra` parameters (which replace
/// defaults of the same name).
pub(crate) fn code_request<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut params = vec![
        ("client_id", "demo-client"),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "openid email profile"),
        ("state", "st-1"),
        ("nonce", "n-0S6_WzA2Mj"),
        ("login_hint", "alice"),
        ("prompt", "none"),
    ];
    for (k, v) in extra {
        params.retain(|(name, _)| name != k);
        params.push((k, v));
    }
    params
}

/// Sends an authorization request and returns the redirect `Location`.
pub(crate) async fn authorize(
    idp: &MockIdp,
    http: &reqwest::Client,
    params: &[(&str, &str)],
) -> String {
    let response = http.get(auth_url(idp, params)).send().await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::FOUND,
        "authorize did not redirect"
    );
    location(&response)
}

pub(crate) fn location(response: &Response) -> String {
    response
        .headers()
        .get(LOCATION)
        .expect("Location header")
        .to_str()
        .unwrap()
        .to_owned()
}

/// Parameters of a redirect: the query, or the fragment when there is one.
pub(crate) use oidc_harness::verifier::redirect_params;

/// GETs `url` and reads the JSON body.
pub(crate) async fn get_json(http: &reqwest::Client, url: impl reqwest::IntoUrl) -> Value {
    http.get(url).send().await.unwrap().json().await.unwrap()
}

/// Runs the headless code flow up to the code.
pub(crate) async fn get_code(
    idp: &MockIdp,
    http: &reqwest::Client,
    extra: &[(&str, &str)],
) -> String {
    let location = authorize(idp, http, &code_request(extra)).await;
    redirect_params(&location)
        .remove("code")
        .expect("code in redirect")
}

/// Redeems a code with Basic client authentication and a form body.
pub(crate) async fn redeem(
    idp: &MockIdp,
    http: &reqwest::Client,
    code: &str,
    extra: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
    ];
    form.extend_from_slice(extra);
    let response = http
        .post(format!("{}/token", idp.base_url()))
        .basic_auth("demo-client", Some("demo-secret"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

/// The decoded header and claims of a compact JWS (no verification).
pub(crate) fn decode(jwt: &str) -> (Value, Value) {
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWS has three parts: {jwt}");
    let part =
        |i: usize| serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[i]).unwrap()).unwrap();
    (part(0), part(1))
}

/// Verifies an RS256 JWS against the provider's published JWKS, with the `rsa` crate; returns
/// the claims.
pub(crate) async fn verify_with_jwks(idp: &MockIdp, http: &reqwest::Client, jwt: &str) -> Value {
    let jwks: Value = http
        .get(format!("{}/oauth2/v3/certs", idp.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (header, claims) = decode(jwt);
    assert_eq!(header["alg"], "RS256");
    let kid = header["kid"].as_str().expect("kid in header");
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .expect("kid published in the JWKS");
    let n = BigUint::from_bytes_be(&URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap());
    let e = BigUint::from_bytes_be(&URL_SAFE_NO_PAD.decode(jwk["e"].as_str().unwrap()).unwrap());
    let key = VerifyingKey::<Sha256>::new(RsaPublicKey::new(n, e).unwrap());
    let (signed, signature) = jwt.rsplit_once('.').unwrap();
    let signature =
        Signature::try_from(URL_SAFE_NO_PAD.decode(signature).unwrap().as_slice()).unwrap();
    key.verify(signed.as_bytes(), &signature)
        .expect("RS256 signature verifies with the JWKS key");
    claims
}

/// `at_hash` / `c_hash` computed independently.
pub(crate) fn left_half_hash(value: &str) -> String {
    use sha2::Digest as _;
    URL_SAFE_NO_PAD.encode(&Sha256::digest(value.as_bytes())[..16])
}

/// The member names of a JSON object, in order.
pub(crate) fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect()
}

/// Asserts Google's error body: exactly `error` and `error_description`.
pub(crate) fn assert_google_error(body: &Value, error: &str, description: &str) {
    assert_eq!(keys(body), ["error", "error_description"], "{body}");
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_description"], description, "{body}");
}

/// The platform's connector for the provider at `idp`, served at `origin`: `demo-client` for
/// signed ID tokens, `demo-encrypted` for envelopes opened with the fixture platform key, no
/// other brands and no accounts beside the default ones.
pub(crate) fn platform_config(
    idp: &MockIdp,
    origin: &str,
) -> oidc_harness::platform::PlatformConfig {
    use oidc_harness::claims::{ClientId, ClientSecret};
    use oidc_harness::platform::Connector;
    let connector = |id: &str| Connector {
        client_id: ClientId::new(id),
        client_secret: ClientSecret::new("demo-secret"),
    };
    oidc_harness::platform::PlatformConfig {
        origin: origin.to_owned(),
        issuer: idp.issuer().clone(),
        authorization_endpoint: format!("{}/o/oauth2/v2/auth", idp.base_url()),
        token_endpoint: format!("{}/token", idp.base_url()).parse().unwrap(),
        jwks_uri: format!("{}/oauth2/v3/certs", idp.base_url())
            .parse()
            .unwrap(),
        plain: connector("demo-client"),
        encrypted: Some(connector("demo-encrypted")),
        decryption_key: Some(oidc_harness::keys::fixture_platform_key().unwrap()),
        extra_root_pem: idp.ca_cert_pem().map(str::to_owned),
        insecure_allow_http: false,
        max_conversations: 100,
        window_scope: oidc_harness::platform::DEFAULT_WINDOW_SCOPE.into(),
        brands: Vec::new(),
        accounts: Vec::new(),
    }
}
