//! The pages: the brand's demo page, the popup window, the agent workspace, and their scripts.
//! Every page forbids inline script (`Content-Security-Policy`), on top of askama's escaping.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::conversation::Conversation;
use super::Platform;
use crate::pages::{
    self, AgentField, AgentIdentity, AgentListPage, AgentListRow, AgentPage, AgentView,
    AuthErrorPage, BrandPage, BrandSilentPage, WindowPage,
};
use crate::verifier::Provenance;

/// Scripts only from this origin, none inline; frames and forms stay on it too.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; frame-ancestors 'self'; base-uri 'none'";

fn page<T: Template>(status: StatusCode, template: &T) -> Response {
    let mut response = pages::html(status, template);
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    response
}

/// What the brand page pushes unless the person edits it: some fields the verified token
/// will confirm, some it will contradict, some only the page knows.
const DEFAULT_PAGE_SDES: &str = r#"[
  {
    "type": "ctmrinfo",
    "info": { "customerId": "WEB-SESSION-4411", "ctype": "silver", "storeNumber": "123865" }
  },
  {
    "type": "personal",
    "personal": { "firstname": "Alicia", "language": "en-GB" }
  }
]"#;

/// `GET /demo/brand`: the default brand's page.
pub(super) async fn brand(State(platform): State<Arc<Platform>>) -> Response {
    brand_page(&platform, None)
}

/// `GET /demo/brands/{name}`: another brand's page, its sign-in at its own provider and its
/// chat through the platform's connector for that brand.
pub(super) async fn other_brand(
    State(platform): State<Arc<Platform>>,
    Path(name): Path<String>,
) -> Response {
    brand_page(&platform, Some(&name))
}

fn brand_page(platform: &Platform, brand: Option<&str>) -> Response {
    let Some(connection) = platform.connection(brand) else {
        return (StatusCode::NOT_FOUND, "Not Found").into_response();
    };
    page(
        StatusCode::OK,
        &BrandPage {
            brand: brand.unwrap_or_default(),
            authorize_endpoint: &connection.authorization_endpoint,
            client_id: connection.plain.client_id.as_str(),
            encrypted_client_id: connection.encrypted.as_ref().map(|c| c.client_id.as_str()),
            page_sdes: DEFAULT_PAGE_SDES,
        },
    )
}

/// `GET /demo/brand/silent`.
pub(super) async fn brand_silent() -> Response {
    page(StatusCode::OK, &BrandSilentPage)
}

/// `GET /platform/window/callback`.
pub(super) async fn window() -> Response {
    page(StatusCode::OK, &WindowPage)
}

/// The scripts, compiled in: readable JavaScript, no build step.
pub(super) async fn asset(Path(file): Path<String>) -> Response {
    let body = match file.as_str() {
        "tag.js" => include_str!("../../assets/tag.js"),
        "window.js" => include_str!("../../assets/window.js"),
        "agent.js" => include_str!("../../assets/agent.js"),
        "brand.js" => include_str!("../../assets/brand.js"),
        "silent.js" => include_str!("../../assets/silent.js"),
        _ => return (StatusCode::NOT_FOUND, "Not Found").into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

/// Unix seconds as `2026-11-25 10:00:03 UTC`.
fn when(unix: i64) -> String {
    const FORMAT: &[time::format_description::FormatItem<'static>] =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(FORMAT).ok())
        .unwrap_or_else(|| unix.to_string())
}

fn agent_view(conversation: &Conversation, now: i64) -> AgentView {
    let consumer = conversation.consumer();
    let rejection = conversation.rejection();
    let (verified, from_page): (Vec<_>, Vec<_>) = conversation
        .profile()
        .fields
        .into_iter()
        .partition(|f| matches!(f.provenance, Provenance::Authenticated { .. }));
    let field = |f: crate::verifier::ProfileField| AgentField {
        source: match f.provenance {
            Provenance::Authenticated { source } => Some(source),
            Provenance::FromPage => None,
        },
        key: f.key,
        value: f.value,
        overridden_page_value: f.overridden_page_value,
    };
    AgentView {
        id: conversation.id.clone(),
        status: conversation.status(now).to_owned(),
        mode: conversation.mode.name().to_owned(),
        flow: conversation.flow.name().to_owned(),
        encrypted: conversation.encrypted,
        pkce: conversation.pkce,
        issuer: consumer.map(|c| c.iss().to_string()),
        sub: consumer.map(|c| c.sub().to_string()),
        kid: consumer.and_then(|c| c.kid().map(str::to_owned)),
        envelope: consumer.map(|c| c.encrypted()),
        issued_at: consumer.map(|c| when(c.issued_at())),
        expires_at: consumer.map(|c| when(c.expires_at())),
        reason: rejection.map(|r| r.reason.code().to_owned()),
        detail: rejection.map(|r| r.detail.clone()),
        authentications: conversation.authentications,
        verified: verified.into_iter().map(field).collect(),
        from_page: from_page.into_iter().map(field).collect(),
        warnings: consumer.map(|c| c.warnings().to_vec()).unwrap_or_default(),
        identity: conversation.identity.as_ref().map(|i| AgentIdentity {
            iss: i.iss.clone(),
            acr: i.acr.clone(),
            sub: i.sub.clone(),
        }),
        identity_warnings: conversation.identity_warnings(),
        events: conversation
            .events
            .iter()
            .map(|e| (when(e.at), e.text.clone()))
            .collect(),
        version: conversation.version,
    }
}

/// `GET /platform/agent/{id}`: the agent workspace for one conversation.
pub(super) async fn agent(
    State(platform): State<Arc<Platform>>,
    Path(id): Path<String>,
) -> Response {
    let now = platform.now();
    match platform.conversations.get(&id, now) {
        Some(conversation) => page(
            StatusCode::OK,
            &AgentPage {
                view: &agent_view(&conversation, now),
            },
        ),
        None => page(
            StatusCode::NOT_FOUND,
            &AuthErrorPage {
                error: "not_found",
                description: "No such conversation: it may have ended.",
            },
        ),
    }
}

/// `GET /platform/agent`: the newest conversations.
pub(super) async fn agent_index(State(platform): State<Arc<Platform>>) -> Response {
    let now = platform.now();
    let rows = platform
        .recent_ids()
        .into_iter()
        .filter_map(|id| platform.conversations.get(&id, now))
        .map(|c| AgentListRow {
            status: c.status(now).to_owned(),
            sub: c
                .consumer()
                .map(|c| c.sub().to_string())
                .unwrap_or_default(),
            how: format!(
                "{}{}, {} window",
                c.flow.name(),
                if c.encrypted { " (JWE)" } else { "" },
                c.mode.name()
            ),
            id: c.id,
        })
        .collect();
    page(StatusCode::OK, &AgentListPage { rows })
}
