//! OAuth errors, and the one place they become HTTP responses in Google's shape
//! (`google-oidc.md` §4.3: exactly `error` and `error_description`, 2-space indented) or, for
//! clients that ask for it, in the platform's (`liveperson-auth.md` §6.1).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::config::ErrorStyle;

/// An error the token, userinfo, revoke and device endpoints answer with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OAuthError {
    /// 400 `invalid_request`: a parameter is missing, repeated or malformed.
    InvalidRequest(&'static str),
    /// 400 `invalid_request` for a body that is not valid JSON or form data.
    UnparseableBody(&'static str),
    /// 401 `invalid_client`: unknown client or wrong secret. `basic` marks a client that
    /// authenticated with HTTP Basic, which gets a `WWW-Authenticate` challenge (RFC 6749 §5.2).
    InvalidClient {
        /// Google's description.
        description: &'static str,
        /// Whether the client used the Authorization header.
        basic: bool,
    },
    /// 400 `invalid_grant`: bad, expired, replayed or foreign code or refresh token, or PKCE.
    InvalidGrant(&'static str),
    /// 400 `redirect_uri_mismatch`.
    RedirectUriMismatch,
    /// 400 `unsupported_grant_type`, with the grant type that was sent.
    UnsupportedGrantType(String),
    /// 400 `invalid_scope`.
    InvalidScope(&'static str),
    /// 401 `invalid_request` "Invalid Credentials": a bad bearer token at userinfo.
    InvalidBearer,
    /// 400 `invalid_token`: revocation of an unknown or revoked token.
    InvalidToken,
    /// 428 `authorization_pending` (device flow).
    AuthorizationPending,
    /// 403 `slow_down` (device flow).
    SlowDown,
    /// 403 `access_denied` (device flow: the user said no).
    AccessDenied,
    /// 400 `expired_token` (device flow).
    ExpiredToken,
    /// 413 `invalid_request`: the request body is larger than the configured limit.
    BodyTooLarge,
    /// 500 `server_error`: our own failure (for example a signing key that cannot sign).
    ServerError,
}

/// An error together with the style its client asked for.
#[derive(Debug)]
pub(crate) struct Styled(pub(crate) OAuthError, pub(crate) ErrorStyle);

impl From<OAuthError> for Styled {
    fn from(err: OAuthError) -> Self {
        Styled(err, ErrorStyle::Google)
    }
}

#[derive(Serialize)]
struct GoogleBody<'a> {
    error: &'a str,
    error_description: &'a str,
}

#[derive(Serialize)]
struct PlatformBody<'a> {
    error: &'a str,
}

impl OAuthError {
    /// Status, `error` and `error_description`, as Google sends them.
    pub fn parts(&self) -> (StatusCode, &'static str, std::borrow::Cow<'static, str>) {
        use std::borrow::Cow::{Borrowed, Owned};
        match self {
            Self::InvalidRequest(d) | Self::UnparseableBody(d) => {
                (StatusCode::BAD_REQUEST, "invalid_request", Borrowed(d))
            }
            Self::InvalidClient { description, .. } => (
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                Borrowed(description),
            ),
            Self::InvalidGrant(d) => (StatusCode::BAD_REQUEST, "invalid_grant", Borrowed(d)),
            Self::RedirectUriMismatch => (
                StatusCode::BAD_REQUEST,
                "redirect_uri_mismatch",
                Borrowed("Bad Request"),
            ),
            Self::UnsupportedGrantType(g) => (
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                Owned(format!("Invalid grant_type: {g}")),
            ),
            Self::InvalidScope(d) => (StatusCode::BAD_REQUEST, "invalid_scope", Borrowed(d)),
            Self::InvalidBearer => (
                StatusCode::UNAUTHORIZED,
                "invalid_request",
                Borrowed("Invalid Credentials"),
            ),
            Self::InvalidToken => (
                StatusCode::BAD_REQUEST,
                "invalid_token",
                Borrowed("Token expired or revoked"),
            ),
            Self::AuthorizationPending => (
                StatusCode::PRECONDITION_REQUIRED,
                "authorization_pending",
                Borrowed("Precondition Required"),
            ),
            Self::SlowDown => (StatusCode::FORBIDDEN, "slow_down", Borrowed("Forbidden")),
            Self::AccessDenied => (
                StatusCode::FORBIDDEN,
                "access_denied",
                Borrowed("Forbidden"),
            ),
            Self::ExpiredToken => (
                StatusCode::BAD_REQUEST,
                "expired_token",
                Borrowed("Bad Request"),
            ),
            Self::BodyTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                Borrowed("Request body too large"),
            ),
            Self::ServerError => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                Borrowed("Internal error"),
            ),
        }
    }

    /// The platform's name for this error (`liveperson-auth.md` §6.1), all sent with 400.
    fn platform_name(&self) -> &'static str {
        match self {
            Self::UnparseableBody(_) | Self::InvalidRequest(_) | Self::BodyTooLarge => {
                "json_parse_error"
            }
            Self::InvalidClient { .. } | Self::UnsupportedGrantType(_) | Self::InvalidScope(_) => {
                "unauthorized_client"
            }
            Self::InvalidGrant(_)
            | Self::RedirectUriMismatch
            | Self::InvalidBearer
            | Self::InvalidToken
            | Self::AuthorizationPending
            | Self::SlowDown
            | Self::AccessDenied
            | Self::ExpiredToken
            | Self::ServerError => "invalid_code",
        }
    }
}

/// Google's headers on every token-endpoint answer (`google-oidc.md` §4.2).
pub(crate) fn no_store_headers(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store, max-age=0, must-revalidate"),
    );
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::EXPIRES,
        HeaderValue::from_static("Mon, 01 Jan 1990 00:00:00 GMT"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    headers.insert(header::X_XSS_PROTECTION, HeaderValue::from_static("0"));
}

/// A JSON body, 2-space indented like Google's, with the no-store headers.
pub(crate) fn json_response<T: Serialize>(status: StatusCode, body: &T) -> Response {
    let text = serde_json::to_string_pretty(body).unwrap_or_else(|_| "{}".to_owned());
    let mut response = (status, text).into_response();
    no_store_headers(&mut response);
    response
}

impl IntoResponse for Styled {
    fn into_response(self) -> Response {
        let Styled(err, style) = self;
        let (status, error, description) = err.parts();
        let mut response = match style {
            ErrorStyle::Google => json_response(
                status,
                &GoogleBody {
                    error,
                    error_description: &description,
                },
            ),
            ErrorStyle::Platform => json_response(
                StatusCode::BAD_REQUEST,
                &PlatformBody {
                    error: err.platform_name(),
                },
            ),
        };
        let challenge = match err {
            OAuthError::InvalidClient { basic: true, .. } => Some(r#"Basic realm="oidc-harness""#),
            OAuthError::InvalidBearer => Some(r#"Bearer error="invalid_token""#),
            _ => None,
        };
        if let Some(challenge) = challenge {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        Styled(self, ErrorStyle::Google).into_response()
    }
}
