//! The device authorization grant (RFC 8628), which Google's discovery lists:
//! `POST /device/code` starts it, a person approves at `GET|POST /device`, and the client polls
//! the token endpoint with `grant_type=urn:ietf:params:oauth:grant-type:device_code`.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use rand::Rng as _;
use serde::{Deserialize, Serialize};

use super::error::{json_response, OAuthError};
use super::grants::{DeviceGrant, DeviceStatus};
use super::scope::Scopes;
use super::state::IdpState;
use super::token::{authenticate, read_params};
use crate::pages::{self, DevicePage};
use crate::store::random_token;

#[derive(Serialize)]
struct DeviceCodeResponse {
    device_code: String,
    user_code: String,
    expires_in: i64,
    interval: i64,
    verification_url: String,
}

/// A user code like Google's: `XXXX-XXXX` from consonants, easy to read out.
fn user_code() -> String {
    const LETTERS: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
    let mut rng = rand::rngs::OsRng;
    let mut code: String = (0..8)
        .map(|_| LETTERS[rng.gen_range(0..LETTERS.len())] as char)
        .collect();
    code.insert(4, '-');
    code
}

/// `POST /device/code`: `client_id`, `scope` (and the client's credentials, which Google does
/// not require here but which a confidential client may send).
pub(crate) async fn device_code(
    State(state): State<Arc<IdpState>>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let params = match read_params(&state, &headers, body).await {
        Ok(params) => params,
        Err(err) => return err.into_response(),
    };
    let client = if params.get("client_secret").is_some()
        || headers.contains_key(axum::http::header::AUTHORIZATION)
    {
        match authenticate(&state, &headers, &params) {
            Ok(client) => client,
            Err(err) => return err.into_response(),
        }
    } else {
        let Some(id) = params.get("client_id") else {
            return OAuthError::InvalidRequest("Could not determine client ID from request.")
                .into_response();
        };
        match state.client(id) {
            Some(client) => client,
            None => {
                return OAuthError::InvalidClient {
                    description: "The OAuth client was not found.",
                    basic: false,
                }
                .into_response()
            }
        }
    };
    let Ok(scopes) = Scopes::parse(params.get("scope")) else {
        return OAuthError::InvalidScope("Some requested scopes were invalid.").into_response();
    };
    let lifetime = state.config().tokens.device_code_lifetime_secs;
    let device_code = format!("AH-1{}", random_token(32));
    let user_code = user_code();
    state.hold_device(
        &device_code,
        DeviceGrant {
            client_id: client.id.clone(),
            scopes,
            user_code: user_code.clone(),
            status: DeviceStatus::Pending,
            last_poll: None,
        },
    );
    json_response(
        StatusCode::OK,
        &DeviceCodeResponse {
            device_code,
            user_code,
            expires_in: lifetime,
            interval: state.config().tokens.device_poll_interval_secs,
            verification_url: state.url(super::metadata::paths::DEVICE),
        },
    )
}

#[derive(Debug, Deserialize)]
pub(crate) struct DeviceQuery {
    user_code: Option<String>,
}

/// `GET /device`: the page where a person enters the user code and picks a persona.
pub(crate) async fn device_page(
    State(state): State<Arc<IdpState>>,
    Query(query): Query<DeviceQuery>,
) -> Response {
    page(
        &state,
        query.user_code.as_deref().unwrap_or(""),
        None,
        StatusCode::OK,
    )
}

fn page(state: &IdpState, user_code: &str, message: Option<&str>, status: StatusCode) -> Response {
    let registry = state.registry();
    let personas = registry.personas().ids();
    pages::html(
        status,
        &DevicePage {
            user_code,
            personas,
            message,
            action: &state.local_path(super::metadata::paths::DEVICE),
        },
    )
}

#[derive(Debug, Deserialize)]
pub(crate) struct DeviceForm {
    user_code: String,
    persona: Option<String>,
    action: String,
}

/// `POST /device`: approve (`action=allow`, `persona=<id>`) or deny a user code. Headless
/// clients can post this form directly.
pub(crate) async fn device_decide(
    State(state): State<Arc<IdpState>>,
    Form(form): Form<DeviceForm>,
) -> Response {
    let code = form.user_code.trim().to_ascii_uppercase();
    let Some(device_code) = state.device_code_for(&code) else {
        return page(
            &state,
            &form.user_code,
            Some("That code is unknown or has expired."),
            StatusCode::BAD_REQUEST,
        );
    };
    let status = if form.action == "deny" {
        DeviceStatus::Denied
    } else {
        match form.persona.as_deref().and_then(|p| state.find_persona(p)) {
            Some(persona) => DeviceStatus::Approved(persona),
            None => {
                return page(
                    &state,
                    &code,
                    Some("Pick a persona to continue."),
                    StatusCode::BAD_REQUEST,
                )
            }
        }
    };
    let approved = matches!(status, DeviceStatus::Approved(_));
    let updated = state.update_device(&device_code, |d| {
        if matches!(d.status, DeviceStatus::Pending) && d.user_code == code {
            d.status = status;
            true
        } else {
            false
        }
    });
    state.forget_user_code(&code);
    match updated {
        Some(true) => page(
            &state,
            "",
            Some(if approved {
                "Done: the device is signed in."
            } else {
                "Done: access was denied."
            }),
            StatusCode::OK,
        ),
        _ => page(
            &state,
            &code,
            Some("That code was already used."),
            StatusCode::BAD_REQUEST,
        ),
    }
}
