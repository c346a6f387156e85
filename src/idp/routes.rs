//! The provider's routes: every endpoint, the admin API below `/_harness`, the brands below
//! `/brands/<name>`, the index page and the limits on requests.

use std::sync::Arc;

use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::claims::Issuer;
use crate::pages::{BrandOverview, ClientOverview, Overview};

use super::config::{ConfigError, ErrorStyle};
use super::discovery::{self, paths};
use super::error;
use super::state::IdpState;
use super::{admin, authorize, device, token, tokeninfo, userinfo};

/// Where brand `name` is reached, below a server's public base.
fn brand_base(public_base: &str, name: &str) -> String {
    format!("{public_base}/brands/{name}")
}

/// A brand's provider in a server of several (`[[brand]]`).
#[derive(Debug, Clone)]
pub struct Brand {
    /// Its name: the path segment below `/brands/`.
    pub name: String,
    /// Its provider.
    pub state: Arc<IdpState>,
}

/// The providers of `root`'s `[[brand]]`s, each reached below `/brands/<name>` of the root's
/// public base, with its issuer there unless the brand names another.
pub fn brands(root: &IdpState) -> Result<Vec<Brand>, ConfigError> {
    root.config()
        .brands
        .iter()
        .map(|brand| {
            let base = brand_base(root.public_base(), &brand.name);
            let config = root.config().for_brand(brand, &base);
            let issuer = Issuer::new(brand.issuer.clone().unwrap_or_else(|| base.clone()));
            Ok(Brand {
                name: brand.name.clone(),
                state: Arc::new(IdpState::new(config, issuer, root.clock())?),
            })
        })
        .collect()
}

/// The root provider's routes with every brand's below `/brands/<name>`.
pub fn router_with_brands(root: Arc<IdpState>, brands: &[Brand]) -> Router {
    brands.iter().fold(router(root), |app, brand| {
        app.nest(
            &format!("/brands/{}", brand.name),
            router(Arc::clone(&brand.state)),
        )
    })
}

/// The provider's routes. Bodies are capped at `limits.max_body_bytes`, URLs at
/// `limits.max_url_bytes`.
pub fn router(state: Arc<IdpState>) -> Router {
    let limits = state.config().limits.clone();
    Router::new()
        .route("/", get(index))
        .route(paths::DISCOVERY, get(discovery::discovery))
        .route(
            "/.well-known/openid-configuration/",
            get(discovery::discovery_slash),
        )
        .route(paths::JWKS, get(discovery::jwks))
        .route(paths::PEM_CERTS, get(discovery::pem_certs))
        .route(paths::AUTHORIZE, get(authorize::authorize))
        .route(paths::LOGIN, post(authorize::login))
        .route(paths::TOKEN, post(token::token))
        .route(paths::TOKEN_V3, post(token::token))
        .route(
            paths::USERINFO,
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .route(paths::REVOKE, post(userinfo::revoke))
        .route(
            paths::TOKENINFO,
            get(tokeninfo::tokeninfo).post(tokeninfo::tokeninfo),
        )
        .route(
            paths::TOKENINFO_V3,
            get(tokeninfo::tokeninfo).post(tokeninfo::tokeninfo),
        )
        .route("/healthz", get(healthz))
        .route(paths::DEVICE_CODE, post(device::device_code))
        .route(
            paths::DEVICE,
            get(device::device_page).post(device::device_decide),
        )
        .merge(admin::router(&state))
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .layer(axum::extract::DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(middleware::from_fn_with_state(
            limits.max_url_bytes,
            limit_url,
        ))
        .with_state(state)
}

async fn limit_url(State(max): State<usize>, request: Request, next: Next) -> Response {
    let len = request
        .uri()
        .path_and_query()
        .map_or(0, |pq| pq.as_str().len());
    if len > max {
        // In the OAuth error shape, as every other refusal at the JSON endpoints.
        return error::json_response(
            StatusCode::URI_TOO_LONG,
            &serde_json::json!({
                "error": "invalid_request",
                "error_description": "Request URI too long",
            }),
        );
    }
    next.run(request).await
}

/// `GET /healthz`: the server answers.
async fn healthz() -> Response {
    Json(serde_json::json!({"status": "ok"})).into_response()
}

/// Google answers unknown paths and wrong methods (`GET /revoke`) with a plain 404.
async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "Not Found").into_response()
}

#[derive(Deserialize)]
struct IndexQuery {
    format: Option<String>,
}

impl IdpState {
    /// Each client's id and secret, for the start-up banner (a mock's secrets are public).
    pub fn client_credentials(&self) -> Vec<(String, String)> {
        let mut clients: Vec<(String, String)> = self
            .registry()
            .clients()
            .into_iter()
            .map(|c| {
                (
                    c.config.client_id.clone(),
                    c.config.client_secret.expose().to_owned(),
                )
            })
            .collect();
        clients.sort();
        clients
    }

    /// A summary of what is running, for people and scripts.
    pub fn overview(&self) -> Overview {
        let registry = self.registry();
        let clients: Vec<ClientOverview> = registry
            .clients()
            .into_iter()
            .map(|c| &c.config)
            .map(|c| ClientOverview {
                client_id: c.client_id.clone(),
                redirect_uris: c.redirect_uris.clone(),
                allow_loopback_redirects: c.allow_loopback_redirects,
                encrypt_id_token: c
                    .encrypt_id_token
                    .as_ref()
                    .map(|e| format!("{}/{}", e.alg.name(), e.enc.name())),
                error_style: match c.error_style {
                    ErrorStyle::Google => "google".to_owned(),
                    ErrorStyle::Platform => "platform".to_owned(),
                },
            })
            .collect();
        Overview {
            issuer: self.issuer().to_string(),
            endpoints: [
                ("discovery", paths::DISCOVERY),
                ("authorization", paths::AUTHORIZE),
                ("token", paths::TOKEN),
                ("userinfo", paths::USERINFO),
                ("revocation", paths::REVOKE),
                ("tokeninfo", paths::TOKENINFO),
                ("jwks", paths::JWKS),
                ("pem certs", paths::PEM_CERTS),
                ("device", paths::DEVICE_CODE),
            ]
            .into_iter()
            .map(|(name, path)| (name.to_owned(), self.url(path)))
            .collect(),
            clients,
            personas: self
                .personas()
                .ids()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            keys: self
                .published_kids()
                .into_iter()
                .map(|k| k.to_string())
                .collect(),
            brands: self
                .config()
                .brands
                .iter()
                .map(|b| {
                    let base = brand_base(self.public_base(), &b.name);
                    BrandOverview {
                        name: b.name.clone(),
                        issuer: b.issuer.clone().unwrap_or_else(|| base.clone()),
                        discovery: format!("{base}{}", paths::DISCOVERY),
                    }
                })
                .collect(),
            platform_accounts: self.platform_accounts(),
        }
    }
}

async fn index(State(state): State<Arc<IdpState>>, Query(query): Query<IndexQuery>) -> Response {
    let overview = state.overview();
    if query.format.as_deref() == Some("json") {
        return Json(overview).into_response();
    }
    crate::pages::html(
        StatusCode::OK,
        &crate::pages::IndexPage {
            overview: &overview,
        },
    )
}
