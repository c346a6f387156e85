//! `oidc-harness check --interactive` with a person (Chromium) signing in, and the HTML reports
//! of `check` and `run` opened in the browser.

use std::process::Stdio;
use std::time::Duration;

use fantoccini::Locator;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, BufReader};

use crate::harness::{Case, Context as _, Ctx};
use crate::{ensure, ensure_eq};

/// The cases of this file.
pub(crate) const ALL: &[Case] = &[
    ("check_interactive_signs_in_in_the_browser", |ctx| {
        Box::pin(check_interactive_signs_in_in_the_browser(ctx))
    }),
    ("html_reports_render_as_text_without_script", |ctx| {
        Box::pin(html_reports_render_as_text_without_script(ctx))
    }),
];

/// Runs the binary to completion; returns its exit code.
async fn oidc_harness(args: &[&str]) -> Result<Option<i32>, String> {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_oidc-harness"))
        .args(args)
        .output()
        .await
        .ctx("running oidc-harness")?;
    Ok(output.status.code())
}

/// Opens a report file, checks it rendered with no script at all, and reads its totals.
async fn open_report(ctx: &Ctx, path: &std::path::Path, name: &str) -> Result<[usize; 3], String> {
    ctx.goto(&format!("file://{}", path.display())).await?;
    ctx.wait("#totals").await?;
    let scripts = ctx
        .browser
        .execute("return document.scripts.length;", vec![])
        .await
        .ctx("counting scripts")?;
    ensure_eq!(scripts, serde_json::json!(0), "scripts in the report");
    ensure!(
        ctx.browser.get_alert_text().await.is_err(),
        "an alert opened in {name}"
    );
    ctx.screenshot(name).await?;
    let number = |text: String| {
        text.trim()
            .parse::<usize>()
            .map_err(|e| format!("{text:?}: {e}"))
    };
    let totals = [
        number(ctx.text("#passed").await?)?,
        number(ctx.text("#failed").await?)?,
        number(ctx.text("#skipped").await?)?,
    ];
    ensure_eq!(
        ctx.count("details.outcome").await?,
        totals.iter().sum::<usize>(),
        "one section per line"
    );
    Ok(totals)
}

/// The HTML reports of `check` (a persona whose name is markup) and of `run` over the whole
/// `scenarios/` folder: they render, run no script, and show the markup as text.
async fn html_reports_render_as_text_without_script(ctx: Ctx) -> Result<(), String> {
    let dir = tempfile::tempdir().ctx("a folder")?;
    let check_html = dir.path().join("check.html");
    let ca = ctx.ca.display().to_string();
    let code_from = format!(
        r#"curl -s --cacert {ca} -o /dev/null -w '%{{redirect_url}}' "$OIDC_HARNESS_AUTH_URL&login_hint=mallory&prompt=none""#
    );
    let discovery = format!("{}/.well-known/openid-configuration", ctx.origin);
    let code = oidc_harness(&[
        "check",
        "--discovery",
        &discovery,
        "--client-id",
        "demo-client",
        "--client-secret",
        "demo-secret",
        "--ca",
        &ca,
        "--code-from",
        &code_from,
        "--format",
        "html",
        "--out",
        check_html.to_str().ok_or("path")?,
    ])
    .await?;
    ensure_eq!(code, Some(0), "check's exit code");
    let totals = open_report(&ctx, &check_html, "report-check").await?;
    ensure_eq!(totals, [26, 0, 1], "check's totals");
    // code-id-token's section, opened as a reader would.
    ctx.click("details#o13 summary").await?;
    let claims = ctx.text("details#o13 pre.claims").await?;
    ctx.browser
        .execute("document.getElementById('o13').scrollIntoView();", vec![])
        .await
        .ctx("scrolling")?;
    ctx.screenshot("report-check-token").await?;
    ensure!(
        claims.contains("\"name\": \"<script>alert('mallory')</script>\""),
        "mallory's name as text in code-id-token's claims: {claims}"
    );
    ensure_eq!(
        ctx.count("details#o13 pre.claims script").await?,
        0,
        "script elements inside the claims"
    );

    let run_html = dir.path().join("run.html");
    let scenarios = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");
    let code = oidc_harness(&[
        "run",
        scenarios,
        "--format",
        "html",
        "--out",
        run_html.to_str().ok_or("path")?,
    ])
    .await?;
    ensure_eq!(code, Some(0), "run's exit code");
    let [passed, failed, skipped] = open_report(&ctx, &run_html, "report-run").await?;
    ensure_eq!(failed, 0, "failed scenarios");
    ensure!(
        passed > 200 && skipped < 20,
        "run's totals: {passed} passed, {skipped} skipped"
    );
    let mallory = ctx
        .browser
        .execute(
            "return [...document.querySelectorAll('details.outcome')]
                .find((d) => d.querySelector('.id').textContent === 'flow-persona-mallory')
                .querySelector('pre.claims').textContent;",
            vec![],
        )
        .await
        .ctx("flow-persona-mallory's claims")?;
    ensure!(
        mallory
            .as_str()
            .is_some_and(|c| c.contains("<script>alert('mallory')</script>")),
        "mallory's claims in the run report: {mallory}"
    );
    Ok(())
}

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
