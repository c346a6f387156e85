//! `GET|POST /tokeninfo` (and `/oauth2/v3/tokeninfo`): Google's debugging endpoint
//! (`google-oidc.md` §6.3). With `id_token`, the payload of a token this provider signed and
//! that has not expired, every value as a string, then the header's `alg`, `kid` and `typ`. With
//! `access_token`, what the token grants.
//!
//! Confirmed by the sources: values as strings, and `alg`, `kid`, `typ` added. Not confirmed
//! (Google's widely seen answers, followed here): the access-token members (`azp`, `aud`, `sub`,
//! `scope`, `exp`, `expires_in`, `email`, `email_verified`, `access_type`), nested values
//! written as JSON text, and the error body `400 {"error": "invalid_token",
//! "error_description": "Invalid Value"}` for a bad, foreign or expired token.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::error::json_response;
use super::state::IdpState;
use super::token::{query_param, read_params};
use crate::jose::compact::{json_object, UnverifiedJws};
use crate::jose::Rs256Verifier;

fn invalid() -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        &serde_json::json!({"error": "invalid_token", "error_description": "Invalid Value"}),
    )
}

/// A claim as tokeninfo writes it: strings as they are, anything else as its JSON text.
fn as_string(value: &Value) -> Value {
    match value {
        Value::String(_) => value.clone(),
        other => Value::String(other.to_string()),
    }
}

pub(crate) async fn tokeninfo(
    State(state): State<Arc<IdpState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let params = match read_params(&state, &headers, body).await {
        Ok(params) => params,
        Err(err) => return err.into_response(),
    };
    let param = |name: &str| {
        params
            .get(name)
            .map(str::to_owned)
            .or_else(|| query_param(query.as_deref(), name))
    };
    if let Some(token) = param("id_token") {
        return id_token_info(&state, &token).map_or_else(invalid, |info| {
            json_response(StatusCode::OK, &Value::Object(info))
        });
    }
    if let Some(token) = param("access_token") {
        return access_token_info(&state, &token).map_or_else(invalid, |info| {
            json_response(StatusCode::OK, &Value::Object(info))
        });
    }
    json_response(
        StatusCode::BAD_REQUEST,
        &serde_json::json!({"error": "invalid_request", "error_description": "Missing id_token or access_token"}),
    )
}

/// The payload of an ID token this provider signed with a published key, not expired.
fn id_token_info(state: &IdpState, token: &str) -> Option<Map<String, Value>> {
    let jws = UnverifiedJws::parse(token).ok()?;
    let header = json_object(jws.unverified_header(), "header").ok()?;
    if header.get("alg")?.as_str()? != "RS256" {
        return None;
    }
    let kid = header.get("kid")?.as_str()?;
    let key = state.published_key(kid)?;
    let verified = Rs256Verifier::new(key.key())
        .ok()?
        .verify(jws.signing_input(), jws.signature());
    if !verified {
        return None;
    }
    let payload = json_object(jws.unverified_payload(), "payload").ok()?;
    if payload.get("exp")?.as_i64()? <= state.now() {
        return None;
    }
    let mut info: Map<String, Value> = payload
        .iter()
        .map(|(k, v)| (k.clone(), as_string(v)))
        .collect();
    for member in ["alg", "kid", "typ"] {
        if let Some(value) = header.get(member) {
            info.insert(member.to_owned(), as_string(value));
        }
    }
    Some(info)
}

/// What a live access token this provider issued grants.
fn access_token_info(state: &IdpState, token: &str) -> Option<Map<String, Value>> {
    let (grant, expires_at) = state.access_grant_expiring(token)?;
    let mut info = Map::new();
    let client = grant.client_id.to_string();
    info.insert("azp".into(), client.clone().into());
    info.insert("aud".into(), client.into());
    info.insert("sub".into(), grant.persona.sub.to_string().into());
    info.insert("scope".into(), grant.scopes.token_form().into());
    info.insert("exp".into(), expires_at.to_string().into());
    info.insert(
        "expires_in".into(),
        (expires_at - state.now()).to_string().into(),
    );
    if grant.scopes.claim_scopes().email {
        if let Some(email) = &grant.persona.email {
            info.insert("email".into(), email.clone().into());
            let verified = grant.persona.email_verified.unwrap_or(true);
            info.insert("email_verified".into(), verified.to_string().into());
        }
    }
    info.insert("access_type".into(), "online".into());
    Some(info)
}
