//! Faults on demand: the ways a provider can misbehave, set per provider from `harness.toml`,
//! by a scenario in-process, or over `PUT /_harness/faults` (loopback callers only).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::state::IdpState;
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
            Self::WrongContentType => (
                [(header::CONTENT_TYPE, "text/plain")],
                r#"{"access_token":"ya29.x","token_type":"Bearer"}"#,
            )
                .into_response(),
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

impl IdpState {
    /// The faults in force.
    pub fn faults(&self) -> Faults {
        self.faults
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Replaces the faults in force.
    pub fn set_faults(&self, faults: Faults) {
        *self
            .faults
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = faults;
    }
}

fn loopback_only(peer: std::net::SocketAddr) -> Option<Response> {
    (!peer.ip().is_loopback()).then(|| {
        (
            StatusCode::FORBIDDEN,
            "The admin API answers loopback callers only.",
        )
            .into_response()
    })
}

/// `GET /_harness/faults`.
pub(crate) async fn get_faults(
    State(state): State<Arc<IdpState>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
) -> Response {
    loopback_only(peer).unwrap_or_else(|| Json(state.faults()).into_response())
}

/// `PUT /_harness/faults` with a JSON [`Faults`]; unknown members or mutation names are a 400.
pub(crate) async fn put_faults(
    State(state): State<Arc<IdpState>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    body: axum::body::Bytes,
) -> Response {
    if let Some(refusal) = loopback_only(peer) {
        return refusal;
    }
    match serde_json::from_slice::<Faults>(&body) {
        Ok(faults) => {
            state.set_faults(faults.clone());
            Json(faults).into_response()
        }
        Err(err) => (StatusCode::BAD_REQUEST, Json(serde_json::json!({"error": "invalid_request", "error_description": err.to_string()})))
            .into_response(),
    }
}

/// `DELETE /_harness/faults`: back to honest behaviour.
pub(crate) async fn clear_faults(
    State(state): State<Arc<IdpState>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
) -> Response {
    if let Some(refusal) = loopback_only(peer) {
        return refusal;
    }
    state.set_faults(Faults::default());
    StatusCode::NO_CONTENT.into_response()
}
