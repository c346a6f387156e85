//! `GET /.well-known/openid-configuration` and the key endpoints, in Google's shapes and with
//! Google's caching headers (`google-oidc.md` §1, §2).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use super::faults::Lapse;
use super::state::IdpState;
use crate::clock::http_date;

pub use super::metadata::{paths, RESPONSE_TYPES};

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
    if state.lapses(Lapse::DiscoverySlash) {
        discovery(state).await
    } else {
        axum::http::StatusCode::NOT_FOUND.into_response()
    }
}

/// `GET /.well-known/openid-configuration`.
pub(crate) async fn discovery(State(state): State<Arc<IdpState>>) -> Response {
    let minimal = state.lapses(Lapse::DiscoveryMinimal);
    let body = match state.faults().discovery_issuer.clone() {
        None if !minimal => state.discovery_json(),
        issuer => {
            let mut doc: serde_json::Value =
                serde_json::from_slice(&state.discovery_json()).unwrap_or_default();
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
    let window = i64::try_from(state.config().keys.jwks_max_age_secs)
        .unwrap_or(21_600)
        .max(1);
    let now = state.now();
    let max_age = window - now.rem_euclid(window);
    let headers = response.headers_mut();
    if !state.lapses(Lapse::JwksUncached) {
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
    let body = state.jwks_json();
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
    let body = state.pem_json();
    certs_response(&state, body)
}
