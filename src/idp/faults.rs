//! Faults on demand: the ways a provider can misbehave, set per provider from `harness.toml`,
//! by a scenario in-process, or over `PUT /_harness/faults` (loopback callers only). Plain
//! data and the answers each fault gives; the provider holds the ones in force.

use std::time::Duration;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::jose::malform::Mutation;

/// Everything the provider can be told to do wrong.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Faults {
    /// Malformations applied to every ID token issued, by name (`alg-none`, `exp-past`, ...;
    /// the catalog is `jose::malform::Mutation`).
    pub mutate: Vec<Mutation>,
    /// What the token endpoint answers instead of a token response.
    pub token_response: Option<TokenFault>,
    /// How the authorization redirect is broken.
    pub redirect: Option<RedirectFault>,
    /// How the JWKS is broken.
    pub jwks: Option<JwksFault>,
    /// Serve discovery with this `issuer` instead of the real one (OpenID RP test
    /// `rp-discovery-issuer-not-matching-config`).
    pub discovery_issuer: Option<String>,
    /// Answer userinfo with this `sub` instead of the ID token's (`rp-userinfo-bad-sub-claim`).
    pub userinfo_sub: Option<String>,
    /// Safety checks the provider skips, and headers it leaves out: what `oidc-harness check`
    /// must notice in a brand's provider.
    pub lapses: Vec<Lapse>,
    /// Issue this token instead of minting one: a header and payload kept as text, signed and
    /// encrypted as the original was (`oidc-harness fixture` writes these).
    pub token: Option<crate::jose::template::TokenTemplate>,
}

/// A provider that is unsafe, or careless with what the platform relies on, in one way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Lapse {
    /// An authorization code can be redeemed again and again.
    ReusableCode,
    /// Any client secret is accepted at the token endpoint.
    AnySecret,
    /// The token endpoint does not compare `redirect_uri` with the authorization request's.
    AnyRedirectUri,
    /// PKCE is advertised but the token endpoint ignores the verifier.
    IgnorePkce,
    /// The JWKS is served without `Cache-Control`.
    JwksUncached,
    /// Token responses are served without `Cache-Control: no-store` and `Pragma: no-cache`.
    TokenCacheable,
    /// Token-endpoint errors are plain text, not OAuth error JSON.
    PlainErrors,
    /// ID tokens live for a week.
    LongLivedIdToken,
    /// Discovery has what OpenID Discovery requires, without Google's other members
    /// (`device_authorization_endpoint`, `revocation_endpoint`, `claims_supported`), as a
    /// certified non-Google provider serves it.
    DiscoveryMinimal,
    /// Discovery also answers at the well-known path with a trailing slash
    /// (`/.well-known/openid-configuration/`), the URL django-oauth-toolkit serves it at.
    DiscoverySlash,
    /// A sign-in without a page (`prompt=none`) is answered with an HTTP 500 error page, not a
    /// redirect: nothing comes back to the client, as some providers answer it.
    #[serde(rename = "prompt-none-500")]
    PromptNone500,
    /// Every refused redemption is answered 401 `invalid_client`, whatever was wrong with it
    /// (a `redirect_uri`, a PKCE verifier), as some providers answer.
    RefusalsInvalidClient,
}

/// A broken JWKS (`/oauth2/v3/certs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JwksFault {
    /// Unparseable entries (an unknown `kty`, a broken modulus) before the good keys.
    BadEntry,
    /// A second key with the active key's kid, listed first.
    DupKid,
    /// The active key published with `use: enc`.
    UseEnc,
    /// The active kid published with a 1024-bit modulus.
    WeakRsa,
    /// The active kid published with `e = 1`.
    AbsurdRsa,
    /// A JWKS of about 2 MB.
    Huge,
    /// The JWKS answers after 3 seconds.
    Slow,
    /// The active RSA key alone among an EC P-256, a secp256k1 and an Ed25519 key, none with
    /// a `kid`: the key set of the OpenID test `kid-absent-single-jwks`, where the one RSA key
    /// must be chosen for an RS256 token without `kid`.
    OneRsaNoKid,
}

/// A broken token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenFault {
    /// HTTP 500 with a plain-text body.
    Http500,
    /// HTTP 200 with an HTML page.
    Html,
    /// HTTP 200, a token response labelled `text/plain`.
    WrongContentType,
    /// HTTP 200 with `{"access_token": ` and nothing more.
    InvalidJson,
    /// HTTP 200, a token response without `id_token`.
    NoIdToken,
    /// The answer comes after 3 seconds, past a short client timeout.
    Slow,
}

/// A broken authorization redirect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RedirectFault {
    /// `state` replaced by another value.
    WrongState,
    /// `code` left out.
    NoCode,
    /// `error=server_error` instead of a response.
    Error,
    /// An extra, unsigned `id_token` next to the code (a front-channel injection).
    InjectIdToken,
}

impl TokenFault {
    /// The answer this fault gives; `None` means "answer normally" (after any delay).
    pub(crate) async fn respond(self) -> Option<Response> {
        let json_ct = [(header::CONTENT_TYPE, "application/json; charset=utf-8")];
        Some(match self {
            Self::Http500 => {
                (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
            }
            Self::Html => (
                [(header::CONTENT_TYPE, "text/html")],
                "<html><body>Sign in</body></html>",
            )
                .into_response(),
            // The genuine answer, relabelled afterwards (`relabel`).
            Self::WrongContentType => return None,
            Self::InvalidJson => (json_ct, r#"{"access_token": "#).into_response(),
            Self::NoIdToken => (
                json_ct,
                r#"{"access_token":"ya29.x","expires_in":3599,"token_type":"Bearer"}"#,
            )
                .into_response(),
            Self::Slow => {
                tokio::time::sleep(Duration::from_secs(3)).await;
                return None;
            }
        })
    }
}

impl TokenFault {
    /// What this fault changes in an answer given normally: `wrong-content-type` keeps the
    /// genuine body, ID token and all, under `text/plain`, so only a client that reads the
    /// content type refuses it.
    pub(crate) fn relabel(self, mut response: Response) -> Response {
        if self == Self::WrongContentType {
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("text/plain"),
            );
        }
        response
    }
}

impl JwksFault {
    /// The JWKS body this fault serves, from the honest one.
    pub(crate) async fn body(self, honest: &[u8], attacker: &crate::keys::SigningKey) -> Vec<u8> {
        use serde_json::{json, Value};
        let mut doc: Value = serde_json::from_slice(honest).unwrap_or_else(|_| json!({"keys": []}));
        let keys = doc["keys"]
            .as_array_mut()
            .map(std::mem::take)
            .unwrap_or_default();
        let active_kid = keys
            .first()
            .and_then(|k| k["kid"].as_str())
            .unwrap_or_default()
            .to_owned();
        let mut keys = keys;
        match self {
            Self::BadEntry => {
                keys.insert(
                    0,
                    json!({"kty": "AKP", "alg": "ML-DSA-44", "pub": "bm90IGEga2V5", "kid": "pq-1"}),
                );
                keys.insert(0, json!({"kty": "RSA", "alg": "RS256", "use": "sig", "kid": "broken", "n": "!!", "e": "AQAB"}));
            }
            Self::DupKid => {
                let mut twin =
                    serde_json::to_value(attacker.key().jwk("sig", "RS256")).unwrap_or_default();
                twin["kid"] = json!(active_kid);
                keys.insert(0, twin);
            }
            Self::UseEnc => {
                if let Some(first) = keys.first_mut() {
                    first["use"] = json!("enc");
                }
            }
            Self::WeakRsa => {
                if let Some(first) = keys.first_mut() {
                    let mut n = vec![0xffu8; 128];
                    n[127] = 0xfd;
                    first["n"] = json!(base64::Engine::encode(
                        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                        n
                    ));
                }
            }
            Self::AbsurdRsa => {
                if let Some(first) = keys.first_mut() {
                    first["e"] = json!("AQ");
                }
            }
            Self::Huge => {
                let filler = json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "filler", "e": "AQAB", "n": "A".repeat(342)});
                keys.extend(std::iter::repeat_n(filler, 5_000));
            }
            Self::Slow => tokio::time::sleep(Duration::from_secs(3)).await,
            Self::OneRsaNoKid => {
                keys.truncate(1);
                if let Some(Value::Object(rsa)) = keys.first_mut() {
                    rsa.remove("kid");
                }
                // Public keys made for this set; only their shape matters here.
                keys.extend([
                    json!({"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256",
                        "x": "hCZHtmH4A_b2-v7bpoqdHu19xbUjKRYtZRZoxB7fyN8",
                        "y": "0S4EJdUghNf2L17g2VEDuEbPR-OXMBvn3iMlVB534jU"}),
                    json!({"kty": "EC", "crv": "secp256k1", "use": "sig", "alg": "ES256K",
                        "x": "aFJVY2tJWZKhjHzELekPngeJty5Vseyv27oTcPPgaO8",
                        "y": "siOAZKM7vf8ylm1lZpTuXeukgAvibZLbapzGIg5YHmM"}),
                    json!({"kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA",
                        "x": "EVZxMGjOEtyp9Y9XiqSsxaVEJ3gQNigG8GDibEegPwg"}),
                ]);
            }
        }
        doc["keys"] = Value::Array(keys);
        serde_json::to_vec(&doc).unwrap_or_default()
    }
}
