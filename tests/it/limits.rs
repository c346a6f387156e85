//! The connection limits of `[limits]`, each over a real socket: a half-sent request head and
//! a silent TLS client are cut at the header-read timeout, an idle connection is closed, at the
//! connection cap a new client waits and is served once a slot frees, and heads too large or
//! with too many fields are answered 431.

use std::sync::Arc;
use std::time::{Duration, Instant};

use oidc_harness::idp::{IdpConfig, MockIdp};
use reqwest::StatusCode;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

const HALF_SENT: &[u8] = b"GET /.well-known/openid-configuration HTTP/1.1\r\nHost: x\r\n";
const WHOLE: &[u8] = b"GET /.well-known/openid-configuration HTTP/1.1\r\nHost: x\r\n\r\n";

/// Far longer than any limit under test: a connection still open then was not cut.
const NEVER: Duration = Duration::from_secs(20);

async fn start(limits: &str) -> MockIdp {
    let config = IdpConfig::from_toml(&format!("[limits]\n{limits}")).expect("limits parse");
    MockIdp::builder()
        .config(config)
        .start()
        .await
        .expect("provider starts")
}

/// A TLS connection to the provider offering only `alpn`, trusting its CA.
async fn tls(idp: &MockIdp, alpn: &[u8]) -> TlsStream<TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    let ca = CertificateDer::from_pem_slice(idp.ca_cert_pem().unwrap().as_bytes()).unwrap();
    roots.add(ca).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    let tcp = TcpStream::connect(idp.addr()).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .expect("TLS handshake")
}

/// Reads until the server closes the connection (end of stream, or a reset), returning what
/// it sent and how long that took; `None` if it was still open after [`NEVER`].
async fn until_closed(
    stream: &mut (impl tokio::io::AsyncRead + Unpin),
) -> Option<(Vec<u8>, Duration)> {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match tokio::time::timeout_at((started + NEVER).into(), stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some((received, started.elapsed())),
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
        }
    }
}

/// The HTTP/1.1 answer at the start of `bytes`: its status and its body.
fn answer(bytes: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(bytes);
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP/1.1 answer: {text:?}"));
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, body.to_owned())
}

#[tokio::test]
async fn a_half_sent_request_over_https_is_cut_at_the_header_read_timeout() {
    let idp = start("header_read_timeout_secs = 1\nidle_timeout_secs = 60").await;
    let mut stream = tls(&idp, b"http/1.1").await;
    stream.write_all(HALF_SENT).await.unwrap();
    let (sent, after) = until_closed(&mut stream)
        .await
        .expect("the half-sent request is cut, not held open");
    // Closed without an answer, by the head's clock and not before it ran out.
    assert_eq!(sent, b"", "no answer to a head that never ended");
    assert!(after >= Duration::from_millis(900), "cut after {after:?}");
    // The server goes on serving everyone else.
    assert_eq!(get_with_headers(&idp, &[]).await, StatusCode::OK);
}

#[tokio::test]
async fn a_tls_client_that_never_says_hello_is_cut_at_the_header_read_timeout() {
    let idp = start("header_read_timeout_secs = 1\nidle_timeout_secs = 60").await;
    let mut tcp = TcpStream::connect(idp.addr()).await.unwrap();
    let (sent, after) = until_closed(&mut tcp)
        .await
        .expect("a silent TLS client is cut");
    assert_eq!(sent, b"");
    assert!(after >= Duration::from_millis(900), "cut after {after:?}");
}

#[tokio::test]
async fn with_the_default_limits_a_half_sent_request_is_still_open_before_ten_seconds() {
    // The default is documented as 10 s: the connection is open at 2 s (and cut by 20 s).
    let idp = start("").await;
    let mut stream = tls(&idp, b"http/1.1").await;
    stream.write_all(HALF_SENT).await.unwrap();
    let mut buf = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buf)).await;
    assert!(
        early.is_err(),
        "closed before the default timeout: {early:?}"
    );
}

#[tokio::test]
async fn a_keep_alive_connection_that_sends_nothing_more_is_closed() {
    // hyper's clock for the next head starts when the answer is sent: an HTTP/1.1 client
    // that stays silent after its answer is closed at the header-read timeout.
    let idp = start("header_read_timeout_secs = 1\nidle_timeout_secs = 60").await;
    let mut stream = tls(&idp, b"http/1.1").await;
    stream.write_all(WHOLE).await.unwrap();
    let (sent, after) = until_closed(&mut stream)
        .await
        .expect("the silent keep-alive connection is closed");
    let (status, body) = answer(&sent);
    assert_eq!(status, 200);
    let discovery: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(discovery["issuer"], idp.issuer().as_str());
    assert!(
        after >= Duration::from_millis(900),
        "closed after {after:?}"
    );
}

#[tokio::test]
async fn an_idle_http2_connection_is_sent_goaway_and_closed() {
    let idp = start("header_read_timeout_secs = 30\nidle_timeout_secs = 1").await;
    let mut stream = tls(&idp, b"h2").await;
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    // The client preface and an empty SETTINGS frame, then nothing.
    stream
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
        .await
        .unwrap();
    let (sent, after) = until_closed(&mut stream)
        .await
        .expect("the idle HTTP/2 connection is closed");
    let mut frames = Vec::new();
    let mut rest = &sent[..];
    while rest.len() >= 9 {
        let len = usize::from(rest[0]) << 16 | usize::from(rest[1]) << 8 | usize::from(rest[2]);
        frames.push(rest[3]);
        rest = &rest[(9 + len).min(rest.len())..];
    }
    const SETTINGS: u8 = 0x4;
    const GOAWAY: u8 = 0x7;
    assert_eq!(frames.first(), Some(&SETTINGS), "frames: {frames:?}");
    assert!(frames.contains(&GOAWAY), "no GOAWAY in {frames:?}");
    assert!(
        after >= Duration::from_millis(900),
        "closed after {after:?}"
    );
}

#[tokio::test]
async fn at_the_connection_cap_a_new_client_waits_and_is_served_when_a_slot_frees() {
    let idp = start("max_connections = 1\nheader_read_timeout_secs = 30").await;
    // The one slot, held by a keep-alive connection that has been answered.
    let mut holder = tls(&idp, b"http/1.1").await;
    holder.write_all(WHOLE).await.unwrap();
    let mut buf = vec![0u8; 16 * 1024];
    let n = holder.read(&mut buf).await.unwrap();
    assert_eq!(answer(&buf[..n]).0, 200);

    let http = idp.http_client();
    let url = format!("{}/oauth2/v3/certs", idp.base_url());
    let waiting = tokio::spawn(async move { http.get(url).send().await.map(|r| r.status()) });
    // Not served while the slot is held: it waits in the listen queue.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(!waiting.is_finished(), "served beyond the cap");
    // The slot frees: the waiting client is served.
    drop(holder);
    let status = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("served once the slot freed")
        .unwrap()
        .unwrap();
    assert_eq!(status, StatusCode::OK);
}

async fn get_with_headers(idp: &MockIdp, headers: &[(String, String)]) -> StatusCode {
    let mut request = idp.http_client().get(format!(
        "{}/.well-known/openid-configuration",
        idp.base_url()
    ));
    for (name, value) in headers {
        request = request.header(name, value);
    }
    request.send().await.unwrap().status()
}

#[tokio::test]
async fn a_request_head_over_max_header_bytes_is_431() {
    let idp = start("max_url_bytes = 1024\nmax_header_bytes = 8192").await;
    let header = |size: usize| vec![("x-padding".to_owned(), "a".repeat(size))];
    assert_eq!(get_with_headers(&idp, &header(7000)).await, StatusCode::OK);
    assert_eq!(
        get_with_headers(&idp, &header(9000)).await,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
}

#[tokio::test]
async fn a_request_with_more_than_max_headers_fields_is_431() {
    let idp = start("max_headers = 20").await;
    let fields = |n: usize| -> Vec<(String, String)> {
        (0..n)
            .map(|i| (format!("x-field-{i}"), "1".to_owned()))
            .collect()
    };
    // reqwest sends host and accept besides these.
    assert_eq!(get_with_headers(&idp, &fields(15)).await, StatusCode::OK);
    assert_eq!(
        get_with_headers(&idp, &fields(25)).await,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
}

#[test]
fn limits_a_server_cannot_run_with_are_refused_by_name() {
    let refused = |limits: &str| {
        IdpConfig::from_toml(&format!("[limits]\n{limits}"))
            .unwrap_err()
            .to_string()
    };
    for key in [
        "header_read_timeout_secs",
        "idle_timeout_secs",
        "max_connections",
        "max_header_bytes",
        "max_headers",
        "max_body_bytes",
        "worker_threads",
    ] {
        let message = refused(&format!("{key} = 0"));
        assert!(
            message.contains(&format!("limits.{key} must be positive")),
            "{key}: {message}"
        );
    }
    assert!(refused("max_connections = 2000000")
        .contains("limits.max_connections must be at most 1048576"));
    assert!(refused("worker_threads = 257").contains("limits.worker_threads must be at most 256"));
    assert!(refused("max_header_bytes = 16384").contains(
        "limits.max_header_bytes (16384) must be more than limits.max_url_bytes (16384)"
    ));
}

/// `curl --http2` run `times` with `args`, trusting `ca_pem`: each status, and the last body.
fn curl_http2(ca_pem: &str, times: usize, args: &[String]) -> (Vec<String>, String) {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, ca_pem).unwrap();
    let mut statuses = Vec::new();
    let mut body = String::new();
    for _ in 0..times {
        let out = std::process::Command::new("curl")
            .args(["-s", "--http2", "-w", "\n%{http_code}", "--cacert"])
            .arg(&ca)
            .args(args)
            .output()
            .expect("curl runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (answer, status) = text.rsplit_once('\n').unwrap_or(("", &text));
        statuses.push(status.to_owned());
        body = answer.to_owned();
    }
    (statuses, body)
}

#[tokio::test]
async fn http2_answers_made_before_the_body_is_read_reach_curl() {
    // The admin API refuses a caller without the token, and the token endpoint a body over
    // the limit, before reading (all of) the body; the rest is read before the answer goes
    // out, so curl gets the answer and not a stream reset with it.
    let config = IdpConfig::from_toml("admin_token = \"abcdefghijklmnopqrstuvwx\"").unwrap();
    let idp = MockIdp::builder().config(config).start().await.unwrap();
    let ca = idp.ca_cert_pem().unwrap().to_owned();
    let refused: Vec<String> = [
        "-X",
        "PUT",
        "-H",
        "content-type: application/json",
        "-d",
        r#"{"mutate": ["exp-past"]}"#,
    ]
    .iter()
    .map(|a| a.to_string())
    .chain([format!("{}/_harness/faults", idp.base_url())])
    .collect();
    let too_large: Vec<String> = [
        "-H".to_owned(),
        "content-type: application/x-www-form-urlencoded".to_owned(),
        "--data-binary".to_owned(),
        format!("grant_type={}", "a".repeat(100_000)),
        format!("{}/token", idp.base_url()),
    ]
    .into();
    let ((statuses, _), (large, body)) = tokio::task::spawn_blocking(move || {
        (
            curl_http2(&ca, 30, &refused),
            curl_http2(&ca, 5, &too_large),
        )
    })
    .await
    .unwrap();
    assert_eq!(statuses, vec!["401"; 30]);
    assert_eq!(large, vec!["413"; 5]);
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(body["error_description"], "Request body too large");
}

#[tokio::test]
async fn an_answer_slower_than_the_idle_timeout_is_not_idleness() {
    // The JWKS answers after 3 s, the connection quiet for all of them: the answer comes as
    // on any kept-alive connection, not as the last one of a connection being closed.
    let idp =
        start("idle_timeout_secs = 1\nheader_read_timeout_secs = 30\n[faults]\njwks = \"slow\"")
            .await;
    let mut stream = tls(&idp, b"http/1.1").await;
    stream
        .write_all(b"GET /oauth2/v3/certs HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let (sent, after) = until_closed(&mut stream)
        .await
        .expect("closed once idle after its answer");
    let (status, body) = answer(&sent);
    assert_eq!(status, 200);
    let jwks: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(2));
    let head = String::from_utf8_lossy(&sent).to_ascii_lowercase();
    assert!(!head.contains("connection: close"), "{head}");
    assert!(
        after >= Duration::from_millis(3900),
        "closed after {after:?}"
    );
}
