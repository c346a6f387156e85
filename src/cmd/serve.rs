//! `oidc-harness serve`: resolve the configuration, bind, print where everything is, serve
//! until Ctrl-C or SIGTERM.

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use oidc_harness::claims::Issuer;
use oidc_harness::clock::SystemClock;
use oidc_harness::idp::{self, IdpConfig, IdpState};
use oidc_harness::keys::tls;

use crate::cli::ServeArgs;

/// Reads the config file (if any) and lays the command-line flags over it.
fn resolve(args: ServeArgs) -> anyhow::Result<IdpConfig> {
    let mut config = match &args.config {
        Some(path) => IdpConfig::from_file(path)?,
        None => IdpConfig::default(),
    };
    if let Some(addr) = args.addr {
        config.addr = addr;
    }
    if args.no_tls {
        config.tls = false;
    }
    if args.issuer.is_some() {
        config.issuer = args.issuer;
    }
    if let Some(dir) = args.state_dir {
        config.state_dir = dir;
    }
    config.check()?;
    Ok(config)
}

pub(crate) fn run(args: ServeArgs, started: std::time::Instant) -> anyhow::Result<ExitCode> {
    let config = resolve(args)?;
    let listener = std::net::TcpListener::bind(config.addr)
        .with_context(|| format!("cannot listen on {}", config.addr))?;
    let addr = listener.local_addr()?;
    if !addr.ip().is_loopback() {
        tracing::warn!(%addr, "listening beyond loopback: anyone who can reach this address can mint tokens");
    }
    let scheme = if config.tls { "https" } else { "http" };
    let issuer = Issuer::new(
        config
            .issuer
            .clone()
            .unwrap_or_else(|| format!("{scheme}://{addr}")),
    );
    let tls_material = if config.tls {
        let host = url::Url::parse(issuer.as_str())
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned));
        Some(tls::load_or_create(
            &config.state_dir,
            &tls::server_names(host.as_deref()),
        )?)
    } else {
        None
    };
    let server_config = tls_material.as_ref().map(idp::tls_config).transpose()?;
    let state = Arc::new(IdpState::new(config, issuer, Arc::new(SystemClock))?);
    banner(&state, addr, tls_material.as_ref())?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let ready = started.elapsed();
        let _ = writeln!(
            std::io::stdout().lock(),
            "ready in {} ms; Ctrl-C to stop",
            ready.as_millis()
        );
        let _ = std::io::stdout().flush();
        idp::serve(listener, state, server_config, shutdown_signal()).await
    })?;
    let _ = writeln!(std::io::stdout().lock(), "stopped");
    Ok(ExitCode::SUCCESS)
}

fn banner(
    state: &IdpState,
    addr: std::net::SocketAddr,
    tls: Option<&tls::TlsMaterial>,
) -> anyhow::Result<()> {
    let overview = state.overview();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "oidc-harness {}: mock OpenID Connect provider (Google-shaped)",
        env!("CARGO_PKG_VERSION")
    )?;
    writeln!(
        out,
        "  listening     {}{addr}",
        if tls.is_some() { "https://" } else { "http://" }
    )?;
    writeln!(out, "  issuer        {}", overview.issuer)?;
    for (name, url) in &overview.endpoints {
        writeln!(out, "  {name:<13} {url}")?;
    }
    match tls.and_then(|t| t.ca_path.as_ref()) {
        Some(path) => writeln!(
            out,
            "  CA            {} (curl --cacert {})",
            path.display(),
            path.display()
        )?,
        None => writeln!(out, "  TLS           off")?,
    }
    let credentials = state.client_credentials();
    for client in &overview.clients {
        let secret = credentials
            .iter()
            .find(|(id, _)| *id == client.client_id)
            .map_or("", |(_, s)| s.as_str());
        let how = client
            .encrypt_id_token
            .as_deref()
            .map(|e| format!(", ID tokens encrypted {e}"))
            .unwrap_or_default();
        let style = if client.error_style == "platform" {
            ", platform error names"
        } else {
            ""
        };
        let mut redirects = client.redirect_uris.join(", ");
        if client.allow_loopback_redirects {
            redirects.push_str(", any loopback URL");
        }
        writeln!(
            out,
            "  client        {} / {secret}{how}{style}",
            client.client_id
        )?;
        writeln!(out, "                redirect_uri {redirects}")?;
    }
    writeln!(
        out,
        "  personas      {} (headless: login_hint=<persona>&prompt=none)",
        overview.personas.join(", ")
    )?;
    writeln!(
        out,
        "  signing kid   {}",
        overview.keys.first().map(String::as_str).unwrap_or("-")
    )?;
    Ok(())
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    let _ = writeln!(std::io::stdout().lock(), "shutting down");
}
