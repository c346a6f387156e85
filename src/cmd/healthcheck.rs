//! `healthcheck`: does the provider answer `GET /healthz` with 200? For a container's
//! `HEALTHCHECK`, which has no shell or curl to run: exit 0 healthy, 1 not, with one line on
//! stderr saying why.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use oidc_harness::idp::IdpConfig;
use oidc_harness::keys::tls;

use super::read;
use super::verify::runtime;
use crate::cli::HealthcheckArgs;

pub(crate) fn healthcheck(args: HealthcheckArgs) -> anyhow::Result<ExitCode> {
    match probe(&args) {
        Ok(()) => {
            out!("healthy: {} answered 200", args.url);
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            let _ = writeln!(std::io::stderr().lock(), "unhealthy: {err:#}");
            Ok(ExitCode::from(1))
        }
    }
}

/// The CA to trust: `--ca`, or the one `serve` keeps in its state folder.
fn ca_path(args: &HealthcheckArgs) -> PathBuf {
    args.ca.clone().unwrap_or_else(|| {
        args.state_dir
            .clone()
            .unwrap_or_else(|| IdpConfig::default().state_dir)
            .join(tls::CA_FILE)
    })
}

fn probe(args: &HealthcheckArgs) -> anyhow::Result<()> {
    let url = url::Url::parse(&args.url).with_context(|| format!("{:?}", args.url))?;
    let timeout = Duration::try_from_secs_f64(args.timeout)
        .ok()
        .filter(|t| !t.is_zero())
        .with_context(|| {
            format!(
                "--timeout {}: not a positive number of seconds",
                args.timeout
            )
        })?;
    // No proxy (a CI's HTTPS_PROXY would take 127.0.0.1 elsewhere), no redirect followed, and
    // over HTTPS no root but the provider's CA.
    let mut builder = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout);
    match url.scheme() {
        "https" => {
            let path = ca_path(args);
            let pem = read(&path).context("the CA")?;
            let cert = reqwest::Certificate::from_pem(pem.as_bytes())
                .with_context(|| format!("the CA {}: not a PEM certificate", path.display()))?;
            builder = builder
                .tls_built_in_root_certs(false)
                .add_root_certificate(cert);
        }
        "http" => {}
        other => anyhow::bail!("{url}: scheme {other:?} is neither https nor http"),
    }
    let client = builder.build()?;
    let status = runtime()?
        .block_on(async { client.get(url.clone()).send().await.map(|r| r.status()) })
        .map_err(|err| {
            if err.is_timeout() {
                anyhow::anyhow!("{url}: no answer within {} s", args.timeout)
            } else {
                // The innermost cause says what happened ("Connection refused", "invalid peer
                // certificate: UnknownIssuer"); reqwest's own message only repeats the URL.
                let cause = anyhow::Error::new(err);
                anyhow::anyhow!("{url}: {}", cause.root_cause())
            }
        })?;
    anyhow::ensure!(status == reqwest::StatusCode::OK, "{url} answered {status}");
    Ok(())
}
