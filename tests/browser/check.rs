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
    (
        "check_interactive_asks_again_when_a_silent_sign_in_shows_an_error_page",
        |ctx| Box::pin(check_interactive_asks_again_when_a_silent_sign_in_shows_an_error_page(ctx)),
    ),
    ("html_reports_render_as_text_without_script", |ctx| {
        Box::pin(html_reports_render_as_text_without_script(ctx))
    }),
];

/// Starts `check --interactive --flow both` against the provider at `issuer`, its report
/// (JSON) on stdout and what it says to the person on stderr.
fn check_interactive(ctx: &Ctx, issuer: &str) -> Result<tokio::process::Child, String> {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_oidc-harness"))
        .arg("check")
        .args([
            "--discovery",
            &format!("{issuer}/.well-known/openid-configuration"),
        ])
        .args([
            "--client-id",
            "demo-client",
            "--client-secret",
            "demo-secret",
        ])
        .arg("--ca")
        .arg(&ctx.ca)
        .args(["--interactive", "--no-open", "--flow", "both"])
        .args(["--format", "json", "--command-timeout", "60"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .ctx("starting check")
}

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
    let mut child = check_interactive(&ctx, &ctx.origin)?;
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

/// `check --interactive` against a provider that answers `prompt=none` with an HTTP 500 page (as
/// some do): the browser is stuck on that page, so after a short wait `check` prints the
/// request's URL again, the person signs in there, and every later request shows the
/// provider's page instead of trying without one. Every check runs; none is skipped or failed
/// for want of a sign-in.
async fn check_interactive_asks_again_when_a_silent_sign_in_shows_an_error_page(
    ctx: Ctx,
) -> Result<(), String> {
    let acme = format!("{}/brands/acme", ctx.origin);
    let faults = ctx
        .http
        .put(format!("{acme}/_harness/faults"))
        .json(&serde_json::json!({"lapses": ["prompt-none-500"]}))
        .send()
        .await
        .ctx("setting acme's faults")?;
    ensure_eq!(faults.status().as_u16(), 200, "PUT faults");
    let mut child = check_interactive(&ctx, &acme)?;
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    // Every URL check prints, and the line before it, as they come.
    let (urls, mut printed) = tokio::sync::mpsc::unbounded_channel::<(String, String)>();
    let mut lines = BufReader::new(child.stderr.take().ok_or("no stderr")?).lines();
    tokio::spawn(async move {
        let mut said = String::new();
        while let Ok(Some(line)) = lines.next_line().await {
            match line.trim().strip_prefix("https://") {
                Some(url) => {
                    let _ = urls.send((std::mem::take(&mut said), format!("https://{url}")));
                }
                None if !line.trim().is_empty() => said = line,
                None => {}
            }
        }
    });
    let (said, url) = next_url(&mut printed).await?;
    ensure!(said.starts_with("Sign in at the provider"), "first: {said}");
    ctx.goto(&url).await?;
    let (mut logins, mut asked_again) = (0, 0);
    loop {
        // Whichever page the browser is on: the provider's login page, its error page, or
        // check's last page.
        let page = ctx
            .browser
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::Css("details[id^='persona-'], h1, #done"))
            .await
            .ctx("a page")?;
        let (tag, id) = (
            page.tag_name().await.ctx("tag")?,
            page.attr("id").await.ctx("id")?.unwrap_or_default(),
        );
        if id == "done" {
            break;
        }
        let h1 = if tag == "h1" {
            page.text().await.ctx("h1")?
        } else {
            String::new()
        };
        if h1.contains("Server Error") {
            ctx.screenshot("check-interactive-prompt-none-500").await?;
            let (said, url) = next_url(&mut printed).await?;
            ensure!(
                said.contains("for a sign-in without a page (prompt=none)"),
                "asked again with: {said}"
            );
            asked_again += 1;
            ctx.goto(&url).await?;
            continue;
        }
        ensure!(
            logins < 10,
            "signed in {logins} times and check still wants more"
        );
        let before = ctx.browser.current_url().await.ctx("the URL")?;
        ctx.login_as("alice").await?;
        logins += 1;
        // Off this login page before looking again: every request has a URL of its own.
        let moved = tokio::time::timeout(Duration::from_secs(15), async {
            while ctx.browser.current_url().await.ok().as_ref() == Some(&before) {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        moved.await.ctx("leaving the login page")?;
    }
    let mut out = String::new();
    tokio::time::timeout(Duration::from_secs(30), stdout.read_to_string(&mut out))
        .await
        .ctx("check did not finish")?
        .ctx("check's report")?;
    let status = child.wait().await.ctx("check")?;
    let _ = ctx
        .http
        .delete(format!("{acme}/_harness/faults"))
        .send()
        .await;
    let report: serde_json::Value = serde_json::from_str(&out).ctx("the JSON report")?;
    // One silent try, then a page for each of the six later requests too.
    ensure_eq!(asked_again, 1, "times check printed the URL again");
    ensure_eq!(logins, 7, "sign-ins at the provider's page");
    let outcomes = report["outcomes"].as_array().ok_or("no outcomes")?;
    for outcome in outcomes {
        ensure!(
            matches!(outcome["status"].as_str(), Some("pass" | "note")),
            "{}: {} {}",
            outcome["id"],
            outcome["status"],
            outcome["detail"]
        );
    }
    let pkce = outcomes
        .iter()
        .find(|o| o["id"] == "pkce-required")
        .ok_or("no pkce-required")?;
    ensure!(
        pkce["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("does not require PKCE")),
        "pkce-required: {}",
        pkce["detail"]
    );
    ensure_eq!(status.code(), Some(0), "check's exit code");
    Ok(())
}

/// The next URL `check` printed, and the line it printed before it.
async fn next_url(
    printed: &mut tokio::sync::mpsc::UnboundedReceiver<(String, String)>,
) -> Result<(String, String), String> {
    let wait = tokio::time::timeout(Duration::from_secs(30), printed.recv());
    Ok(wait
        .await
        .ok()
        .flatten()
        .ok_or("check printed no sign-in URL")?)
}
