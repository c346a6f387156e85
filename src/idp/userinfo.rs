//! `GET|POST /v1/userinfo` and `POST /revoke` (`google-oidc.md` §6).

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::error::{json_response, OAuthError};
use super::state::IdpState;
use super::token::{query_param, read_params};
use crate::claims::UserInfo;

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// `GET /v1/userinfo` with `Authorization: Bearer <access token>`.
pub(crate) async fn userinfo(State(state): State<Arc<IdpState>>, headers: HeaderMap) -> Response {
    let Some(grant) = bearer(&headers).and_then(|token| state.access_grant(token)) else {
        return OAuthError::InvalidBearer.into_response();
    };
    let mut info = UserInfo::for_persona(&grant.persona, grant.scopes.claim_scopes());
    if let Some(sub) = state.faults().userinfo_sub.clone() {
        info.sub = crate::claims::Subject::new(sub);
    }
    json_response(StatusCode::OK, &info)
}

/// `POST /revoke`: `token` as a query parameter or in a form body. Revoking either token of an
/// authorization revokes both (Google: revocation removes the whole grant).
pub(crate) async fn revoke(
    State(state): State<Arc<IdpState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let params = match read_params(&state, &headers, body).await {
        Ok(params) => params,
        Err(err) => return err.into_response(),
    };
    let from_query = query_param(query.as_deref(), "token").filter(|v| !v.is_empty());
    let Some(token) = params.get("token").map(str::to_owned).or(from_query) else {
        return OAuthError::InvalidRequest("Missing required parameter: token").into_response();
    };
    let grant = state
        .access_grant(&token)
        .or_else(|| state.refresh_grant(&token, false));
    match grant {
        Some(grant) => {
            state.revoke_grant(&grant.grant_id);
            json_response(StatusCode::OK, &serde_json::json!({}))
        }
        None => OAuthError::InvalidToken.into_response(),
    }
}
