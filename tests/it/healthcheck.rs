//! `oidc-harness healthcheck`: exit 0 when the provider answers `/healthz` with 200 over TLS
//! it trusts, 1 with one line on stderr otherwise, as a container's HEALTHCHECK needs.

use crate::cli::{field, run, start};

/// `healthcheck ARGS`: exit code, stdout, stderr.
fn healthcheck(args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["healthcheck"];
    all.extend_from_slice(args);
    run(&all)
}

#[test]
fn a_running_provider_is_healthy_with_its_ca_from_the_state_dir_or_given() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().to_str().unwrap();
    let server = start(&["--addr", "127.0.0.1:0", "--state-dir", state]);
    let url = format!("{}/healthz", field(&server.banner, "listening"));
    let healthy = (0, format!("healthy: {url} answered 200\n"), String::new());
    assert_eq!(healthcheck(&[&url, "--state-dir", state]), healthy);
    let ca = dir.path().join("ca.pem");
    assert_eq!(healthcheck(&[&url, "--ca", ca.to_str().unwrap()]), healthy);

    // Any other answer is not health.
    let missing = url.replace("/healthz", "/healthz/nope");
    assert_eq!(
        healthcheck(&[&missing, "--state-dir", state]),
        (
            1,
            String::new(),
            format!("unhealthy: {missing} answered 404 Not Found\n")
        )
    );
}

#[test]
fn a_closed_port_is_unhealthy_with_the_reason() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/healthz");
    let (code, stdout, stderr) = healthcheck(&[&url]);
    assert_eq!((code, stdout.as_str()), (1, ""));
    assert_eq!(
        stderr,
        format!("unhealthy: {url}: Connection refused (os error 111)\n")
    );
}

#[test]
fn a_provider_under_another_ca_is_unhealthy() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("served");
    let state = state.to_str().unwrap();
    let server = start(&["--addr", "127.0.0.1:0", "--state-dir", state]);
    let url = format!("{}/healthz", field(&server.banner, "listening"));
    // Another provider's CA, made the same way: its name is the same, its key is not.
    let other = dir.path().join("other");
    let names = oidc_harness::keys::tls::server_names(None);
    oidc_harness::keys::tls::load_or_create(&other, &names).unwrap();
    let other_ca = other.join("ca.pem");
    let (code, _, stderr) = healthcheck(&[&url, "--ca", other_ca.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        format!("unhealthy: {url}: invalid peer certificate: BadSignature\n")
    );
    // No CA where it is looked for: said so, still exit 1 (not yet healthy).
    let empty = dir.path().join("empty");
    let (code, _, stderr) = healthcheck(&[&url, "--state-dir", empty.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        format!(
            "unhealthy: the CA: {}: No such file or directory (os error 2)\n",
            empty.join("ca.pem").display()
        )
    );
}

#[test]
fn a_provider_that_does_not_answer_in_time_is_unhealthy() {
    // Connections are queued in the backlog and never answered.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/healthz", listener.local_addr().unwrap());
    let (code, _, stderr) = healthcheck(&[&url, "--timeout", "0.2"]);
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        format!("unhealthy: {url}: no answer within 0.2 s\n")
    );
    let (code, _, stderr) = healthcheck(&[&url, "--timeout", "0"]);
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        "unhealthy: --timeout 0: not a positive number of seconds\n"
    );
    drop(listener);
}
