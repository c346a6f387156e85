//! Pages people see, as askama templates over plain view models. This module imports neither
//! `idp` nor `verifier`: it is handed plain data and renders it, every value escaped.

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::claims::Persona;

/// Renders a page with HTML headers; a template failure is logged and answered with a plain
/// message rather than a half page.
pub fn html<T: Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(body) => {
            let mut response = (status, body).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
            response
        }
        Err(err) => {
            tracing::error!(%err, "template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "page could not be rendered",
            )
                .into_response()
        }
    }
}

/// Google's "Authorization Error" page for requests that must not be redirected.
#[derive(Template)]
#[template(path = "auth_error.html")]
pub struct AuthErrorPage<'a> {
    /// The OAuth error code (`redirect_uri_mismatch`).
    pub error: &'a str,
    /// A sentence for people.
    pub description: &'a str,
}

/// `response_mode=form_post`: a page that posts the response to the redirect URI.
#[derive(Template)]
#[template(path = "form_post.html")]
pub struct FormPostPage<'a> {
    /// The redirect URI.
    pub action: &'a str,
    /// Response parameters.
    pub fields: Vec<(&'a str, &'a str)>,
}

/// One persona on the login page, with its claims ready to edit.
#[derive(Debug, Clone)]
pub struct PersonaCard {
    /// Persona id.
    pub id: String,
    /// `sub`.
    pub sub: String,
    /// `name`.
    pub name: String,
    /// `given_name`.
    pub given_name: String,
    /// `family_name`.
    pub family_name: String,
    /// `email`.
    pub email: String,
    /// `email_verified`.
    pub email_verified: bool,
    /// `picture`.
    pub picture: String,
    /// `lp_sdes`, pretty JSON.
    pub lp_sdes: String,
    /// Open this card first (it matches `login_hint`).
    pub open: bool,
}

impl PersonaCard {
    /// The card for `persona`; open when `hint` names it.
    pub fn from_persona(persona: &Persona, hint: Option<&str>) -> Self {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        Self {
            open: hint.is_some_and(|h| {
                h == persona.id || h == persona.sub.as_str() || Some(h) == persona.email.as_deref()
            }),
            id: persona.id.clone(),
            sub: persona.sub.to_string(),
            name: text(&persona.name),
            given_name: text(&persona.given_name),
            family_name: text(&persona.family_name),
            email: text(&persona.email),
            email_verified: persona.email.is_some() && persona.email_verified.unwrap_or(true),
            picture: text(&persona.picture),
            lp_sdes: persona
                .lp_sdes
                .as_ref()
                .and_then(|v| serde_json::to_string_pretty(v).ok())
                .unwrap_or_default(),
        }
    }
}

/// The provider's login and consent page.
#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    /// The pending sign-in request id (also the form's CSRF guard).
    pub request_id: &'a str,
    /// Who is asking.
    pub client_id: &'a str,
    /// Where the answer goes.
    pub redirect_uri: &'a str,
    /// The scopes asked for.
    pub scope: String,
    /// The personas.
    pub personas: Vec<PersonaCard>,
    /// A problem with the last submit.
    pub message: Option<&'a str>,
    /// The form target.
    pub action: &'a str,
}

/// The device flow's code entry page.
#[derive(Template)]
#[template(path = "device.html")]
pub struct DevicePage<'a> {
    /// The user code, prefilled when known.
    pub user_code: &'a str,
    /// Persona ids.
    pub personas: Vec<&'a str>,
    /// A result or problem to show.
    pub message: Option<&'a str>,
    /// The form target.
    pub action: &'a str,
}

/// What a running provider is: shown at `GET /` and as `?format=json`.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    /// The issuer.
    pub issuer: String,
    /// Endpoint name and URL.
    pub endpoints: Vec<(String, String)>,
    /// Registered clients.
    pub clients: Vec<ClientOverview>,
    /// Persona ids.
    pub personas: Vec<String>,
    /// Published kids, the signing one first.
    pub keys: Vec<String>,
    /// The other brands served beside this one (`[[brand]]`), each a provider of its own.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub brands: Vec<BrandOverview>,
    /// The accounts at the platform's IDP served beside this provider, when `serve` runs the
    /// platform side.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub platform_accounts: Vec<AccountOverview>,
}

/// One account at the platform's IDP in the [`Overview`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountOverview {
    /// The account id.
    pub account: String,
    /// Its connector's type: `code` or `implicit`.
    pub flow: String,
    /// The Messaging Window API's call.
    pub authenticate: String,
    /// The mobile SDKs' call.
    pub sdk_authenticate: String,
}

/// One brand in the [`Overview`].
#[derive(Debug, Clone, Serialize)]
pub struct BrandOverview {
    /// The brand's name, its path segment.
    pub name: String,
    /// Its issuer.
    pub issuer: String,
    /// Its discovery URL.
    pub discovery: String,
}

/// One client in the [`Overview`].
#[derive(Debug, Clone, Serialize)]
pub struct ClientOverview {
    /// Client id.
    pub client_id: String,
    /// Registered redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Whether any loopback URL is accepted too.
    pub allow_loopback_redirects: bool,
    /// `RSA-OAEP-256/A256GCM` when ID tokens are encrypted.
    pub encrypt_id_token: Option<String>,
    /// `google` or `platform`.
    pub error_style: String,
}

/// `GET /`.
#[derive(Template)]
#[template(path = "index.html")]
pub struct IndexPage<'a> {
    /// What is running.
    pub overview: &'a Overview,
}

/// The brand's demo page: its own sign-in, what it pushes to the platform's tag, and the
/// JavaScript method the platform calls. Everything the page's script needs is in data
/// attributes, so no script is inline.
#[derive(Template)]
#[template(path = "brand.html")]
pub struct BrandPage<'a> {
    /// The brand's name; empty for the default brand.
    pub brand: &'a str,
    /// The provider's authorization endpoint.
    pub authorize_endpoint: &'a str,
    /// The connector with signed ID tokens.
    pub client_id: &'a str,
    /// The connector with encrypted ID tokens, if one is configured.
    pub encrypted_client_id: Option<&'a str>,
    /// What the page pushes by default, pretty JSON.
    pub page_sdes: &'a str,
}

/// The brand page's silent sign-in frame: hands the provider's answer to the page.
#[derive(Template)]
#[template(path = "brand_silent.html")]
pub struct BrandSilentPage;

/// The popup conversation window: receives the provider's redirect.
#[derive(Template)]
#[template(path = "window.html")]
pub struct WindowPage;

/// One field of the agent's consumer panel.
#[derive(Debug, Clone)]
pub struct AgentField {
    /// Where it is shown (`consumer.customerId`, `personal.firstname`).
    pub key: String,
    /// The value.
    pub value: String,
    /// The claim it came from, when verified.
    pub source: Option<String>,
    /// What the page said for this field, when the verified value replaced it.
    pub overridden_page_value: Option<String>,
}

/// What the page's identity function said: shown apart from the verified data.
#[derive(Debug, Clone)]
pub struct AgentIdentity {
    /// Its `iss`.
    pub iss: String,
    /// Its `acr`.
    pub acr: String,
    /// Its `sub`.
    pub sub: String,
}

/// The agent's view of one conversation.
#[derive(Debug, Clone)]
pub struct AgentView {
    /// Conversation id.
    pub id: String,
    /// `authenticated`, `expired`, `rejected` or `pending`.
    pub status: String,
    /// `embedded` or `popup`.
    pub mode: String,
    /// `Code Flow` or `Implicit Flow`.
    pub flow: String,
    /// Whether the connector encrypts ID tokens.
    pub encrypted: bool,
    /// Whether codes are bound to a PKCE challenge.
    pub pkce: bool,
    /// The issuer that vouched for the consumer.
    pub issuer: Option<String>,
    /// The consumer id.
    pub sub: Option<String>,
    /// The signing key's id.
    pub kid: Option<String>,
    /// Whether the last verified token came in a JWE envelope.
    pub envelope: Option<bool>,
    /// `iat`, as text.
    pub issued_at: Option<String>,
    /// `exp`, as text.
    pub expires_at: Option<String>,
    /// The reason code of a rejection.
    pub reason: Option<String>,
    /// What exactly was wrong.
    pub detail: Option<String>,
    /// How many tokens verified so far.
    pub authentications: u32,
    /// Verified fields.
    pub verified: Vec<AgentField>,
    /// Fields only the page gave: not verified.
    pub from_page: Vec<AgentField>,
    /// What dropped out of the token, for people.
    pub warnings: Vec<String>,
    /// What the page's identity function called back (not verified).
    pub identity: Option<AgentIdentity>,
    /// What the identity means, and where it differs from the token.
    pub identity_warnings: Vec<String>,
    /// `(time, text)`, oldest first.
    pub events: Vec<(String, String)>,
    /// Changes whenever the conversation does.
    pub version: u64,
}

/// `GET /platform/agent/{id}`: the agent workspace.
#[derive(Template)]
#[template(path = "agent.html")]
pub struct AgentPage<'a> {
    /// The conversation.
    pub view: &'a AgentView,
}

/// One line of the agent's conversation list.
#[derive(Debug, Clone)]
pub struct AgentListRow {
    /// Conversation id.
    pub id: String,
    /// Status word.
    pub status: String,
    /// Who, when known.
    pub sub: String,
    /// How it was started.
    pub how: String,
}

/// `GET /platform/agent`: recent conversations.
#[derive(Template)]
#[template(path = "agents.html")]
pub struct AgentListPage {
    /// Newest first.
    pub rows: Vec<AgentListRow>,
}

#[cfg(test)]
mod tests;
