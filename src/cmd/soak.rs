//! `oidc-harness bench --soak SECONDS`: a separate `serve` under mixed traffic for a while.
//! Every answer is checked (flows verified as the platform verifies them, refusals to the exact
//! status and body), and the server's memory and open descriptors at the end are held to what
//! they were after the warm-up.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use oidc_harness::claims::{ClientId, ClientSecret, Issuer, Nonce};
use oidc_harness::clock::{Clock as _, SystemClock};
use oidc_harness::verifier::{
    redirect_params, CodeRedemption, KeySource, Verifier, VerifierConfig, VerifyContext,
};
use reqwest::StatusCode;
use serde::Serialize;
use serde_json::{json, Value};

use super::bench::{read_listening, rss_mb};

/// The store cap the soak's `serve` runs with: small, so that the stores are full, and the
/// memory they take at its steady state, well inside the warm-up.
const MAX_STORE_ENTRIES: i64 = 1000;
/// The header-read timeout the soak's `serve` runs with, unless its config says otherwise.
const HEADER_READ_TIMEOUT_SECS: i64 = 2;
/// How much longer than the header-read timeout a half-sent request may stay open.
const SLOW_CLIENT_GRACE_SECS: f64 = 2.0;
/// The share of the run after which memory and descriptors are taken as the baseline.
const WARM_UP: f64 = 0.2;
/// Growth allowed after the warm-up: descriptors, and memory (the larger of the two).
const FD_MARGIN: usize = 16;
const RSS_MARGIN_SHARE: f64 = 0.25;
const RSS_MARGIN_MB: f64 = 16.0;
/// Wrong answers printed in full.
const SHOWN_WRONG: usize = 5;
/// The personas signed in as, each with its `sub`.
const PERSONAS: [&str; 2] = ["alice", "bob"];
/// The persona the admin traffic creates and deletes.
const TEMP_PERSONA: &str = "soak-temp";
const TEMP_SUB: &str = "100000000000000000777";
const CLIENT: &str = "demo-client";
const SECRET: &str = "demo-secret";
const REDIRECT: &str = "https://liveperson.net";

/// What `bench --soak` was asked.
pub(crate) struct SoakArgs {
    pub(crate) seconds: f64,
    pub(crate) clients: usize,
    pub(crate) report_every: Option<f64>,
    pub(crate) json: bool,
    pub(crate) serve_config: Option<PathBuf>,
}

pub(crate) fn soak(args: SoakArgs) -> anyhow::Result<ExitCode> {
    if !(args.seconds.is_finite() && args.seconds > 0.0) {
        anyhow::bail!("--soak {}: a positive number of seconds", args.seconds);
    }
    if args.clients == 0 {
        anyhow::bail!("--clients 0: the soak needs at least one client");
    }
    let report_every = args
        .report_every
        .unwrap_or(if args.seconds >= 600.0 { 60.0 } else { 10.0 });
    if !(report_every.is_finite() && report_every > 0.0) {
        anyhow::bail!("--report-every {report_every}: a positive number of seconds");
    }
    let config = serve_config(args.serve_config.as_deref())?;
    let server = Server::start(&config)?;
    if !args.json {
        out!(
            "soak: {} s, {} clients, serve (pid {}) at {}, header_read_timeout_secs {}, max_store_entries {}",
            args.seconds,
            args.clients,
            server.pid(),
            server.base,
            limit(&config, "header_read_timeout_secs", HEADER_READ_TIMEOUT_SECS),
            limit(&config, "max_store_entries", MAX_STORE_ENTRIES)
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let outcome = runtime.block_on(run(&args, report_every, &server, &config))?;
    drop(server);
    if args.json {
        out!("{}", serde_json::to_string_pretty(&outcome)?);
    } else {
        print_outcome(&outcome)?;
    }
    Ok(if outcome.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

// --- the server -------------------------------------------------------------------------------

/// The soak's `harness.toml`: a free loopback port, a small store cap and a short header-read
/// timeout, with `extra` (a config of the user's) laid over them.
fn serve_config(extra: Option<&Path>) -> anyhow::Result<toml::Table> {
    let mut config: toml::Table = toml::from_str(&format!(
        "[limits]\nmax_store_entries = {MAX_STORE_ENTRIES}\nheader_read_timeout_secs = {HEADER_READ_TIMEOUT_SECS}\n"
    ))?;
    if let Some(path) = extra {
        let theirs: toml::Table = toml::from_str(&super::read(path)?)
            .with_context(|| format!("--serve-config {}", path.display()))?;
        merge(&mut config, theirs);
    }
    if config.get("tls") == Some(&toml::Value::Boolean(false)) {
        anyhow::bail!("--serve-config: the soak runs over HTTPS; leave tls on");
    }
    Ok(config)
}

/// Lays `over` on `base`, table by table.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(mine)), toml::Value::Table(theirs)) => merge(mine, theirs),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// An integer of the config's `[limits]`, or `default`.
fn limit(config: &toml::Table, key: &str, default: i64) -> i64 {
    config
        .get("limits")
        .and_then(|l| l.get(key))
        .and_then(toml::Value::as_integer)
        .unwrap_or(default)
}

/// The soak's `serve`: a process of its own, with its own state folder; stopped when dropped.
struct Server {
    child: Child,
    dir: PathBuf,
    base: String,
    ca: String,
    admin_token: String,
}

impl Server {
    fn start(config: &toml::Table) -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!("oidc-harness-soak-{}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("{}", dir.display()))?;
        let toml_path = dir.join("harness.toml");
        std::fs::write(&toml_path, toml::to_string(config)?)?;
        let log_path = dir.join("serve.log");
        let admin_token = format!("soak-{:032x}", rand::random::<u128>());
        let child = std::process::Command::new(std::env::current_exe()?)
            .arg("serve")
            .arg("--config")
            .arg(&toml_path)
            .args(["--addr", "127.0.0.1:0", "--admin-token", &admin_token])
            .arg("--state-dir")
            .arg(&dir)
            // Where the soak reaches it is where it listens.
            .env_remove("OIDC_HARNESS_PUBLIC_URL")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log_path)?)
            .spawn()
            .context("cannot start serve")?;
        let mut server = Self {
            child,
            dir,
            base: String::new(),
            ca: String::new(),
            admin_token,
        };
        match read_listening(&mut server.child) {
            Ok(base) => server.base = base,
            Err(_) => {
                let _ = server.child.wait();
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                let last = log.lines().last().unwrap_or("no output");
                anyhow::bail!("serve did not start: {last}");
            }
        }
        server.ca = std::fs::read_to_string(server.dir.join("ca.pem"))?;
        Ok(server)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The server's resident memory and open descriptors now.
#[derive(Debug, Clone, Copy, Serialize)]
struct Sample {
    at_secs: f64,
    rss_mb: f64,
    fds: usize,
}

fn sample(pid: u32, started: Instant) -> Option<Sample> {
    Some(Sample {
        at_secs: round(started.elapsed().as_secs_f64()),
        rss_mb: round(rss_mb(pid)?),
        fds: std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count(),
    })
}

fn round(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

// --- the run ----------------------------------------------------------------------------------

/// Counts of what was checked, and every wrong answer.
#[derive(Default)]
struct Tally {
    code: AtomicU64,
    implicit: AtomicU64,
    hostile: AtomicU64,
    admin: AtomicU64,
    rotations: AtomicU64,
    slow: AtomicU64,
    slow_max_open_ms: AtomicU64,
    wrong: AtomicU64,
    shown: Mutex<Vec<String>>,
}

impl Tally {
    /// Counts `result` under `counter` when it is right, as a wrong answer otherwise.
    fn check(&self, counter: &AtomicU64, result: Result<(), String>) {
        match result {
            Ok(()) => {
                counter.fetch_add(1, Relaxed);
            }
            Err(wrong) => self.wrong(wrong),
        }
    }

    fn wrong(&self, what: String) {
        self.wrong.fetch_add(1, Relaxed);
        let mut shown = self.shown.lock().unwrap_or_else(|p| p.into_inner());
        if shown.len() < SHOWN_WRONG {
            shown.push(what);
        }
    }
}

/// Everything the clients share: where the provider is, how to reach and verify it.
struct Target {
    base: String,
    issuer: String,
    jwks_uri: String,
    http: reqwest::Client,
    verifier: Verifier,
    admin_token: String,
    max_body_bytes: usize,
    max_url_bytes: usize,
    subs: Vec<(&'static str, String)>,
    tally: Tally,
    deadline: Instant,
}

/// One report line.
#[derive(Debug, Serialize)]
struct Report {
    elapsed_secs: f64,
    code_flows: u64,
    implicit_flows: u64,
    hostile: u64,
    admin_changes: u64,
    rotations: u64,
    slow_clients: u64,
    wrong_answers: u64,
    rss_mb: Option<f64>,
    fds: Option<usize>,
    stores: Value,
}

/// The whole run, as `--json` prints it: the last report's counts and more.
#[derive(Debug, Serialize)]
struct Outcome {
    passed: bool,
    failures: Vec<String>,
    seconds: f64,
    clients: usize,
    #[serde(flatten)]
    last: Report,
    slow_client_max_open_secs: f64,
    header_read_timeout_secs: i64,
    slow_client_bound_secs: f64,
    max_store_entries: i64,
    wrong_answer_samples: Vec<String>,
    warmup: Option<Sample>,
    end: Option<Sample>,
    rss_limit_mb: Option<f64>,
    fds_limit: Option<usize>,
    reports: Vec<Report>,
}

async fn run(
    args: &SoakArgs,
    report_every: f64,
    server: &Server,
    config: &toml::Table,
) -> anyhow::Result<Outcome> {
    let target = Arc::new(connect(args, server, config).await?);
    let started = Instant::now();
    let header_timeout = limit(config, "header_read_timeout_secs", HEADER_READ_TIMEOUT_SECS);
    let bound = Duration::from_secs_f64(header_timeout as f64 + SLOW_CLIENT_GRACE_SECS);

    let mut tasks = Vec::new();
    for client in 0..args.clients {
        tasks.push(tokio::spawn(client_loop(Arc::clone(&target), client)));
    }
    tasks.push(tokio::spawn(admin_loop(Arc::clone(&target), args.seconds)));
    let slow = {
        let (target, addr) = (Arc::clone(&target), server.base.clone());
        let ca = server.ca.clone();
        tokio::task::spawn_blocking(move || slow_client_loop(&target, &addr, &ca, bound))
    };

    let pid = server.pid();
    let every = Duration::from_secs_f64(report_every);
    let warm_at = started + Duration::from_secs_f64(args.seconds * WARM_UP);
    let mut next_report = started + every;
    let (mut warmup, mut reports) = (None, Vec::new());
    loop {
        let mut wake = next_report.min(target.deadline);
        if warmup.is_none() {
            wake = wake.min(warm_at);
        }
        tokio::time::sleep_until(wake.into()).await;
        let now = Instant::now();
        if warmup.is_none() && now >= warm_at {
            warmup = sample(pid, started);
        }
        if now >= target.deadline {
            break;
        }
        if now >= next_report {
            let line = report(&target, pid, started).await;
            if !args.json {
                print_report(&line, reports.is_empty())?;
            }
            reports.push(line);
            next_report += every;
        }
    }
    // Taken while the clients are still at it, as the warm-up sample was.
    let end = sample(pid, started);
    for task in tasks {
        task.await?;
    }
    slow.await?;
    let last = report(&target, pid, started).await;
    if !args.json {
        print_report(&last, reports.is_empty())?;
    }
    let tally = &target.tally;
    let rss_limit =
        warmup.map(|w| round(w.rss_mb + (w.rss_mb * RSS_MARGIN_SHARE).max(RSS_MARGIN_MB)));
    let fds_limit = warmup.map(|w| w.fds + FD_MARGIN);
    let mut failures = Vec::new();
    let wrong = tally.wrong.load(Relaxed);
    if wrong > 0 {
        failures.push(format!("{wrong} wrong answers"));
    }
    match (end, rss_limit, fds_limit) {
        (Some(end), Some(rss_limit), Some(fds_limit)) => {
            if end.rss_mb > rss_limit {
                failures.push(format!(
                    "resident memory grew to {} MB, over the {rss_limit} MB allowed after the warm-up",
                    end.rss_mb
                ));
            }
            if end.fds > fds_limit {
                failures.push(format!(
                    "open descriptors grew to {}, over the {fds_limit} allowed after the warm-up",
                    end.fds
                ));
            }
        }
        _ => failures.push("the server's memory and descriptors could not be read".into()),
    }
    if last.code_flows == 0 || last.implicit_flows == 0 {
        failures.push("no flow of one kind completed".into());
    }
    let samples = tally
        .shown
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    Ok(Outcome {
        passed: failures.is_empty(),
        failures,
        seconds: args.seconds,
        clients: args.clients,
        slow_client_max_open_secs: round(tally.slow_max_open_ms.load(Relaxed) as f64 / 1000.0),
        header_read_timeout_secs: header_timeout,
        slow_client_bound_secs: bound.as_secs_f64(),
        max_store_entries: limit(config, "max_store_entries", MAX_STORE_ENTRIES),
        wrong_answer_samples: samples,
        warmup,
        end,
        rss_limit_mb: rss_limit,
        fds_limit,
        last,
        reports,
    })
}

/// Waits for the provider to answer discovery, and readies the clients' shared state.
async fn connect(args: &SoakArgs, server: &Server, config: &toml::Table) -> anyhow::Result<Target> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .add_root_certificate(reqwest::Certificate::from_pem(server.ca.as_bytes())?)
        .timeout(Duration::from_secs(10))
        // The server closes a kept-alive connection that sends no next request within its
        // header-read timeout: one idle for less than half that is never reused as it closes.
        .pool_idle_timeout(Duration::from_secs_f64(
            limit(config, "header_read_timeout_secs", HEADER_READ_TIMEOUT_SECS) as f64 / 2.0,
        ))
        .build()?;
    let discovery_url = format!("{}/.well-known/openid-configuration", server.base);
    let waited = Instant::now();
    let discovery: Value = loop {
        match http.get(&discovery_url).send().await {
            Ok(response) if response.status() == StatusCode::OK => break response.json().await?,
            _ if waited.elapsed() > Duration::from_secs(10) => {
                anyhow::bail!("serve at {} did not answer discovery in 10 s", server.base)
            }
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    };
    let member = |name: &str| {
        discovery[name]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("discovery has no {name}"))
    };
    let (issuer, jwks_uri, token_endpoint) = (
        member("issuer")?,
        member("jwks_uri")?,
        member("token_endpoint")?,
    );
    let mut verifier =
        VerifierConfig::new(Issuer::new(&issuer), KeySource::JwksUrl(jwks_uri.parse()?))
            .token_endpoint(
                token_endpoint.parse()?,
                ClientId::new(CLIENT),
                ClientSecret::new(SECRET),
            )
            .extra_root_pem(server.ca.as_str());
    // Rotations come as often as every 2 s, and the interval is counted in whole seconds, so
    // two of them can fall in one: a token naming a kid the cached JWKS lacks must cause a
    // refetch every time (the platform's default waits 30 s between them). Only a rotation
    // makes a kid unknown here, so this costs one fetch per rotation.
    verifier.jwks_refetch_interval_secs = 0;
    let personas = oidc_harness::claims::fixture_personas();
    let subs = PERSONAS
        .iter()
        .map(|id| {
            let persona = personas.find(id).with_context(|| format!("persona {id}"))?;
            anyhow::Ok((*id, persona.sub.as_str().to_owned()))
        })
        .collect::<anyhow::Result<_>>()?;
    let size = |key, default| usize::try_from(limit(config, key, default)).unwrap_or(0);
    Ok(Target {
        base: server.base.clone(),
        issuer,
        jwks_uri,
        http,
        verifier: Verifier::new(verifier)?,
        admin_token: server.admin_token.clone(),
        max_body_bytes: size("max_body_bytes", 65_536),
        max_url_bytes: size("max_url_bytes", 16_384),
        subs,
        tally: Tally::default(),
        deadline: Instant::now() + Duration::from_secs_f64(args.seconds),
    })
}

/// The counts now, the server's memory, descriptors and store sizes.
async fn report(target: &Target, pid: u32, started: Instant) -> Report {
    let stores = match target.admin(reqwest::Method::GET, "state", None).await {
        Ok((StatusCode::OK, state)) => state["stores"].clone(),
        _ => Value::Null,
    };
    let now = sample(pid, started);
    let t = &target.tally;
    Report {
        elapsed_secs: round(started.elapsed().as_secs_f64()),
        code_flows: t.code.load(Relaxed),
        implicit_flows: t.implicit.load(Relaxed),
        hostile: t.hostile.load(Relaxed),
        admin_changes: t.admin.load(Relaxed),
        rotations: t.rotations.load(Relaxed),
        slow_clients: t.slow.load(Relaxed),
        wrong_answers: t.wrong.load(Relaxed),
        rss_mb: now.map(|s| s.rss_mb),
        fds: now.map(|s| s.fds),
        stores,
    }
}

// --- what each client does ----------------------------------------------------------------------

/// Two code flows, one implicit flow and one hostile request in turn, until the deadline.
async fn client_loop(target: Arc<Target>, client: usize) {
    let t = &target.tally;
    let mut round = 0usize;
    while Instant::now() < target.deadline {
        let (persona, sub) = &target.subs[(client + round) % target.subs.len()];
        let nonce = format!("soak-{client}-{round}");
        match round % 4 {
            0 | 1 => t.check(&t.code, target.code_flow(persona, sub, &nonce).await),
            2 => t.check(
                &t.implicit,
                target.implicit_flow(persona, sub, &nonce).await,
            ),
            _ => {
                let kind = (round / 4 + client) % HOSTILE_KINDS;
                t.check(&t.hostile, target.hostile(kind).await);
            }
        }
        round += 1;
    }
}

/// An exact expected answer: status and JSON body.
fn expect(what: &str, got: (StatusCode, Value), status: u16, body: Value) -> Result<(), String> {
    if got.0.as_u16() == status && got.1 == body {
        Ok(())
    } else {
        Err(format!(
            "{what}: expected {status} {body}, got {} {}",
            got.0.as_u16(),
            got.1
        ))
    }
}

fn oauth_error(error: &str, description: &str) -> Value {
    json!({"error": error, "error_description": description})
}

const HOSTILE_KINDS: usize = 9;

impl Target {
    fn auth_url(&self, response_type: &str, persona: &str, nonce: &str) -> String {
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("client_id", CLIENT),
                ("redirect_uri", REDIRECT),
                ("response_type", response_type),
                ("scope", "openid email profile"),
                ("state", nonce),
                ("nonce", nonce),
                ("login_hint", persona),
                ("prompt", "none"),
            ])
            .finish();
        format!("{}/o/oauth2/v2/auth?{query}", self.base)
    }

    /// Signs `persona` in without a page; the redirect's parameters, its `state` checked.
    async fn authorize(
        &self,
        response_type: &str,
        persona: &str,
        nonce: &str,
    ) -> Result<std::collections::HashMap<String, String>, String> {
        let what = format!("authorize ({response_type}, {persona})");
        let response = self
            .http
            .get(self.auth_url(response_type, persona, nonce))
            .send()
            .await
            .map_err(|e| format!("{what}: {e}"))?;
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        if response.status() != StatusCode::FOUND || !location.starts_with(REDIRECT) {
            return Err(format!(
                "{what}: expected 302 to {REDIRECT}, got {} Location {location:?}",
                response.status().as_u16()
            ));
        }
        let params = redirect_params(&location);
        if params.get("state").map(String::as_str) != Some(nonce) {
            return Err(format!("{what}: state is not {nonce:?} in {location}"));
        }
        Ok(params)
    }

    /// A code, for requests that redeem it themselves.
    async fn code(&self, persona: &str, nonce: &str) -> Result<String, String> {
        let mut params = self.authorize("code", persona, nonce).await?;
        params
            .remove("code")
            .ok_or_else(|| format!("authorize (code, {persona}): no code: {params:?}"))
    }

    /// The Code Flow end to end, as the platform runs it: the code redeemed at the token
    /// endpoint, the ID token verified against the JWKS, its claims checked.
    async fn code_flow(&self, persona: &str, sub: &str, nonce: &str) -> Result<(), String> {
        let code = self.code(persona, nonce).await?;
        let tokens = self
            .verifier
            .redeem(&CodeRedemption {
                code,
                ..CodeRedemption::default()
            })
            .await
            .map_err(|r| format!("code flow ({persona}): redemption refused: {r}"))?;
        let ctx = VerifyContext {
            nonce: Some(Nonce::new(nonce)),
            access_token: tokens.access_token.clone(),
            ..VerifyContext::at(SystemClock.now())
        };
        self.verified(
            &format!("code flow ({persona})"),
            &tokens.id_token,
            &ctx,
            sub,
            nonce,
        )
        .await
    }

    /// The Implicit Flow: the ID token from the redirect's fragment, verified the same way.
    async fn implicit_flow(&self, persona: &str, sub: &str, nonce: &str) -> Result<(), String> {
        let what = format!("implicit flow ({persona})");
        let mut params = self.authorize("id_token", persona, nonce).await?;
        let token = params
            .remove("id_token")
            .ok_or_else(|| format!("{what}: no id_token: {params:?}"))?;
        let ctx = VerifyContext {
            nonce: Some(Nonce::new(nonce)),
            front_channel: true,
            ..VerifyContext::at(SystemClock.now())
        };
        self.verified(&what, &token, &ctx, sub, nonce).await
    }

    /// Verifies `token` with the verifier and reads its claims on their own: iss, aud, nonce
    /// and sub must be what this sign-in asked for.
    async fn verified(
        &self,
        what: &str,
        token: &str,
        ctx: &VerifyContext,
        sub: &str,
        nonce: &str,
    ) -> Result<(), String> {
        let consumer = self
            .verifier
            .verify(token, ctx)
            .await
            .map_err(|r| format!("{what}: ID token refused: {r}"))?;
        let claims = token
            .split('.')
            .nth(1)
            .and_then(|payload| URL_SAFE_NO_PAD.decode(payload).ok())
            .and_then(|json| serde_json::from_slice::<Value>(&json).ok())
            .ok_or_else(|| format!("{what}: the ID token's payload is not JSON"))?;
        let expected = [
            ("iss", self.issuer.as_str()),
            ("aud", CLIENT),
            ("nonce", nonce),
            ("sub", sub),
        ];
        for (claim, value) in expected {
            if claims[claim] != value {
                return Err(format!(
                    "{what}: {claim} is {}, expected {value:?}",
                    claims[claim]
                ));
            }
        }
        if consumer.sub().as_str() != sub {
            return Err(format!(
                "{what}: the verifier's sub is {}",
                consumer.sub().as_str()
            ));
        }
        Ok(())
    }

    /// A token-endpoint request with a form body, Basic credentials `secret` (none: none).
    async fn post_token(
        &self,
        secret: Option<&str>,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Result<(StatusCode, Value, reqwest::header::HeaderMap), String> {
        let mut request = self
            .http
            .post(format!("{}/token", self.base))
            .header("content-type", content_type)
            .body(body);
        if let Some(secret) = secret {
            request = request.basic_auth(CLIENT, Some(secret));
        }
        let response = request
            .send()
            .await
            .map_err(|e| format!("POST /token: {e}"))?;
        let (status, headers) = (response.status(), response.headers().clone());
        let text = response
            .text()
            .await
            .map_err(|e| format!("POST /token: {e}"))?;
        Ok((status, json_or_text(&text), headers))
    }

    /// Redeems `code` by hand: the status and body.
    async fn redeem_raw(&self, code: &str, secret: &str) -> Result<(StatusCode, Value), String> {
        let form = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
            ])
            .finish();
        let (status, body, _) = self
            .post_token(Some(secret), "application/x-www-form-urlencoded", form)
            .await?;
        Ok((status, body))
    }

    /// One of the requests a provider must refuse, each with the exact answer this one gives.
    async fn hostile(&self, kind: usize) -> Result<(), String> {
        let nonce = format!("soak-hostile-{kind}");
        match kind {
            0 => {
                let code = self.code("alice", &nonce).await?;
                let first = self.redeem_raw(&code, SECRET).await?;
                if first.0 != StatusCode::OK || !first.1["id_token"].is_string() {
                    return Err(format!("first redemption: {} {}", first.0, first.1));
                }
                let again = self.redeem_raw(&code, SECRET).await?;
                expect(
                    "a reused code",
                    again,
                    400,
                    oauth_error("invalid_grant", "Bad Request"),
                )
            }
            1 => {
                let code = self.code("bob", &nonce).await?;
                let form = format!(
                    "grant_type=authorization_code&code={}&redirect_uri={REDIRECT}",
                    form_urlencoded::byte_serialize(code.as_bytes()).collect::<String>()
                );
                let (status, body, headers) = self
                    .post_token(Some("wrong"), "application/x-www-form-urlencoded", form)
                    .await?;
                expect(
                    "a wrong client secret",
                    (status, body),
                    401,
                    oauth_error("invalid_client", "Unauthorized"),
                )?;
                let challenge = headers
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok());
                if challenge != Some(r#"Basic realm="oidc-harness""#) {
                    return Err(format!(
                        "a wrong client secret: WWW-Authenticate {challenge:?}"
                    ));
                }
                // A failed client authentication does not burn the code.
                let (status, body) = self.redeem_raw(&code, SECRET).await?;
                if status != StatusCode::OK || !body["id_token"].is_string() {
                    return Err(format!("the code after a wrong secret: {status} {body}"));
                }
                Ok(())
            }
            2 => {
                let big = "a".repeat(self.max_body_bytes + 1);
                let (status, body, _) = self
                    .post_token(None, "application/x-www-form-urlencoded", big)
                    .await?;
                expect(
                    "an oversize body",
                    (status, body),
                    413,
                    oauth_error("invalid_request", "Request body too large"),
                )
            }
            3 => {
                let got = self
                    .get(&format!("{}/soak/no-such-endpoint", self.base))
                    .await?;
                expect("an unknown endpoint", got, 404, json!("Not Found"))
            }
            4 => {
                let (status, body, _) = self
                    .post_token(Some(SECRET), "application/json", "{not json")
                    .await?;
                expect(
                    "malformed JSON",
                    (status, body),
                    400,
                    oauth_error("invalid_request", "Invalid JSON payload received."),
                )
            }
            5 => {
                let (status, body, _) = self
                    .post_token(
                        Some(SECRET),
                        "application/x-www-form-urlencoded",
                        "grant_type=a&grant_type=b",
                    )
                    .await?;
                expect(
                    "a repeated form parameter",
                    (status, body),
                    400,
                    oauth_error("invalid_request", "A parameter was repeated."),
                )
            }
            6 => {
                let got = self.redeem_raw("4/0Asoak-unknown-code", SECRET).await?;
                expect(
                    "an unknown code",
                    got,
                    400,
                    oauth_error("invalid_grant", "Bad Request"),
                )
            }
            7 => {
                let got = self.get(&format!("{}/_harness/state", self.base)).await?;
                expect(
                    "the admin API without its token",
                    got,
                    401,
                    json!({"error": "unauthorized", "error_description": "The admin API needs Authorization: Bearer <the token serve was given>."}),
                )
            }
            _ => {
                let long = "x".repeat(self.max_url_bytes + 1);
                let got = self.get(&format!("{}/?q={long}", self.base)).await?;
                expect(
                    "an overlong URL",
                    got,
                    414,
                    oauth_error("invalid_request", "Request URI too long"),
                )
            }
        }
    }

    async fn get(&self, url: &str) -> Result<(StatusCode, Value), String> {
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| format!("GET: {e}"))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| format!("GET: {e}"))?;
        Ok((status, json_or_text(&text)))
    }

    /// An admin API call with the token.
    async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(StatusCode, Value), String> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}/_harness/{path}", self.base))
            .bearer_auth(&self.admin_token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let what = format!("{method} /_harness/{path}");
        let response = request.send().await.map_err(|e| format!("{what}: {e}"))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| format!("{what}: {e}"))?;
        Ok((status, json_or_text(&text)))
    }

    /// A persona created, signed in as, deleted, refused, and deleted again (404).
    async fn persona_change(&self) -> Result<(), String> {
        let path = format!("personas/{TEMP_PERSONA}");
        let persona = json!({"sub": TEMP_SUB, "name": "Soak Temp"});
        let (status, body) = self
            .admin(reqwest::Method::PUT, &path, Some(persona))
            .await?;
        if status != StatusCode::CREATED || body["id"] != TEMP_PERSONA {
            return Err(format!("PUT /_harness/{path}: {status} {body}"));
        }
        self.implicit_flow(TEMP_PERSONA, TEMP_SUB, "soak-admin")
            .await?;
        let (status, body) = self.admin(reqwest::Method::DELETE, &path, None).await?;
        expect("deleting a persona", (status, body), 204, json!(""))?;
        let params = self
            .authorize("id_token", TEMP_PERSONA, "soak-admin")
            .await?;
        if params.get("error").map(String::as_str) != Some("login_required") {
            return Err(format!("a deleted persona signed in: {params:?}"));
        }
        let again = self.admin(reqwest::Method::DELETE, &path, None).await?;
        expect(
            "deleting a deleted persona",
            again,
            404,
            json!({"error": "not_found", "error_description": format!("no persona {TEMP_PERSONA:?}")}),
        )
    }

    /// A fault set and taken back: discovery answers at its trailing-slash URL while it is set,
    /// not after. The faults in force before are put back as they were.
    async fn fault_toggle(&self) -> Result<(), String> {
        let (status, before) = self.admin(reqwest::Method::GET, "faults", None).await?;
        if status != StatusCode::OK {
            return Err(format!("GET /_harness/faults: {status} {before}"));
        }
        let lapse = json!("discovery-slash");
        let had = before["lapses"]
            .as_array()
            .is_some_and(|lapses| lapses.contains(&lapse));
        let mut with = before.clone();
        if let Some(lapses) = with["lapses"].as_array_mut() {
            lapses.push(lapse.clone());
        }
        let slash = format!("{}/.well-known/openid-configuration/", self.base);
        let (status, body) = self
            .admin(reqwest::Method::PUT, "faults", Some(with))
            .await?;
        if status != StatusCode::OK {
            return Err(format!("PUT /_harness/faults: {status} {body}"));
        }
        let (status, body) = self.get(&slash).await?;
        if status != StatusCode::OK || body["issuer"] != self.issuer.as_str() {
            return Err(format!("discovery with the slash lapse: {status} {body}"));
        }
        let (status, body) = self
            .admin(reqwest::Method::PUT, "faults", Some(before))
            .await?;
        if status != StatusCode::OK {
            return Err(format!("PUT /_harness/faults back: {status} {body}"));
        }
        if !had {
            let got = self.get(&slash).await?;
            expect(
                "discovery's slash URL once the lapse is gone",
                got,
                404,
                json!(""),
            )?;
        }
        Ok(())
    }

    /// A new signing key: first in the rotation's answer and in the JWKS.
    async fn rotation(&self) -> Result<(), String> {
        let (status, body) = self
            .admin(reqwest::Method::POST, "keys/rotate", None)
            .await?;
        let kid = body["kid"].as_str().unwrap_or_default();
        if status != StatusCode::OK || kid.is_empty() || body["published"][0] != kid {
            return Err(format!("POST /_harness/keys/rotate: {status} {body}"));
        }
        let (status, jwks) = self.get(&self.jwks_uri).await?;
        if status != StatusCode::OK || jwks["keys"][0]["kid"] != kid {
            return Err(format!("the JWKS after rotating to {kid}: {status} {jwks}"));
        }
        Ok(())
    }
}

/// A body as JSON, or as a JSON string when it is not JSON (`"Not Found"`, `""`).
fn json_or_text(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

/// One admin change a second, a persona and a fault in turn, and a key rotation every
/// quarter of the run (every 2 to 30 seconds).
async fn admin_loop(target: Arc<Target>, seconds: f64) {
    let t = &target.tally;
    let rotate_every = Duration::from_secs_f64((seconds / 4.0).clamp(2.0, 30.0));
    let change_every = Duration::from_secs(1);
    let start = Instant::now();
    let (mut next_rotation, mut next_change) = (start + rotate_every, start + change_every);
    let mut changes = 0u64;
    loop {
        let wake = next_rotation.min(next_change);
        if wake >= target.deadline {
            return;
        }
        tokio::time::sleep_until(wake.into()).await;
        if Instant::now() >= next_rotation {
            t.check(&t.rotations, target.rotation().await);
            next_rotation += rotate_every;
        } else {
            let result = if changes % 2 == 0 {
                target.persona_change().await
            } else {
                target.fault_toggle().await
            };
            t.check(&t.admin, result);
            changes += 1;
            next_change += change_every;
        }
    }
}

// --- slow clients -------------------------------------------------------------------------------

/// One slow client after another until the deadline: each sends half a request head and
/// stops; the server must close the connection within `bound`.
fn slow_client_loop(target: &Target, base: &str, ca: &str, bound: Duration) {
    let t = &target.tally;
    let Some(addr) = base.strip_prefix("https://") else {
        t.wrong(format!("slow client: {base} is not https"));
        return;
    };
    while Instant::now() < target.deadline {
        match slow_client(addr, ca, bound) {
            Ok(open) => {
                t.slow_max_open_ms
                    .fetch_max(open.as_millis() as u64, Relaxed);
                t.slow.fetch_add(1, Relaxed);
            }
            Err(wrong) => t.wrong(wrong),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// How long the server kept a connection open that sent half a request head.
fn slow_client(addr: &str, ca: &str, bound: Duration) -> Result<Duration, String> {
    let fail = |e: &dyn std::fmt::Display| format!("slow client: {e}");
    let mut connector = openssl::ssl::SslConnector::builder(openssl::ssl::SslMethod::tls_client())
        .map_err(|e| fail(&e))?;
    let root = openssl::x509::X509::from_pem(ca.as_bytes()).map_err(|e| fail(&e))?;
    connector
        .cert_store_mut()
        .add_cert(root)
        .map_err(|e| fail(&e))?;
    let connector = connector.build();
    let tcp = std::net::TcpStream::connect(addr).map_err(|e| fail(&e))?;
    tcp.set_read_timeout(Some(bound + Duration::from_millis(500)))
        .map_err(|e| fail(&e))?;
    let host = addr.rsplit_once(':').map_or(addr, |(host, _)| host);
    let mut tls = connector.connect(host, tcp).map_err(|e| fail(&e))?;
    tls.write_all(b"GET /.well-known/openid-configuration HTTP/1.1\r\nHost: x\r\n")
        .map_err(|e| fail(&e))?;
    let sent = Instant::now();
    let mut buffer = [0u8; 4096];
    loop {
        match tls.read(&mut buffer) {
            // Whatever it says before closing (a 408, nothing), the connection must end.
            Ok(n) if n > 0 && sent.elapsed() <= bound => continue,
            Ok(0) => break,
            Err(e)
                if !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                break
            }
            _ => {
                return Err(format!(
                    "slow client: a half-sent request head was still open after {:.1} s, over the {:.1} s allowed \
                     (header_read_timeout_secs + {SLOW_CLIENT_GRACE_SECS})",
                    sent.elapsed().as_secs_f64(),
                    bound.as_secs_f64()
                ))
            }
        }
    }
    let open = sent.elapsed();
    if open > bound {
        return Err(format!(
            "slow client: a half-sent request head stayed open {:.1} s, over the {:.1} s allowed",
            open.as_secs_f64(),
            bound.as_secs_f64()
        ));
    }
    Ok(open)
}

// --- output -------------------------------------------------------------------------------------

fn stores_text(stores: &Value) -> String {
    let text = match stores.as_object() {
        Some(sizes) => sizes
            .iter()
            .filter(|(_, n)| n.as_u64() != Some(0))
            .map(|(name, n)| format!("{name}={n}"))
            .collect::<Vec<_>>()
            .join(" "),
        None => "?".into(),
    };
    if text.is_empty() {
        "all empty".into()
    } else {
        text
    }
}

fn print_report(r: &Report, header: bool) -> anyhow::Result<()> {
    if header {
        out!(
            "{:>7} {:>8} {:>8} {:>7} {:>5} {:>4} {:>5} {:>5} {:>7} {:>4}  stores",
            "secs",
            "code",
            "implicit",
            "hostile",
            "admin",
            "rot",
            "slow",
            "wrong",
            "rss MB",
            "fds"
        );
    }
    let rss = r.rss_mb.map_or("?".into(), |m| format!("{m:.1}"));
    let fds = r.fds.map_or("?".into(), |f| f.to_string());
    out!(
        "{:>7.1} {:>8} {:>8} {:>7} {:>5} {:>4} {:>5} {:>5} {:>7} {:>4}  {}",
        r.elapsed_secs,
        r.code_flows,
        r.implicit_flows,
        r.hostile,
        r.admin_changes,
        r.rotations,
        r.slow_clients,
        r.wrong_answers,
        rss,
        fds,
        stores_text(&r.stores)
    );
    Ok(())
}

fn print_outcome(o: &Outcome) -> anyhow::Result<()> {
    let shown = |s: Option<Sample>| {
        s.map_or("unread".into(), |s| {
            format!("{:.1} MB, {} fds at {:.0} s", s.rss_mb, s.fds, s.at_secs)
        })
    };
    out!(
        "server: warm-up {}; end {}; allowed {} MB, {} fds",
        shown(o.warmup),
        shown(o.end),
        o.rss_limit_mb.map_or("?".into(), |m| m.to_string()),
        o.fds_limit.map_or("?".into(), |f| f.to_string())
    );
    out!(
        "slow clients: {} closed by the server, the longest open {:.1} s (allowed {:.1} s)",
        o.last.slow_clients,
        o.slow_client_max_open_secs,
        o.slow_client_bound_secs
    );
    for wrong in &o.wrong_answer_samples {
        out!("wrong: {wrong}");
    }
    if o.passed {
        out!("PASS: {} wrong answers, no growth", o.last.wrong_answers);
    } else {
        out!("FAIL: {}", o.failures.join("; "));
    }
    Ok(())
}
