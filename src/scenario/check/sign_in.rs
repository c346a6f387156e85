//! Where `check` gets its codes and ID tokens: from the user's commands, or from a person
//! signing in in a browser, the answer coming back to a listener on the loopback interface
//! (RFC 8252 §7.3). Every sign-in is a fresh authorization request of our own: new `state`,
//! `nonce` and PKCE S256 challenge.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, BufReader};
use tokio::sync::{mpsc, oneshot};

use crate::store::random_token;
use crate::verifier::pkce_pair;

/// One authorization request: what was sent, so what comes back can be checked against it.
#[derive(Debug, Clone)]
pub(super) struct Request {
    /// The URL a browser (or the user's command) opens.
    pub(super) url: url::Url,
    /// `state`, with characters a careless provider re-encodes (`+`, `/`, `=`, `~`).
    pub(super) state: String,
    /// `nonce`.
    pub(super) nonce: String,
    /// The PKCE verifier; its S256 challenge is in the URL when `pkce` is set.
    pub(super) verifier: String,
    /// Whether the request carried a PKCE challenge (a Code Flow request asked with one).
    pub(super) pkce: bool,
    /// The redirect URI the answer must come back to.
    pub(super) redirect_uri: String,
    /// `response_type=id_token` (the Implicit Flow) rather than `code`.
    pub(super) implicit: bool,
    /// The client id the request names: the ID token's `aud` should be it.
    pub(super) client_id: String,
}

impl Request {
    pub(super) fn new(
        endpoint: &url::Url,
        client_id: &str,
        redirect_uri: &str,
        scope: &str,
        implicit: bool,
        pkce: bool,
    ) -> Self {
        let pkce = pkce && !implicit;
        let state = format!("{}~+/=", random_token(12));
        let nonce = random_token(16);
        let (verifier, challenge) = pkce_pair();
        let mut url = endpoint.clone();
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("client_id", client_id)
                .append_pair("redirect_uri", redirect_uri)
                .append_pair("response_type", if implicit { "id_token" } else { "code" })
                .append_pair("scope", scope)
                .append_pair("state", &state)
                .append_pair("nonce", &nonce);
            if pkce {
                query
                    .append_pair("code_challenge", &challenge)
                    .append_pair("code_challenge_method", "S256");
            }
        }
        Self {
            url,
            state,
            nonce,
            verifier,
            pkce,
            redirect_uri: redirect_uri.to_owned(),
            implicit,
            client_id: client_id.to_owned(),
        }
    }

    /// The `code_verifier` a redemption sends: the verifier, when a challenge was sent.
    pub(super) fn code_verifier(&self) -> Option<&str> {
        self.pkce.then_some(self.verifier.as_str())
    }

    /// What the request asks for, in words.
    pub(super) fn wants(&self) -> &'static str {
        if self.implicit {
            "id_token"
        } else {
            "code"
        }
    }
}

/// Why a sign-in brought back nothing to use.
#[derive(Debug, Clone)]
pub(super) enum Failed {
    /// The provider answered: with an `error`, or without what was asked for.
    Refused(Box<Refusal>),
    /// No answer came: a command failed or timed out, nobody signed in, or the provider
    /// showed a page of its own instead of redirecting.
    NoAnswer(String),
}

/// A redirect that came back without what was asked for.
#[derive(Debug, Clone)]
pub(super) struct Refusal {
    /// What it says, for the report.
    why: String,
    /// Its `error` (`access_denied`, `invalid_request`, ...), when it has one.
    pub(super) error: Option<String>,
    /// The redirect as it came back, and the request it answers: its `state` can still be
    /// compared.
    pub(super) returned: Returned,
    pub(super) request: Request,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.why)
    }
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Refused(refusal) => refusal.fmt(f),
            Self::NoAnswer(why) => f.write_str(why),
        }
    }
}

impl From<Failed> for String {
    fn from(failed: Failed) -> Self {
        failed.to_string()
    }
}

/// What came back from one sign-in.
#[derive(Debug, Clone)]
pub(super) struct Returned {
    /// The redirect's parameters (query or fragment), or the one bare value a command printed
    /// under the name the request asked for.
    params: Vec<(String, String)>,
    /// A command printed the bare value: `state` cannot be checked.
    pub(super) bare: bool,
}

impl Returned {
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The parameters of a redirect URL, or of its fragment as the Implicit Flow sends them.
    fn from_params(params: Vec<(String, String)>, request: &Request) -> Result<Self, Failed> {
        let returned = Self {
            params,
            bare: false,
        };
        let error = returned.get("error").map(super::printable);
        let why = if let Some(error) = &error {
            format!(
                "the provider answered error={error}{}",
                returned
                    .get("error_description")
                    .map(|d| format!(": {}", super::printable(d)))
                    .unwrap_or_default()
            )
        } else if returned.get(request.wants()).is_none() {
            format!(
                "the redirect carries no {} (it has: {})",
                request.wants(),
                super::printable(
                    &returned
                        .params
                        .iter()
                        .map(|(k, _)| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            )
        } else {
            return Ok(returned);
        };
        Err(Failed::Refused(Box::new(Refusal {
            why,
            error,
            returned,
            request: request.clone(),
        })))
    }

    /// A command's output: a whole redirect URL (an http(s) URL, or one in the redirect URI's
    /// scheme, such as an app's `com.example.app:/callback?code=…`, which curl prints as
    /// `com.example.app://callback/?code=…`) is read as one (query, then fragment); anything
    /// else is the bare code or token, taken exactly as printed.
    fn from_output(output: &str, request: &Request) -> Result<Self, Failed> {
        if let Ok(url) = url::Url::parse(output) {
            let redirect_scheme = url::Url::parse(&request.redirect_uri)
                .is_ok_and(|redirect| redirect.scheme() == url.scheme());
            if matches!(url.scheme(), "http" | "https") || redirect_scheme {
                let mut params: Vec<(String, String)> = url.query_pairs().into_owned().collect();
                if let Some(fragment) = url.fragment() {
                    params.extend(form_urlencoded::parse(fragment.as_bytes()).into_owned());
                }
                return Self::from_params(params, request);
            }
        }
        Ok(Self {
            params: vec![(request.wants().to_owned(), output.to_owned())],
            bare: true,
        })
    }
}

/// Where sign-ins come from.
pub(super) enum Source {
    /// The user's commands, each run once per sign-in.
    Commands {
        code: Option<String>,
        token: Option<String>,
        timeout: Duration,
    },
    /// A person in a browser.
    Browser(Loopback),
}

impl Source {
    /// Whether this source can get a code (`implicit` false) or an ID token.
    pub(super) fn offers(&self, implicit: bool) -> bool {
        match self {
            Self::Commands { code, token, .. } => {
                if implicit {
                    token.is_some()
                } else {
                    code.is_some()
                }
            }
            Self::Browser(browser) => {
                if implicit {
                    browser.implicit
                } else {
                    browser.code
                }
            }
        }
    }

    /// The redirect URI requests must name.
    pub(super) fn redirect_uri<'a>(&'a self, configured: &'a str) -> &'a str {
        match self {
            Self::Commands { .. } => configured,
            Self::Browser(browser) => &browser.redirect_uri,
        }
    }

    /// Completes one authorization request.
    pub(super) async fn obtain(&mut self, request: &Request) -> Result<Returned, Failed> {
        match self {
            Self::Commands {
                code,
                token,
                timeout,
            } => {
                let command = if request.implicit { token } else { code };
                let command = command
                    .as_deref()
                    .ok_or_else(|| Failed::NoAnswer("no command".to_owned()))?;
                let output = run_command(command, request, *timeout)
                    .await
                    .map_err(Failed::NoAnswer)?;
                Returned::from_output(&output, request)
            }
            Self::Browser(browser) => browser.obtain(request).await,
        }
    }

    /// Tells the browser, if any, that nothing more is needed.
    pub(super) async fn finish(&mut self) {
        if let Self::Browser(browser) = self {
            browser.finish().await;
        }
    }
}

/// Writes a line for the person on standard error. Unlike `eprintln!` it never panics: with
/// stderr closed (or its descriptor reused by a socket) the line is lost and the report is
/// still written.
fn say(line: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Runs `command` with the request in its environment; returns its trimmed standard output,
/// which must be one line.
/// Its standard error passes through as it comes, so a prompt reaches the person; the last
/// line is kept for the error message. After `timeout` the command's process group is stopped.
async fn run_command(
    command: &str,
    request: &Request,
    timeout: Duration,
) -> Result<String, String> {
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .env("OIDC_HARNESS_AUTH_URL", request.url.as_str())
        .env("OIDC_HARNESS_STATE", &request.state)
        .env("OIDC_HARNESS_NONCE", &request.nonce)
        .env("OIDC_HARNESS_REDIRECT_URI", &request.redirect_uri)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("`{command}`: {e}"))?;
    let last_line = Arc::new(Mutex::new(String::new()));
    let forward = child.stderr.take().map(|stderr| {
        let last_line = Arc::clone(&last_line);
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                say(format_args!("{line}"));
                let line = super::printable(&line);
                if !line.is_empty() {
                    *last_line.lock().unwrap_or_else(|p| p.into_inner()) = line;
                }
            }
        })
    });
    let mut stdout = child.stdout.take();
    let pid = child.id();
    let finished = tokio::time::timeout(timeout, async {
        let mut out = String::new();
        if let Some(stdout) = stdout.as_mut() {
            stdout
                .read_to_string(&mut out)
                .await
                .map_err(|e| format!("`{command}`: reading its output: {e}"))?;
        }
        let status = child
            .wait()
            .await
            .map_err(|e| format!("`{command}`: {e}"))?;
        Ok::<_, String>((out, status))
    })
    .await;
    let Ok(finished) = finished else {
        if let Some(pid) = pid {
            // The whole group: `sh` and whatever it started (curl, a browser helper).
            let _ = tokio::process::Command::new("kill")
                .args(["-TERM", "--", &format!("-{pid}")])
                .stderr(Stdio::null())
                .status()
                .await;
        }
        return Err(format!(
            "`{command}` did not finish within {} s (--command-timeout) and was stopped",
            timeout.as_secs()
        ));
    };
    let (out, status) = finished?;
    if let Some(forward) = forward {
        let _ = forward.await;
    }
    if !status.success() {
        let last = last_line.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let code = status
            .code()
            .map_or_else(|| "a signal".to_owned(), |c| format!("status {c}"));
        return Err(if last.is_empty() {
            format!("`{command}` exited with {code} and printed nothing on stderr")
        } else {
            format!("`{command}` exited with {code}: {last}")
        });
    }
    let text = out.trim();
    if text.is_empty() {
        return Err(format!(
            "`{command}` printed nothing; it must print the {} or the whole redirect URL",
            request.wants()
        ));
    }
    // A second line would be read into the answer (a URL parser drops the line break, so it
    // lands in the last parameter, `state` with some providers): the command's mistake, not
    // the provider's.
    let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
    if lines > 1 {
        return Err(format!(
            "`{command}` printed {lines} lines; print only the redirect URL, or the bare code \
             or ID token"
        ));
    }
    Ok(text.to_owned())
}

/// What the listener hands over, and how it answers the browser once `check` has decided.
struct Arrival {
    params: Vec<(String, String)>,
    reply: oneshot::Sender<Next>,
}

/// What the browser is told after a sign-in came back.
enum Next {
    /// Go on to the next authorization request.
    Go(String),
    /// Nothing more: a page saying so.
    Done,
    /// This answer came after `check` had asked again: a page pointing to the newer URL.
    Late,
}

/// How long a follow-up sign-in without a page (`prompt=none`) may take before the person is
/// asked to sign in again. A silent answer comes in a second or two; a provider that answers
/// `prompt=none` with a page of its own (an error page, say) sends nothing back at all.
const SILENT_WAIT: Duration = Duration::from_secs(10);

/// A listener on `http://127.0.0.1:<port>/callback`. The first sign-in's URL is printed (and
/// opened where a browser is available); each later one is where the browser is sent after the
/// previous answer arrived, so one sign-in at the provider carries the browser through every
/// request `check` needs.
pub(super) struct Loopback {
    pub(super) redirect_uri: String,
    code: bool,
    implicit: bool,
    arrivals: mpsc::Receiver<Arrival>,
    pending: Option<oneshot::Sender<Next>>,
    timeout: Duration,
    open: bool,
    /// Follow-ups are tried without a page (`prompt=none`) until one goes unanswered.
    silent: bool,
    /// The `state` of every request already answered: a late answer to one of them is not
    /// taken for the current request's.
    answered: Vec<String>,
    server: tokio::task::JoinHandle<()>,
}

impl Loopback {
    /// Listens on 127.0.0.1:`port` (0: any free port).
    pub(super) async fn bind(
        port: u16,
        code: bool,
        implicit: bool,
        timeout: Duration,
        open: bool,
    ) -> Result<Self, String> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| format!("listening on 127.0.0.1:{port}: {e}"))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let (sender, arrivals) = mpsc::channel(4);
        let app = Router::new()
            .route("/callback", get(callback).post(callback_post))
            .layer(tower_http::limit::RequestBodyLimitLayer::new(64 * 1024))
            .with_state(sender);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            redirect_uri: format!("http://127.0.0.1:{port}/callback"),
            code,
            implicit,
            arrivals,
            pending: None,
            timeout,
            open,
            silent: true,
            answered: Vec::new(),
            server,
        })
    }

    async fn obtain(&mut self, request: &Request) -> Result<Returned, Failed> {
        // After the first sign-in the browser has a session at the provider: ask without any
        // page (`prompt=none`), and show the page again only if the provider needs it.
        let mut silent = false;
        match self.pending.take() {
            Some(reply) if self.silent => {
                silent = true;
                let mut url = request.url.clone();
                url.query_pairs_mut().append_pair("prompt", "none");
                let _ = reply.send(Next::Go(url.to_string()));
            }
            Some(reply) => {
                let _ = reply.send(Next::Go(request.url.to_string()));
            }
            None => self.invite("Sign in at the provider", request),
        }
        loop {
            let wait = if silent {
                SILENT_WAIT.min(self.timeout)
            } else {
                self.timeout
            };
            let arrival = match tokio::time::timeout(wait, self.arrivals.recv()).await {
                Ok(Some(arrival)) => arrival,
                Ok(None) => return Err(Failed::NoAnswer("the loopback listener stopped".into())),
                Err(_) if silent => {
                    // The browser is on a page of the provider's and cannot be sent on: ask
                    // the person, and ask every later request with a page too.
                    silent = false;
                    self.silent = false;
                    self.invite(
                        &format!(
                            "The provider sent nothing back within {} s for a sign-in without \
                             a page (prompt=none); it may have shown an error page. Sign in \
                             again",
                            wait.as_secs()
                        ),
                        request,
                    );
                    continue;
                }
                Err(_) => {
                    return Err(Failed::NoAnswer(format!(
                        "no {} came back to {} within {} s (--command-timeout): sign in at the \
                         URL printed above, with {} registered as a redirect URI for this client",
                        request.wants(),
                        self.redirect_uri,
                        self.timeout.as_secs(),
                        self.redirect_uri
                    )))
                }
            };
            let state = arrival.params.iter().find(|(k, _)| k == "state");
            if state.is_some_and(|(_, s)| *s != request.state && self.answered.contains(s)) {
                let _ = arrival.reply.send(Next::Late);
                continue;
            }
            // Any error to a request without a page (login_required, interaction_required, or
            // a provider that does not take prompt=none at all) is asked again with one: the
            // silent try is ours, not what is being checked.
            if silent && arrival.params.iter().any(|(k, _)| k == "error") {
                silent = false;
                let _ = arrival.reply.send(Next::Go(request.url.to_string()));
                continue;
            }
            self.pending = Some(arrival.reply);
            self.answered.push(request.state.clone());
            return Returned::from_params(arrival.params, request);
        }
    }

    /// Prints the request's URL for the person (and opens it where a browser is available).
    fn invite(&self, what: &str, request: &Request) {
        say(format_args!(
            "{what}; the answer comes back to {}:\n\n  {}\n",
            self.redirect_uri, request.url
        ));
        if self.open {
            open_browser(request.url.as_str());
        }
    }

    async fn finish(&mut self) {
        if let Some(reply) = self.pending.take() {
            let _ = reply.send(Next::Done);
            // Time for the last page to reach the browser before the process ends.
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
}

impl Drop for Loopback {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Opens `url` in the person's browser: `$BROWSER`, else the desktop's opener where there is a
/// desktop. Failing to open is not an error: the URL is printed.
fn open_browser(url: &str) {
    let opener = std::env::var("BROWSER").ok().or_else(|| {
        if cfg!(target_os = "macos") {
            Some("open".to_owned())
        } else if std::env::var_os("DISPLAY").is_some()
            || std::env::var_os("WAYLAND_DISPLAY").is_some()
        {
            Some("xdg-open".to_owned())
        } else {
            None
        }
    });
    if let Some(opener) = opener {
        let _ = std::process::Command::new(opener)
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
    }
}

/// The Implicit Flow's answer is in the fragment, which never reaches a server: this page posts
/// it back. No outside script, no inline data from the request.
const FRAGMENT_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>oidc-harness check</title></head>
<body><p id="message">Passing the sign-in to oidc-harness…</p>
<form id="form" method="post" action="/callback"><input type="hidden" name="fragment" id="fragment"></form>
<script>
const fragment = location.hash.slice(1);
if (fragment) {
  document.getElementById("fragment").value = fragment;
  history.replaceState(null, "", "/callback");
  document.getElementById("form").submit();
} else {
  document.getElementById("message").textContent =
    "Nothing came back from the provider: no query and no fragment.";
}
</script></body></html>
"#;

const LATE_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>oidc-harness check</title></head>
<body><p id="late">This sign-in came back after oidc-harness had asked again: use the URL it printed last. You can close this tab.</p></body></html>
"#;

const DONE_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>oidc-harness check</title></head>
<body><p id="done">oidc-harness has what it needs; the report is in the terminal. You can close this tab.</p></body></html>
"#;

async fn callback(
    State(sender): State<mpsc::Sender<Arrival>>,
    RawQuery(query): RawQuery,
) -> Response {
    match query.filter(|q| !q.is_empty()) {
        None => Html(FRAGMENT_PAGE).into_response(),
        Some(query) => arrive(&sender, form_urlencoded::parse(query.as_bytes())).await,
    }
}

async fn callback_post(State(sender): State<mpsc::Sender<Arrival>>, body: String) -> Response {
    let fragment = form_urlencoded::parse(body.as_bytes())
        .find(|(k, _)| k == "fragment")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    arrive(&sender, form_urlencoded::parse(fragment.as_bytes())).await
}

async fn arrive(sender: &mpsc::Sender<Arrival>, params: form_urlencoded::Parse<'_>) -> Response {
    let params = params.into_owned().collect();
    let (reply, next) = oneshot::channel();
    if sender.send(Arrival { params, reply }).await.is_err() {
        return Html(DONE_PAGE).into_response();
    }
    match next.await {
        Ok(Next::Go(url)) => (StatusCode::SEE_OTHER, [(header::LOCATION, url)]).into_response(),
        Ok(Next::Late) => Html(LATE_PAGE).into_response(),
        Ok(Next::Done) | Err(_) => Html(DONE_PAGE).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(implicit: bool) -> Request {
        Request::new(
            &"https://idp.example/auth".parse().unwrap(),
            "c",
            "https://liveperson.net",
            "openid",
            implicit,
            true,
        )
    }

    #[test]
    fn a_bare_value_is_taken_exactly_as_printed() {
        let r = request(false);
        let returned = Returned::from_output("4/0Ab+c%2Fd&e=f", &r).unwrap();
        assert!(returned.bare);
        assert_eq!(returned.get("code"), Some("4/0Ab+c%2Fd&e=f"));
    }

    #[test]
    fn a_redirect_url_is_read_as_one() {
        let r = request(false);
        let returned =
            Returned::from_output("https://liveperson.net/?state=a%2Bb&code=4%2F0A%2Bx", &r)
                .unwrap();
        assert!(!returned.bare);
        assert_eq!(returned.get("code"), Some("4/0A+x"));
        assert_eq!(returned.get("state"), Some("a+b"));
        let r = request(true);
        let returned =
            Returned::from_output("https://liveperson.net/#id_token=a.b.c&state=s", &r).unwrap();
        assert_eq!(returned.get("id_token"), Some("a.b.c"));
        let refused = |output: &str| match Returned::from_output(output, &r) {
            Err(Failed::Refused(refusal)) => refusal,
            other => panic!("{other:?}"),
        };
        let refusal = refused("https://liveperson.net/?error=access_denied&error_description=no");
        assert_eq!(refusal.why, "the provider answered error=access_denied: no");
        assert_eq!(refusal.error.as_deref(), Some("access_denied"));
        // The provider's words are quoted on one line, without its control characters.
        let refusal = refused(
            "https://liveperson.net/?error=access_denied&error_description=no%09way%1B%5B0m%0D",
        );
        assert_eq!(
            refusal.why,
            "the provider answered error=access_denied: no way"
        );
        // What came back is kept: its state is compared too.
        let refusal = refused("https://liveperson.net/?state=s");
        assert_eq!(
            refusal.why,
            "the redirect carries no id_token (it has: state)"
        );
        assert_eq!(refusal.error, None);
        assert_eq!(refusal.returned.get("state"), Some("s"));
        assert_eq!(refusal.request.state, r.state);
    }

    #[test]
    fn an_apps_redirect_url_is_read_as_one() {
        let r = Request::new(
            &"https://idp.example/auth".parse().unwrap(),
            "c",
            "com.example.app:/oauth2redirect",
            "openid",
            false,
            false,
        );
        let returned = Returned::from_output(
            "com.example.app:/oauth2redirect?state=a%2Bb&code=4%2F0A",
            &r,
        )
        .unwrap();
        assert!(!returned.bare);
        assert_eq!(returned.get("code"), Some("4/0A"));
        assert_eq!(returned.get("state"), Some("a+b"));
        let returned =
            Returned::from_output("com.example.app://oauth2redirect/?code=4%2F0B", &r).unwrap();
        assert_eq!(returned.get("code"), Some("4/0B"));
        // Another scheme than the redirect URI's is a bare value.
        let returned = Returned::from_output("urn:x:4%2F0A", &r).unwrap();
        assert!(returned.bare);
        assert_eq!(returned.get("code"), Some("urn:x:4%2F0A"));
    }

    #[test]
    fn a_request_carries_state_nonce_and_an_s256_challenge() {
        let r = request(false);
        let params: std::collections::HashMap<_, _> = r.url.query_pairs().into_owned().collect();
        assert_eq!(params["state"], r.state);
        assert!(r.state.ends_with("~+/="));
        assert_eq!(params["nonce"], r.nonce);
        assert_eq!(params["code_challenge_method"], "S256");
        assert_eq!(params["response_type"], "code");
        assert_eq!(params["code_challenge"].len(), 43);
        let r = request(true);
        let params: std::collections::HashMap<_, _> = r.url.query_pairs().into_owned().collect();
        assert_eq!(params["response_type"], "id_token");
        assert!(!params.contains_key("code_challenge"));
    }

    /// The browser's side of the loopback: one callback, its answer not followed.
    async fn arrive_at(
        http: &reqwest::Client,
        loopback: &str,
        query: String,
    ) -> tokio::task::JoinHandle<(u16, String)> {
        let (http, url) = (http.clone(), format!("{loopback}?{query}"));
        let task = tokio::spawn(async move {
            let answer = http.get(url).send().await.unwrap();
            let status = answer.status().as_u16();
            let location = answer
                .headers()
                .get(header::LOCATION)
                .map(|l| l.to_str().unwrap().to_owned());
            (status, location.unwrap_or(answer.text().await.unwrap()))
        });
        // The callback is waiting on check once it is in the channel.
        tokio::time::sleep(Duration::from_millis(100)).await;
        task
    }

    fn answer(state: &str, param: &str) -> String {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("state", state)
            .append_pair(param, "x")
            .finish()
    }

    /// A follow-up is tried without a page; an error to it, from a provider that does not take
    /// `prompt=none`, asks again with the page; a late answer to an earlier request is not
    /// taken for the current one; a silent try that goes unanswered gives up on silence.
    #[tokio::test]
    async fn the_loopback_asks_again_with_a_page_when_the_silent_try_fails() {
        let mut loopback = Loopback::bind(0, true, false, Duration::from_secs(1), false)
            .await
            .unwrap();
        let uri = loopback.redirect_uri.clone();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let (first, second) = (request(false), request(false));

        let browser = arrive_at(&http, &uri, answer(&first.state, "code")).await;
        assert!(loopback.obtain(&first).await.is_ok());

        let obtaining = loopback.obtain(&second);
        // It yields the browser's last callback, still waiting: the next request answers it.
        #[allow(clippy::async_yields_async)]
        let driving = async {
            let (status, location) = browser.await.unwrap();
            assert_eq!(status, 303);
            assert_eq!(location, format!("{}&prompt=none", second.url));
            let refused = arrive_at(&http, &uri, answer(&second.state, "error")).await;
            assert_eq!(refused.await.unwrap(), (303, second.url.to_string()));
            let late = arrive_at(&http, &uri, answer(&first.state, "code")).await;
            let (status, page) = late.await.unwrap();
            assert_eq!(status, 200);
            assert!(page.contains("id=\"late\""), "{page}");
            arrive_at(&http, &uri, answer(&second.state, "code")).await
        };
        let (got, browser) = tokio::join!(obtaining, driving);
        let got = got.unwrap();
        assert_eq!(got.get("state"), Some(second.state.as_str()));
        assert!(
            loopback.silent,
            "an error answer is not a silent try that went unanswered"
        );

        // Nobody answers: the silent try gives up (after the shorter of its wait and the
        // timeout), the URL is printed again, and then the whole timeout passes.
        let third = request(false);
        let started = std::time::Instant::now();
        let (got, browser) = tokio::join!(loopback.obtain(&third), browser);
        assert_eq!(
            browser.unwrap(),
            (303, format!("{}&prompt=none", third.url))
        );
        assert!(
            matches!(got, Err(Failed::NoAnswer(ref why)) if why.starts_with("no code came back to")),
            "{got:?}"
        );
        assert!(started.elapsed() >= Duration::from_secs(2));
        assert!(!loopback.silent);
    }
}
