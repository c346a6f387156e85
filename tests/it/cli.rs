//! The `oidc-harness` binary: `serve` starts, prints where everything is, serves over HTTPS
//! with a CA kept across restarts, and stops cleanly on SIGTERM; bad input is one line and exit 2.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub(super) const BIN: &str = env!("CARGO_BIN_EXE_oidc-harness");

pub(super) struct Server {
    pub(super) child: Child,
    pub(super) banner: Vec<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `serve` with `args` and reads its banner up to the "ready" line.
pub(super) fn start(args: &[&str]) -> Server {
    start_with(args, Stdio::null(), &[])
}

/// Starts `serve` with stderr captured to `log`.
fn start_logged(args: &[&str], log: &Path) -> Server {
    start_with(args, Stdio::from(std::fs::File::create(log).unwrap()), &[])
}

fn start_with(args: &[&str], stderr: Stdio, env: &[(&str, &str)]) -> Server {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(args)
        // The tests say what they want, whatever the environment has.
        .env_remove("OIDC_HARNESS_ADMIN_TOKEN")
        .env_remove("OIDC_HARNESS_PUBLIC_URL")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut banner = Vec::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let ready = line.starts_with("ready in ");
        banner.push(line);
        if ready {
            break;
        }
    }
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server { child, banner }
}

pub(super) fn field<'a>(banner: &'a [String], name: &str) -> &'a str {
    banner
        .iter()
        .find_map(|l| l.trim_start().strip_prefix(name))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no {name} line in {banner:#?}"))
}

fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// `serve` runs as many request threads as `[limits] worker_threads` asks: two more asked,
/// two more threads in the process (Linux, where /proc lists them), each server answering.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn serve_runs_the_worker_threads_asked_for() {
    let mut threads = Vec::new();
    for workers in [1, 3] {
        let dir = tempfile::tempdir().unwrap();
        let toml = dir.path().join("harness.toml");
        std::fs::write(&toml, format!("[limits]\nworker_threads = {workers}\n")).unwrap();
        let server = start(&[
            "--addr",
            "127.0.0.1:0",
            "--config",
            toml.to_str().unwrap(),
            "--state-dir",
            dir.path().to_str().unwrap(),
        ]);
        let base = field(&server.banner, "listening").to_owned();
        let pem = std::fs::read(dir.path().join("ca.pem")).unwrap();
        let http = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
            .build()
            .unwrap();
        let discovery = http
            .get(format!("{base}/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap();
        assert_eq!(discovery.status(), 200, "{workers} workers");
        let tasks = std::fs::read_dir(format!("/proc/{}/task", server.child.id())).unwrap();
        threads.push(tasks.count());
    }
    assert_eq!(threads[1], threads[0] + 2, "{threads:?}");
}

#[tokio::test]
async fn serve_prints_its_banner_serves_https_and_stops_on_sigterm() {
    let state = tempfile::tempdir().unwrap();
    let dir = state.path().to_str().unwrap();
    let mut server = start(&["--addr", "127.0.0.1:0", "--state-dir", dir]);
    let banner = server.banner.clone();
    assert!(banner[0].starts_with("oidc-harness "), "{banner:#?}");
    let base = field(&banner, "listening").to_owned();
    assert!(base.starts_with("https://127.0.0.1:"));
    assert_eq!(field(&banner, "issuer"), base);
    assert_eq!(
        field(&banner, "discovery"),
        format!("{base}/.well-known/openid-configuration")
    );
    assert_eq!(field(&banner, "token"), format!("{base}/token"));
    assert!(field(&banner, "client").starts_with("demo-client / demo-secret"));
    assert!(field(&banner, "personas").starts_with("alice, bob, zoe, dana, mallory"));
    let ca_path = state.path().join("ca.pem");
    assert!(field(&banner, "CA").starts_with(ca_path.to_str().unwrap()));
    let ms: u64 = field(&banner, "ready in")
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(ms < 60_000, "{ms}");

    let ca = std::fs::read(&ca_path).unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .build()
        .unwrap();
    let doc: serde_json::Value =
        crate::support::get_json(&http, format!("{base}/.well-known/openid-configuration")).await;
    assert_eq!(doc["issuer"], base);

    sigterm(&server.child);
    let status = server.child.wait().unwrap();
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");

    // The CA survives a restart, so clients keep trusting the provider.
    let server = start(&["--addr", "127.0.0.1:0", "--state-dir", dir]);
    assert_eq!(std::fs::read(&ca_path).unwrap(), ca);
    let base = field(&server.banner, "listening");
    let response = http
        .get(format!("{base}/oauth2/v3/certs"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
}

/// `--issuer` changes `iss` and discovery's `issuer` only: every endpoint stays where the server
/// listens, so impersonating Google keeps the flow working.
#[tokio::test]
async fn the_issuer_is_not_the_address() {
    let server = start(&[
        "--addr",
        "127.0.0.1:0",
        "--no-tls",
        "--issuer",
        "https://accounts.google.com",
    ]);
    let base = field(&server.banner, "listening").to_owned();
    assert!(base.starts_with("http://127.0.0.1:"));
    assert_eq!(
        field(&server.banner, "issuer"),
        "https://accounts.google.com"
    );
    assert_eq!(field(&server.banner, "token"), format!("{base}/token"));
    assert_eq!(field(&server.banner, "TLS"), "off");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let doc: serde_json::Value = http
        .get(format!("{base}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], "https://accounts.google.com");
    assert_eq!(doc["jwks_uri"], format!("{base}/oauth2/v3/certs"));
    // Every endpoint in the document answers, and a whole code flow runs through them.
    let auth = format!(
        "{}?client_id=demo-client&redirect_uri=https://liveperson.net&response_type=code&scope=openid&login_hint=alice&prompt=none",
        doc["authorization_endpoint"].as_str().unwrap()
    );
    let redirect = http.get(&auth).send().await.unwrap();
    assert_eq!(redirect.status(), reqwest::StatusCode::FOUND);
    let location = redirect.headers()["location"].to_str().unwrap().to_owned();
    let code = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let tokens: serde_json::Value = http
        .post(doc["token_endpoint"].as_str().unwrap())
        .basic_auth("demo-client", Some("demo-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://liveperson.net"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id_token = tokens["id_token"].as_str().unwrap();
    let (_, claims) = super::support::decode(id_token);
    assert_eq!(claims["iss"], "https://accounts.google.com");
    for key in ["jwks_uri", "userinfo_endpoint"] {
        let url = doc[key].as_str().unwrap();
        let response = http
            .get(url)
            .bearer_auth(tokens["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::OK, "{key} {url}");
    }
}

/// `--public-url` is where clients reach the server (a compose service name, say): the base
/// of every endpoint, in the certificate too; `--ready-file` says where everything is once the
/// server answers, and `/healthz` answers.
#[tokio::test]
async fn public_url_ready_file_and_healthz() {
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("ready.json");
    let server = start(&[
        "--addr",
        "127.0.0.1:0",
        "--state-dir",
        dir.path().to_str().unwrap(),
        "--public-url",
        "https://idp.test:8443",
        "--ready-file",
        ready.to_str().unwrap(),
    ]);
    let listening = field(&server.banner, "listening").to_owned();
    let port: u16 = listening.rsplit(':').next().unwrap().parse().unwrap();
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&ready).unwrap()).unwrap();
    // Where clients reach the server is the issuer they expect.
    assert_eq!(file["issuer"], "https://idp.test:8443");
    assert_eq!(file["public_url"], "https://idp.test:8443");
    assert_eq!(file["port"], port);
    assert_eq!(file["addr"], format!("127.0.0.1:{port}"));
    let ca = dir.path().join("ca.pem");
    assert_eq!(file["ca"], ca.to_str().unwrap());
    assert_eq!(
        file["endpoints"]["discovery"],
        "https://idp.test:8443/.well-known/openid-configuration"
    );
    assert_eq!(file["endpoints"]["token"], "https://idp.test:8443/token");
    assert_eq!(file["clients"][0]["client_id"], "demo-client");
    assert_eq!(file["clients"][0]["client_secret"], "demo-secret");
    // No temporary file is left beside it.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("ready"))
        .collect();
    assert_eq!(names, ["ready.json"]);

    // Reached by the public name (resolved here to the loopback address), TLS included.
    let pem = std::fs::read(&ca).unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .resolve(
            "idp.test",
            std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        )
        .build()
        .unwrap();
    let public = format!("https://idp.test:{port}");
    let doc: serde_json::Value = http
        .get(format!("{public}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], "https://idp.test:8443");
    assert_eq!(doc["token_endpoint"], "https://idp.test:8443/token");
    let health = http.get(format!("{public}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), reqwest::StatusCode::OK);
    assert_eq!(
        health.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({"status": "ok"})
    );
    let (code, _, stderr) = run(&["serve", "--public-url", "idp:8443"]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr.trim(),
        "error: public_url \"idp:8443\" must be an http(s) URL with no query, fragment or trailing slash"
    );
}

/// A container's mapped port: `--public-url` (or OIDC_HARNESS_PUBLIC_URL) alone sets the
/// issuer, in discovery, the banner and the ready file; `--issuer` still wins, and `public_url`
/// in harness.toml does the same as the flag.
#[tokio::test]
async fn the_public_url_is_the_default_issuer() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().to_str().unwrap();
    let ready = dir.path().join("ready.json");
    let public = "https://127.0.0.1:18443";
    // The issuer `serve` announces with these arguments.
    let issuer = |args: &[&str]| {
        let mut all = vec!["--addr", "127.0.0.1:0", "--state-dir", state];
        all.extend_from_slice(args);
        field(&start(&all).banner, "issuer").to_owned()
    };
    let server = start(&[
        "--addr",
        "127.0.0.1:0",
        "--state-dir",
        state,
        "--public-url",
        public,
        "--ready-file",
        ready.to_str().unwrap(),
    ]);
    let listening = field(&server.banner, "listening").to_owned();
    assert_ne!(listening, public);
    assert_eq!(field(&server.banner, "issuer"), public);
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&ready).unwrap()).unwrap();
    assert_eq!(file["issuer"], public);
    assert_eq!(file["public_url"], public);
    let pem = std::fs::read(dir.path().join("ca.pem")).unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    let doc = crate::support::get_json(
        &http,
        format!("{listening}/.well-known/openid-configuration"),
    )
    .await;
    assert_eq!(doc["issuer"], public);
    assert_eq!(doc["jwks_uri"], format!("{public}/oauth2/v3/certs"));
    drop(server);

    // From the environment too, for CI service containers, which take no arguments.
    let server = start_with(
        &["--addr", "127.0.0.1:0", "--state-dir", state],
        Stdio::null(),
        &[("OIDC_HARNESS_PUBLIC_URL", public)],
    );
    assert_eq!(field(&server.banner, "issuer"), public);
    assert!(field(&server.banner, "token").starts_with(public));
    drop(server);

    let google = "https://accounts.google.com";
    assert_eq!(
        issuer(&["--public-url", public, "--issuer", google]),
        google
    );
    let config = dir.path().join("harness.toml");
    let config_arg = config.to_str().unwrap();
    std::fs::write(&config, format!("public_url = \"{public}\"\n")).unwrap();
    assert_eq!(issuer(&["--config", config_arg]), public);
    std::fs::write(
        &config,
        format!("public_url = \"{public}\"\nissuer = \"https://idp.example\"\n"),
    )
    .unwrap();
    assert_eq!(issuer(&["--config", config_arg]), "https://idp.example");
}

/// The admin token comes from the flag, the environment or harness.toml; the banner says who
/// the admin API answers; an empty or unsendable token stops the start.
#[test]
fn the_admin_token_is_announced_and_an_empty_one_refused() {
    let server = start(&["--addr", "127.0.0.1:0", "--no-tls"]);
    let listening = field(&server.banner, "listening").to_owned();
    assert_eq!(
        field(&server.banner, "admin API"),
        format!("{listening}/_harness/ (loopback callers only)")
    );
    drop(server);
    let with_token = "/_harness/ (any address, with Authorization: Bearer <admin token>)";
    let server = start(&["--addr", "127.0.0.1:0", "--no-tls", "--admin-token", "t0k"]);
    assert!(
        field(&server.banner, "admin API").ends_with(with_token),
        "{:#?}",
        server.banner
    );
    assert!(
        server.banner.iter().all(|line| !line.contains("t0k")),
        "the banner never shows the token"
    );
    drop(server);
    let server = start_with(
        &["--addr", "127.0.0.1:0", "--no-tls"],
        Stdio::null(),
        &[("OIDC_HARNESS_ADMIN_TOKEN", "t0k")],
    );
    assert!(
        field(&server.banner, "admin API").ends_with(with_token),
        "{:#?}",
        server.banner
    );
    drop(server);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("harness.toml");
    std::fs::write(&config, "admin_token = \"t0k\"\n").unwrap();
    let config = config.to_str().unwrap();
    let server = start(&["--addr", "127.0.0.1:0", "--no-tls", "--config", config]);
    assert!(
        field(&server.banner, "admin API").ends_with(with_token),
        "{:#?}",
        server.banner
    );
    drop(server);

    let empty = "error: admin_token is empty: give a token, or none to keep the admin API to loopback callers";
    let (code, _, stderr) = run(&["serve", "--addr", "127.0.0.1:0", "--admin-token", ""]);
    assert_eq!((code, stderr.trim()), (2, empty));
    let output = Command::new(BIN)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("OIDC_HARNESS_ADMIN_TOKEN", "")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&output.stderr).trim(), empty);
    std::fs::write(dir.path().join("harness.toml"), "admin_token = \"\"\n").unwrap();
    let (code, _, stderr) = run(&["serve", "--config", config]);
    assert_eq!(code, 2);
    assert!(stderr.contains("admin_token is empty"), "{stderr}");
    let (code, _, stderr) = run(&["serve", "--addr", "127.0.0.1:0", "--admin-token", "a b"]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr.trim(),
        "error: admin_token may hold only A-Z a-z 0-9 - . _ ~ + / and trailing = \
         (a bearer token, RFC 6750 section 2.1)"
    );
}

pub(super) fn run(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(BIN)
        .args(args)
        .env_remove("OIDC_HARNESS_ADMIN_TOKEN")
        .env_remove("OIDC_HARNESS_PUBLIC_URL")
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_port_in_use_is_one_line_and_exit_2() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (code, _, stderr) = run(&["serve", "--addr", &addr, "--no-tls"]);
    assert_eq!(code, 2);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!("error: cannot listen on {addr}: ")),
        "{stderr}"
    );
}

#[test]
fn a_config_with_an_unknown_key_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("harness.toml");
    std::fs::write(&path, "tls = false\n\n[tokens]\nid_token_lifetime = 5\n").unwrap();
    let (code, _, stderr) = run(&["serve", "--config", path.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("harness.toml")
            && stderr.contains("line 4")
            && stderr.contains("id_token_lifetime"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["serve", "--config", "/nonexistent/harness.toml"]);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("error: /nonexistent/harness.toml: "),
        "{stderr}"
    );
}

#[test]
fn a_config_file_sets_addr_issuer_and_clients() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("harness.toml");
    std::fs::write(
        &path,
        r#"addr = "127.0.0.1:0"
tls = false
issuer = "https://idp.brand.example"

[[client]]
client_id = "brand-connector"
client_secret = "s3cret"
redirect_uris = ["https://liveperson.net", "https://brand.example/cb"]
"#,
    )
    .unwrap();
    let server = start(&["--config", path.to_str().unwrap()]);
    assert_eq!(field(&server.banner, "issuer"), "https://idp.brand.example");
    assert!(field(&server.banner, "client").starts_with("brand-connector / s3cret"));
    assert!(field(&server.banner, "redirect_uri")
        .starts_with("https://liveperson.net, https://brand.example/cb, any loopback URL"));
}

#[test]
fn keys_generate_writes_the_fixture_set() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, _) = run(&["keys", "generate", "--out", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(stdout.contains("idp-signing-1.pub.b64"));
    let fresh = std::fs::read_to_string(dir.path().join("idp-signing-1.key.pem")).unwrap();
    assert_eq!(
        fresh,
        include_str!("../../fixtures/keys/idp-signing-1.key.pem")
    );
}

/// Runs the binary with `stdin` as standard input.
fn run_with_input(args: &[&str], stdin: &str) -> (i32, String, String) {
    use std::io::Write as _;
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn mint_then_verify_with_no_configuration() {
    let (code, token, _) = run(&[
        "mint",
        "--persona",
        "alice",
        "--nonce",
        "n1",
        "--now",
        "2026-01-01T00:00:00Z",
    ]);
    assert_eq!(code, 0);
    assert_eq!(token.trim().split('.').count(), 3);
    let (code, out, _) = run_with_input(
        &[
            "verify",
            "--client-id",
            "demo-client",
            "--now",
            "2026-01-01T00:10:00Z",
            "--nonce",
            "n1",
        ],
        &token,
    );
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("relaxed:"), "{out}");
    assert!(
        out.starts_with(
            "authenticated  sub 110169484474386276334  iss https://127.0.0.1:8443  (signed, kid "
        ),
        "{out}"
    );
    assert!(out.contains("  expires 2026-01-01T01:00:00Z\n"), "{out}");
    assert!(out.contains("ctmrinfo.customerId"), "{out}");
    assert!(out.contains(
        "warning: ctmrinfo.info.storeNumber dropped: not supported in authenticated flows"
    ));
    // Another platform's client id: the platform publishes no aud rule, so its reading takes
    // the token and warns; the strict reading refuses it. Any audience: accepted, and said so.
    let at = ["--now", "2026-01-01T00:10:00Z"];
    let (code, out, _) = run_with_input(
        &["verify", "--client-id", "other-client", at[0], at[1]],
        &token,
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("authenticated  sub 110169484474386276334"),
        "{out}"
    );
    assert!(
        out.contains("\nwarning: aud (standard): a token minted for someone else is accepted as this consumer's; aud \"demo-client\" does not contain \"other-client\"\n"),
        "{out}"
    );
    assert!(
        out.contains("\nstrict: rejected  audience_mismatch: "),
        "{out}"
    );
    let (code, out, _) = run_with_input(
        &[
            "verify",
            "--client-id",
            "other-client",
            "--strict",
            at[0],
            at[1],
        ],
        &token,
    );
    assert_eq!(code, 1);
    assert!(out.starts_with("rejected  audience_mismatch: "), "{out}");
    let (code, out, _) = run_with_input(
        &["verify", "--any-audience", at[0], at[1], "--format", "json"],
        &token,
    );
    assert_eq!(code, 0, "{out}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["relaxations"], serde_json::json!(["any_audience"]));
    let (code, out, _) = run_with_input(&["verify", "--any-audience", at[0], at[1]], &token);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("\nrelaxed: any_audience"), "{out}");

    let (code, out, _) = run_with_input(
        &[
            "verify",
            "--client-id",
            "demo-client",
            "--now",
            "2026-01-01T02:00:00Z",
            "--format",
            "json",
        ],
        &token,
    );
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["verdict"], "rejected");
    assert_eq!(json["reason"], "expired");
    // The platform IDP's error for it, and the rule's basis.
    assert_eq!(json["internalErrorCode"], "1012");
    assert_eq!(json["internalErrorName"], "JWT_EXPIRED");
    assert_eq!(json["rule"], "exp");
    assert_eq!(json["basis"], "observed");
    assert_eq!(json["strict"]["reason"], "expired");

    let (code, out, _) = run_with_input(
        &[
            "verify",
            "--client-id",
            "demo-client",
            "--now",
            "2026-01-01T00:10:00Z",
            "--nonce",
            "other",
        ],
        &token,
    );
    // The platform documents no nonce rule: its reading warns, the strict one refuses.
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("\nstrict: rejected  nonce_mismatch: "),
        "{out}"
    );
    let (code, out, _) = run_with_input(
        &[
            "verify",
            "--client-id",
            "demo-client",
            "--now",
            "2026-01-01T00:10:00Z",
            "--nonce",
            "other",
            "--strict",
        ],
        &token,
    );
    assert_eq!(code, 1);
    assert!(out.starts_with("rejected  nonce_mismatch: "), "{out}");
    let (code, out, _) = run_with_input(
        &[
            "verify",
            "--client-id",
            "demo-client",
            "--now",
            "2026-01-01T00:10:00Z",
            "--issuer",
            "https://accounts.google.com",
        ],
        &token,
    );
    assert_eq!(code, 1);
    assert!(out.starts_with("rejected  issuer_mismatch: "), "{out}");
}

#[test]
fn encrypted_mint_and_a_console_style_key() {
    let (code, token, _) = run(&[
        "mint",
        "--persona",
        "zoe",
        "--encrypt",
        "--alg",
        "RSA-OAEP",
        "--enc",
        "A256CBC-HS512",
    ]);
    assert_eq!(code, 0);
    assert_eq!(token.trim().split('.').count(), 5);
    let key = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/keys/idp-signing-1.pub.b64"
    );
    let (code, out, _) = run_with_input(
        &["verify", "--any-audience", "--key", key, "--format", "json"],
        &token,
    );
    assert_eq!(code, 0, "{out}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["consumer"]["encrypted"], true);
    assert_eq!(json["consumer"]["claims"]["given_name"], "Zoë");
    // The agent's fields, in display order, with the claim each came from.
    assert_eq!(
        json["consumer"]["fields"],
        serde_json::json!([
            {"key": "consumer.customerId", "value": "117033125970118273645", "source": "sub"},
            {"key": "personal.firstname", "value": "Zoë", "source": "lp_sdes.personal.firstname"},
            {"key": "personal.lastname", "value": "Ångström-Łukasiewicz", "source": "lp_sdes.personal.lastname"},
            {"key": "personal.language", "value": "pl-PL", "source": "lp_sdes.personal.language"},
            {"key": "personal.gender", "value": "2", "source": "lp_sdes.personal.gender"},
            {"key": "personal.contacts[0].email", "value": "zoe@example.org", "source": "email"},
        ])
    );
    assert_eq!(json["consumer"]["warnings"], serde_json::json!([]));
    assert_eq!(json["consumer"]["personal_info"]["language"], "pl-PL");
    // The second fixture key did not sign it.
    let other = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/keys/idp-signing-2.pub.pem"
    );
    let (code, out, _) = run_with_input(&["verify", "--any-audience", "--key", other], &token);
    assert_eq!(code, 1);
    assert!(out.starts_with("rejected  signature_invalid: "), "{out}");
}

#[test]
fn usage_errors_are_one_line_and_exit_2() {
    let (code, _, stderr) = run(&["mint", "--persona", "nobody"]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr.trim(),
        "error: unknown persona \"nobody\"; the fixtures have alice, bob, zoe, dana, mallory"
    );
    // No audience rule chosen: a usage error that names both flags, before anything is read.
    let (code, out, stderr) = run_with_input(&["verify"], "x.y.z");
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(
        stderr,
        "error: the following required arguments were not provided: <--client-id <ID>|--any-audience>\n"
    );
    let (code, _, stderr) = run(&["verify", "--bogus"]);
    assert_eq!(
        (code, stderr.as_str()),
        (2, "error: unexpected argument '--bogus' found\n")
    );
    let (code, _, stderr) = run(&["verify", "--any-audience", "/nonexistent/token.jwt"]);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("error: /nonexistent/token.jwt: "),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["mint", "--encrypt", "--enc", "A192GCM"]);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("error: --enc \"A192GCM\": use A256GCM"),
        "{stderr}"
    );
    let (code, _, stderr) =
        run_with_input(&["verify", "--any-audience", "--now", "yesterday"], "x");
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("error: --now \"yesterday\" is not RFC 3339"),
        "{stderr}"
    );
}

#[tokio::test]
async fn redeem_against_a_running_provider() {
    let idp = oidc_harness::idp::MockIdp::start().await.unwrap();
    let http = idp.http_client();
    let code = crate::support::get_code(&idp, &http, &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, idp.ca_cert_pem().unwrap()).unwrap();
    let endpoint = format!("{}/token", idp.base_url());
    let args = [
        "redeem",
        "--code",
        code.as_str(),
        "--token-endpoint",
        endpoint.as_str(),
        "--ca",
        ca.to_str().unwrap(),
    ];
    let (status, id_token, stderr) = tokio::task::spawn_blocking({
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        move || run(&args.iter().map(String::as_str).collect::<Vec<_>>())
    })
    .await
    .unwrap();
    assert_eq!(status, 0, "{stderr}");
    let claims = crate::support::verify_with_jwks(&idp, &http, id_token.trim()).await;
    assert_eq!(claims["sub"], "110169484474386276334");
    // The same code again: the provider's refusal, as a reason.
    let (status, out, _) = tokio::task::spawn_blocking({
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        move || run(&args.iter().map(String::as_str).collect::<Vec<_>>())
    })
    .await
    .unwrap();
    assert_eq!(status, 1);
    assert_eq!(
        out.trim(),
        "rejected  token_endpoint_error: HTTP 400: invalid_grant: Bad Request"
    );
}

#[test]
fn run_reports_and_exits_0_1_or_2() {
    let flows = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/flows");
    let (code, out, _) = run(&["run", flows, "--filter", "flow-code-*", "--jobs", "2"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.lines()
            .all(|l| l.starts_with("PASS  flow-code-") || l.ends_with(" passed, 0 failed")),
        "{out}"
    );
    assert_eq!(out.lines().last(), Some("5 passed, 0 failed"));

    let tmp = tempfile::tempdir().unwrap();
    let failing = tmp.path().join("failing.toml");
    std::fs::write(&failing, "id = \"f\"\ntitle = \"t\"\nflow = \"implicit\"\n[provider]\nmutate = [\"exp-past\"]\n[expect]\nverdict = \"authenticated\"\n").unwrap();
    let junit = tmp.path().join("report.xml");
    let (code, out, stderr) = run(&[
        "run",
        failing.to_str().unwrap(),
        "--format",
        "junit",
        "--out",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert_eq!(stderr.trim(), "0 passed, 1 failed");
    assert!(std::fs::read_to_string(&junit)
        .unwrap()
        .contains("<failure message=\"expected authenticated, got rejected (expired)\">"));

    let bad = tmp.path().join("bad.toml");
    std::fs::write(
        &bad,
        "id = \"b\"\ntitle = \"t\"\nflow = \"code\"\n[expect]\nverdict = \"maybe\"\n",
    )
    .unwrap();
    let (code, _, stderr) = run(&["run", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "error: {}: 5: unknown variant `maybe`",
            bad.display()
        )),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["run", "/nonexistent/scenarios"]);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("error: /nonexistent/scenarios: 1: "),
        "{stderr}"
    );
}

#[test]
fn mint_mutate_reproduces_catalog_entries_and_a_closed_pipe_is_not_a_crash() {
    let (code, token, _) = run(&["mint", "--mutate", "exp-past,typ-wrong"]);
    assert_eq!(code, 0);
    // The platform reading refuses it as expired (the IDP's 1012) and says the strict reading
    // would refuse the typ first; --strict decides by that.
    let (code, out, _) = run_with_input(&["verify", "--client-id", "demo-client"], &token);
    assert_eq!(code, 1);
    assert!(out.starts_with("rejected  expired: "), "{out}");
    assert!(
        out.contains("[rule exp, observed; platform error 1012]\n"),
        "{out}"
    );
    assert!(
        out.contains("\nstrict: rejected  typ_not_allowed: typ \"at+jwt\" is not JWT [rule typ, standard; platform error unpublished]\n"),
        "{out}"
    );
    let (code, out, _) = run_with_input(
        &["verify", "--client-id", "demo-client", "--strict"],
        &token,
    );
    assert_eq!(code, 1);
    assert!(out.starts_with("rejected  typ_not_allowed: "), "{out}");
    // An impossible date in lp_sdes: dropped with a warning by default, refused when strict.
    let (_, token, _) = run(&["mint", "--mutate", "sdes-impossible-date"]);
    let (code, out, _) = run_with_input(&["verify", "--client-id", "demo-client"], &token);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("warning: ctmrinfo.info.lastPaymentDate dropped: lastPaymentDate is not a calendar date (31/2/2026)"), "{out}");
    assert!(!out.contains("lastPaymentDate.day"), "{out}");
    let (code, out, _) = run_with_input(
        &["verify", "--client-id", "demo-client", "--lp-sdes-strict"],
        &token,
    );
    assert_eq!(code, 1);
    assert!(out.starts_with("rejected  lp_sdes_invalid: "), "{out}");
    let (code, _, stderr) = run(&["mint", "--mutate", "alg-nothing"]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr.trim(),
        "error: --mutate \"alg-nothing\": not in the catalog (--mutate list)"
    );
    // A reader that has gone before the first line (`| head -0`): no panic, exit 0.
    let mut child = Command::new(BIN)
        .args(["mint", "--mutate", "list"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn bench_measures_every_figure_against_its_baseline() {
    // A smoke run of two: the figures exist and are positive, each a median within its runs'
    // spread; their size is the benchmark's business.
    let (code, out, stderr) = run(&[
        "bench",
        "--seconds",
        "0.05",
        "--clients",
        "2",
        "--json",
        "--runs",
        "2",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stderr, "bench: run 1 of 2 done\nbench: run 2 of 2 done\n",
        "progress on stderr"
    );
    let figures: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    let names: Vec<&str> = figures
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    for expected in [
        "raw RSA-2048 PKCS#1 v1.5 SHA-256 sign",
        "mint: signed ID token (alice)",
        "verify: JWS (alice, all rules)",
        "verify: JWE envelope",
        "code flows over HTTPS (authorize, token, verify)",
        "code flows over three brands of one server",
        "raw RSA-2048 sign beside serve's load: CPU time",
        "serve: CPU time per code flow (authorize, token)",
        "serve: kernel CPU time per code flow (of the above)",
        "serve: CPU time per code flow, against a quiet sign",
        "serve: CPU time per discovery request",
        "serve: start to first discovery answer",
        "serve: resident memory idle",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let kernel = "serve: kernel CPU time per code flow (of the above)";
    for f in &figures {
        let value = f["value"].as_f64().unwrap();
        // A tenth of a second's load may not reach one 10 ms tick of system time.
        let least = if f["name"] == kernel {
            0.0
        } else {
            f64::MIN_POSITIVE
        };
        assert!(value >= least, "{f}");
        let spread = &f["spread"];
        assert_eq!(spread["runs"], 2, "{f}");
        let (lo, hi) = (spread["value_min"].as_f64(), spread["value_max"].as_f64());
        assert!(lo.unwrap() <= value && value <= hi.unwrap(), "{f}");
        if let Some(ratio) = f["ratio"].as_f64() {
            let (lo, hi) = (spread["ratio_min"].as_f64(), spread["ratio_max"].as_f64());
            assert!(lo.unwrap() <= ratio && ratio <= hi.unwrap(), "{f}");
        }
    }
    let named = |name: &str| figures.iter().find(|f| f["name"] == name).unwrap();
    let mint = named("mint: signed ID token (alice)");
    assert_eq!(mint["baseline"], "raw sign");
    assert!(mint["ratio"].as_f64().unwrap() > 0.0);
    // The server's CPU per flow is held to the sign made beside its load; the quiet sign is
    // the second baseline, named apart.
    let flow = named("serve: CPU time per code flow (authorize, token)");
    assert_eq!(
        (&flow["baseline"], &flow["target"]),
        (
            &serde_json::json!("loaded raw sign CPU"),
            &serde_json::json!("<= 1.15")
        )
    );
    let quiet = named("serve: CPU time per code flow, against a quiet sign");
    assert_eq!(
        (&quiet["baseline"], &quiet["target"]),
        (&serde_json::json!("raw sign CPU"), &serde_json::json!("-"))
    );
    assert_eq!(quiet["value"], flow["value"]);
    // The kernel's part is a part of the flow's CPU, against the same baseline.
    let kernel = named(kernel);
    assert_eq!(
        (&kernel["baseline"], &kernel["target"]),
        (&flow["baseline"], &serde_json::json!("-"))
    );
    assert!(
        kernel["value"].as_f64() <= flow["value"].as_f64(),
        "{kernel}"
    );
}

#[test]
fn bench_runs_must_be_one_or_more_and_not_with_a_soak() {
    let (code, out, stderr) = run(&["bench", "--runs", "0"]);
    assert_eq!((code, out.as_str()), (2, ""), "{stderr}");
    assert!(
        stderr.starts_with("error: invalid value '0' for '--runs <N>': 0 is not in 1..=100"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["bench", "--runs", "2", "--soak", "5"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr
            .starts_with("error: the argument '--runs <N>' cannot be used with '--soak <SECONDS>'"),
        "{stderr}"
    );
}

#[tokio::test]
async fn logs_at_the_default_level_hold_no_secret_code_or_token() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("serve.log");
    let config = dir.path().join("harness.toml");
    std::fs::write(&config, "tls = false\naddr = \"127.0.0.1:0\"\n").unwrap();
    let mut server = start_logged(&["--config", config.to_str().unwrap()], &log);
    let base = field(&server.banner, "listening").to_owned();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let auth = format!("{base}/o/oauth2/v2/auth?client_id=demo-client&redirect_uri=https://liveperson.net&response_type=code&scope=openid&login_hint=alice&prompt=none&access_type=offline");
    let location = http.get(auth).send().await.unwrap().headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    let code = crate::support::redirect_params(&location)["code"].clone();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", "https://liveperson.net"),
    ];
    let body: serde_json::Value = http
        .post(format!("{base}/token"))
        .basic_auth("demo-client", Some("demo-secret"))
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // A replay and a wrong secret are logged as events, not with their values.
    http.post(format!("{base}/token"))
        .basic_auth("demo-client", Some("demo-secret"))
        .form(&form)
        .send()
        .await
        .unwrap();
    http.post(format!("{base}/token"))
        .basic_auth("demo-client", Some("wrong-secret"))
        .form(&form)
        .send()
        .await
        .unwrap();
    sigterm(&server.child);
    server.child.wait().unwrap();
    let logs = std::fs::read_to_string(&log).unwrap();
    assert!(
        logs.contains("authorization code replayed"),
        "the replay is logged: {logs}"
    );
    for secret in [
        code.as_str(),
        body["access_token"].as_str().unwrap(),
        body["refresh_token"].as_str().unwrap(),
        body["id_token"].as_str().unwrap(),
        "demo-secret",
        "wrong-secret",
    ] {
        assert!(!logs.contains(secret), "the log holds {secret}");
    }
}

#[test]
fn listening_beyond_loopback_is_announced() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("serve.log");
    let mut server = start_logged(&["--addr", "0.0.0.0:0", "--no-tls"], &log);
    assert!(field(&server.banner, "listening").starts_with("http://0.0.0.0:"));
    sigterm(&server.child);
    server.child.wait().unwrap();
    let logs = std::fs::read_to_string(&log).unwrap();
    assert!(logs.contains("listening beyond loopback"), "{logs}");
}

#[tokio::test]
async fn shutdown_finishes_the_requests_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("harness.toml");
    std::fs::write(
        &config,
        "tls = false\naddr = \"127.0.0.1:0\"\n[faults]\ntoken_response = \"slow\"\n",
    )
    .unwrap();
    let mut server = start(&["--config", config.to_str().unwrap()]);
    let base = field(&server.banner, "listening").to_owned();
    // The slow token endpoint answers after 3 s; SIGTERM arrives while it waits.
    let in_flight = tokio::spawn(async move {
        reqwest::Client::new()
            .post(format!("{base}/token"))
            .form(&[("grant_type", "password")])
            .send()
            .await
            .map(|r| r.status())
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    sigterm(&server.child);
    let status = in_flight
        .await
        .unwrap()
        .expect("the in-flight request got its answer");
    assert_eq!(
        status,
        reqwest::StatusCode::BAD_REQUEST,
        "answered normally after the delay"
    );
    assert!(server.child.wait().unwrap().success());
}

#[test]
fn missing_or_wrong_key_files_are_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("harness.toml");
    std::fs::write(
        &config,
        "tls = false\naddr = \"127.0.0.1:0\"\n[keys]\nsigning = [\"nope.pem\"]\n",
    )
    .unwrap();
    let (code, _, stderr) = run(&["serve", "--config", config.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("nope.pem") && stderr.contains("No such file"),
        "{stderr}"
    );
    let public = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/keys/idp-signing-1.pub.pem"
    );
    std::fs::write(
        &config,
        format!("tls = false\naddr = \"127.0.0.1:0\"\n[keys]\nsigning = [\"{public}\"]\n"),
    )
    .unwrap();
    let (code, _, stderr) = run(&["serve", "--config", config.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("idp-signing-1.pub.pem") && stderr.contains("not an RSA key"),
        "{stderr}"
    );
}

fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap()
}

/// Redeems `code` for the demo client at `base`'s token endpoint.
async fn redeem_demo_code(http: &reqwest::Client, base: &str, code: &str) -> reqwest::Response {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", "https://liveperson.net"),
    ];
    http.post(format!("{base}/token"))
        .basic_auth("demo-client", Some("demo-secret"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_flow_load_leaves_resident_memory_flat() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("harness.toml");
    std::fs::write(
        &config,
        "tls = false\naddr = \"127.0.0.1:0\"\n[limits]\nmax_store_entries = 200\n",
    )
    .unwrap();
    let mut server = start(&["--config", config.to_str().unwrap()]);
    let base = field(&server.banner, "listening").to_owned();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let auth = format!("{base}/o/oauth2/v2/auth?client_id=demo-client&redirect_uri=https://liveperson.net&response_type=code&scope=openid%20email%20profile&login_hint=alice&prompt=none&access_type=offline");
    let flows = |n: usize| {
        let (http, auth, base) = (http.clone(), auth.clone(), base.clone());
        async move {
            for _ in 0..n {
                let location = http.get(&auth).send().await.unwrap().headers()["location"]
                    .to_str()
                    .unwrap()
                    .to_owned();
                let code = crate::support::redirect_params(&location)["code"].clone();
                let response = redeem_demo_code(&http, &base, &code).await;
                assert_eq!(response.status(), reqwest::StatusCode::OK);
            }
        }
    };
    flows(400).await; // fill every store to its cap
    let warm = rss_kb(server.child.id());
    flows(1600).await;
    let after = rss_kb(server.child.id());
    sigterm(&server.child);
    server.child.wait().unwrap();
    assert!(
        after < warm + 4096,
        "resident memory grew from {warm} kB to {after} kB over 1600 more flows"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_unredeemed_codes_is_shed_in_batches_oldest_first() {
    // 2 000 sign-ins whose codes nobody redeems, into a code store capped at 640: once full,
    // the store makes room for 1/64 of its cap (10) at a time, with one warning each, instead
    // of a pass over the whole store and a warning for every new code.
    let dir = tempfile::tempdir().unwrap();
    let (config, log) = (
        dir.path().join("harness.toml"),
        dir.path().join("serve.log"),
    );
    std::fs::write(
        &config,
        "tls = false\naddr = \"127.0.0.1:0\"\n[limits]\nmax_store_entries = 640\n",
    )
    .unwrap();
    let mut server = start_logged(&["--config", config.to_str().unwrap()], &log);
    let base = field(&server.banner, "listening").to_owned();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let auth = format!("{base}/o/oauth2/v2/auth?client_id=demo-client&redirect_uri=https://liveperson.net&response_type=code&scope=openid&login_hint=alice&prompt=none");
    let code = |http: reqwest::Client, auth: String| async move {
        let response = http.get(&auth).send().await.unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::FOUND);
        crate::support::redirect_params(response.headers()["location"].to_str().unwrap())["code"]
            .clone()
    };
    let first = code(http.clone(), auth.clone()).await;
    // The first and the last, and nine clients of 222 each between them: 2 000 in all.
    let tasks: Vec<_> = (0..9)
        .map(|_| {
            let (http, auth) = (http.clone(), auth.clone());
            tokio::spawn(async move {
                for _ in 0..222 {
                    code(http.clone(), auth.clone()).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let last = code(http.clone(), auth.clone()).await;
    let redeem = |code: String| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let response = redeem_demo_code(&http, &base, &code).await;
            let status = response.status();
            (status, response.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (status, body) = redeem(first).await;
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_grant", "the oldest code was shed");
    let (status, body) = redeem(last).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    assert!(body["id_token"].is_string());
    sigterm(&server.child);
    server.child.wait().unwrap();
    let logs = std::fs::read_to_string(&log).unwrap();
    assert!(!logs.contains('\u{1b}'), "no colour codes in a log file");
    let warnings: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("store full of live entries"))
        .collect();
    // Codes 641, 651, ..., 1991 each found the store full: 136 batches of ten.
    assert_eq!(warnings.len(), 136, "{logs}");
    assert!(
        warnings.iter().all(|w| w.contains("dropped=10")),
        "{warnings:?}"
    );
}

/// A brand's keys are derived once and kept in the state folder (owner-only): a restart reads
/// them and publishes the same kids.
#[tokio::test]
async fn brand_keys_are_kept_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("harness.toml");
    std::fs::write(
        &config,
        "addr = \"127.0.0.1:0\"\n[[brand]]\nname = \"acme\"\n",
    )
    .unwrap();
    let args = [
        "--config",
        config.to_str().unwrap(),
        "--state-dir",
        dir.path().to_str().unwrap(),
    ];
    let mut kids = Vec::new();
    for _ in 0..2 {
        let server = start(&args);
        let base = field(&server.banner, "listening").to_owned();
        let brand = field(&server.banner, "brand");
        assert_eq!(
            brand,
            format!("acme {base}/brands/acme/.well-known/openid-configuration")
        );
        let pem = std::fs::read(dir.path().join("ca.pem")).unwrap();
        let http = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
            .build()
            .unwrap();
        let jwks: serde_json::Value = http
            .get(format!("{base}/brands/acme/oauth2/v3/certs"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        kids.push(jwks["keys"].clone());
    }
    assert_eq!(kids[0], kids[1]);
    for i in [1, 2] {
        let path = dir
            .path()
            .join(format!("brand-keys/brand-acme-signing-{i}.key.pem"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("-----BEGIN PRIVATE KEY-----"), "{text}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", path.display());
        }
    }
}

/// The platform's own tutorial (`fixtures/platform-tutorial/`): its connector's one-line
/// 1024-bit key and the 13-year JWT with `aud` `acc:qa57221676` that its IDP accepts. The
/// platform reading authenticates it and names each risk; `--strict` refuses it, naming the
/// rule and its basis.
#[test]
fn the_platforms_own_tutorial_token_authenticates_and_strict_refuses_it() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/platform-tutorial");
    let key = std::fs::read_to_string(dir.join("public-key.txt")).unwrap();
    let jwt = dir.join("external-jwt.txt");
    let args = |extra: &[&'static str]| {
        let mut args = vec![
            "verify",
            "--issuer",
            "https://idp.liveperson.net",
            "--key",
            key.trim(),
            "--any-audience",
            "--now",
            "2026-12-01T00:00:00Z",
            jwt.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        args
    };
    let (code, out, err) = run(&args(&[]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.starts_with(
            "authenticated  sub +972-3-5555-555  iss https://idp.liveperson.net  (signed, kid -)\n"
        ),
        "{out}"
    );
    for warning in [
        "warning: key-size (standard): a key under 2048 bits can be factored, and then anyone can sign as the brand; the brand's key has 1024 bits, under 2048\n",
        "warning: lifetime (assumed): a stolen token stays good until exp; exp - iat is 413366338 s; it must be between 0 and 86400\n",
        "warning: aud \"acc:qa57221676\" was not compared: no client id is configured (any_audience); a token minted for someone else would pass\n",
        "strict: rejected  key_too_small: the brand's key has 1024 bits, under 2048 [rule key-size, standard; platform error unpublished]\n",
        "relaxed: any_audience\n",
    ] {
        assert!(out.contains(warning), "{warning}\n{out}");
    }
    // The JSON says the same, finding by finding.
    let (code, out, _) = run(&args(&["--format", "json"]));
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["verdict"], "authenticated");
    assert_eq!(json["reading"], "platform");
    let rules: Vec<(&str, &str)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap(), f["basis"].as_str().unwrap()))
        .collect();
    assert_eq!(rules, [("key-size", "standard"), ("lifetime", "assumed")]);
    assert_eq!(json["strict"]["reason"], "key_too_small");
    assert_eq!(json["strict"]["internalErrorCode"], "unpublished");
    // --strict: the same pass, the strict reading decides.
    let (code, out, _) = run(&args(&["--strict"]));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with("rejected  key_too_small: the brand's key has 1024 bits, under 2048 [rule key-size, standard; platform error unpublished]\n  the platform reading authenticates it"),
        "{out}"
    );
    // With a client id, as a Code Flow connector has, the account audience is a finding too.
    let mut with_client = args(&[]);
    with_client.retain(|a| *a != "--any-audience");
    with_client.extend(["--client-id", "lp-client"]);
    let (code, out, _) = run(&with_client);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("warning: aud (standard): a token minted for someone else is accepted as this consumer's; aud \"acc:qa57221676\" does not contain \"lp-client\"\n"),
        "{out}"
    );
}

/// The verifier chapter's rule and reason tables are `oidc-harness rules`, exactly: one source,
/// the code.
#[test]
fn the_verifier_chapter_tables_are_the_rules_command_output() {
    let (code, out, err) = run(&["rules"]);
    assert_eq!(code, 0, "{err}");
    let chapter =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/verifier.md"))
            .unwrap();
    let (rules, reasons) = out.trim_end().split_once("\n\n").unwrap();
    assert!(rules.starts_with("| rule | reason | basis | refused by | source |\n"));
    assert!(reasons.starts_with("| reason | meaning | internalErrorCode |\n"));
    for table in [rules, reasons] {
        assert!(
            chapter.contains(&format!("\n{table}\n")),
            "docs/verifier.md lacks this table, as `oidc-harness rules` prints it:\n{table}"
        );
    }
    assert!(rules.contains(
        "| `key-size` | `key_too_small` | standard | strict | RFC 7518 §3.3: RS256 keys are 2048 bits or larger; the platform's own tutorial uses 1024 (liveperson-auth.md §8.1) |"
    ));
    assert!(reasons.contains("| `expired` | `exp` has passed | `1012` JWT_EXPIRED |"));
    let (code, out, _) = run(&["rules", "--format", "json"]);
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let lifetime = json["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "lifetime")
        .unwrap();
    assert_eq!(lifetime["basis"], "assumed");
    assert_eq!(lifetime["refused_by"], "strict");
    assert_eq!(lifetime["risk"], "a stolen token stays good until exp");
}

/// A supervisor that stops the provider the moment its ready file appears (a test fixture
/// tearing down at once, `docker stop` right after start) gets a clean exit, not a kill: the
/// signals are caught before the file is written.
#[test]
fn sigterm_as_soon_as_the_ready_file_appears_stops_cleanly() {
    for attempt in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let ready = dir.path().join("ready.json");
        let mut child = Command::new(BIN)
            .args(["serve", "--addr", "127.0.0.1:0", "--state-dir"])
            .arg(dir.path())
            .arg("--ready-file")
            .arg(&ready)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !ready.exists() {
            assert!(
                std::time::Instant::now() < deadline,
                "no ready file after 60 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        sigterm(&child);
        let status = child.wait().unwrap();
        assert!(
            status.success(),
            "attempt {attempt}: SIGTERM right after the ready file: {status:?}"
        );
    }
}
