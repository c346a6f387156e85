//! `GET /.well-known/openid-configuration` and the key endpoints, in Google's shapes and with
//! Google's caching headers (`google-oidc.md` §1, §2).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::state::IdpState;
use crate::claims::Issuer;
use crate::clock::http_date;

/// Endpoint paths, Google's where Google has one on its own host (the mock serves every
/// endpoint from the issuer's host).
pub mod paths {
    /// Discovery.
    pub const DISCOVERY: &str = "/.well-known/openid-configuration";
    /// Authorization endpoint.
    pub const AUTHORIZE: &str = "/o/oauth2/v2/auth";
    /// The login page's form target.
    pub const LOGIN: &str = "/o/oauth2/v2/auth/login";
    /// Device authorization endpoint.
    pub const DEVICE_CODE: &str = "/device/code";
    /// Where a person enters a device user code.
    pub const DEVICE: &str = "/device";
    /// Token endpoint.
    pub const TOKEN: &str = "/token";
    /// The token endpoint at the path the platform's docs show.
    pub const TOKEN_V3: &str = "/oauth2/v3/token";
    /// UserInfo.
    pub const USERINFO: &str = "/v1/userinfo";
    /// Revocation.
    pub const REVOKE: &str = "/revoke";
    /// Google's debugging endpoint (`oauth2.googleapis.com/tokeninfo`); not in discovery.
    pub const TOKENINFO: &str = "/tokeninfo";
    /// The same on `www.googleapis.com`.
    pub const TOKENINFO_V3: &str = "/oauth2/v3/tokeninfo";
    /// JWKS.
    pub const JWKS: &str = "/oauth2/v3/certs";
    /// kid -> X.509 PEM.
    pub const PEM_CERTS: &str = "/oauth2/v1/certs";
}

/// The discovery document, members in the live document's order (`google-oidc.md` §1.1).
#[derive(Serialize)]
struct Discovery<'a> {
    issuer: &'a str,
    authorization_endpoint: String,
    device_authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
    revocation_endpoint: String,
    jwks_uri: String,
    response_types_supported: [&'static str; 8],
    #[serde(skip_serializing_if = "Option::is_none")]
    response_modes_supported: Option<[&'static str; 3]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    authorization_response_iss_parameter_supported: Option<bool>,
    subject_types_supported: [&'static str; 1],
    id_token_signing_alg_values_supported: [&'static str; 1],
    scopes_supported: [&'static str; 3],
    token_endpoint_auth_methods_supported: [&'static str; 2],
    claims_supported: [&'static str; 11],
    code_challenge_methods_supported: [&'static str; 2],
    grant_types_supported: [&'static str; 4],
}

/// The response types Google's discovery lists, in its order.
pub const RESPONSE_TYPES: [&str; 8] = [
    "code",
    "token",
    "id_token",
    "code token",
    "code id_token",
    "token id_token",
    "code token id_token",
    "none",
];

/// Builds the document once: `issuer` as configured, every endpoint below `public_base`.
pub(crate) fn document(issuer: &Issuer, public_base: &str, rfc9207: bool) -> Bytes {
    let url = |path: &str| format!("{public_base}{path}");
    let doc = Discovery {
        issuer: issuer.as_str(),
        authorization_endpoint: url(paths::AUTHORIZE),
        device_authorization_endpoint: url(paths::DEVICE_CODE),
        token_endpoint: url(paths::TOKEN),
        userinfo_endpoint: url(paths::USERINFO),
        revocation_endpoint: url(paths::REVOKE),
        jwks_uri: url(paths::JWKS),
        response_types_supported: RESPONSE_TYPES,
        response_modes_supported: rfc9207.then_some(["query", "fragment", "form_post"]),
        authorization_response_iss_parameter_supported: rfc9207.then_some(true),
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256"],
        scopes_supported: ["openid", "email", "profile"],
        token_endpoint_auth_methods_supported: ["client_secret_post", "client_secret_basic"],
        claims_supported: [
            "aud",
            "email",
            "email_verified",
            "exp",
            "family_name",
            "given_name",
            "iat",
            "iss",
            "name",
            "picture",
            "sub",
        ],
        code_challenge_methods_supported: ["plain", "S256"],
        grant_types_supported: [
            "authorization_code",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:device_code",
            "urn:ietf:params:oauth:grant-type:jwt-bearer",
        ],
    };
    Bytes::from(serde_json::to_vec_pretty(&doc).unwrap_or_default())
}

fn json(body: Bytes, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_XSS_PROTECTION, HeaderValue::from_static("0"));
    response
}

/// `GET /.well-known/openid-configuration/`: discovery at the trailing-slash URL, for a
/// provider with the `discovery-slash` lapse; a 404 otherwise, as before.
pub(crate) async fn discovery_slash(state: State<Arc<IdpState>>) -> Response {
    if state.lapses(super::faults::Lapse::DiscoverySlash) {
        discovery(state).await
    } else {
        axum::http::StatusCode::NOT_FOUND.into_response()
    }
}

/// `GET /.well-known/openid-configuration`.
pub(crate) async fn discovery(State(state): State<Arc<IdpState>>) -> Response {
    let minimal = state.lapses(super::faults::Lapse::DiscoveryMinimal);
    let body = match state.faults().discovery_issuer.clone() {
        None if !minimal => state.discovery_json.clone(),
        issuer => {
            let mut doc: serde_json::Value =
                serde_json::from_slice(&state.discovery_json).unwrap_or_default();
            if let Some(issuer) = issuer {
                doc["issuer"] = issuer.into();
            }
            if let (true, Some(doc)) = (minimal, doc.as_object_mut()) {
                for google_only in [
                    "device_authorization_endpoint",
                    "revocation_endpoint",
                    "claims_supported",
                ] {
                    doc.remove(google_only);
                }
            }
            Bytes::from(serde_json::to_vec_pretty(&doc).unwrap_or_default())
        }
    };
    let mut response = json(body, "application/json");
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    if let Ok(expires) = HeaderValue::from_str(&http_date(state.now() + 3600)) {
        headers.insert(header::EXPIRES, expires);
    }
    response
}

/// Google's certs caching: `max-age` counts down to a fixed wall-clock moment, so every client
/// expires its copy at the same time (`google-oidc.md` §2.3).
fn certs_response(state: &IdpState, body: Bytes) -> Response {
    let mut response = json(body, "application/json; charset=UTF-8");
    let window = i64::try_from(state.config.keys.jwks_max_age_secs)
        .unwrap_or(21_600)
        .max(1);
    let now = state.now();
    let max_age = window - now.rem_euclid(window);
    let headers = response.headers_mut();
    if !state.lapses(super::faults::Lapse::JwksUncached) {
        if let Ok(value) = HeaderValue::from_str(&format!(
            "public, max-age={max_age}, must-revalidate, no-transform"
        )) {
            headers.insert(header::CACHE_CONTROL, value);
        }
        if let Ok(expires) = HeaderValue::from_str(&http_date(now + max_age)) {
            headers.insert(header::EXPIRES, expires);
        }
    }
    headers.insert(
        header::VARY,
        HeaderValue::from_static("Origin, X-Origin, Referer"),
    );
    response
}

/// `GET /oauth2/v3/certs`: the JWKS.
pub(crate) async fn jwks(State(state): State<Arc<IdpState>>) -> Response {
    let body = state.key_ring().jwks_json.clone();
    let body = match state.faults().jwks {
        Some(fault) => match crate::keys::fixture_attacker_key() {
            Ok(attacker) => Bytes::from(fault.body(&body, &attacker).await),
            Err(_) => body,
        },
        None => body,
    };
    certs_response(&state, body)
}

/// `GET /oauth2/v1/certs`: kid -> X.509 PEM certificate, the same kids as the JWKS.
pub(crate) async fn pem_certs(State(state): State<Arc<IdpState>>) -> Response {
    let body = state.key_ring().pem_json.clone();
    certs_response(&state, body)
}
