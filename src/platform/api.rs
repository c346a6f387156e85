//! The JSON API the platform's tag and window call: start a conversation, hand over what the
//! page's method or the provider's redirect gave, ask for a fresh request when the token
//! expires, and read a conversation back.
//!
//! Errors are `{"error": …, "error_description": …}` with a 4xx status; a refused token is not
//! an error here but a conversation whose status is `rejected` with the verifier's reason.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::conversation::{Conversation, FlowKind, Mode, Outcome, PageIdentity};
use super::{Platform, WINDOW_CALLBACK_PATH};
use crate::claims::Nonce;
use crate::verifier::{
    read_implicit_redirect, read_redirect, AuthenticatedConsumer, CodeRedemption, Handover,
    RejectReason, Rejection, VerifyContext,
};

/// A 4xx answer in the OAuth error shape the rest of the harness speaks.
pub(super) fn error(status: StatusCode, code: &str, description: &str) -> Response {
    (
        status,
        Json(serde_json::json!({ "error": code, "error_description": description })),
    )
        .into_response()
}

fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such conversation (it may have ended)",
    )
}

/// A request the API turns down, answered as [`error`].
struct BadRequest {
    status: StatusCode,
    description: String,
}

impl IntoResponse for BadRequest {
    fn into_response(self) -> Response {
        error(self.status, "invalid_request", &self.description)
    }
}

/// Parses an `application/json` body; anything else is a JSON error. Requiring the JSON type
/// also keeps other sites' forms from posting here without a CORS preflight.
fn json_body<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<T, BadRequest> {
    let body = body.map_err(|e| BadRequest {
        status: e.status(),
        description: e.body_text(),
    })?;
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(BadRequest {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            description: "send the body as application/json".into(),
        });
    }
    serde_json::from_slice(&body).map_err(|e| BadRequest {
        status: StatusCode::BAD_REQUEST,
        description: format!("the body is not the JSON expected: {e}"),
    })
}

/// `POST /platform/api/conversations`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StartRequest {
    /// The brand whose connector to use; absent, the default brand's.
    #[serde(default)]
    brand: Option<String>,
    mode: Mode,
    flow: FlowKind,
    #[serde(default)]
    encrypted: bool,
    /// PKCE for the Code Flow; on unless turned off.
    #[serde(default = "on")]
    pkce: bool,
    /// What the page pushed with `lpTag.sdes.push` (unauthenticated).
    #[serde(default)]
    page_sdes: Value,
    /// What the page's identity function called back (unauthenticated): `{iss, acr, sub}`, or
    /// null when the page has none or nobody is signed in.
    #[serde(default)]
    identity: Value,
}

fn on() -> bool {
    true
}

/// The longest identity member accepted, in characters: what OpenID Connect allows `sub`.
const MAX_IDENTITY_CHARS: usize = 255;

/// Reads the page's identity: null, or an object with exactly `iss`, `acr` and `sub`, each a
/// non-empty string of at most [`MAX_IDENTITY_CHARS`] (all three are required,
/// `liveperson-auth.md` §1.5). The error says what is wrong, for a 400.
fn page_identity(value: &Value) -> Result<Option<PageIdentity>, String> {
    let object = match value {
        Value::Null => return Ok(None),
        Value::Object(object) => object,
        _ => return Err("identity must be an object {iss, acr, sub} or null".into()),
    };
    const MEMBERS: [&str; 3] = ["iss", "acr", "sub"];
    let member = |name: &str| -> Result<String, String> {
        match object.get(name) {
            None => Err(format!(
                "identity.{name} is missing: iss, acr and sub are all required"
            )),
            Some(Value::String(s)) if s.is_empty() => {
                Err(format!("identity.{name} must not be empty"))
            }
            Some(Value::String(s)) if s.chars().count() > MAX_IDENTITY_CHARS => Err(format!(
                "identity.{name} is longer than {MAX_IDENTITY_CHARS} characters"
            )),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(format!("identity.{name} must be a string")),
        }
    };
    let identity = PageIdentity {
        iss: member("iss")?,
        acr: member("acr")?,
        sub: member("sub")?,
    };
    if let Some(other) = object.keys().find(|k| !MEMBERS.contains(&k.as_str())) {
        return Err(format!(
            "identity has a member {other:?} the platform does not define: only iss, acr and sub"
        ));
    }
    Ok(Some(identity))
}

/// What the window needs to ask for a code or token.
#[derive(Debug, Serialize)]
pub(super) struct WindowRequest {
    conversation: String,
    /// For the page's method, second argument (§1.6).
    #[serde(skip_serializing_if = "Option::is_none")]
    code_challenge: Option<String>,
    /// Where the popup goes (§1.4).
    #[serde(skip_serializing_if = "Option::is_none")]
    authorize_url: Option<String>,
}

fn window_request(platform: &Platform, conversation: &Conversation) -> WindowRequest {
    let pending = &conversation.pending;
    let authorize_url = (conversation.mode == Mode::Popup)
        .then(|| platform.connector(conversation.brand.as_deref(), conversation.encrypted))
        .flatten()
        .zip(platform.connection(conversation.brand.as_deref()))
        .map(|(connector, connection)| {
            let config = &platform.config;
            let redirect_uri = format!("{}{WINDOW_CALLBACK_PATH}", config.origin);
            let response_type = match conversation.flow {
                FlowKind::Code => "code",
                FlowKind::Implicit => "id_token",
            };
            let mut query = form_urlencoded::Serializer::new(String::new());
            query
                .append_pair("client_id", connector.client_id.as_str())
                .append_pair("redirect_uri", &redirect_uri)
                .append_pair("response_type", response_type)
                .append_pair("scope", &config.window_scope);
            if let Some(state) = &pending.state {
                query.append_pair("state", state);
            }
            if let Some(nonce) = &pending.nonce {
                query.append_pair("nonce", nonce);
            }
            if let Some(challenge) = &pending.code_challenge {
                query
                    .append_pair("code_challenge", challenge)
                    .append_pair("code_challenge_method", "S256");
            }
            format!("{}?{}", connection.authorization_endpoint, query.finish())
        });
    WindowRequest {
        conversation: conversation.id.clone(),
        code_challenge: match conversation.mode {
            Mode::Embedded => pending.code_challenge.clone(),
            Mode::Popup => None,
        },
        authorize_url,
    }
}

/// `POST /platform/api/conversations`: the window opens.
pub(super) async fn start(
    State(platform): State<Arc<Platform>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let request: StartRequest = match json_body(&headers, body) {
        Ok(request) => request,
        Err(bad) => return bad.into_response(),
    };
    if !matches!(request.page_sdes, Value::Array(_) | Value::Null) {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "page_sdes must be an array of SDEs",
        );
    }
    let identity = match page_identity(&request.identity) {
        Ok(identity) => identity,
        Err(description) => {
            return error(StatusCode::BAD_REQUEST, "invalid_request", &description);
        }
    };
    if platform.connection(request.brand.as_deref()).is_none() {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &format!(
                "no brand {:?}",
                request.brand.as_deref().unwrap_or_default()
            ),
        );
    }
    if platform
        .connector(request.brand.as_deref(), request.encrypted)
        .is_none()
    {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "no connector with encrypted ID tokens is configured",
        );
    }
    let mut conversation = Conversation::new(
        request.brand.clone(),
        request.mode,
        request.flow,
        request.encrypted,
        request.pkce,
        request.page_sdes,
        identity,
    );
    conversation.renew();
    let flow = format!(
        "{}{}{}",
        request.flow.name(),
        if conversation.pkce { " with PKCE" } else { "" },
        if request.encrypted {
            ", encrypted ID token"
        } else {
            ""
        },
    );
    let window = match request.mode {
        Mode::Embedded => "embedded window opened; asking the page for a token",
        Mode::Popup => "popup window opened at the provider's authorization endpoint",
    };
    let now = platform.now();
    conversation.log(now, format!("{window} ({flow})"));
    if let Some(identity) = &conversation.identity {
        let text = format!(
            "the page's identity (not verified): iss {:?}, acr {:?}, sub {:?}",
            identity.iss, identity.acr, identity.sub
        );
        conversation.log(now, text);
    }
    for note in conversation.identity_notes() {
        conversation.log(now, note);
    }
    let answer = window_request(&platform, &conversation);
    platform.remember(conversation);
    (StatusCode::CREATED, Json(answer)).into_response()
}

/// `GET /platform/api/conversations/{id}`.
pub(super) async fn show(
    State(platform): State<Arc<Platform>>,
    Path(id): Path<String>,
) -> Response {
    let now = platform.now();
    match platform.conversations.get(&id, now) {
        Some(conversation) => Json(conversation.view(now)).into_response(),
        None => not_found(),
    }
}

/// `POST /platform/api/conversations/{id}/renew`: the token expired (or the window starts
/// over); a fresh PKCE pair, `state` and `nonce`.
pub(super) async fn renew(
    State(platform): State<Arc<Platform>>,
    Path(id): Path<String>,
) -> Response {
    let now = platform.now();
    let answer = platform.conversations.update(&id, now, |conversation| {
        let text = match conversation.status(now) {
            "expired" => "the token expired; the window asks for a fresh one",
            _ => "the window asks for a new token",
        };
        conversation.renew();
        conversation.log(now, text);
        window_request(&platform, conversation)
    });
    match answer {
        Some(answer) => Json(answer).into_response(),
        None => not_found(),
    }
}

/// `POST /platform/api/conversations/{id}/token`: what the page's method called back with
/// (§1.5): a string, or `{ssoKey, redirect_uri}`, or an error.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PageHandover {
    #[serde(default)]
    token: Value,
    #[serde(default)]
    error: Value,
    /// Set by the tag when it could not call the page's method at all: the JS Method Name or
    /// JS Context did not resolve, named no function, or the call threw (§1.5, §8.5).
    #[serde(default)]
    method_error: Option<String>,
}

/// The longest `method_error` the tag may send, in characters.
const MAX_METHOD_ERROR_CHARS: usize = 1024;

pub(super) async fn handover(
    State(platform): State<Arc<Platform>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let request: PageHandover = match json_body(&headers, body) {
        Ok(request) => request,
        Err(bad) => return bad.into_response(),
    };
    if request
        .method_error
        .as_ref()
        .is_some_and(|e| e.chars().count() > MAX_METHOD_ERROR_CHARS)
    {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &format!("method_error is longer than {MAX_METHOD_ERROR_CHARS} characters"),
        );
    }
    let Some(conversation) = platform.conversations.get(&id, platform.now()) else {
        return not_found();
    };
    if conversation.mode != Mode::Embedded {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "this conversation runs in a popup: the provider redirects to its window",
        );
    }
    let verdict = from_page(&platform, &conversation, &request).await;
    settle(&platform, &id, verdict, "the page")
}

/// Text for whatever the page passed as its error.
fn page_error_text(error: &Value) -> String {
    match error {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

async fn from_page(
    platform: &Platform,
    conversation: &Conversation,
    request: &PageHandover,
) -> Result<AuthenticatedConsumer, Rejection> {
    if let Some(method_error) = &request.method_error {
        return Err(Rejection::new(
            RejectReason::HandoverMissing,
            format!("the window could not call the page's method: {method_error}"),
        ));
    }
    if !request.error.is_null() {
        return Err(Rejection::new(
            RejectReason::HandoverMissing,
            format!(
                "the page reported an error: {}",
                page_error_text(&request.error)
            ),
        ));
    }
    let (token, redirect_uri) = match &request.token {
        Value::String(token) => (token.as_str(), None),
        Value::Object(object) => (
            object.get("ssoKey").and_then(Value::as_str).unwrap_or(""),
            object.get("redirect_uri").and_then(Value::as_str),
        ),
        _ => ("", None),
    };
    if token.is_empty() {
        return Err(Rejection::new(
            RejectReason::HandoverMissing,
            "the page called back without a code or token",
        ));
    }
    let handover = match conversation.flow {
        FlowKind::Code => Handover::Code(token.to_owned()),
        FlowKind::Implicit => Handover::IdToken {
            id_token: token.to_owned(),
            access_token: None,
        },
    };
    authenticate(
        platform,
        conversation,
        handover,
        redirect_uri.map(str::to_owned),
    )
    .await
}

/// Redeems or verifies what arrived, with the conversation's pending PKCE verifier and nonce.
async fn authenticate(
    platform: &Platform,
    conversation: &Conversation,
    handover: Handover,
    redirect_uri: Option<String>,
) -> Result<AuthenticatedConsumer, Rejection> {
    let Some(verifier) = platform.verifier(
        conversation.brand.as_deref(),
        conversation.flow,
        conversation.encrypted,
    ) else {
        return Err(Rejection::new(
            RejectReason::KeyUnavailable,
            "no connector for encrypted ID tokens",
        ));
    };
    let ctx = VerifyContext {
        now: platform.now(),
        nonce: conversation.pending.nonce.as_deref().map(Nonce::new),
        ..VerifyContext::default()
    };
    match (conversation.flow, handover) {
        (FlowKind::Code, Handover::Code(code)) => {
            let redemption = CodeRedemption {
                code,
                redirect_uri,
                code_verifier: conversation.pending.code_verifier.clone(),
            };
            verifier.authenticate_code(&redemption, &ctx).await
        }
        (
            FlowKind::Implicit,
            Handover::IdToken {
                id_token,
                access_token,
            },
        ) => {
            let ctx = VerifyContext {
                access_token,
                ..ctx
            };
            verifier.verify(&id_token, &ctx).await
        }
        (FlowKind::Code, Handover::IdToken { .. }) => Err(Rejection::new(
            RejectReason::HandoverMissing,
            "the Code Flow needs a code, and the redirect carries none",
        )),
        (FlowKind::Implicit, Handover::Code(_)) => Err(Rejection::new(
            RejectReason::HandoverMissing,
            "the Implicit Flow needs an id_token, and the redirect carries none",
        )),
    }
}

/// Records the verdict: the latest one counts, and the pending request is spent either way
/// (a code, `state` or PKCE verifier is used once).
fn settle(
    platform: &Platform,
    id: &str,
    verdict: Result<AuthenticatedConsumer, Rejection>,
    from: &str,
) -> Response {
    let now = platform.now();
    let view = platform.conversations.update(id, now, |conversation| {
        conversation.pending = Default::default();
        match verdict {
            Ok(consumer) => {
                conversation.authentications += 1;
                let text = if conversation.authentications == 1 {
                    format!(
                        "authenticated from {from}: sub {} vouched for by {}",
                        consumer.sub(),
                        consumer.iss()
                    )
                } else {
                    format!(
                        "re-authenticated from {from} with a fresh token (#{})",
                        conversation.authentications
                    )
                };
                conversation.log(now, text);
                for risk in consumer.risks() {
                    conversation.log(now, format!("the strict reading refuses it: {risk}"));
                }
                for mismatch in conversation.identity_mismatches(&consumer) {
                    conversation.log(now, mismatch);
                }
                conversation.outcome = Outcome::Authenticated(Box::new(consumer));
            }
            Err(rejection) => {
                conversation.log(now, format!("rejected from {from}: {rejection}"));
                conversation.outcome = Outcome::Rejected(rejection);
            }
        }
        conversation.view(now)
    });
    match view {
        Some(view) if view.status == "rejected" => failed_validation(id),
        Some(view) => Json(view).into_response(),
        None => not_found(),
    }
}

/// What the platform answers the consumer's browser when the code or token does not validate
/// (`liveperson-auth.md` §4.3, §6.3): no reason, whatever it was; the consumer is sent to the
/// offline survey. The reason is the agent workspace's harness diagnostic. The conversation id
/// rides in a header so the demo window can link to that diagnostic.
fn failed_validation(conversation: &str) -> Response {
    let mut response = (
        StatusCode::UNAUTHORIZED,
        Json(serde_json::json!({"error": {
            "message": "Failed to validate user with customer authentication service",
            "internalCode": 10,
        }})),
    )
        .into_response();
    if let Ok(id) = axum::http::HeaderValue::from_str(conversation) {
        response.headers_mut().insert(CONVERSATION_HEADER, id);
    }
    response
}

/// The header that names the conversation of a failed validation, for the demo window.
pub(super) const CONVERSATION_HEADER: &str = "x-harness-conversation";

/// `POST /platform/api/window/callback`: the popup's page read the provider's redirect (its
/// query, or its fragment for tokens) and sends it as it came.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WindowCallback {
    response: String,
}

pub(super) async fn window_callback(
    State(platform): State<Arc<Platform>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let request: WindowCallback = match json_body(&headers, body) {
        Ok(request) => request,
        Err(bad) => return bad.into_response(),
    };
    let params: std::collections::HashMap<String, String> =
        form_urlencoded::parse(request.response.as_bytes())
            .into_owned()
            .collect();
    // The state names the conversation: `<conversation id>.<random>`.
    let Some(id) = params
        .get("state")
        .and_then(|state| state.split_once('.'))
        .map(|(id, _)| id.to_owned())
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the redirect carries no state naming a conversation",
        );
    };
    let Some(conversation) = platform.conversations.get(&id, platform.now()) else {
        return not_found();
    };
    if conversation.mode != Mode::Popup {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "this conversation runs embedded in the page",
        );
    }
    let verdict = match conversation.pending.state.as_deref() {
        None => Err(Rejection::new(
            RejectReason::StateMismatch,
            "no request is waiting for this state: it was already used",
        )),
        Some(expected) => match match conversation.flow {
            FlowKind::Code => read_redirect(&params, Some(expected)),
            FlowKind::Implicit => read_implicit_redirect(&params, Some(expected)),
        } {
            Ok(handover) => {
                let redirect_uri = format!("{}{WINDOW_CALLBACK_PATH}", platform.config.origin);
                authenticate(&platform, &conversation, handover, Some(redirect_uri)).await
            }
            Err(rejection) => Err(rejection),
        },
    };
    settle(&platform, &id, verdict, "the provider's redirect")
}
