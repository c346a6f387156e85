//! `GET /o/oauth2/v2/auth`: the authorization endpoint, the login page and its form.
//!
//! Order of checks, after Google (`google-oidc.md` §5.3): the client and the redirect URI are
//! checked first and a failure there is an HTML error page, never a redirect. Every later error
//! goes back to the (now trusted) redirect URI as `error=…&state=…`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

use super::config::ImplicitParam;
use super::faults::{Lapse, RedirectFault};
use super::grants::{AuthRequest, CodeGrant, Grant, Pkce, ResponseMode, ResponseType};
use super::observed::{Observation, PkceSeen};
use super::registry::Client;
use super::scope::{ScopeError, Scopes};
use super::state::IdpState;
use crate::claims::{Nonce, Persona, Subject};
use crate::pages::{self, AuthErrorPage, FormPostPage, LoginPage, PersonaCard};

/// An error page: status, the error code and a sentence.
fn error_page(status: StatusCode, error: &str, description: &str) -> Response {
    pages::html(status, &AuthErrorPage { error, description })
}

/// Where and how to send an error once the redirect URI is trusted.
struct Target<'a> {
    state: &'a IdpState,
    redirect_uri: &'a str,
    mode: ResponseMode,
    client_state: Option<&'a str>,
}

impl Target<'_> {
    fn error(&self, error: &str, description: &str) -> Response {
        let mut params: Vec<(&str, String)> = vec![
            ("error", error.to_owned()),
            ("error_description", description.to_owned()),
        ];
        if let Some(s) = self.client_state {
            params.push(("state", s.to_owned()));
        }
        if self.state.config().discovery.rfc9207 {
            params.push(("iss", self.state.issuer().to_string()));
        }
        deliver(self.redirect_uri, self.mode, &params)
    }
}

/// Sends the response parameters to the redirect URI in the chosen mode. The registered URI
/// is kept byte for byte (no normalisation): parameters are appended to its query, or put in
/// the fragment.
fn deliver(redirect_uri: &str, mode: ResponseMode, params: &[(&str, String)]) -> Response {
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())))
        .finish();
    let location = match mode {
        ResponseMode::Query => {
            let separator = match redirect_uri.split_once('?') {
                None => "?",
                Some((_, "")) => "",
                Some(_) => "&",
            };
            format!("{redirect_uri}{separator}{encoded}")
        }
        ResponseMode::Fragment => format!("{redirect_uri}#{encoded}"),
        ResponseMode::FormPost => {
            let page = FormPostPage {
                action: redirect_uri,
                fields: params.iter().map(|(k, v)| (*k, v.as_str())).collect(),
            };
            return pages::html(StatusCode::OK, &page);
        }
    };
    let Ok(location) = HeaderValue::from_str(&location) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Invalid redirect_uri.",
        );
    };
    let mut response = StatusCode::FOUND.into_response();
    response.headers_mut().insert(header::LOCATION, location);
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store, max-age=0, must-revalidate"),
    );
    response
}

/// Query parameters, each at most once (RFC 6749 §3.1).
struct Params {
    values: HashMap<String, String>,
    repeated: Vec<String>,
}

impl Params {
    fn parse(raw: Option<&str>) -> Self {
        let mut values = HashMap::new();
        let mut repeated = Vec::new();
        for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            if values.insert(k.to_string(), v.into_owned()).is_some() {
                repeated.push(k.into_owned());
            }
        }
        Self { values, repeated }
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.values
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn repeated(&self, key: &str) -> bool {
        self.repeated.iter().any(|r| r == key)
    }
}

/// The sign-in cookie's value (the cookie named `name`), if the request carries one.
fn session_id<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(cookie, _)| *cookie == name)
        .map(|(_, value)| value)
}

/// Remembers who signed in, and sets the session cookie on `response`.
fn start_session(state: &IdpState, persona: Arc<Persona>, response: &mut Response) {
    let cookie = state.start_session(persona);
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// A step 1 failure: an error page (status, error code, description), never a redirect.
struct ErrorPage(StatusCode, &'static str, String);

/// A later failure (error code, description), sent back to the trusted redirect URI.
struct Refusal(&'static str, String);

fn refuse(error: &'static str, description: impl Into<String>) -> Refusal {
    Refusal(error, description.into())
}

/// `GET /o/oauth2/v2/auth`: the client and redirect URI first, then the request's
/// parameters, then the answer (a headless sign-in or the login page).
pub(crate) async fn authorize(
    State(state): State<Arc<IdpState>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let params = Params::parse(raw.as_deref());
    let trusted = match trust(&state, &params) {
        Ok(trusted) => trusted,
        Err(ErrorPage(status, error, description)) => {
            return error_page(status, error, &description)
        }
    };
    let target = trusted.target(&state, &params);
    let (request, prompt_none) = match read_request(&state, &params, &trusted) {
        Ok(read) => read,
        Err(Refusal(error, description)) => return target.error(error, &description),
    };
    if prompt_none {
        return sign_in_silently(&state, &headers, &trusted.client, &request, &target);
    }
    let id = state.hold_login(request.clone());
    login_page(&state, &id, &request, None, StatusCode::OK)
}

/// What step 1 established: a registered client, a redirect URI it accepts, a response type.
struct Trusted<'p> {
    client: Arc<Client>,
    client_id: &'p str,
    redirect_uri: &'p str,
    response_type_text: &'p str,
    /// `None` when the text names no response type this provider knows.
    response_type: Option<ResponseType>,
}

impl<'p> Trusted<'p> {
    /// The response mode asked for (`None`: an unknown one), and the default for the
    /// response type.
    fn modes(&self, params: &Params) -> (Option<ResponseMode>, ResponseMode) {
        let default_mode = if self.response_type.is_some_and(ResponseType::returns_tokens) {
            ResponseMode::Fragment
        } else {
            ResponseMode::Query
        };
        let requested = match params.get("response_mode") {
            None => Some(default_mode),
            Some("query") => Some(ResponseMode::Query),
            Some("fragment") => Some(ResponseMode::Fragment),
            Some("form_post") => Some(ResponseMode::FormPost),
            Some(_) => None,
        };
        (requested, default_mode)
    }

    /// Where later errors go: the trusted redirect URI, in the mode asked for if known.
    fn target<'a>(&self, state: &'a IdpState, params: &'a Params) -> Target<'a>
    where
        'p: 'a,
    {
        let (requested, default_mode) = self.modes(params);
        Target {
            state,
            redirect_uri: self.redirect_uri,
            mode: requested.unwrap_or(default_mode),
            client_state: params.values.get("state").map(String::as_str),
        }
    }
}

/// Step 1: the client and the redirect URI; failures are pages, never redirects.
fn trust<'p>(state: &IdpState, params: &'p Params) -> Result<Trusted<'p>, ErrorPage> {
    let bad = |description: &str| {
        ErrorPage(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            description.to_owned(),
        )
    };
    if params.repeated("client_id") || params.repeated("redirect_uri") {
        return Err(bad("Parameter repeated: client_id or redirect_uri."));
    }
    let Some(client_id) = params.get("client_id") else {
        return Err(bad("Missing required parameter: client_id"));
    };
    let Some(client) = state.client(client_id) else {
        return Err(ErrorPage(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The OAuth client was not found.".to_owned(),
        ));
    };
    let Some(redirect_uri) = params.get("redirect_uri") else {
        return Err(bad("Missing required parameter: redirect_uri"));
    };
    if !client.accepts_redirect(redirect_uri) {
        return Err(ErrorPage(
            StatusCode::BAD_REQUEST,
            "redirect_uri_mismatch",
            format!("The redirect URI in the request, {redirect_uri}, does not match the ones authorized for the OAuth client."),
        ));
    }
    let Some(response_type_text) = params.get("response_type") else {
        return Err(bad("Missing required parameter: response_type"));
    };
    Ok(Trusted {
        client,
        client_id,
        redirect_uri,
        response_type_text,
        response_type: ResponseType::parse(response_type_text),
    })
}

/// Step 2: everything else, each failure sent back to the redirect URI. The request, and
/// whether it asks for a sign-in without a page (`prompt=none`).
fn read_request(
    state: &IdpState,
    params: &Params,
    trusted: &Trusted<'_>,
) -> Result<(AuthRequest, bool), Refusal> {
    let (response_type, response_mode) = read_response_shape(params, trusted)?;
    let scopes = read_scopes(params)?;
    let nonce = params.get("nonce").map(Nonce::new);
    observe_authorize(state, params, trusted.response_type_text, nonce.is_some());
    if response_type.id_token && nonce.is_none() {
        return Err(refuse(
            "invalid_request",
            "Missing required parameter: nonce",
        ));
    }
    let pkce = Pkce::parse(
        params.get("code_challenge"),
        params.get("code_challenge_method"),
    )
    .map_err(|description| refuse("invalid_request", description))?;
    if pkce.is_none() && trusted.client.config.require_pkce && response_type.code {
        return Err(refuse(
            "invalid_request",
            "Missing required parameter: code_challenge",
        ));
    }
    let prompt_none = read_prompt(params)?;
    let offline = match params.get("access_type") {
        None | Some("online") => false,
        Some("offline") => true,
        Some(_) => return Err(refuse("invalid_request", "Invalid access_type.")),
    };
    let request = AuthRequest {
        client_id: trusted.client_id.to_owned(),
        redirect_uri: trusted.redirect_uri.to_owned(),
        response_type,
        response_mode,
        scopes,
        state: params.values.get("state").cloned(),
        nonce,
        pkce,
        login_hint: params.get("login_hint").map(str::to_owned),
        offline,
    };
    Ok((request, prompt_none))
}

/// No repeated parameter, a known response type, a known response mode that can carry it.
fn read_response_shape(
    params: &Params,
    trusted: &Trusted<'_>,
) -> Result<(ResponseType, ResponseMode), Refusal> {
    if let Some(key) = params.repeated.first() {
        return Err(refuse(
            "invalid_request",
            format!("Parameter repeated: {key}"),
        ));
    }
    let Some(response_type) = trusted.response_type else {
        return Err(refuse(
            "unsupported_response_type",
            format!("Unsupported response_type: {}", trusted.response_type_text),
        ));
    };
    let Some(response_mode) = trusted.modes(params).0 else {
        return Err(refuse("invalid_request", "Invalid response_mode."));
    };
    if response_mode == ResponseMode::Query && response_type.returns_tokens() {
        return Err(refuse(
            "invalid_request",
            "response_mode=query cannot carry tokens.",
        ));
    }
    Ok((response_type, response_mode))
}

fn read_scopes(params: &Params) -> Result<Scopes, Refusal> {
    Scopes::parse(params.get("scope")).map_err(|err| match err {
        ScopeError::Missing => refuse("invalid_request", "Missing required parameter: scope"),
        ScopeError::NoOpenid => refuse("invalid_scope", "The scope must contain openid."),
        ScopeError::Unknown => refuse("invalid_scope", "Some requested scopes were invalid."),
    })
}

/// Records what the request carried, for scenarios to assert.
fn observe_authorize(state: &IdpState, params: &Params, response_type: &str, nonce: bool) {
    state.observe(Observation::Authorize {
        response_type: response_type.to_owned(),
        nonce,
        pkce: match (
            params.get("code_challenge"),
            params.get("code_challenge_method"),
        ) {
            (None, _) => PkceSeen::None,
            (Some(_), Some("S256")) => PkceSeen::S256,
            (Some(_), _) => PkceSeen::Plain,
        },
    });
}

/// `prompt`: known values only, `none` alone; whether it is `none`.
fn read_prompt(params: &Params) -> Result<bool, Refusal> {
    let prompt: Vec<&str> = params
        .get("prompt")
        .unwrap_or("")
        .split(' ')
        .filter(|p| !p.is_empty())
        .collect();
    if prompt
        .iter()
        .any(|p| !matches!(*p, "none" | "consent" | "select_account"))
    {
        return Err(refuse("invalid_request", "Invalid prompt."));
    }
    let prompt_none = prompt.contains(&"none");
    if prompt_none && prompt.len() > 1 {
        return Err(refuse(
            "invalid_request",
            "prompt=none cannot be combined with other values.",
        ));
    }
    Ok(prompt_none)
}

/// Step 3, without a page: the persona `login_hint` names (headless login for CI), else
/// whoever signed in with this browser's session.
fn sign_in_silently(
    state: &IdpState,
    headers: &HeaderMap,
    client: &Client,
    request: &AuthRequest,
    target: &Target<'_>,
) -> Response {
    if state.lapses(Lapse::PromptNone500) {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            Html("<html><body><h1>Server Error (500)</h1></body></html>"),
        )
            .into_response();
    }
    let persona = match request.login_hint.as_deref() {
        Some(hint) => state.find_persona(hint),
        None => session_id(headers, state.session_cookie()).and_then(|id| state.session(id)),
    };
    match persona {
        Some(persona) => complete(state, client, request, persona, false),
        None => target.error(
            "login_required",
            "No signed-in session, and no persona matches login_hint.",
        ),
    }
}

/// Issues what the response type asks for and sends it to the redirect URI.
fn complete(
    state: &IdpState,
    client: &Client,
    request: &AuthRequest,
    persona: Arc<Persona>,
    consent_shown: bool,
) -> Response {
    let grant = Grant::new(client.id.clone(), persona, request.scopes);
    let target = Target {
        state,
        redirect_uri: &request.redirect_uri,
        mode: request.response_mode,
        client_state: request.state.as_deref(),
    };
    let fault = state.faults().redirect;
    if fault == Some(RedirectFault::Error) {
        return target.error(
            "server_error",
            "The provider failed (a fault set on purpose).",
        );
    }
    let mut params: Vec<(&str, String)> = Vec::with_capacity(10);
    if let Some(s) = &request.state {
        let s = if fault == Some(RedirectFault::WrongState) {
            format!("{s}-forged")
        } else {
            s.clone()
        };
        params.push(("state", s));
    }
    let rt = request.response_type;
    let code = rt.code.then(|| {
        state.issue_code(CodeGrant {
            grant: grant.clone(),
            redirect_uri: request.redirect_uri.clone(),
            nonce: request.nonce.clone(),
            pkce: request.pkce.clone(),
            offline: request.offline,
        })
    });
    if let Some(code) = code
        .as_ref()
        .filter(|_| fault != Some(RedirectFault::NoCode))
    {
        params.push(("code", code.clone()));
    }
    // The platform's legacy implicit handover: the ID token itself, under another name, and
    // `response_type=token` answered with it instead of an access token.
    let legacy = client.config.implicit_param.filter(|_| !rt.code);
    let rt = match legacy {
        Some(_) if rt.token => ResponseType {
            token: false,
            id_token: true,
            ..rt
        },
        _ => rt,
    };
    let access_token = rt.token.then(|| state.issue_access_token(&grant));
    if let Some(token) = &access_token {
        params.push(("access_token", token.clone()));
        params.push(("token_type", "Bearer".to_owned()));
        params.push((
            "expires_in",
            state.config().tokens.access_token_lifetime_secs.to_string(),
        ));
    }
    if fault == Some(RedirectFault::InjectIdToken) && !rt.id_token {
        // An unsigned token slipped into the front channel: a code flow must ignore it.
        params.push((
            "id_token",
            "eyJhbGciOiJub25lIn0.eyJzdWIiOiJtYWxsb3J5In0.".to_owned(),
        ));
    }
    if rt.id_token {
        match state.id_token(
            client,
            &grant,
            request.nonce.as_ref(),
            access_token.as_deref(),
            code.as_deref(),
        ) {
            Ok(id_token) => params.push((legacy.map_or("id_token", ImplicitParam::name), id_token)),
            Err(_) => return target.error("server_error", "The ID token could not be signed."),
        }
    }
    params.push(("scope", request.scopes.redirect_form()));
    params.push(("authuser", "0".to_owned()));
    if let Some(hd) = &grant.persona.hd {
        params.push(("hd", hd.clone()));
    }
    params.push((
        "prompt",
        if consent_shown { "consent" } else { "none" }.to_owned(),
    ));
    if state.config().discovery.rfc9207 {
        params.push(("iss", state.issuer().to_string()));
    }
    deliver(&request.redirect_uri, request.response_mode, &params)
}

fn login_page(
    state: &IdpState,
    id: &str,
    request: &AuthRequest,
    message: Option<&str>,
    status: StatusCode,
) -> Response {
    let registry = state.registry();
    let cards: Vec<PersonaCard> = registry
        .personas()
        .list
        .iter()
        .map(|p| PersonaCard::from_persona(p, request.login_hint.as_deref()))
        .collect();
    let page = LoginPage {
        request_id: id,
        client_id: &request.client_id,
        redirect_uri: &request.redirect_uri,
        scope: request.scopes.redirect_form(),
        personas: cards,
        message,
        action: &state.local_path(super::metadata::paths::LOGIN),
    };
    pages::html(status, &page)
}

/// The login page's form: a persona, its claims as edited, and the choice.
#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    request: String,
    action: String,
    persona: Option<String>,
    sub: Option<String>,
    name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    email: Option<String>,
    email_verified: Option<String>,
    picture: Option<String>,
    lp_sdes: Option<String>,
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// `POST /o/oauth2/v2/auth/login`.
pub(crate) async fn login(
    State(state): State<Arc<IdpState>>,
    Form(form): Form<LoginForm>,
) -> Response {
    let Some(request) = state.pending_login(&form.request) else {
        return error_page(StatusCode::BAD_REQUEST, "invalid_request", "This sign-in request has expired or was already used. Start again from the application.");
    };
    let Some(client) = state.client(&request.client_id) else {
        return error_page(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The OAuth client was not found.",
        );
    };
    let target = Target {
        state: &state,
        redirect_uri: &request.redirect_uri,
        mode: request.response_mode,
        client_state: request.state.as_deref(),
    };
    if form.action == "deny" {
        state.take_login(&form.request);
        return target.error("access_denied", "The user denied the request.");
    }
    let base = form
        .persona
        .as_deref()
        .and_then(|id| state.personas().find(id).cloned());
    let Some(base) = base else {
        return login_page(
            &state,
            &form.request,
            &request,
            Some("Pick a persona to continue."),
            StatusCode::BAD_REQUEST,
        );
    };
    let lp_sdes = match non_empty(form.lp_sdes) {
        None => None,
        Some(text) => match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(value) => Some(value),
            Err(err) => {
                let message = format!("lp_sdes is not valid JSON: {err}");
                return login_page(
                    &state,
                    &form.request,
                    &request,
                    Some(&message),
                    StatusCode::BAD_REQUEST,
                );
            }
        },
    };
    let persona = Persona {
        id: base.id.clone(),
        sub: Subject::new(form.sub.unwrap_or_default().trim()),
        email: non_empty(form.email),
        email_verified: Some(form.email_verified.is_some()),
        hd: base.hd.clone(),
        name: non_empty(form.name),
        given_name: non_empty(form.given_name),
        family_name: non_empty(form.family_name),
        picture: non_empty(form.picture),
        locale: base.locale.clone(),
        gender: base.gender.clone(),
        preferred_username: base.preferred_username.clone(),
        phone_number: base.phone_number,
        lp_sdes,
    };
    // Single use: a second submit of the same page finds nothing.
    if state.take_login(&form.request).is_none() {
        return error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "This sign-in request was already used.",
        );
    }
    let persona = Arc::new(persona);
    let mut response = complete(&state, &client, &request, Arc::clone(&persona), true);
    start_session(&state, persona, &mut response);
    response
}
