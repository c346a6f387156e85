//! `oidc-harness check --interactive` with a person (Chromium) signing in, and the HTML reports
//! of `check` and `run` opened in the browser.

use std::process::Stdio;
use std::time::Duration;

use fantoccini::Locator;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, BufReader};

use crate::harness::{Case, Context as _, Ctx};
use crate::{ensure, ensure_eq};

/// The cases of this file.
pub(crate) const ALL: &[Case] = &[("check_interactive_signs_in_in_the_browser", |ctx| {
    Box::pin(check_interactive_signs_in_in_the_browser(ctx))
})];

/// `check --interactive`: the URL it prints is opened, the person signs in once at the login
/// page, and the browser is carried through every request check needs (five codes, one ID token
/// in the fragment) back to the loopback listener.
async fn check_interactive_signs_in_in_the_browser(ctx: Ctx) -> Result<(), String> {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_oidc-harness"))
        .arg("check")
        .args([
            "--discovery",
            &format!("{}/.well-known/openid-configuration", ctx.origin),
        ])
        .args([
            "--client-id",
            "demo-client",
            "--client-secret",
            "demo-secret",
        ])
        .arg("--ca")
        .arg(&ctx.ca)
        .args([
            "--interactive",
            "--no-open",
            "--flow",
            "both",
            "--format",
            "json",
        ])
        .args(["--command-timeout", "60"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .ctx("starting check")?;
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let mut lines = BufReader::new(child.stderr.take().ok_or("no stderr")?).lines();
    let mut url = None;
    while let Some(line) = lines.next_line().await.ctx("check's stderr")? {
        if let Some(found) = line.trim().strip_prefix("https://") {
            url = Some(format!("https://{found}"));
            break;
        }
    }
    let url = url.ok_or("check printed no sign-in URL")?;
    ensure!(
        url.contains("code_challenge_method=S256")
            && url.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A"),
        "the sign-in URL: {url}"
    );
    ctx.goto(&url).await?;
    ctx.login_as("alice").await?;
    // One sign-in at the provider; its session carries the browser through the rest.
    ctx.wait("#done").await?;
    ctx.screenshot("check-interactive-done").await?;
    let mut out = String::new();
    tokio::time::timeout(Duration::from_secs(30), stdout.read_to_string(&mut out))
        .await
        .ctx("check did not finish")?
        .ctx("check's report")?;
    let status = child.wait().await.ctx("check")?;
    let report: serde_json::Value = serde_json::from_str(&out).ctx("the JSON report")?;
    let line = |id: &str| {
        report["outcomes"]
            .as_array()
            .and_then(|o| o.iter().find(|o| o["id"] == id))
            .map(|o| {
                (
                    o["status"].as_str().unwrap_or("").to_owned(),
                    o["detail"].as_str().unwrap_or("").to_owned(),
                )
            })
            .unwrap_or_default()
    };
    for id in [
        "state-echoed",
        "token-basic",
        "code-single-use",
        "code-id-token",
        "client-secret-checked",
        "redirect-uri-compared",
        "pkce-verifier-checked",
        "token-body",
        "implicit-id-token",
        "nonce-echoed",
    ] {
        ensure_eq!(line(id).0, "pass", format!("{id}: {}", line(id).1));
    }
    ensure_eq!(
        line("id-token-verified").1,
        "2 verified",
        "id-token-verified"
    );
    ensure_eq!(status.code(), Some(0), "check's exit code");
    let _ = ctx
        .browser
        .find(Locator::Css("#done"))
        .await
        .ctx("the done page")?;
    Ok(())
}
