//! `oidc-harness check` against a running `serve`: every provider property FAILs with the
//! provider's lapse set and PASSes without it, and each way the checklist could mislead a brand
//! (a check passing without looking, a hang, a cause reported as another) is shown not to.

use std::process::Command;

use serde_json::Value;

use super::cli::{field, run, start, Server};

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// A `serve` of its own, with its CA.
struct Provider {
    _server: Server,
    base: String,
    ca: String,
    _dir: tempfile::TempDir,
}

impl Provider {
    /// `serve` on a free port; `config` is added to its `harness.toml`.
    fn start(config: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let toml = dir.path().join("harness.toml");
        std::fs::write(&toml, format!("addr = \"127.0.0.1:0\"\n{config}")).unwrap();
        let server = start(&[
            "--config",
            toml.to_str().unwrap(),
            "--state-dir",
            dir.path().to_str().unwrap(),
        ]);
        let base = field(&server.banner, "listening").to_owned();
        let ca = dir.path().join("ca.pem").to_str().unwrap().to_owned();
        Self {
            _server: server,
            base,
            ca,
            _dir: dir,
        }
    }

    fn discovery(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.base)
    }

    /// The command a brand writes: complete our authorization request headlessly, print the
    /// redirect URL.
    fn sign_in(&self, persona: &str) -> String {
        format!(
            r#"curl -s --cacert {} -o /dev/null -w '%{{redirect_url}}' "$OIDC_HARNESS_AUTH_URL&login_hint={persona}&prompt=none""#,
            self.ca
        )
    }

    /// Sets the provider's faults over its admin API.
    fn faults(&self, json: &str) {
        self.faults_at(&self.base, json);
    }

    /// Queues claims for the next login (`POST /_harness/queue`).
    fn queue(&self, json: &str) {
        self.admin("POST", &format!("{}/_harness/queue", self.base), json);
    }

    /// Sets the faults of the provider at `base` (this one, or one of its brands).
    fn faults_at(&self, base: &str, json: &str) {
        self.admin("PUT", &format!("{base}/_harness/faults"), json);
    }

    /// Sends `json` to an admin API `url` with `method`; it must succeed.
    fn admin(&self, method: &str, url: &str, json: &str) {
        let status = Command::new("curl")
            .args([
                "-s",
                "-f",
                "-o",
                "/dev/null",
                "--cacert",
                &self.ca,
                "-X",
                method,
            ])
            .args(["-H", "content-type: application/json", "-d", json])
            .arg(url)
            .status()
            .unwrap();
        assert!(status.success(), "{method} {url} {json}");
    }

    /// `check --format json` with the client, the CA and `extra`.
    fn check(&self, client: &str, extra: &[&str]) -> Checked {
        self.check_at(&self.discovery(), client, extra)
    }

    /// `check` as [`Provider::check`], with the discovery URL `discovery`.
    fn check_at(&self, discovery: &str, client: &str, extra: &[&str]) -> Checked {
        let mut args = vec![
            "check",
            "--discovery",
            discovery,
            "--client-id",
            client,
            "--format",
            "json",
        ];
        // A test that names its own secret (or none) says so with `--client-secret`/`--no-secret`.
        if !extra.contains(&"--client-secret") && !extra.contains(&"--no-secret") {
            args.extend(["--client-secret", "demo-secret"]);
        }
        if !extra.contains(&"--no-ca") {
            args.extend(["--ca", &self.ca]);
        }
        args.extend(
            extra
                .iter()
                .filter(|a| !matches!(**a, "--no-ca" | "--no-secret")),
        );
        let (code, out, stderr) = run(&args);
        let report: Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{stderr}"));
        Checked {
            code,
            report,
            stderr,
        }
    }
}

struct Checked {
    code: i32,
    report: Value,
    stderr: String,
}

impl Checked {
    fn outcomes(&self) -> &Vec<Value> {
        self.report["outcomes"].as_array().unwrap()
    }

    /// `(status, detail)` of check `id`.
    fn get(&self, id: &str) -> (String, String) {
        let o = self
            .outcomes()
            .iter()
            .find(|o| o["id"] == id)
            .unwrap_or_else(|| panic!("no {id} in {:#}", self.report));
        (
            o["status"].as_str().unwrap().to_owned(),
            o["detail"].as_str().unwrap().to_owned(),
        )
    }

    fn ids(&self) -> Vec<String> {
        self.outcomes()
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Asserts check `id` has `status` and a detail starting with `detail`.
    #[track_caller]
    fn assert(&self, id: &str, status: &str, detail: &str) {
        let (got, got_detail) = self.get(id);
        assert_eq!(got, status, "{id}: {got_detail}");
        assert!(
            got_detail.starts_with(detail),
            "{id}: {got_detail:?} does not start with {detail:?}"
        );
    }

    /// As [`Checked::assert`], with `detail` anywhere in the line's detail.
    fn assert_has(&self, id: &str, status: &str, detail: &str) {
        let (got, got_detail) = self.get(id);
        assert_eq!(got, status, "{id}: {got_detail}");
        assert!(
            got_detail.contains(detail),
            "{id}: {got_detail:?} does not say {detail:?}"
        );
    }
}

/// Every check a full run (Code and Implicit Flow, no envelope) reports, in order.
const ALL_CHECKS: [&str; 27] = [
    "tls",
    "discovery-fetch",
    "discovery-fields",
    "discovery-issuer",
    "https-everywhere",
    "id-token-alg",
    "jwks-usable",
    "jwks-cache-control",
    "state-echoed",
    "token-basic",
    "token-response-shape",
    "token-no-store",
    "code-single-use",
    "code-id-token",
    "client-secret-checked",
    "redirect-uri-compared",
    "pkce-verifier-checked",
    "pkce-required",
    "token-body",
    "implicit-id-token",
    "nonce-echoed",
    "aud-client-id",
    "id-token-lifetime",
    "kid-in-jwks",
    "iss-matches-discovery",
    "error-json",
    "id-token-verified",
];

#[test]
fn every_provider_property_fails_under_its_lapse_and_passes_without_it() {
    let idp = Provider::start("");
    let code_from = idp.sign_in("alice");
    let token_from = idp.sign_in("bob");
    let args = ["--code-from", &code_from, "--token-from", &token_from];
    let clean = idp.check("demo-client", &args);
    assert_eq!(clean.code, 0, "{:#}", clean.report);
    assert_eq!(clean.ids(), ALL_CHECKS);
    for id in ALL_CHECKS {
        assert_eq!(clean.get(id).0, "pass", "{id}: {}", clean.get(id).1);
    }
    assert_eq!(clean.report["passed"], 27);

    // (fault, the check it breaks, its level, how that check says so, the exit code: a FAIL
    // is the platform refusing or an attacker's opening, a WARN only a strict reading's
    // refusal; with `weak-rsa` the published 1024-bit key is not the one that signed, so the
    // ID token lines fail beside the warning).
    let cases: [(&str, &str, &str, &str, Option<i32>); 16] = [
        (
            r#"{"lapses":["reusable-code"]}"#,
            "code-single-use",
            "fail",
            "the second redemption got HTTP 200 with tokens",
            Some(1),
        ),
        (
            r#"{"lapses":["any-secret"]}"#,
            "client-secret-checked",
            "fail",
            "a wrong secret was accepted",
            Some(1),
        ),
        (
            r#"{"lapses":["any-redirect-uri"]}"#,
            "redirect-uri-compared",
            "fail",
            "a code issued for https://liveperson.net was redeemed with redirect_uri https://liveperson.net/elsewhere",
            Some(1),
        ),
        (
            r#"{"lapses":["ignore-pkce"]}"#,
            "pkce-verifier-checked",
            "fail",
            "a wrong code_verifier was accepted",
            Some(1),
        ),
        (
            r#"{"redirect":"wrong-state"}"#,
            "state-echoed",
            "fail",
            "sent \"",
            Some(1),
        ),
        (
            r#"{"mutate":["nonce-mismatch"]}"#,
            "nonce-echoed",
            "fail",
            "sent \"",
            Some(1),
        ),
        (
            r#"{"mutate":["aud-mismatch"]}"#,
            "aud-client-id",
            "warn",
            "aud is \"",
            Some(0),
        ),
        (
            r#"{"lapses":["long-lived-id-token"]}"#,
            "id-token-lifetime",
            "warn",
            "exp - iat = 604800 s: longer than a day",
            Some(0),
        ),
        (
            r#"{"mutate":["kid-absent"]}"#,
            "kid-in-jwks",
            "fail",
            "the header has no kid and the JWKS holds 2 RSA keys",
            Some(1),
        ),
        (
            r#"{"mutate":["kid-unknown"]}"#,
            "kid-in-jwks",
            "fail",
            "kid \"",
            Some(1),
        ),
        (
            r#"{"lapses":["jwks-uncached"]}"#,
            "jwks-cache-control",
            "warn",
            "Cache-Control is \"\"",
            Some(0),
        ),
        (
            r#"{"lapses":["token-cacheable"]}"#,
            "token-no-store",
            "warn",
            "Cache-Control is \"\"",
            Some(0),
        ),
        (
            r#"{"lapses":["plain-errors"]}"#,
            "error-json",
            "warn",
            "not OAuth error JSON",
            Some(0),
        ),
        (
            r#"{"mutate":["iss-mismatch"]}"#,
            "iss-matches-discovery",
            "fail",
            "iss Some(",
            Some(1),
        ),
        (
            r#"{"token_response":"wrong-content-type"}"#,
            "token-response-shape",
            "fail",
            "Content-Type \"text/plain\"",
            Some(1),
        ),
        (
            r#"{"jwks":"weak-rsa"}"#,
            "jwks-usable",
            "warn",
            "RSA keys under 2048 bits: ",
            Some(1),
        ),
    ];
    for (fault, id, status, detail, code) in cases {
        idp.faults(fault);
        let checked = idp.check("demo-client", &args);
        if let Some(code) = code {
            assert_eq!(checked.code, code, "{fault}: {:#}", checked.report);
        }
        checked.assert(id, status, detail);
        // The fault shows in its own check; the line names it once.
        assert_eq!(checked.ids(), ALL_CHECKS, "{fault}");
        // --strict fails a warning; a failure stays one.
        let strict = idp.check("demo-client", &[&args[..], &["--strict"]].concat());
        assert_eq!(strict.code, 1, "{fault} --strict");
        strict.assert(id, "fail", detail);
    }
    idp.faults("{}");
    assert_eq!(idp.check("demo-client", &args).code, 0);
}

#[test]
fn a_wrong_decrypt_key_fails_the_envelope_not_the_token() {
    let idp = Provider::start("");
    let code_from = idp.sign_in("alice");
    let right = format!("{REPO}/fixtures/keys/platform-encryption.key.pem");
    let wrong = format!("{REPO}/fixtures/keys/attacker-signing.key.pem");
    let checked = idp.check(
        "demo-encrypted",
        &["--code-from", &code_from, "--decrypt-key", &wrong],
    );
    assert_eq!(checked.code, 1);
    checked.assert(
        "code-envelope",
        "fail",
        "the envelope does not open with --decrypt-key",
    );
    checked.assert("code-id-token", "skip", "the envelope did not open");
    let checked = idp.check(
        "demo-encrypted",
        &["--code-from", &code_from, "--decrypt-key", &right],
    );
    assert_eq!(checked.code, 0, "{:#}", checked.report);
    checked.assert("code-envelope", "pass", "JWE RSA-OAEP-256 A256GCM");
    checked.assert("code-id-token", "pass", "sub ");
    let checked = idp.check("demo-encrypted", &["--code-from", &code_from]);
    checked.assert(
        "code-envelope",
        "fail",
        "an envelope (JWE) arrived and no --decrypt-key was given",
    );
}

#[test]
fn commands_have_a_time_limit_and_their_stderr_reaches_the_person() {
    let idp = Provider::start("");
    let started = std::time::Instant::now();
    let checked = idp.check(
        "demo-client",
        &[
            "--code-from",
            "echo 'open this URL in a browser' >&2; sleep 30",
            "--command-timeout",
            "1",
        ],
    );
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
    assert_eq!(checked.code, 1);
    assert!(
        checked.stderr.contains("open this URL in a browser"),
        "{}",
        checked.stderr
    );
    checked.assert(
        "code-id-token",
        "fail",
        "`echo 'open this URL in a browser' >&2; sleep 30` did not finish within 1 s (--command-timeout) and was stopped",
    );
    let checked = idp.check(
        "demo-client",
        &[
            "--code-from",
            "echo step one >&2; echo 'no session: run login first' >&2; exit 3",
        ],
    );
    checked.assert(
        "code-id-token",
        "fail",
        "`echo step one >&2; echo 'no session: run login first' >&2; exit 3` exited with status 3: no session: run login first",
    );
    let checked = idp.check("demo-client", &["--code-from", "true"]);
    checked.assert(
        "code-id-token",
        "fail",
        "`true` printed nothing; it must print the code or the whole redirect URL",
    );
    // The quoted line is the text a person reads: a colour, a tab and a carriage return do
    // not reach the report's one line.
    let coloured = r"printf 'no\tsession: \033[31mrun login\033[0m first\r' >&2; exit 3";
    let checked = idp.check("demo-client", &["--code-from", coloured]);
    let (status, detail) = checked.get("code-id-token");
    assert_eq!(
        (status.as_str(), detail.as_str()),
        (
            "fail",
            format!("`{coloured}` exited with status 3: no session: run login first").as_str()
        )
    );
}

/// A command that prints more than the answer is the command's failure, never a provider
/// verdict: the second line would otherwise be read into the redirect's `state`.
#[test]
fn a_command_that_prints_two_lines_is_a_sign_in_failure() {
    let idp = Provider::start("");
    let code_from = format!("{}; echo; echo second line", idp.sign_in("alice"));
    let checked = idp.check("demo-client", &["--code-from", &code_from]);
    assert_eq!(checked.code, 1, "{:#}", checked.report);
    let (status, detail) = checked.get("code-id-token");
    assert_eq!(
        (status.as_str(), detail.as_str()),
        (
            "fail",
            format!(
                "`{code_from}` printed 2 lines; print only the redirect URL, or the bare code or \
                 ID token"
            )
            .as_str()
        )
    );
    checked.assert("state-echoed", "skip", "no code: see code-id-token");
    checked.assert("token-basic", "skip", "no code: see code-id-token");
    // Blank lines around the answer are not lines of their own.
    let padded = format!("echo; {}; echo; echo", idp.sign_in("alice"));
    let checked = idp.check("demo-client", &["--code-from", &padded]);
    assert_eq!(checked.code, 0, "{:#}", checked.report);
    checked.assert("state-echoed", "pass", "\"");
}

#[test]
fn an_untrusted_certificate_is_named_and_points_at_ca() {
    let idp = Provider::start("");
    let checked = idp.check("demo-client", &["--no-ca", "--discovery-only"]);
    assert_eq!(checked.code, 1);
    let (status, detail) = checked.get("tls");
    assert_eq!(status, "fail");
    assert!(
        detail.contains("the TLS certificate is not trusted (")
            && detail.contains("UnknownIssuer")
            && detail.contains("pass its certificate with --ca FILE"),
        "{detail}"
    );
    assert_eq!(checked.ids(), ["tls", "discovery-fetch"]);
    // With --ca naming a certificate that did not issue the server's (a self-signed one, here
    // the fixture key's): no advice to pass --ca, which was passed.
    let self_signed = format!("{REPO}/fixtures/keys/idp-signing-1.cert.pem");
    let checked = idp.check(
        "demo-client",
        &["--no-ca", "--ca", &self_signed, "--discovery-only"],
    );
    assert_eq!(checked.code, 1);
    let (status, detail) = checked.get("tls");
    assert_eq!(status, "fail");
    assert!(
        detail.contains("the TLS certificate is not trusted (")
            && detail.contains("even with --ca: the file given is not the CA that issued")
            && !detail.contains("pass its certificate with --ca"),
        "{detail}"
    );
}

#[test]
fn nothing_verified_is_not_a_pass() {
    let idp = Provider::start("");
    // No command: a person is to sign in; nobody does.
    let checked = idp.check("demo-client", &["--no-open", "--command-timeout", "1"]);
    assert_eq!(checked.code, 1);
    assert!(
        checked
            .stderr
            .contains("Sign in at the provider; the answer comes back to http://127.0.0.1:"),
        "{}",
        checked.stderr
    );
    let (status, detail) = checked.get("code-id-token");
    assert_eq!(status, "fail");
    assert!(
        detail.starts_with("no code came back to http://127.0.0.1:")
            && detail.contains("/callback within 1 s (--command-timeout)"),
        "{detail}"
    );
    let (status, detail) = checked.get("id-token-verified");
    assert_eq!(
        (status.as_str(), detail.as_str()),
        (
            "fail",
            "no sign-in brought an ID token back, so the platform's use of this provider is \
             unproven: see code-id-token; --discovery-only checks discovery alone"
        )
    );
    // Discovery alone, asked for: says so and exits 0.
    let checked = idp.check("demo-client", &["--discovery-only"]);
    assert_eq!(checked.code, 0, "{:#}", checked.report);
    checked.assert("id-token-verified", "skip", "--discovery-only: no sign-in");
    assert_eq!(checked.ids().len(), 9);
    // Tokens that arrive but fail: the summary line points at them.
    idp.faults(r#"{"mutate":["exp-past"]}"#);
    let code_from = idp.sign_in("alice");
    let checked = idp.check("demo-client", &["--code-from", &code_from]);
    assert_eq!(checked.code, 1);
    checked.assert("code-id-token", "fail", "expired: ");
    // Only the line that ran is named: there was no --token-from.
    let (status, detail) = checked.get("id-token-verified");
    assert_eq!(
        (status.as_str(), detail.as_str()),
        (
            "fail",
            "the provider issued ID tokens and the platform would refuse them: see code-id-token"
        )
    );
}

#[test]
fn one_id_per_check_whatever_happens() {
    let idp = Provider::start("");
    let code_from = idp.sign_in("alice");
    let failing = idp.check(
        "demo-client",
        &["--code-from", &code_from, "--token-from", "exit 1"],
    );
    assert_eq!(failing.ids(), ALL_CHECKS);
    failing.assert(
        "implicit-id-token",
        "fail",
        "`exit 1` exited with status 1 and printed nothing on stderr",
    );
    let skipped = idp.check("demo-client", &["--code-from", &code_from]);
    assert_eq!(skipped.ids(), ALL_CHECKS);
    skipped.assert("implicit-id-token", "skip", "no --token-from command");
}

#[test]
fn sign_in_time_is_not_token_endpoint_time() {
    let idp = Provider::start("");
    let code_from = format!("sleep 2; {}", idp.sign_in("alice"));
    let checked = idp.check("demo-client", &["--code-from", &code_from]);
    assert_eq!(checked.code, 0, "{:#}", checked.report);
    let millis = |id: &str| {
        checked.outcomes().iter().find(|o| o["id"] == id).unwrap()["millis"]
            .as_u64()
            .unwrap()
    };
    // Each token-endpoint check waited for a two-second sign-in first.
    for id in ["token-basic", "token-body", "client-secret-checked"] {
        assert!(millis(id) < 2_000, "{id}: {} ms", millis(id));
    }
}

#[test]
fn at_hash_nonce_and_pkce_are_checked() {
    // The provider refuses authorization requests without PKCE: check sends S256.
    let idp = Provider::start(
        "[[client]]\nclient_id = \"pkce-only\"\nclient_secret = \"demo-secret\"\nrequire_pkce = true\n",
    );
    let code_from = idp.sign_in("alice");
    let checked = idp.check("pkce-only", &["--code-from", &code_from]);
    assert_eq!(checked.code, 0, "{:#}", checked.report);
    checked.assert("token-basic", "pass", "HTTP 200 with an id_token");
    checked.assert(
        "pkce-verifier-checked",
        "pass",
        "refused: HTTP 400 invalid_grant",
    );
    // The provider refuses requests without a challenge: --pkce auto says it requires PKCE.
    checked.assert("pkce-required", "pass", "requires PKCE: ");
    // A provider that takes codes without a challenge says so; --pkce off sends none (and
    // such a connector cannot use a provider that requires PKCE); --pkce on skips the probe.
    let open = Provider::start("");
    let open_code_from = open.sign_in("alice");
    let plain = open.check("demo-client", &["--code-from", &open_code_from]);
    plain.assert("pkce-required", "pass", "does not require PKCE: ");
    let off = open.check(
        "demo-client",
        &["--code-from", &open_code_from, "--pkce", "off"],
    );
    assert_eq!(off.code, 0, "{:#}", off.report);
    off.assert("pkce-verifier-checked", "skip", "--pkce off: ");
    off.assert("pkce-required", "skip", "--pkce on or off: ");
    let off_required = idp.check("pkce-only", &["--code-from", &code_from, "--pkce", "off"]);
    assert_eq!(off_required.code, 1, "{:#}", off_required.report);
    let on = idp.check("pkce-only", &["--code-from", &code_from, "--pkce", "on"]);
    assert_eq!(on.code, 0, "{:#}", on.report);
    on.assert("pkce-required", "skip", "--pkce on or off: ");
    // A request without a challenge that brings nothing back (a provider's own error page, a
    // headless script that gives up) is not proof either way: a WARN that says so.
    let stuck_without_pkce = format!(
        r#"case "$OIDC_HARNESS_AUTH_URL" in *code_challenge=*) {open_code_from};; *) echo "an error page" >&2; exit 1;; esac"#
    );
    let unknown = open.check("demo-client", &["--code-from", &stuck_without_pkce]);
    assert_eq!(unknown.code, 0, "{:#}", unknown.report);
    unknown.assert(
        "pkce-required",
        "warn",
        "unknown: a request without a challenge brought nothing back (`case ",
    );
    unknown.assert_has("pkce-required", "warn", "exited with status 1: an error page); if the provider showed an error page it requires PKCE");

    // The platform publishes no at_hash or nonce rule: its reading takes the token, and the
    // line warns with what the strict reading refuses; a wrong nonce still fails its own line.
    idp.faults(r#"{"mutate":["at_hash-bad"]}"#);
    let checked = idp.check("pkce-only", &["--code-from", &code_from]);
    checked.assert_has("code-id-token", "warn", "the strict reading refuses it: at-hash (standard): the access token beside the ID token is not the one it was issued with; at_hash ");
    idp.faults(r#"{"mutate":["nonce-mismatch"]}"#);
    let checked = idp.check("pkce-only", &["--code-from", &code_from]);
    checked.assert_has(
        "code-id-token",
        "warn",
        "nonce (standard): a token from another sign-in can be replayed into this one; nonce ",
    );
    assert_eq!(checked.get("nonce-echoed").0, "fail");
}

/// `pkce-required` is judged at the step that refused: a request without a challenge refused
/// at the authorization endpoint shows PKCE required whatever the token endpoint thinks of the
/// secret; and a `--pkce` that asks no such question says so, whatever else failed.
#[test]
fn pkce_required_is_judged_where_the_refusal_came() {
    let idp = Provider::start(
        "[[client]]\nclient_id = \"pkce-only\"\nclient_secret = \"demo-secret\"\nrequire_pkce = true\n",
    );
    let code_from = idp.sign_in("alice");
    let wrong = [
        "--code-from",
        &code_from,
        "--client-secret",
        "not-the-secret",
    ];
    let checked = idp.check("pkce-only", &wrong);
    assert_eq!(checked.code, 1, "{:#}", checked.report);
    checked.assert("token-basic", "fail", "HTTP 401 invalid_client");
    let (status, detail) = checked.get("pkce-required");
    assert_eq!(
        (status.as_str(), detail.as_str()),
        (
            "pass",
            "requires PKCE: a request without a challenge got no code (the provider answered \
             error=invalid_request: Missing required parameter: code_challenge); the connector's \
             PKCE toggle must be on"
        )
    );
    // A code without a challenge, then a redemption refused like the right one: nothing shown.
    let idp = Provider::start("");
    let code_from = idp.sign_in("alice");
    let wrong = [
        "--code-from",
        &code_from,
        "--client-secret",
        "not-the-secret",
    ];
    let checked = idp.check("demo-client", &wrong);
    let (status, detail) = checked.get("pkce-required");
    assert_eq!(
        (status.as_str(), detail.as_str()),
        (
            "skip",
            "a code came without a challenge, and the right redemption was refused too \
             (token-basic: HTTP 401 invalid_client: Unauthorized), so a refusal of this one \
             would say nothing about PKCE"
        )
    );
    // No code at all: --pkce off or on still says why the probe was not made.
    for pkce in ["off", "on"] {
        let checked = idp.check("demo-client", &["--code-from", "exit 1", "--pkce", pkce]);
        checked.assert("code-id-token", "fail", "`exit 1` exited with status 1");
        checked.assert(
            "pkce-required",
            "skip",
            "--pkce on or off: the provider was not asked for a code without a challenge \
             (--pkce auto does)",
        );
        checked.assert("token-body", "skip", "no code: see code-id-token");
    }
    let checked = idp.check("demo-client", &["--code-from", "exit 1", "--pkce", "off"]);
    checked.assert(
        "pkce-verifier-checked",
        "skip",
        "--pkce off: the connector sends no PKCE challenge, so no verifier is checked",
    );
}

#[test]
fn a_redirect_url_is_read_as_a_url_and_a_bare_code_verbatim() {
    let idp = Provider::start("");
    // The redirect URL: its query is decoded once, so state (`~+/=`) and the code's `/` survive.
    let checked = idp.check("demo-client", &["--code-from", &idp.sign_in("alice")]);
    checked.assert("state-echoed", "pass", "\"");
    checked.assert("token-basic", "pass", "HTTP 200");
    // The code cut out of the URL still percent-encoded: sent as printed, and the failure
    // says what to print instead.
    let bare = format!(
        "{} | sed -e 's/.*[?&]code=//' -e 's/&.*//'",
        idp.sign_in("alice")
    );
    let checked = idp.check("demo-client", &["--code-from", &bare]);
    checked.assert(
        "state-echoed",
        "skip",
        "the command printed a bare value; print the whole redirect URL",
    );
    let (status, detail) = checked.get("token-basic");
    assert_eq!(status, "fail");
    assert!(
        detail.starts_with("HTTP 400 invalid_grant: Malformed auth code.")
            && detail.ends_with(
                "(the code has a '%': print the whole redirect URL, or the code decoded)"
            ),
        "{detail}"
    );
    // The same code decoded by the command: a bare value is taken as printed, `/` and all.
    let decoded = format!("{bare} | sed -e 's/%2F/\\//g'");
    let checked = idp.check("demo-client", &["--code-from", &decoded]);
    assert_eq!(checked.code, 0, "{:#}", checked.report);
    checked.assert("token-basic", "pass", "HTTP 200");
}

#[test]
fn body_credentials_refused_is_a_warning_and_strict_fails_it() {
    let idp = Provider::start(
        "[[client]]\nclient_id = \"basic-only\"\nclient_secret = \"demo-secret\"\ntoken_endpoint_auth_method = \"client_secret_basic\"\n",
    );
    let code_from = idp.sign_in("alice");
    let checked = idp.check("basic-only", &["--code-from", &code_from]);
    assert_eq!(checked.code, 0, "{:#}", checked.report);
    checked.assert(
        "token-body",
        "warn",
        "HTTP 401 invalid_client: The client is not allowed to use this authentication method.: the platform's documentation names HTTP Basic",
    );
    assert_eq!(checked.report["warned"], 1, "{:#}", checked.report);
    let checked = idp.check("basic-only", &["--code-from", &code_from, "--strict"]);
    assert_eq!(checked.code, 1);
    let (status, detail) = checked.get("token-body");
    assert_eq!(status, "fail");
    assert!(detail.ends_with(" (--strict)"), "{detail}");
}

#[test]
fn the_text_report_shows_levels_and_the_summary_counts_them() {
    let idp = Provider::start(
        "[[client]]\nclient_id = \"basic-only\"\nclient_secret = \"demo-secret\"\ntoken_endpoint_auth_method = \"client_secret_basic\"\n",
    );
    let code_from = idp.sign_in("alice");
    let discovery = idp.discovery();
    let (code, out, _) = run(&[
        "check",
        "--discovery",
        &discovery,
        "--client-id",
        "basic-only",
        "--client-secret",
        "demo-secret",
        "--ca",
        &idp.ca,
        "--code-from",
        &code_from,
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("WARN  token-body ")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("SKIP  implicit-id-token ")),
        "{out}"
    );
    assert_eq!(
        out.lines().last(),
        Some("25 passed, 0 failed, 1 warned, 1 skipped")
    );
}

#[test]
fn save_fixtures_keeps_every_id_token_as_a_private_scenario_that_replays() {
    let idp = Provider::start("");
    let code_from = idp.sign_in("alice");
    let token_from = idp.sign_in("bob");
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("kept");
    let checked = idp.check(
        "demo-client",
        &[
            "--code-from",
            &code_from,
            "--token-from",
            &token_from,
            "--save-fixtures",
            saved.to_str().unwrap(),
        ],
    );
    assert_eq!(checked.code, 0, "{:#}", checked.report);
    let (status, detail) = checked.get("fixtures-saved");
    assert_eq!(status, "pass", "{detail}");
    let files: Vec<_> = std::fs::read_dir(&saved)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    // Every ID token check verified: the Code Flow's and the Implicit Flow's, at least.
    assert!(files.len() >= 2, "{files:?}");
    assert!(
        detail.starts_with(&format!(
            "{} written, each reproduces its verdict",
            files.len()
        )),
        "{detail}"
    );
    let mut flows = std::collections::BTreeSet::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        // Nothing of alice's or bob's.
        for personal in [
            "alice.liddell",
            "Liddell",
            "110169484474386276334",
            "Bob Stone",
            "104785613201744552819",
        ] {
            assert!(
                !text.contains(personal),
                "{personal} in {}:\n{text}",
                file.display()
            );
        }
        let scenario: toml::Value = toml::from_str(&text).unwrap();
        assert_eq!(
            scenario["expect"]["verdict"].as_str(),
            Some("authenticated")
        );
        assert!(scenario["source"].as_str().unwrap().starts_with(&format!(
            "oidc-harness check --discovery {}",
            idp.discovery()
        )));
        flows.insert(scenario["flow"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        flows.into_iter().collect::<Vec<_>>(),
        ["code", "implicit"],
        "{files:?}"
    );
    // And `run` replays them.
    let (code, out, err) = run(&["run", saved.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0, "{out} {err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["passed"], files.len());
}

#[test]
fn a_note_never_fails_and_every_line_names_its_basis() {
    let idp = Provider::start("");
    let code_from = idp.sign_in("alice");
    // A correct provider that is not Google: discovery without Google's own members.
    idp.faults(r#"{"lapses":["discovery-minimal"]}"#);
    let checked = idp.check("demo-client", &["--code-from", &code_from, "--strict"]);
    assert_eq!(checked.code, 0, "{:#}", checked.report);
    checked.assert(
        "discovery-fields",
        "note",
        "the essentials; not Google's device_authorization_endpoint, revocation_endpoint, claims_supported",
    );
    assert_eq!(checked.report["noted"], 1);
    assert_eq!(checked.report["failed"], 0);
    let line = |id: &str| {
        let o = checked.outcomes().iter().find(|o| o["id"] == id).unwrap();
        (o["basis"].clone(), o["citation"].clone())
    };
    assert_eq!(
        line("discovery-fields"),
        ("assumed".into(), "google-oidc.md §1.1".into())
    );
    assert_eq!(
        line("redirect-uri-compared"),
        ("standard".into(), "RFC 6749 §4.1.3".into())
    );
    assert_eq!(
        line("iss-matches-discovery"),
        ("documented".into(), "liveperson-auth.md §4.1".into())
    );
    assert_eq!(
        line("kid-in-jwks"),
        ("observed".into(), "liveperson-auth.md §8.4".into())
    );
    for o in checked.outcomes() {
        assert!(o["basis"].is_string() && o["citation"].is_string(), "{o:#}");
    }

    // The text line and the JUnit case say the same; a NOTE is no JUnit failure.
    let discovery = idp.discovery();
    let base = [
        "check",
        "--discovery",
        &discovery,
        "--client-id",
        "demo-client",
        "--client-secret",
        "demo-secret",
        "--ca",
        &idp.ca,
        "--code-from",
        &code_from,
        "--strict",
    ];
    let (code, text, _) = run(&base);
    assert_eq!(code, 0, "{text}");
    let note = text
        .lines()
        .find(|l| l.starts_with("NOTE  discovery-fields "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(note.ends_with(" [assumed, google-oidc.md §1.1]"), "{note}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("PASS  redirect-uri-compared ")
                && l.ends_with(" [standard, RFC 6749 §4.1.3]")),
        "{text}"
    );
    assert_eq!(
        text.lines().last(),
        Some("25 passed, 0 failed, 1 noted, 1 skipped")
    );
    let (code, xml, _) = run(&[&base[..], &["--format", "junit"]].concat());
    assert_eq!(code, 0, "{xml}");
    assert!(xml.contains(" failures=\"0\""), "{xml}");
    assert!(
        xml.contains(
            "<system-out>NOTE: the essentials; not Google&apos;s device_authorization_endpoint"
        ),
        "{xml}"
    );
}

#[test]
fn a_discovery_url_with_a_trailing_slash_or_an_issuer_path_names_its_issuer() {
    let idp = Provider::start("[[brand]]\nname = \"acme\"\n");
    idp.faults(r#"{"lapses":["discovery-slash"]}"#);
    let slash = format!("{}/", idp.discovery());
    let checked = idp.check_at(&slash, "demo-client", &["--discovery-only"]);
    assert_eq!(checked.code, 0, "{:#}", checked.report);
    checked.assert("discovery-issuer", "pass", &idp.base);
    // An issuer with a path, its discovery URL with a trailing slash.
    let acme = format!("{}/brands/acme", idp.base);
    idp.faults_at(&acme, r#"{"lapses":["discovery-slash"]}"#);
    let slash = format!("{acme}/.well-known/openid-configuration/");
    let checked = idp.check_at(&slash, "demo-client", &["--discovery-only"]);
    assert_eq!(checked.code, 0, "{:#}", checked.report);
    let (status, detail) = checked.get("discovery-issuer");
    assert_eq!((status.as_str(), detail.as_str()), ("pass", acme.as_str()));
    // A discovery issuer other than the URL's: named against the issuer, not the URL.
    idp.faults(r#"{"discovery_issuer":"https://elsewhere.example"}"#);
    let checked = idp.check("demo-client", &["--discovery-only"]);
    checked.assert(
        "discovery-issuer",
        "warn",
        &format!(
            "issuer \"https://elsewhere.example\" is not {:?}, the issuer this discovery URL names",
            idp.base
        ),
    );
}

#[test]
fn a_refusal_proves_only_the_property_it_is_about() {
    let idp = Provider::start("");
    let code_from = idp.sign_in("alice");
    // A wrong secret: every redemption gets 401 invalid_client, which says nothing about
    // redirect_uri or PKCE.
    let checked = idp.check(
        "demo-client",
        &[
            "--code-from",
            &code_from,
            "--client-secret",
            "not-the-secret",
        ],
    );
    assert_eq!(checked.code, 1, "{:#}", checked.report);
    checked.assert("token-basic", "fail", "HTTP 401 invalid_client");
    for (id, property) in [
        ("client-secret-checked", "the client secret"),
        ("redirect-uri-compared", "redirect_uri"),
        ("pkce-verifier-checked", "the PKCE verifier"),
        ("token-body", "body credentials"),
    ] {
        let (status, detail) = checked.get(id);
        assert_eq!(status, "skip", "{id}: {detail}");
        assert!(
            detail.starts_with("refused (HTTP 401 invalid_client")
                && detail.contains(
                    "but so was the right redemption (token-basic: HTTP 401 invalid_client"
                )
                && detail.ends_with(&format!("the refusal says nothing about {property}")),
            "{id}: {detail}"
        );
    }
    checked.assert(
        "id-token-verified",
        "fail",
        "sign-ins worked, but no redemption brought an ID token back: see token-basic",
    );

    // The right secret, and a provider that names every refusal invalid_client: the right
    // redemption is accepted, so each refusal is of the one thing changed. The property holds
    // (no FAIL); only the error code is off (WARN), and the secret's own line passes.
    idp.faults(r#"{"lapses":["refusals-invalid-client"]}"#);
    let checked = idp.check("demo-client", &["--code-from", &code_from]);
    assert_eq!(checked.code, 0, "{:#}", checked.report);
    checked.assert("token-basic", "pass", "HTTP 200 with an id_token");
    checked.assert(
        "client-secret-checked",
        "pass",
        "refused: HTTP 401 invalid_client",
    );
    for (id, property) in [
        ("redirect-uri-compared", "redirect_uri"),
        ("pkce-verifier-checked", "the PKCE verifier"),
    ] {
        checked.assert(
            id,
            "warn",
            &format!(
                "refused, but as HTTP 401 invalid_client: Unauthorized: the same credentials \
                 redeemed a code in token-basic, so the refusal is of {property}, which RFC 6749 \
                 §5.2 answers with 400 invalid_grant"
            ),
        );
    }
    // A provider that takes any redirect_uri still FAILs, whatever it calls other refusals.
    idp.faults(r#"{"lapses":["refusals-invalid-client","any-redirect-uri"]}"#);
    let checked = idp.check("demo-client", &["--code-from", &code_from]);
    assert_eq!(checked.code, 1, "{:#}", checked.report);
    assert_eq!(checked.get("redirect-uri-compared").0, "fail");
}

#[test]
fn state_is_compared_in_every_flow_that_carries_it() {
    let idp = Provider::start("");
    let token_from = idp.sign_in("bob");
    idp.faults(r#"{"redirect":"wrong-state"}"#);
    // Implicit only: the fragment's state is compared.
    let checked = idp.check("demo-client", &["--token-from", &token_from]);
    assert_eq!(checked.code, 1, "{:#}", checked.report);
    let (status, detail) = checked.get("state-echoed");
    assert_eq!(status, "fail", "{detail}");
    assert!(
        detail.starts_with("sent \"")
            && detail.contains(" in the Implicit Flow: the platform refuses"),
        "{detail}"
    );
    // Both flows, honest: one line, both compared.
    idp.faults("{}");
    let code_from = idp.sign_in("alice");
    let checked = idp.check(
        "demo-client",
        &["--code-from", &code_from, "--token-from", &token_from],
    );
    let (status, detail) = checked.get("state-echoed");
    assert_eq!(status, "pass", "{detail}");
    assert!(
        detail.contains(" (the Code Flow); \"") && detail.ends_with(" (the Implicit Flow)"),
        "{detail}"
    );
}

/// After an authorization error each line says what happened: `state` is compared on the error
/// redirect, `error-json` names the refusals for what they were, and `id-token-verified` points
/// at the lines that ran.
#[test]
fn an_authorization_error_is_reported_as_one() {
    let idp = Provider::start("");
    let code_from = idp.sign_in("alice");
    let token_from = idp.sign_in("bob");
    idp.faults(r#"{"redirect":"error"}"#);
    let both = ["--code-from", &code_from, "--token-from", &token_from];
    let checked = idp.check("demo-client", &both);
    assert_eq!(checked.code, 1, "{:#}", checked.report);
    // Each line once (code-id-token, which says why, comes first).
    let each_once = |checked: &Checked| {
        let mut ids = checked.ids();
        ids.sort();
        let mut all = ALL_CHECKS.to_vec();
        all.sort_unstable();
        assert_eq!(ids, all);
    };
    each_once(&checked);
    let answered = "the provider answered error=server_error: The provider failed (a fault set on \
        purpose).";
    for id in ["code-id-token", "implicit-id-token"] {
        let (status, detail) = checked.get(id);
        assert_eq!(
            (status.as_str(), detail.as_str()),
            ("fail", answered),
            "{id}"
        );
    }
    let (status, detail) = checked.get("state-echoed");
    assert_eq!(status, "pass", "{detail}");
    assert!(
        detail.starts_with('"')
            && detail.contains("~+/=\" (the Code Flow's error redirect); \"")
            && detail.ends_with("~+/=\" (the Implicit Flow's error redirect)"),
        "{detail}"
    );
    checked.assert("token-basic", "skip", "no code: see code-id-token");
    let exact = |checked: &Checked, id: &str, status: &str, detail: &str| {
        let got = checked.get(id);
        assert_eq!((got.0.as_str(), got.1.as_str()), (status, detail), "{id}");
    };
    exact(
        &checked,
        "error-json",
        "skip",
        "the provider's refusals were authorization redirects (error=server_error), not \
         token-endpoint answers, so no error response was seen",
    );
    exact(
        &checked,
        "id-token-verified",
        "fail",
        "no sign-in brought an ID token back, so the platform's use of this provider is \
         unproven: see code-id-token and implicit-id-token",
    );
    // One flow: only its line is named.
    let checked = idp.check("demo-client", &both[..2]);
    exact(
        &checked,
        "id-token-verified",
        "fail",
        "no sign-in brought an ID token back, so the platform's use of this provider is \
         unproven: see code-id-token",
    );
    checked.assert("state-echoed", "pass", "\"");
    // An error redirect with another state fails state-echoed, as any redirect would.
    let altered = format!("{code_from} | sed -e 's/state=[^&]*/state=altered/'");
    let checked = idp.check("demo-client", &["--code-from", &altered]);
    checked.assert("state-echoed", "fail", "sent \"");
    checked.assert_has(
        "state-echoed",
        "fail",
        ", got \"altered\" in the Code Flow's error redirect: the platform refuses",
    );

    // Nothing came back at all (an error page of the provider's, for a redirect URI it does
    // not know): error-json does not claim a provider that refused nothing.
    idp.faults("{}");
    let checked = idp.check(
        "demo-client",
        &[
            "--code-from",
            &code_from,
            "--redirect-uri",
            "https://elsewhere.example",
        ],
    );
    checked.assert_has("code-id-token", "fail", "` printed nothing; it must print");
    checked.assert("state-echoed", "skip", "no code: see code-id-token");
    exact(
        &checked,
        "error-json",
        "skip",
        "no sign-in brought a code or an ID token back, so no token-endpoint answer was seen",
    );
    // An Implicit-only run whose sign-in fails still has every line, its state line saying why.
    let checked = idp.check("demo-client", &["--token-from", "exit 1"]);
    each_once(&checked);
    checked.assert("state-echoed", "skip", "no ID token: see implicit-id-token");
    exact(
        &checked,
        "id-token-verified",
        "fail",
        "no sign-in brought an ID token back, so the platform's use of this provider is \
         unproven: see implicit-id-token",
    );
}

/// The lines about what the platform relies on in an ID token judge every token obtained, one
/// for each flow: a defect in the Implicit Flow's token alone counts as it does in a run of its
/// own, and the worst finding makes the line.
#[test]
fn every_flows_id_token_is_judged() {
    let idp = Provider::start(
        "[[client]]\nclient_id = \"demo-client\"\nclient_secret = \"demo-secret\"\n\n\
         [[client]]\nclient_id = \"implicit-only\"\nclient_secret = \"other-secret\"\n",
    );
    let code_from = idp.sign_in("alice");
    let token_from = idp.sign_in("bob");
    // The fault is set just before the Implicit Flow's sign-in, the run's last: the Code
    // Flow's token is honest.
    let implicit_only = |fault: &str| {
        format!(
            "curl -s -f -o /dev/null --cacert {} -X PUT -H 'content-type: application/json' \
             -d '{fault}' {}/_harness/faults && {token_from}",
            idp.ca, idp.base
        )
    };
    let check = |fault: &str, extra: &[&str]| {
        let token_from = implicit_only(fault);
        let args = [
            &["--code-from", &code_from, "--token-from", &token_from][..],
            extra,
        ]
        .concat();
        let checked = idp.check("demo-client", &args);
        idp.faults("{}");
        checked
    };

    let checked = check("{}", &[]);
    assert_eq!(checked.code, 0, "{:#}", checked.report);
    let (status, detail) = checked.get("iss-matches-discovery");
    assert_eq!(status, "pass");
    assert_eq!(
        detail,
        format!(
            "{:?} (the Code Flow); {:?} (the Implicit Flow)",
            idp.base, idp.base
        )
    );
    checked.assert(
        "aud-client-id",
        "pass",
        "\"demo-client\" (the Code Flow); \"demo-client\" (the Implicit Flow)",
    );
    checked.assert(
        "id-token-lifetime",
        "pass",
        "exp - iat = 3600 s (the Code Flow); exp - iat = 3600 s (the Implicit Flow)",
    );

    // Another nonce in the Implicit Flow's token: a FAIL, as in an Implicit-only run.
    let checked = check(r#"{"mutate":["nonce-mismatch"]}"#, &[]);
    assert_eq!(checked.code, 1, "{:#}", checked.report);
    checked.assert("code-id-token", "pass", "sub ");
    checked.assert_has("implicit-id-token", "warn", "nonce (standard)");
    let (status, detail) = checked.get("nonce-echoed");
    assert_eq!(status, "fail", "{detail}");
    assert!(
        detail.starts_with('"')
            && detail.contains("\" (the Code Flow); sent \"")
            && detail.ends_with(
                "1\": a token from another sign-in can be replayed into this one (the Implicit Flow)"
            ),
        "{detail}"
    );
    let alone = idp.check(
        "demo-client",
        &[
            "--token-from",
            &implicit_only(r#"{"mutate":["nonce-mismatch"]}"#),
        ],
    );
    idp.faults("{}");
    assert_eq!(alone.code, 1, "{:#}", alone.report);
    alone.assert("nonce-echoed", "fail", "sent \"");

    // The other lines, each with its fault in the Implicit Flow's token alone.
    for (fault, id, status, code, implicit_part) in [
        (
            r#"{"mutate":["aud-mismatch"]}"#,
            "aud-client-id",
            "warn",
            0,
            "; aud is \"",
        ),
        (
            r#"{"lapses":["long-lived-id-token"]}"#,
            "id-token-lifetime",
            "warn",
            0,
            "; exp - iat = 604800 s: longer than a day",
        ),
        (
            r#"{"mutate":["kid-unknown"]}"#,
            "kid-in-jwks",
            "fail",
            1,
            "; kid \"",
        ),
        (
            r#"{"mutate":["iss-mismatch"]}"#,
            "iss-matches-discovery",
            "fail",
            1,
            "; iss Some(",
        ),
    ] {
        let checked = check(fault, &[]);
        assert_eq!(checked.code, code, "{fault}: {:#}", checked.report);
        let (got, detail) = checked.get(id);
        assert_eq!(got, status, "{fault}: {detail}");
        assert!(
            detail.contains(&format!(" (the Code Flow){implicit_part}"))
                && detail.ends_with(" (the Implicit Flow)"),
            "{fault}: {detail}"
        );
    }

    // A client of its own for the Implicit Flow: its token's aud is compared with it.
    let checked = check("{}", &["--implicit-client-id", "implicit-only"]);
    assert_eq!(checked.code, 0, "{:#}", checked.report);
    let (status, detail) = checked.get("aud-client-id");
    assert_eq!(
        (status.as_str(), detail.as_str()),
        (
            "pass",
            "\"demo-client\" (the Code Flow); \"implicit-only\" (the Implicit Flow)"
        )
    );
}

#[test]
fn a_closed_stderr_does_not_stop_the_report() {
    let idp = Provider::start("");
    let discovery = idp.discovery();
    // stderr is a pipe nobody reads any more: writing the sign-in URL there fails, and that
    // must not panic (exit 101) before the report is written.
    let mut child = Command::new(env!("CARGO_BIN_EXE_oidc-harness"))
        .args([
            "check",
            "--discovery",
            &discovery,
            "--client-id",
            "demo-client",
            "--client-secret",
            "demo-secret",
            "--ca",
            &idp.ca,
            "--interactive",
            "--no-open",
            "--command-timeout",
            "1",
            "--format",
            "json",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let code_id_token = report["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == "code-id-token")
        .unwrap();
    assert_eq!(code_id_token["status"], "fail");
}

#[test]
fn a_client_per_flow_and_no_secret_for_an_implicit_only_run() {
    let idp = Provider::start(
        "[[client]]\nclient_id = \"demo-client\"\nclient_secret = \"demo-secret\"\n\n\
         [[client]]\nclient_id = \"implicit-only\"\nclient_secret = \"other-secret\"\n",
    );
    let token_from = idp.sign_in("bob");
    let checked = idp.check(
        "demo-client",
        &[
            "--no-secret",
            "--token-from",
            &token_from,
            "--implicit-client-id",
            "implicit-only",
        ],
    );
    assert_eq!(checked.code, 0, "{:#}", checked.report);
    checked.assert("implicit-id-token", "pass", "sub ");
    checked.assert("aud-client-id", "pass", "\"implicit-only\"");
    // A provider that refuses the Code Flow's client the Implicit Flow: the line says a client
    // of its own can be given, unless one was.
    let unauthorized = r#"echo 'https://liveperson.net#error=unauthorized_client&error_description=implicit+not+allowed'"#;
    let code_from = idp.sign_in("alice");
    let one_client = ["--code-from", &code_from, "--token-from", unauthorized];
    let checked = idp.check("demo-client", &one_client);
    checked.assert("code-id-token", "pass", "sub ");
    let (status, detail) = checked.get("implicit-id-token");
    assert_eq!(
        (status.as_str(), detail.as_str()),
        (
            "fail",
            "the provider answered error=unauthorized_client: implicit not allowed; demo-client \
             is the client of both flows: a provider that registers one client per flow takes \
             the Implicit Flow's with --implicit-client-id"
        )
    );
    let checked = idp.check(
        "demo-client",
        &[&one_client[..], &["--implicit-client-id", "implicit-only"]].concat(),
    );
    let (status, detail) = checked.get("implicit-id-token");
    assert_eq!(
        (status.as_str(), detail.as_str()),
        (
            "fail",
            "the provider answered error=unauthorized_client: implicit not allowed"
        )
    );
    // The Code Flow redeems codes: it needs the secret, and says so.
    let discovery = idp.discovery();
    let code_from = idp.sign_in("alice");
    let (code, _, stderr) = run(&[
        "check",
        "--discovery",
        &discovery,
        "--client-id",
        "demo-client",
        "--ca",
        &idp.ca,
        "--code-from",
        &code_from,
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--client-secret is needed for the Code Flow"),
        "{stderr}"
    );
}

#[test]
fn an_hs256_token_is_named_by_its_alg_and_no_kid_beside_one_key_passes() {
    let idp = Provider::start("");
    let code_from = idp.sign_in("alice");
    idp.faults(r#"{"mutate":["hs-with-own-secret"]}"#);
    let checked = idp.check("demo-client", &["--code-from", &code_from]);
    assert_eq!(checked.code, 1, "{:#}", checked.report);
    checked.assert("kid-in-jwks", "fail", "alg is HS256, not RS256");
    // No kid, the JWKS holding one RSA key: the verifier uses it, and so does this line.
    idp.faults(r#"{"mutate":["kid-absent"],"jwks":"one-rsa-no-kid"}"#);
    let checked = idp.check("demo-client", &["--code-from", &code_from]);
    checked.assert(
        "kid-in-jwks",
        "pass",
        "no kid, and the JWKS holds a single RSA key",
    );
}

/// What only the strict reading refuses warns and exits 0; `--strict` fails it. The ID token
/// lines warn too, naming the finding, since the platform reading authenticates such tokens.
#[test]
fn warnings_alone_exit_0_and_strict_fails_them() {
    let idp = Provider::start("");
    let code_from = idp.sign_in("alice");
    let token_from = idp.sign_in("bob");
    let args = ["--code-from", &code_from, "--token-from", &token_from];
    for (fault, id, finding) in [
        (
            r#"{"mutate":["aud-mismatch"]}"#,
            "aud-client-id",
            "aud (standard)",
        ),
        (
            r#"{"lapses":["long-lived-id-token"]}"#,
            "id-token-lifetime",
            "lifetime (assumed)",
        ),
    ] {
        idp.faults(fault);
        let checked = idp.check("demo-client", &args);
        assert_eq!(checked.code, 0, "{fault}: {:#}", checked.report);
        assert_eq!(checked.get(id).0, "warn", "{fault}");
        for line in ["code-id-token", "implicit-id-token"] {
            checked.assert_has(line, "warn", finding);
        }
        let strict = idp.check("demo-client", &[&args[..], &["--strict"]].concat());
        assert_eq!(strict.code, 1, "{fault}");
        assert_eq!(strict.get(id).0, "fail", "{fault}");
    }
    // A backend that mints the platform's account as aud, as the platform's own tutorial
    // token has it: a warning, never a failure.
    idp.faults("{}");
    for _ in 0..16 {
        idp.queue(r#"{"client":"demo-client","claims":{"aud":"acc:qa57221676"}}"#);
    }
    let checked = idp.check("demo-client", &args);
    assert_eq!(checked.code, 0, "{:#}", checked.report);
    checked.assert_has("aud-client-id", "warn", "aud is \"acc:qa57221676\"");
    checked.assert_has(
        "code-id-token",
        "warn",
        "aud \"acc:qa57221676\" does not contain \"demo-client\"",
    );
    let strict = idp.check("demo-client", &[&args[..], &["--strict"]].concat());
    assert_eq!(strict.code, 1);
}

/// Every check `--flow mobile-code` reports, in order: the Code Flow's, with `mobile-code-pkce`
/// beside the PKCE lines it stands in for.
const MOBILE_CHECKS: [&str; 28] = [
    "tls",
    "discovery-fetch",
    "discovery-fields",
    "discovery-issuer",
    "https-everywhere",
    "id-token-alg",
    "jwks-usable",
    "jwks-cache-control",
    "state-echoed",
    "token-basic",
    "token-response-shape",
    "token-no-store",
    "code-single-use",
    "code-id-token",
    "client-secret-checked",
    "redirect-uri-compared",
    "pkce-verifier-checked",
    "pkce-required",
    "mobile-code-pkce",
    "token-body",
    "implicit-id-token",
    "nonce-echoed",
    "aud-client-id",
    "id-token-lifetime",
    "kid-in-jwks",
    "iss-matches-discovery",
    "error-json",
    "id-token-verified",
];

/// The lines that do not apply to an app's code, and why.
const MOBILE_SKIPS: [(&str, &str); 4] = [
    (
        "state-echoed",
        "--flow mobile-code: the app made the authorization request and compares its own state; \
         the SDK hands the platform only the code and its redirect URI (liveperson-auth.md §8.3)",
    ),
    (
        "pkce-verifier-checked",
        "--flow mobile-code: the platform has no verifier for an app's code, so no challenge was \
         sent and none is checked (mobile-code-pkce shows what a challenge does)",
    ),
    (
        "pkce-required",
        "--flow mobile-code: the platform has no verifier for an app's code, so the provider must \
         take codes without PKCE: token-basic shows whether it does",
    ),
    (
        "nonce-echoed",
        "--flow mobile-code: the SDK hands the platform no nonce, so none is compared \
         (liveperson-auth.md §8.3)",
    ),
];

/// What `mobile-code-pkce` says of a provider that refuses a challenged code without its
/// verifier, as it should.
const MOBILE_PKCE_REFUSED: &str = "refused (HTTP 400 invalid_grant: Missing code verifier.), as \
    RFC 7636 §4.6 has it: if the app asks for its codes with a PKCE challenge, the platform \
    cannot redeem them (the SDK hands it no verifier) and refuses the consumer; the codes an \
    app hands to the platform must be asked for without one";

#[test]
fn mobile_codes_are_checked_as_the_platform_redeems_an_apps_code() {
    let idp = Provider::start("");
    // Every authorization request the command completes, one a line.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("requests.log");
    let code_from = format!(
        r#"printf '%s\n' "$OIDC_HARNESS_AUTH_URL" >> {}; {}"#,
        log.display(),
        idp.sign_in("alice")
    );
    let args = ["--flow", "mobile-code", "--code-from", &code_from];
    let clean = idp.check("demo-client", &args);
    assert_eq!(clean.code, 0, "{:#}", clean.report);
    assert_eq!(clean.ids(), MOBILE_CHECKS);
    for (id, why) in MOBILE_SKIPS {
        let (status, detail) = clean.get(id);
        assert_eq!((status.as_str(), detail.as_str()), ("skip", why), "{id}");
    }
    let (status, detail) = clean.get("mobile-code-pkce");
    assert_eq!(
        (status.as_str(), detail.as_str()),
        ("warn", MOBILE_PKCE_REFUSED)
    );
    clean.assert("implicit-id-token", "skip", "no --token-from command");
    let skipped = ["implicit-id-token", "mobile-code-pkce"];
    for id in MOBILE_CHECKS {
        if !skipped.contains(&id) && !MOBILE_SKIPS.iter().any(|(s, _)| *s == id) {
            assert_eq!(clean.get(id).0, "pass", "{id}: {}", clean.get(id).1);
        }
    }
    clean.assert("token-basic", "pass", "HTTP 200 with an id_token");
    clean.assert("code-id-token", "pass", "sub 110169484474386276334, ");
    clean.assert("id-token-verified", "pass", "1 verified");
    // The refusal is one error-json has seen, beside code-single-use, the secret and the
    // redirect URI's.
    clean.assert("error-json", "pass", "4 error response(s)");
    assert_eq!(
        (&clean.report["passed"], &clean.report["warned"]),
        (&22.into(), &1.into())
    );
    assert_eq!(clean.report["skipped"], 5);
    let line = clean
        .outcomes()
        .iter()
        .find(|o| o["id"] == "mobile-code-pkce")
        .unwrap();
    assert_eq!(
        (&line["basis"], &line["citation"]),
        (&"assumed".into(), &"liveperson-auth.md §8.3".into())
    );
    // Five sign-ins: the Basic redemption (and its second try), the wrong secret, the other
    // redirect URI, body credentials, without a challenge; mobile-code-pkce's with one. Each
    // names the redirect URI the code is redeemed with.
    let requests = std::fs::read_to_string(&log).unwrap();
    let requests: Vec<&str> = requests.lines().collect();
    assert_eq!(requests.len(), 5, "{requests:?}");
    let challenged: Vec<&&str> = requests
        .iter()
        .filter(|r| r.contains("code_challenge="))
        .collect();
    assert_eq!(challenged.len(), 1, "{requests:?}");
    assert!(
        challenged[0].contains("code_challenge_method=S256"),
        "{challenged:?}"
    );
    for r in &requests {
        assert!(
            r.contains("redirect_uri=https%3A%2F%2Fliveperson.net&"),
            "{r}"
        );
    }

    // Not the app's business: a state the provider alters, a nonce it does not echo. The
    // platform's reading expects no nonce, so the ID token line passes where the Code Flow's
    // warns (at_hash_nonce_and_pkce_are_checked).
    idp.faults(r#"{"redirect":"wrong-state","mutate":["nonce-mismatch"]}"#);
    let checked = idp.check("demo-client", &args);
    assert_eq!(checked.code, 0, "{:#}", checked.report);
    checked.assert("state-echoed", "skip", MOBILE_SKIPS[0].1);
    checked.assert("nonce-echoed", "skip", MOBILE_SKIPS[3].1);
    let (status, detail) = checked.get("code-id-token");
    assert_eq!(status, "pass", "{detail}");
    assert!(!detail.contains("nonce"), "{detail}");

    // What the platform needs still fails: a reusable code.
    idp.faults(r#"{"lapses":["reusable-code"]}"#);
    let checked = idp.check("demo-client", &[&args[..], &["--pkce", "off"]].concat());
    assert_eq!(checked.code, 1, "{:#}", checked.report);
    checked.assert(
        "code-single-use",
        "fail",
        "the second redemption got HTTP 200 with tokens",
    );
    assert_eq!(checked.report["failed"], 1, "{:#}", checked.report);
    assert_eq!(checked.ids(), MOBILE_CHECKS);

    // A provider that takes a challenged code without its verifier: the platform could redeem
    // an app's PKCE codes, and so could whoever steals one.
    idp.faults(r#"{"lapses":["ignore-pkce"]}"#);
    let checked = idp.check("demo-client", &args);
    assert_eq!(checked.code, 1, "{:#}", checked.report);
    let (status, detail) = checked.get("mobile-code-pkce");
    assert_eq!(
        (status.as_str(), detail.as_str()),
        (
            "fail",
            "HTTP 200: a code asked for with a challenge was redeemed without its verifier, so \
             whoever steals such a code redeems it and PKCE protects nothing (RFC 7636 §4.6); \
             discovery advertises S256"
        )
    );
    checked.assert("pkce-verifier-checked", "skip", MOBILE_SKIPS[1].1);
    let line = checked
        .outcomes()
        .iter()
        .find(|o| o["id"] == "mobile-code-pkce")
        .unwrap();
    assert_eq!(
        (&line["basis"], &line["citation"]),
        (&"standard".into(), &"RFC 7636 §4.6".into())
    );

    // --strict: the warning is a failure, as every warning is.
    idp.faults("{}");
    let strict = idp.check("demo-client", &[&args[..], &["--strict"]].concat());
    assert_eq!(strict.code, 1, "{:#}", strict.report);
    strict.assert(
        "mobile-code-pkce",
        "fail",
        &format!("{MOBILE_PKCE_REFUSED} (--strict)"),
    );
}

#[test]
fn a_client_that_requires_pkce_gives_no_mobile_code() {
    let idp = Provider::start(
        "[[client]]\nclient_id = \"pkce-only\"\nclient_secret = \"demo-secret\"\nrequire_pkce = true\n",
    );
    let code_from = idp.sign_in("alice");
    let checked = idp.check(
        "pkce-only",
        &["--flow", "mobile-code", "--code-from", &code_from],
    );
    assert_eq!(checked.code, 1, "{:#}", checked.report);
    let (status, detail) = checked.get("code-id-token");
    assert_eq!(
        (status.as_str(), detail.as_str()),
        (
            "fail",
            "the provider answered error=invalid_request: Missing required parameter: \
             code_challenge; --flow mobile-code asks and redeems without PKCE, as the platform \
             must for an app's code: a client that requires PKCE cannot be used for mobile codes"
        )
    );
    for id in [
        "state-echoed",
        "token-basic",
        "code-single-use",
        "client-secret-checked",
        "pkce-required",
        "mobile-code-pkce",
        "token-body",
    ] {
        checked.assert(id, "skip", "no code: see code-id-token");
    }
    // Each line once (code-id-token, which says why, comes first).
    let mut ids = checked.ids();
    ids.sort();
    let mut all = MOBILE_CHECKS.to_vec();
    all.sort_unstable();
    assert_eq!(ids, all);
}

#[test]
fn an_app_that_asks_with_pkce_hands_over_codes_the_platform_cannot_redeem() {
    let idp = Provider::start("");
    // The app's own request, with a challenge of its own (RFC 7636 appendix B's).
    let code_from = idp.sign_in("alice").replace(
        "$OIDC_HARNESS_AUTH_URL&",
        "$OIDC_HARNESS_AUTH_URL&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&",
    );
    let checked = idp.check(
        "demo-client",
        &["--flow", "mobile-code", "--code-from", &code_from],
    );
    assert_eq!(checked.code, 1, "{:#}", checked.report);
    let (status, detail) = checked.get("token-basic");
    assert_eq!(
        (status.as_str(), detail.as_str()),
        (
            "fail",
            "HTTP 400 invalid_grant: Missing code verifier.; --flow mobile-code asks and redeems \
             without PKCE, as the platform must for an app's code: a client that requires PKCE \
             cannot be used for mobile codes"
        )
    );
    // A wrong secret is no PKCE matter: its refusal is not explained as one.
    let checked = idp.check(
        "demo-client",
        &[
            "--flow",
            "mobile-code",
            "--code-from",
            &idp.sign_in("alice"),
            "--client-secret",
            "not-the-secret",
        ],
    );
    let (status, detail) = checked.get("token-basic");
    assert_eq!(status, "fail", "{detail}");
    assert!(
        detail.starts_with("HTTP 401 invalid_client") && !detail.contains("PKCE"),
        "{detail}"
    );
}

#[test]
fn an_apps_own_redirect_uri_is_asked_for_and_redeemed_with() {
    let idp = Provider::start(
        "[[client]]\nclient_id = \"app\"\nclient_secret = \"demo-secret\"\nredirect_uris = [\"com.example.app:/oauth2redirect\"]\n",
    );
    let code_from = idp.sign_in("alice");
    let mobile = [
        "--flow",
        "mobile-code",
        "--code-from",
        &code_from,
        "--redirect-uri",
        "com.example.app:/oauth2redirect",
    ];
    // curl prints the redirect as com.example.app://oauth2redirect/?code=…: read as a URL.
    let checked = idp.check("app", &mobile);
    assert_eq!(checked.code, 0, "{:#}", checked.report);
    checked.assert("token-basic", "pass", "HTTP 200 with an id_token");
    checked.assert(
        "redirect-uri-compared",
        "pass",
        "refused: HTTP 400 redirect_uri_mismatch",
    );
    // Without it, the request names https://liveperson.net, which this client lacks.
    let checked = idp.check("app", &mobile[..4]);
    assert_eq!(checked.code, 1, "{:#}", checked.report);
    checked.assert("code-id-token", "fail", "`curl ");
    checked.assert_has(
        "code-id-token",
        "fail",
        "` printed nothing; it must print the code or the whole redirect URL",
    );
}

#[test]
fn mobile_code_takes_its_codes_from_a_command_without_pkce() {
    let idp = Provider::start("");
    let discovery = idp.discovery();
    let base = [
        "check",
        "--discovery",
        &discovery,
        "--client-id",
        "demo-client",
        "--client-secret",
        "demo-secret",
        "--ca",
        &idp.ca,
        "--flow",
        "mobile-code",
    ];
    let code_from = idp.sign_in("alice");
    let needs_command = "error: --flow mobile-code needs --code-from: an app's codes come back \
        to the app's redirect URI, not to check's loopback listener (--interactive signs in \
        with --flow code, implicit or both)";
    for (extra, said) in [
        (&["--interactive"][..], needs_command),
        (&[][..], needs_command),
        (&["--discovery-only"][..], needs_command),
        (
            &["--code-from", &code_from, "--token-from", &code_from][..],
            "error: --flow mobile-code checks an app's codes only: leave out --token-from, and \
             check the Implicit Flow in a run of its own",
        ),
        (
            &["--code-from", &code_from, "--pkce", "auto"][..],
            "error: --pkce on and auto do not go with --flow mobile-code: the SDK hands the \
             platform no PKCE verifier, so an app's codes are asked for without a challenge \
             (liveperson-auth.md §8.3)",
        ),
        (
            &["--code-from", &code_from, "--pkce", "on"][..],
            "error: --pkce on and auto do not go with --flow mobile-code",
        ),
    ] {
        let (code, out, stderr) = run(&[&base[..], extra].concat());
        assert_eq!(code, 2, "{extra:?}: {out} {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{extra:?}: {stderr}");
        assert!(stderr.starts_with(said), "{extra:?}: {stderr}");
        assert!(out.is_empty(), "{extra:?}: {out}");
    }
}
