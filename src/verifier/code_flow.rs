//! The Code Flow's server-to-server half (`liveperson-auth.md` §1.2, §1.3): POST the code to
//! the brand's token endpoint, read `id_token` from the answer, map every failure to a reason.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore as _;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::config::{ClientAuth, VerifierConfig};
use super::reason::RejectReason;
use super::rejection::Rejection;

/// What a token endpoint returned that the verifier uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSet {
    /// The ID token (JWS or JWE), not yet verified.
    pub id_token: String,
    /// The access token, when there is one (the platform does not use it, §1.3; it checks
    /// `at_hash` against it).
    pub access_token: Option<String>,
}

/// A code to redeem.
#[derive(Debug, Clone, Default)]
pub struct CodeRedemption {
    /// The code, as the page or redirect handed it over.
    pub code: String,
    /// The redirect URI the page supplied (§1.5 `{ssoKey, redirect_uri}`); the configured one
    /// otherwise.
    pub redirect_uri: Option<String>,
    /// The PKCE verifier, when PKCE is on (§1.6).
    pub code_verifier: Option<String>,
}

/// A fresh PKCE pair: `(code_verifier, S256 code_challenge)` (RFC 7636).
pub fn pkce_pair() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let verifier = URL_SAFE_NO_PAD.encode(bytes);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// Reads at most `max` bytes of a response body.
pub(crate) async fn read_limited(
    mut response: reqwest::Response,
    max: usize,
) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        if body.len() + chunk.len() > max {
            return Err(format!("the response is larger than {max} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn unreachable_reason(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        "timed out".to_owned()
    } else if err.is_connect() {
        // The chain says whether it was refused, unresolvable or a TLS failure.
        let mut text = err.to_string();
        let mut source = std::error::Error::source(err);
        while let Some(inner) = source {
            text = format!("{text}: {inner}");
            source = inner.source();
        }
        text
    } else {
        err.to_string()
    }
}

/// Redeems `redemption`'s code at the configured token endpoint, over `http`.
pub(super) async fn redeem(
    http: &reqwest::Client,
    config: &VerifierConfig,
    redemption: &CodeRedemption,
) -> Result<TokenSet, Rejection> {
    let Some(endpoint) = &config.token_endpoint else {
        return Err(Rejection::new(
            RejectReason::TokenEndpointError,
            "no token endpoint is configured",
        ));
    };
    if endpoint.scheme() != "https" && !config.insecure_allow_http {
        return Err(Rejection::new(
            RejectReason::InsecureTransport,
            format!("the token endpoint {endpoint} is not HTTPS"),
        ));
    }
    let request = token_request(http.post(endpoint.clone()), config, redemption);
    let response = request.send().await.map_err(|err| {
        Rejection::new(
            RejectReason::TokenEndpointUnreachable,
            format!("{endpoint}: {}", unreachable_reason(&err)),
        )
    })?;
    read_token_response(response, config.max_response_bytes).await
}

/// The token request (RFC 6749 §4.1.3): the code, the redirect URI, the PKCE verifier when
/// PKCE is on, and the client's credentials the way the connector sends them.
fn token_request(
    request: reqwest::RequestBuilder,
    config: &VerifierConfig,
    redemption: &CodeRedemption,
) -> reqwest::RequestBuilder {
    TokenRequest {
        code: &redemption.code,
        redirect_uri: redemption
            .redirect_uri
            .as_deref()
            .unwrap_or(&config.redirect_uri),
        code_verifier: redemption.code_verifier.as_deref().filter(|_| config.pkce),
        client_id: config.client_id.as_ref().map(|c| c.as_str()).unwrap_or(""),
        client_secret: config
            .client_secret
            .as_ref()
            .map(|s| s.expose())
            .unwrap_or(""),
        auth: config.client_auth,
    }
    .apply(request)
}

/// One authorization-code redemption (RFC 6749 §4.1.3) as a client sends it: the one place
/// this crate writes a token request, for the platform's verifier and for `check` alike.
#[derive(Debug, Clone, Copy)]
pub struct TokenRequest<'a> {
    /// The code.
    pub code: &'a str,
    /// The redirect URI the code was asked for with.
    pub redirect_uri: &'a str,
    /// The PKCE `code_verifier`, when one is sent.
    pub code_verifier: Option<&'a str>,
    /// The client's id.
    pub client_id: &'a str,
    /// The client's secret.
    pub client_secret: &'a str,
    /// Where the credentials go.
    pub auth: ClientAuth,
}

impl TokenRequest<'_> {
    /// Writes this request's body and credentials onto `request` (a POST to the endpoint).
    pub fn apply(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let mut params: Vec<(&str, &str)> = vec![
            ("grant_type", "authorization_code"),
            ("code", self.code),
            ("redirect_uri", self.redirect_uri),
        ];
        if let Some(verifier) = self.code_verifier {
            params.push(("code_verifier", verifier));
        }
        let (id, secret) = (self.client_id, self.client_secret);
        match self.auth {
            ClientAuth::Basic => request
                .basic_auth(form_escape(id), Some(form_escape(secret)))
                .form(&params),
            ClientAuth::Body => {
                params.push(("client_id", id));
                params.push(("client_secret", secret));
                request.form(&params)
            }
            ClientAuth::JsonBody => {
                let body: serde_json::Map<String, Value> = params
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
                    .collect();
                request
                    .basic_auth(form_escape(id), Some(form_escape(secret)))
                    .json(&body)
            }
        }
    }
}

/// The token endpoint's answer, read up to `max` bytes: its OAuth error, or the ID token (and
/// access token) of a JSON token response.
async fn read_token_response(
    response: reqwest::Response,
    max: usize,
) -> Result<TokenSet, Rejection> {
    let status = response.status();
    // RFC 6749 §5.1: the token response is application/json.
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let json_type = content_type
        .as_deref()
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    let body = read_limited(response, max)
        .await
        .map_err(|e| Rejection::new(RejectReason::TokenResponseInvalid, e))?;
    let json: Option<Value> = serde_json::from_slice(&body).ok();
    if !status.is_success() {
        // Google's {"error", "error_description"} or the platform's {"error"} (§6.1).
        let error = json
            .as_ref()
            .and_then(|j| j.get("error"))
            .and_then(Value::as_str);
        let description = json
            .as_ref()
            .and_then(|j| j.get("error_description"))
            .and_then(Value::as_str);
        let detail = match (error, description) {
            (Some(e), Some(d)) => format!("HTTP {}: {e}: {d}", status.as_u16()),
            (Some(e), None) => format!("HTTP {}: {e}", status.as_u16()),
            _ => format!("HTTP {} without an OAuth error body", status.as_u16()),
        };
        return Err(Rejection::new(RejectReason::TokenEndpointError, detail));
    }
    if !json_type {
        return Err(Rejection::new(
            RejectReason::TokenResponseInvalid,
            format!(
                "the token response is {}, not application/json",
                content_type.as_deref().unwrap_or("without a Content-Type")
            ),
        ));
    }
    let Some(Value::Object(json)) = json else {
        return Err(Rejection::new(
            RejectReason::TokenResponseInvalid,
            "the token response is not a JSON object",
        ));
    };
    let Some(Value::String(id_token)) = json.get("id_token") else {
        return Err(Rejection::new(
            RejectReason::TokenResponseInvalid,
            "the token response has no id_token",
        ));
    };
    Ok(TokenSet {
        id_token: id_token.clone(),
        access_token: json
            .get("access_token")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

/// RFC 6749 §2.3.1: client id and secret are form-urlencoded before Basic encoding.
fn form_escape(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
