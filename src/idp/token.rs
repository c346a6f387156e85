//! `POST /token` (also at `/oauth2/v3/token`): the authorization-code, refresh-token and
//! device-code grants, client authentication by HTTP Basic or by body credentials, and bodies
//! as form-urlencoded or JSON (the platform's docs show all of these, `liveperson-auth.md` §1.2).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::Serialize;

use super::config::{ErrorStyle, TokenAuthMethod};
use super::error::{json_response, OAuthError, Styled};
use super::faults::Lapse;
use super::grants::{DeviceStatus, Grant};
use super::observed::{BodySeen, ClientAuthSeen, Observation};
use super::registry::Client;
use super::state::IdpState;
use crate::claims::Nonce;

/// The body parameters of a token, revoke or device request.
#[derive(Debug, Default)]
pub(crate) struct BodyParams {
    params: HashMap<String, String>,
    json: bool,
}

impl BodyParams {
    /// Parses a form-urlencoded or JSON body; every parameter at most once, JSON values
    /// strings only.
    pub(crate) fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Self, OAuthError> {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let mut params = HashMap::new();
        let json = content_type == "application/json";
        match content_type.as_str() {
            "application/json" => {
                let value: serde_json::Value = serde_json::from_slice(body)
                    .map_err(|_| OAuthError::UnparseableBody("Invalid JSON payload received."))?;
                let serde_json::Value::Object(map) = value else {
                    return Err(OAuthError::UnparseableBody("The JSON body must be an object."));
                };
                for (key, value) in map {
                    let serde_json::Value::String(value) = value else {
                        return Err(OAuthError::InvalidRequest("Every parameter must be a string."));
                    };
                    params.insert(key, value);
                }
            }
            "application/x-www-form-urlencoded" | "" => {
                if std::str::from_utf8(body).is_err() {
                    return Err(OAuthError::UnparseableBody("The body is not valid UTF-8."));
                }
                for (key, value) in form_urlencoded::parse(body) {
                    if params.insert(key.into_owned(), value.into_owned()).is_some() {
                        return Err(OAuthError::InvalidRequest("A parameter was repeated."));
                    }
                }
            }
            _ => return Err(OAuthError::InvalidRequest("Unsupported content type: use application/x-www-form-urlencoded or application/json.")),
        }
        Ok(Self { params, json })
    }

    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.params
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// Reads the `Authorization: Basic` credentials, each part form-urldecoded (RFC 6749 §2.3.1).
fn basic_credentials(headers: &HeaderMap) -> Option<Result<(String, String), OAuthError>> {
    let value = headers.get(header::AUTHORIZATION)?;
    let malformed = OAuthError::InvalidClient {
        description: "Unauthorized",
        basic: true,
    };
    let parsed = (|| {
        let text = value.to_str().ok()?;
        let (scheme, encoded) = text.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
        let (id, secret) = decoded.split_once(':')?;
        let unescape = |s: &str| -> String {
            form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        Some((unescape(id), unescape(secret)))
    })();
    Some(parsed.ok_or(malformed))
}

/// Finds and authenticates the client: Basic header or body credentials, never both.
pub(crate) fn authenticate(
    state: &IdpState,
    headers: &HeaderMap,
    params: &BodyParams,
) -> Result<Arc<Client>, OAuthError> {
    let basic = basic_credentials(headers).transpose()?;
    let used_basic = basic.is_some();
    let (client_id, secret) = match basic {
        Some((id, secret)) => {
            if params.get("client_secret").is_some() {
                return Err(OAuthError::InvalidRequest(
                    "The client used more than one authentication method.",
                ));
            }
            if params.get("client_id").is_some_and(|body_id| body_id != id) {
                return Err(OAuthError::InvalidRequest(
                    "client_id in the body differs from the Authorization header.",
                ));
            }
            (id, Some(secret))
        }
        None => {
            let id = params.get("client_id").ok_or(OAuthError::InvalidRequest(
                "Could not determine client ID from request.",
            ))?;
            (
                id.to_owned(),
                params.get("client_secret").map(str::to_owned),
            )
        }
    };
    let client = state.client(&client_id).ok_or(OAuthError::InvalidClient {
        description: "The OAuth client was not found.",
        basic: used_basic,
    })?;
    let method = if used_basic {
        TokenAuthMethod::ClientSecretBasic
    } else {
        TokenAuthMethod::ClientSecretPost
    };
    if client
        .config
        .token_endpoint_auth_method
        .is_some_and(|allowed| allowed != method)
    {
        return Err(OAuthError::InvalidClient {
            description: "The client is not allowed to use this authentication method.",
            basic: used_basic,
        });
    }
    let secret_ok = secret.is_some_and(|s| client.config.client_secret.matches(&s))
        || state.lapses(Lapse::AnySecret);
    if !secret_ok {
        return Err(OAuthError::InvalidClient {
            description: "Unauthorized",
            basic: used_basic,
        });
    }
    Ok(client)
}

/// Google's success body, members in Google's order (`google-oidc.md` §4.2).
#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    scope: String,
    token_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}

impl TokenResponse {
    /// Issues an access token, a refresh token when `refresh` says so, and an ID token with
    /// the matching `at_hash`: the answer every grant gives.
    fn issue(
        state: &IdpState,
        client: &Client,
        grant: &Grant,
        nonce: Option<&Nonce>,
        refresh: bool,
    ) -> Result<Self, OAuthError> {
        let access_token = state.issue_access_token(grant);
        let refresh_token = refresh.then(|| state.issue_refresh_token(grant));
        let id_token = state.id_token(client, grant, nonce, Some(&access_token), None)?;
        Ok(Self {
            access_token,
            expires_in: state.config().tokens.access_token_lifetime_secs,
            refresh_token,
            scope: grant.scopes.token_form(),
            token_type: "Bearer",
            id_token: Some(id_token),
        })
    }
}

/// A parameter of the query string, decoded (for endpoints that take one in the query or the
/// body).
pub(crate) fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Reads and parses a form or JSON body up to the configured limit.
pub(crate) async fn read_params(
    state: &IdpState,
    headers: &HeaderMap,
    body: axum::body::Body,
) -> Result<BodyParams, OAuthError> {
    let bytes = read_body(state, body).await?;
    BodyParams::parse(headers, &bytes)
}

/// Reads a request body up to the configured limit.
async fn read_body(state: &IdpState, body: axum::body::Body) -> Result<Bytes, OAuthError> {
    axum::body::to_bytes(body, state.config().limits.max_body_bytes)
        .await
        .map_err(|_| OAuthError::BodyTooLarge)
}

/// `POST /token`.
pub(crate) async fn token(
    State(state): State<Arc<IdpState>>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    // The client's error style is only known once the client is; until then, peek at the
    // claimed client id so a platform-style client gets platform names for body errors too.
    let peek_style = |params: Option<&BodyParams>| {
        let id = basic_credentials(&headers)
            .and_then(Result::ok)
            .map(|(id, _)| id)
            .or_else(|| params.and_then(|p| p.get("client_id")).map(str::to_owned));
        id.and_then(|id| state.client(&id))
            .map_or(ErrorStyle::Google, |c| c.config.error_style)
    };
    let fault = state.faults().token_response;
    if let Some(fault) = fault {
        if let Some(response) = fault.respond().await {
            return response;
        }
    }
    let params = match read_params(&state, &headers, body).await {
        Ok(params) => params,
        Err(err) => return Styled(err, peek_style(None)).into_response(),
    };
    state.observe(Observation::Token {
        grant_type: params.get("grant_type").unwrap_or("").to_owned(),
        client_auth: if headers.contains_key(header::AUTHORIZATION) {
            ClientAuthSeen::Basic
        } else if params.get("client_secret").is_some() {
            ClientAuthSeen::Body
        } else {
            ClientAuthSeen::None
        },
        body: if params.json {
            BodySeen::Json
        } else {
            BodySeen::Form
        },
        code_verifier: params.get("code_verifier").is_some(),
    });
    let client = match authenticate(&state, &headers, &params) {
        Ok(client) => client,
        Err(err) => return Styled(err, peek_style(Some(&params))).into_response(),
    };
    let result = match params.get("grant_type").unwrap_or("") {
        "authorization_code" => authorization_code(&state, &client, &params),
        "refresh_token" => refresh(&state, &client, &params),
        "urn:ietf:params:oauth:grant-type:device_code" => device_code(&state, &client, &params),
        other => Err(OAuthError::UnsupportedGrantType(other.to_owned())),
    };
    let result = result.map_err(|err| {
        if state.lapses(Lapse::RefusalsInvalidClient) {
            OAuthError::InvalidClient {
                description: "Unauthorized",
                basic: headers.contains_key(header::AUTHORIZATION),
            }
        } else {
            err
        }
    });
    let mut response = match result {
        Ok(body) => json_response(StatusCode::OK, &body),
        Err(err) if state.lapses(Lapse::PlainErrors) => {
            let (status, error, _) = err.parts();
            (status, error).into_response()
        }
        Err(err) => Styled(err, client.config.error_style).into_response(),
    };
    if state.lapses(Lapse::TokenCacheable) {
        let headers = response.headers_mut();
        for name in [header::CACHE_CONTROL, header::PRAGMA, header::EXPIRES] {
            headers.remove(name);
        }
    }
    match fault {
        Some(fault) => fault.relabel(response),
        None => response,
    }
}

fn authorization_code(
    state: &IdpState,
    client: &Client,
    params: &BodyParams,
) -> Result<TokenResponse, OAuthError> {
    let code = params.get("code").ok_or(OAuthError::InvalidRequest(
        "Missing required parameter: code",
    ))?;
    if code.contains('%') {
        return Err(OAuthError::InvalidGrant("Malformed auth code."));
    }
    // Taking the code is the single-use step: whatever happens next, it is gone.
    let redeemed = state.redeem_code(code, state.lapses(Lapse::ReusableCode));
    let Some(grant) = redeemed else {
        if let Some(grant_id) = state.replayed_code(code) {
            // RFC 6749 §4.1.2: a replayed code revokes what the first redemption issued.
            let revoked = state.revoke_grant(&grant_id);
            tracing::warn!(
                revoked,
                "authorization code replayed; its tokens are revoked"
            );
        }
        return Err(OAuthError::InvalidGrant("Bad Request"));
    };
    if grant.grant.client_id != client.id {
        return Err(OAuthError::InvalidGrant("Bad Request"));
    }
    match params.get("redirect_uri") {
        None => {
            return Err(OAuthError::InvalidRequest(
                "Missing parameter: redirect_uri",
            ))
        }
        Some(uri) if uri != grant.redirect_uri && !state.lapses(Lapse::AnyRedirectUri) => {
            return Err(OAuthError::RedirectUriMismatch)
        }
        Some(_) => {}
    }
    let pkce = grant
        .pkce
        .as_ref()
        .filter(|_| !state.lapses(Lapse::IgnorePkce));
    let verifier = params
        .get("code_verifier")
        .filter(|_| !state.lapses(Lapse::IgnorePkce));
    match (pkce, verifier) {
        (Some(_), None) => return Err(OAuthError::InvalidGrant("Missing code verifier.")),
        (Some(pkce), Some(verifier)) if !pkce.verify(verifier) => {
            return Err(OAuthError::InvalidGrant("Invalid code verifier."))
        }
        // A verifier for a code issued without a challenge is a downgrade attempt.
        (None, Some(_)) => return Err(OAuthError::InvalidGrant("Invalid code verifier.")),
        _ => {}
    }
    TokenResponse::issue(
        state,
        client,
        &grant.grant,
        grant.nonce.as_ref(),
        grant.offline,
    )
}

fn refresh(
    state: &IdpState,
    client: &Client,
    params: &BodyParams,
) -> Result<TokenResponse, OAuthError> {
    let token = params
        .get("refresh_token")
        .ok_or(OAuthError::InvalidRequest(
            "Missing required parameter: refresh_token",
        ))?;
    let expired = OAuthError::InvalidGrant("Token has been expired or revoked.");
    let rotate = client.config.rotate_refresh_tokens;
    // With rotation the old token is taken (one winner among concurrent refreshes).
    let grant: Grant = state.refresh_grant(token, rotate).ok_or(expired)?;
    if grant.client_id != client.id {
        return Err(OAuthError::InvalidGrant("Bad Request"));
    }
    // Google's refreshed ID token has no nonce and a new at_hash.
    TokenResponse::issue(state, client, &grant, None, rotate)
}

fn device_code(
    state: &IdpState,
    client: &Client,
    params: &BodyParams,
) -> Result<TokenResponse, OAuthError> {
    let device_code = params.get("device_code").ok_or(OAuthError::InvalidRequest(
        "Missing required parameter: device_code",
    ))?;
    let now = state.now();
    let interval = state.config().tokens.device_poll_interval_secs;
    let polled = state.update_device(device_code, |d| {
        let too_fast = d.last_poll.is_some_and(|last| now - last < interval);
        d.last_poll = Some(now);
        (d.client_id.clone(), d.status.clone(), too_fast)
    });
    let Some((client_id, status, too_fast)) = polled else {
        return Err(OAuthError::ExpiredToken);
    };
    if client_id != client.id {
        return Err(OAuthError::InvalidGrant("Bad Request"));
    }
    match status {
        DeviceStatus::Pending if too_fast => Err(OAuthError::SlowDown),
        DeviceStatus::Pending => Err(OAuthError::AuthorizationPending),
        DeviceStatus::Denied => {
            state.take_device(device_code);
            Err(OAuthError::AccessDenied)
        }
        DeviceStatus::Approved(persona) => {
            let Some(device) = state.take_device(device_code) else {
                return Err(OAuthError::ExpiredToken);
            };
            let grant = Grant::new(client.id.clone(), persona, device.scopes);
            TokenResponse::issue(state, client, &grant, None, true)
        }
    }
}
