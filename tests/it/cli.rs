//! The `oidc-harness` binary: `serve` starts, prints where everything is, serves over HTTPS
//! with a CA kept across restarts, and stops cleanly on SIGTERM; bad input is one line and exit 2.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_oidc-harness");

struct Server {
    child: Child,
    banner: Vec<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `serve` with `args` and reads its banner up to the "ready" line.
fn start(args: &[&str]) -> Server {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
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

fn field<'a>(banner: &'a [String], name: &str) -> &'a str {
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
    assert!(field(&banner, "personas").starts_with("alice, bob, zoe, mallory"));
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
    let doc: serde_json::Value = http
        .get(format!("{base}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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

#[tokio::test]
async fn no_tls_and_issuer_flags() {
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
    assert_eq!(field(&server.banner, "TLS"), "off");
    let doc: serde_json::Value = reqwest::get(format!("{base}/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], "https://accounts.google.com");
    assert_eq!(
        doc["jwks_uri"],
        "https://accounts.google.com/oauth2/v3/certs"
    );
}

fn run(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(BIN).args(args).output().unwrap();
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
