//! The provider's endpoints as `check` calls them, with errors a person can act on: an
//! untrusted certificate says so and names `--ca`, not "error sending request".

use std::time::Duration;

use serde_json::Value;

use super::CheckPlan;
use crate::scenario::report::Answer;
use crate::verifier::{ClientAuth, TokenRequest};

/// The headers an answer keeps for the report.
const KEPT_HEADERS: [&str; 5] = [
    "content-type",
    "cache-control",
    "pragma",
    "www-authenticate",
    "location",
];

impl Answer {
    /// A header's value, by lower-case name.
    pub(super) fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    fn of(status: u16, headers: &reqwest::header::HeaderMap, body: &str) -> Self {
        let headers = KEPT_HEADERS
            .iter()
            .filter_map(|name| {
                let value = headers.get(*name)?.to_str().ok()?;
                Some(((*name).to_owned(), value.to_owned()))
            })
            .collect();
        Self {
            status,
            headers,
            body: elide(body),
        }
    }
}

/// The body as the report may show it: tokens replaced, anything long shortened.
fn elide(body: &str) -> String {
    if let Ok(Value::Object(mut map)) = serde_json::from_str::<Value>(body) {
        for secret in ["id_token", "access_token", "refresh_token", "code"] {
            if let Some(value) = map.get_mut(secret) {
                *value = Value::String("(elided)".to_owned());
            }
        }
        return serde_json::to_string_pretty(&Value::Object(map)).unwrap_or_default();
    }
    const MAX: usize = 600;
    match body.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}… ({} bytes)", &body[..cut], body.len()),
        None => body.to_owned(),
    }
}

/// An HTTPS client trusting the public roots and `--ca`; no redirects followed.
pub(super) fn client(plan: &CheckPlan) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none());
    if let Some(pem) = &plan.extra_root_pem {
        builder = builder.add_root_certificate(
            reqwest::Certificate::from_pem(pem.as_bytes())
                .map_err(|e| format!("--ca: not a PEM certificate: {e}"))?,
        );
    }
    builder.build().map_err(|e| e.to_string())
}

/// The advice of [`describe`] when `--ca` was given and the certificate is still not trusted:
/// the file is not the CA that issued the server's certificate (a server's own self-signed
/// certificate is no CA, and rustls does not take it as one).
pub(super) fn with_ca_given(described: &str) -> String {
    const ADVICE: &str = "if the provider uses a private CA, pass its certificate with --ca FILE \
                          (the platform itself needs a publicly trusted one)";
    match described.strip_suffix(ADVICE) {
        Some(cause) => format!(
            "{cause}even with --ca: the file given is not the CA that issued the server's \
             certificate (a self-signed server certificate is no CA and cannot be trusted \
             this way); the platform needs a publicly trusted certificate"
        ),
        None => described.to_owned(),
    }
}

/// A request that got no HTTP answer, in words: the innermost cause, and what to do about an
/// untrusted certificate.
pub(super) fn describe(url: &str, err: &reqwest::Error) -> String {
    let mut causes = Vec::new();
    let mut source: Option<&dyn std::error::Error> = Some(err);
    while let Some(e) = source {
        causes.push(e.to_string());
        source = e.source();
    }
    let innermost = causes.last().cloned().unwrap_or_default();
    if let Some(cert) = causes.iter().find(|c| c.contains("certificate")) {
        return format!(
            "{url}: the TLS certificate is not trusted ({cert}); if the provider uses a \
             private CA, pass its certificate with --ca FILE (the platform itself needs a \
             publicly trusted one)"
        );
    }
    if err.is_timeout() {
        return format!("{url}: no answer within 10 s");
    }
    if err.is_connect() {
        return format!("{url}: cannot connect: {innermost}");
    }
    format!("{url}: {innermost}")
}

/// Why a document could not be read.
#[derive(Debug)]
pub(super) enum FetchError {
    /// No HTTP answer (TLS, connection, time-out).
    Transport(String),
    /// An answer that is not a 2xx JSON document.
    Answer(String),
}

impl From<FetchError> for String {
    fn from(e: FetchError) -> Self {
        match e {
            FetchError::Transport(s) | FetchError::Answer(s) => s,
        }
    }
}

/// GETs a JSON document; returns it with the answer's status and headers.
pub(super) async fn get_json(
    http: &reqwest::Client,
    url: &str,
) -> Result<(Value, Answer), FetchError> {
    let response = http
        .get(url)
        .send()
        .await
        .map_err(|e| FetchError::Transport(describe(url, &e)))?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .text()
        .await
        .map_err(|e| FetchError::Transport(describe(url, &e)))?;
    if !status.is_success() {
        return Err(FetchError::Answer(format!("{url}: HTTP {status}")));
    }
    let answer = Answer::of(status.as_u16(), &headers, "");
    let doc = serde_json::from_str(&body)
        .map_err(|e| FetchError::Answer(format!("{url}: not JSON: {e}")))?;
    Ok((doc, answer))
}

/// One redemption at the token endpoint.
pub(super) struct Redeem<'a> {
    pub(super) endpoint: &'a str,
    pub(super) request: TokenRequest<'a>,
}

impl CheckPlan {
    /// A redemption with this plan's client, its credentials in HTTP Basic as the platform
    /// sends them (RFC 6749 §2.3.1).
    pub(super) fn redemption<'a>(
        &'a self,
        endpoint: &'a str,
        code: &'a str,
        redirect_uri: &'a str,
        code_verifier: Option<&'a str>,
    ) -> Redeem<'a> {
        Redeem {
            endpoint,
            request: TokenRequest {
                code,
                redirect_uri,
                code_verifier,
                client_id: &self.client_id,
                client_secret: &self.client_secret,
                auth: ClientAuth::Basic,
            },
        }
    }
}

/// The token endpoint's answer, whatever its status.
pub(super) struct TokenAnswer {
    pub(super) answer: Answer,
    /// The body, when it is JSON.
    pub(super) json: Option<Value>,
}

impl TokenAnswer {
    /// The `error` member of an error body.
    pub(super) fn error(&self) -> Option<String> {
        self.json
            .as_ref()?
            .get("error")?
            .as_str()
            .map(str::to_owned)
    }

    /// `HTTP 400 invalid_grant: description`, or the status and the start of the body.
    pub(super) fn summary(&self) -> String {
        let status = self.answer.status;
        match (&self.json, self.error()) {
            (Some(json), Some(error)) => {
                let error = super::printable(&error);
                match json.get("error_description").and_then(Value::as_str) {
                    Some(description) => {
                        format!("HTTP {status} {error}: {}", super::printable(description))
                    }
                    None => format!("HTTP {status} {error}"),
                }
            }
            _ => one_line(
                status,
                self.answer.header("content-type"),
                &self.answer.body,
            ),
        }
    }
}

/// An answer that is not OAuth error JSON, on one line: status, content type and the first
/// words of its text (an HTML page's tags left out), never the page itself.
pub(super) fn one_line(status: u16, content_type: Option<String>, body: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = super::printable(&text);
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut first = words.iter().take(12).copied().collect::<Vec<_>>().join(" ");
    if words.len() > 12 {
        first.push_str(" …");
    }
    let kind = content_type.map(|c| format!(" {c}")).unwrap_or_default();
    if first.is_empty() {
        format!("HTTP {status}{kind}, empty body")
    } else {
        format!("HTTP {status}{kind}: {first}")
    }
}

/// POSTs the code; `Err` only when no answer came.
pub(super) async fn redeem(http: &reqwest::Client, r: &Redeem<'_>) -> Result<TokenAnswer, String> {
    let response = r
        .request
        .apply(http.post(r.endpoint))
        .send()
        .await
        .map_err(|e| describe(r.endpoint, &e))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .text()
        .await
        .map_err(|e| describe(r.endpoint, &e))?;
    Ok(TokenAnswer {
        answer: Answer::of(status, &headers, &body),
        json: serde_json::from_str(&body).ok(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_html_page_is_summarised_on_one_line() {
        let page = "<!doctype html>\n<html>\n<head><title>Bad Request (400)</title></head>\n<body>\n  <h1>Bad Request (400)</h1>\n</body>\n</html>\n";
        assert_eq!(
            one_line(400, Some("text/html; charset=utf-8".into()), page),
            "HTTP 400 text/html; charset=utf-8: Bad Request (400) Bad Request (400)"
        );
        assert_eq!(one_line(500, None, ""), "HTTP 500, empty body");
        assert_eq!(
            one_line(500, None, "\u{1b}[31mFailed\u{1b}[0m\u{7}"),
            "HTTP 500: Failed"
        );
    }

    #[test]
    fn tokens_never_reach_the_report() {
        let body = r#"{"access_token":"ya29.secret","id_token":"eyJ.x.y","expires_in":3599}"#;
        let shown = elide(body);
        assert!(
            !shown.contains("ya29.secret") && !shown.contains("eyJ.x.y"),
            "{shown}"
        );
        assert!(shown.contains("\"expires_in\": 3599"), "{shown}");
        let long = "x".repeat(700);
        assert_eq!(elide(&long), format!("{}… (700 bytes)", "x".repeat(600)));
    }
}
