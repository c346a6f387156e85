//! The admin API (loopback callers only, JSON in and out): personas, clients, claims queued
//! for the next login, faults and signing keys, changed while the server runs, and
//! `GET /_harness/state`. A change takes
//! effect on the next request. Bad input is a `400 {"error", "error_description"}` naming the
//! member at fault, and changes nothing.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::config::ClientConfig;
use super::error::OAuthError;
use super::faults::Faults;
use super::queue::{Queue, QueueFor, QueueFull, Queued};
use super::registry::Client;
use super::state::IdpState;
use crate::claims::Persona;

/// An admin answer that is not a success.
struct Refusal(StatusCode, &'static str, String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let Refusal(status, error, description) = self;
        (
            status,
            Json(json!({"error": error, "error_description": description})),
        )
            .into_response()
    }
}

fn bad(description: impl Into<String>) -> Refusal {
    Refusal(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        description.into(),
    )
}

fn not_found(what: &str, id: &str) -> Refusal {
    Refusal(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no {what} {id:?}"),
    )
}

/// The one guard of every admin route: callers beyond loopback are refused, before anything
/// of the request is read.
async fn loopback_only(
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    if peer.ip().is_loopback() {
        next.run(request).await
    } else {
        Refusal(
            StatusCode::FORBIDDEN,
            "access_denied",
            "The admin API answers loopback callers only.".into(),
        )
        .into_response()
    }
}

/// Reads a JSON body into `T`; an error names the member at fault (`lp_sdes[0].info.ctype`).
fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Refusal> {
    let mut reader = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut reader).map_err(|err| {
        let path = err.path().to_string();
        // The member's path says where; serde_json's "at line 1 column 42" would count in a
        // text the caller did not send when the body was read twice.
        let inner = err.into_inner().to_string();
        let inner = match inner.rfind(" at line ") {
            Some(at) if inner[at..].contains(" column ") => inner[..at].to_owned(),
            _ => inner,
        };
        if path == "." {
            bad(format!("body: {inner}"))
        } else {
            bad(format!("{path}: {inner}"))
        }
    })
}

/// Reads a body naming a resource (`what`) whose `member` is the path's `id`: the member may be
/// left out, and must not differ.
fn parse_named<T: serde::de::DeserializeOwned>(
    body: &[u8],
    what: &str,
    member: &str,
    id: &str,
) -> Result<T, Refusal> {
    let mut value: Value = parse(body)?;
    let Some(object) = value.as_object_mut() else {
        return Err(bad(format!("body: {what} is a JSON object")));
    };
    match object.get(member) {
        None => {
            object.insert(member.into(), id.into());
        }
        Some(Value::String(given)) if given == id => {}
        Some(other) => {
            return Err(bad(format!(
                "{member}: {other} differs from the path's {id:?}"
            )))
        }
    }
    parse(&serde_json::to_vec(&value).unwrap_or_default())
}

type AdminResult = Result<Response, Refusal>;

/// A `PUT`'s answer: `201` for something new, `200` for a replacement, with what is stored.
fn stored(created: bool, body: impl Serialize) -> Response {
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(body)).into_response()
}

fn answer(result: AdminResult) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

// --- personas ---------------------------------------------------------------------------------

/// `GET /_harness/personas`: every persona that can sign in, in order.
async fn list_personas(State(state): State<Arc<IdpState>>) -> Response {
    Json(json!({"personas": state.personas().list})).into_response()
}

/// `PUT /_harness/personas/{id}`: creates (201) or replaces (200) a persona. Tokens issued
/// before a replacement keep the claims they were issued with.
async fn put_persona(
    State(state): State<Arc<IdpState>>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    answer(put_persona_inner(&state, &id, &body))
}

fn put_persona_inner(state: &IdpState, id: &str, body: &[u8]) -> AdminResult {
    let persona: Persona = parse_named(body, "a persona", "id", id)?;
    persona
        .validate()
        .map_err(|e| bad(e.to_string().replacen(&format!("persona {id:?}: "), "", 1)))?;
    let created = state.change_registry(|registry| registry.put_persona(&persona).map_err(bad))?;
    Ok(stored(created, persona))
}

/// `DELETE /_harness/personas/{id}`: it can no longer sign in (204); its tokens stay valid.
async fn delete_persona(State(state): State<Arc<IdpState>>, Path(id): Path<String>) -> Response {
    answer(state.change_registry(|registry| {
        if registry.remove_persona(&id) {
            Ok(StatusCode::NO_CONTENT.into_response())
        } else {
            Err(not_found("persona", &id))
        }
    }))
}

// --- clients ----------------------------------------------------------------------------------

/// A client as the admin API shows it (the mock's secrets are public).
fn client_view(client: &Client) -> Value {
    serde_json::to_value(&client.config).unwrap_or_default()
}

/// `GET /_harness/clients`.
async fn list_clients(State(state): State<Arc<IdpState>>) -> Response {
    let registry = state.registry();
    let clients: Vec<Value> = registry
        .clients()
        .into_iter()
        .map(|c| client_view(c))
        .collect();
    Json(json!({ "clients": clients })).into_response()
}

/// `PUT /_harness/clients/{id}`: creates (201) or replaces (200) a client, with the members
/// of `[[client]]` in `harness.toml` (`client_secret` required).
async fn put_client(
    State(state): State<Arc<IdpState>>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    answer(put_client_inner(&state, &id, &body))
}

fn put_client_inner(state: &IdpState, id: &str, body: &[u8]) -> AdminResult {
    let config: ClientConfig = parse_named(body, "a client", "client_id", id)?;
    if config.client_id.is_empty() {
        return Err(bad("client_id: empty"));
    }
    for (i, uri) in config.redirect_uris.iter().enumerate() {
        match url::Url::parse(uri) {
            Ok(parsed) if parsed.fragment().is_none() => {}
            _ => {
                return Err(bad(format!(
                    "redirect_uris[{i}]: {uri:?} is not an absolute URL without a fragment"
                )))
            }
        }
    }
    let client = Client::new(config).map_err(|e| bad(format!("encrypt_id_token: {e}")))?;
    let view = client_view(&client);
    let created =
        state.change_registry(|registry| Ok::<_, Refusal>(registry.put_client(id, client)))?;
    Ok(stored(created, view))
}

/// `DELETE /_harness/clients/{id}` (204).
async fn delete_client(State(state): State<Arc<IdpState>>, Path(id): Path<String>) -> Response {
    answer(state.change_registry(|registry| {
        if registry.remove_client(&id) {
            Ok(StatusCode::NO_CONTENT.into_response())
        } else {
            Err(not_found("client", &id))
        }
    }))
}

// --- claims for the next login ----------------------------------------------------------------

/// `POST /_harness/queue`'s body: exactly one of `client` and `persona`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QueueRequest {
    #[serde(default)]
    client: Option<String>,
    #[serde(default)]
    persona: Option<String>,
    claims: Map<String, Value>,
}

/// `POST /_harness/queue` with `{"client": id, "claims": {...}}` or `{"persona": id, ...}`:
/// 201 and how many are waiting.
async fn post_queue(State(state): State<Arc<IdpState>>, body: axum::body::Bytes) -> Response {
    answer((|| {
        let request: QueueRequest = parse(&body)?;
        let target = match (request.client, request.persona) {
            (Some(client), None) => QueueFor::Client(client),
            (None, Some(persona)) => QueueFor::Persona(persona),
            _ => return Err(bad("body: name exactly one of client and persona")),
        };
        let queued = Queued {
            target,
            claims: request.claims,
        };
        let registry = state.registry();
        match &queued.target {
            QueueFor::Client(id) if registry.client(id).is_none() => {
                return Err(bad(format!("client: no client {id:?}")))
            }
            QueueFor::Persona(id) if registry.personas().list.iter().all(|p| &p.id != id) => {
                return Err(bad(format!("persona: no persona {id:?}")))
            }
            _ => {}
        }
        // Any member may be set, iss and aud included: a queued claim may break the next
        // token on purpose, as faults do.
        let waiting = state.queue().push(queued).map_err(|QueueFull| {
            bad(format!(
                "{} claim sets are already waiting",
                Queue::CAPACITY
            ))
        })?;
        Ok((StatusCode::CREATED, Json(json!({ "waiting": waiting }))).into_response())
    })())
}

/// `GET /_harness/queue`: what is waiting, in order.
async fn get_queue(State(state): State<Arc<IdpState>>) -> Response {
    Json(json!({ "queued": state.queue().list() })).into_response()
}

/// `DELETE /_harness/queue` (204).
async fn clear_queue(State(state): State<Arc<IdpState>>) -> Response {
    state.queue().clear();
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /_harness/state`: everything that can change at runtime, as it is now.
async fn get_state(State(state): State<Arc<IdpState>>) -> Response {
    let registry = state.registry();
    Json(json!({
        "issuer": state.issuer().as_str(),
        "public_url": state.public_base(),
        "clients": registry.clients().into_iter().map(|c| client_view(c)).collect::<Vec<_>>(),
        "personas": registry.personas().list,
        "queued": state.queue().list(),
        "faults": *state.faults(),
        "keys": state.published_kids(),
        "stores": state.store_sizes(),
    }))
    .into_response()
}

// --- faults -----------------------------------------------------------------------------------

/// `GET /_harness/faults`.
async fn get_faults(State(state): State<Arc<IdpState>>) -> Response {
    Json(&*state.faults()).into_response()
}

/// `PUT /_harness/faults` with a JSON [`Faults`]; unknown members or mutation names are a 400.
async fn put_faults(State(state): State<Arc<IdpState>>, body: axum::body::Bytes) -> Response {
    match serde_json::from_slice::<Faults>(&body) {
        Ok(faults) => {
            state.set_faults(faults.clone());
            Json(faults).into_response()
        }
        Err(err) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_request", "error_description": err.to_string()})),
        )
            .into_response(),
    }
}

/// `DELETE /_harness/faults`: back to honest behaviour.
async fn clear_faults(State(state): State<Arc<IdpState>>) -> Response {
    state.set_faults(Faults::default());
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /_harness/attacker/jwks.json`: the attacker's JWKS, its key published under the
/// provider's active kid, at a URL a verifier can reach. Tokens of catalog K01 name it in
/// `jku`: a verifier that followed `jku` would find a key that verifies them.
async fn attacker_jwks(State(state): State<Arc<IdpState>>) -> Response {
    let Ok(attacker) = crate::keys::fixture_attacker_key() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut jwk = serde_json::to_value(attacker.key().jwk("sig", "RS256")).unwrap_or_default();
    if let Some(kid) = state.published_kids().first() {
        jwk["kid"] = Value::from(kid.as_str());
    }
    Json(json!({ "keys": [jwk] })).into_response()
}

// --- keys -------------------------------------------------------------------------------------

/// `POST /_harness/keys/rotate`: a new signing key goes first in the JWKS and signs from now on;
/// the previous keys stay published.
async fn rotate(State(state): State<Arc<IdpState>>) -> Response {
    match tokio::task::spawn_blocking(move || {
        state.rotate().map(|kid| (kid, state.published_kids()))
    })
    .await
    {
        Ok(Ok((kid, published))) => {
            Json(json!({ "kid": kid, "published": published })).into_response()
        }
        _ => OAuthError::ServerError.into_response(),
    }
}

// --- routes -----------------------------------------------------------------------------------

/// The admin routes (`/_harness/*`), every one behind [`loopback_only`]. A wrong method on one
/// of them is left to the caller's fallback.
pub(crate) fn router() -> Router<Arc<IdpState>> {
    Router::new()
        .route("/_harness/keys/rotate", post(rotate))
        .route("/_harness/state", get(get_state))
        .route("/_harness/personas", get(list_personas))
        .route(
            "/_harness/personas/{id}",
            put(put_persona).delete(delete_persona),
        )
        .route("/_harness/clients", get(list_clients))
        .route(
            "/_harness/clients/{id}",
            put(put_client).delete(delete_client),
        )
        .route(
            "/_harness/queue",
            get(get_queue).post(post_queue).delete(clear_queue),
        )
        .route("/_harness/attacker/jwks.json", get(attacker_jwks))
        .route(
            "/_harness/faults",
            get(get_faults).put(put_faults).delete(clear_faults),
        )
        .route_layer(middleware::from_fn(loopback_only))
}
