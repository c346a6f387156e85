//! The admin API, JSON in and out: personas, clients, claims queued for the next login, faults
//! and signing keys, changed while the server runs, and `GET /_harness/state`. It answers
//! loopback callers only, or, with an `admin_token`, callers from anywhere that present it. A
//! change takes effect on the next request. Bad input is a `400 {"error",
//! "error_description"}` naming the member at fault, and changes nothing.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
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
use crate::claims::{ClientSecret, Persona};

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

/// The one guard of every admin route, before anything of the request is read. Without an
/// admin token, callers beyond loopback are refused (403). With one, every caller must present
/// it (401 otherwise), from any address: loopback too, since a container's port forwarding can
/// make the host's calls come from loopback.
async fn guard(
    State(state): State<Arc<IdpState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let authorization = request.headers().get(header::AUTHORIZATION);
    match admit(
        peer.ip(),
        state.config().admin_token.as_ref(),
        authorization,
    ) {
        Ok(()) => next.run(request).await,
        Err(denied) => denied.into_response(),
    }
}

/// Why the guard turned a caller away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Denied {
    /// No admin token is set, and the caller is beyond loopback: 403.
    NotLoopback,
    /// A token is set and the caller sent no bearer token: 401.
    NoToken,
    /// A token is set and the caller sent another: 401.
    WrongToken,
}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        let (challenge, description) = match self {
            Self::NotLoopback => {
                return Refusal(
                    StatusCode::FORBIDDEN,
                    "access_denied",
                    "The admin API answers loopback callers only.".into(),
                )
                .into_response()
            }
            Self::NoToken => (
                "Bearer",
                "The admin API needs Authorization: Bearer <the token serve was given>.",
            ),
            // RFC 6750 §3.1.
            Self::WrongToken => (
                r#"Bearer error="invalid_token""#,
                "The admin API's bearer token is not this one.",
            ),
        };
        let mut response =
            Refusal(StatusCode::UNAUTHORIZED, "unauthorized", description.into()).into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(challenge),
        );
        response
    }
}

/// The guard's decision for a caller at `peer` sending `authorization`.
fn admit(
    peer: IpAddr,
    token: Option<&ClientSecret>,
    authorization: Option<&HeaderValue>,
) -> Result<(), Denied> {
    let Some(token) = token else {
        // `to_canonical`: IPv4 loopback as a dual-stack listener sees it (::ffff:127.0.0.1).
        return match peer.to_canonical().is_loopback() {
            true => Ok(()),
            false => Err(Denied::NotLoopback),
        };
    };
    // RFC 7235 §2.1: the scheme is case-insensitive.
    let presented = authorization
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, credentials)| credentials.trim_start_matches(' '));
    match presented {
        Some(presented) if token.matches(presented) => Ok(()),
        Some(_) => Err(Denied::WrongToken),
        None => Err(Denied::NoToken),
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

/// The admin routes (`/_harness/*`) of `state`'s provider, every one behind [`guard`]. A wrong
/// method on one of them is left to the caller's fallback.
pub(crate) fn router(state: &Arc<IdpState>) -> Router<Arc<IdpState>> {
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
        .route_layer(middleware::from_fn_with_state(Arc::clone(state), guard))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEYOND: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 7));
    const LOOPBACK: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    fn decide(
        peer: IpAddr,
        token: Option<&str>,
        authorization: Option<&str>,
    ) -> Result<(), Denied> {
        let token = token.map(ClientSecret::new);
        let authorization = authorization.map(|a| HeaderValue::from_str(a).unwrap());
        admit(peer, token.as_ref(), authorization.as_ref())
    }

    #[test]
    fn each_refusal_has_its_status_challenge_and_json() {
        // The JSON bodies are checked over a socket, in tests/it/admin.rs.
        for (denied, status, challenge) in [
            (Denied::NotLoopback, 403, None),
            (Denied::NoToken, 401, Some("Bearer")),
            (
                Denied::WrongToken,
                401,
                Some(r#"Bearer error="invalid_token""#),
            ),
        ] {
            let response = denied.into_response();
            assert_eq!(response.status().as_u16(), status, "{denied:?}");
            assert_eq!(
                response
                    .headers()
                    .get(header::WWW_AUTHENTICATE)
                    .map(|v| v.to_str().unwrap()),
                challenge,
                "{denied:?}"
            );
            assert_eq!(
                response.headers()[header::CONTENT_TYPE],
                "application/json",
                "{denied:?}"
            );
        }
    }

    #[test]
    fn without_a_token_only_loopback_callers_are_let_in() {
        assert_eq!(decide(LOOPBACK, None, None), Ok(()));
        assert_eq!(decide("::1".parse().unwrap(), None, None), Ok(()));
        assert_eq!(
            decide("::ffff:127.0.0.1".parse().unwrap(), None, None),
            Ok(())
        );
        assert_eq!(decide(BEYOND, None, None), Err(Denied::NotLoopback));
        assert_eq!(
            decide(BEYOND, None, Some("Bearer anything")),
            Err(Denied::NotLoopback)
        );
        assert_eq!(
            decide("::ffff:192.0.2.7".parse().unwrap(), None, None),
            Err(Denied::NotLoopback)
        );
    }

    #[test]
    fn with_a_token_any_address_is_let_in_with_it_and_none_without() {
        let token = Some("t0ken");
        for peer in [BEYOND, LOOPBACK] {
            assert_eq!(decide(peer, token, Some("Bearer t0ken")), Ok(()), "{peer}");
            assert_eq!(decide(peer, token, Some("BEARER t0ken")), Ok(()), "{peer}");
            assert_eq!(decide(peer, token, None), Err(Denied::NoToken), "{peer}");
            for wrong in ["Bearer t0ke", "Bearer t0ken0", "Bearer T0KEN", "Bearer "] {
                assert_eq!(
                    decide(peer, token, Some(wrong)),
                    Err(Denied::WrongToken),
                    "{peer} {wrong}"
                );
            }
            for other in ["Basic t0ken", "t0ken", "Bearert0ken"] {
                assert_eq!(
                    decide(peer, token, Some(other)),
                    Err(Denied::NoToken),
                    "{peer} {other}"
                );
            }
        }
    }
}
