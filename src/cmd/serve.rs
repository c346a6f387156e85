//! `oidc-harness serve`: resolve the configuration, bind, print where everything is, serve
//! until Ctrl-C or SIGTERM.

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use oidc_harness::claims::{ClientId, ClientSecret};
use oidc_harness::clock::SystemClock;
use oidc_harness::idp::discovery::paths;
use oidc_harness::idp::{self, IdpConfig, IdpState};
use oidc_harness::keys::{self, tls};
use oidc_harness::pages::AccountOverview;
use oidc_harness::platform::{self, idp_api, BrandConnection, Connector, Platform, PlatformConfig};

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
    if args.public_url.is_some() {
        config.public_url = args.public_url;
    }
    if let Some(dir) = args.state_dir {
        config.state_dir = dir;
    }
    if let Some(token) = args.admin_token {
        config.admin_token = Some(ClientSecret::new(token));
    }
    config.check()?;
    Ok(config)
}

pub(crate) fn run(args: ServeArgs, started: std::time::Instant) -> anyhow::Result<ExitCode> {
    let ready_file = args.ready_file.clone();
    let mut config = resolve(args)?;
    config.key_cache = Some(config.state_dir.join("brand-keys"));
    let listener = std::net::TcpListener::bind(config.addr)
        .with_context(|| format!("cannot listen on {}", config.addr))?;
    let addr = listener.local_addr()?;
    if !addr.ip().is_loopback() {
        tracing::warn!(%addr, "listening beyond loopback: anyone who can reach this address can mint tokens");
    }
    let state_dir = config.state_dir.clone();
    let idp::App {
        state,
        brands,
        router,
        origin,
        tls: tls_material,
        server_config,
        connection_limits,
    } = idp::assemble(
        config,
        addr,
        Arc::new(SystemClock),
        idp::Certificates::Kept(&state_dir),
    )?;
    let platform = platform_side(&state, &brands, &origin, tls_material.as_ref())?;
    if let Some(platform) = &platform {
        state.show_platform_accounts(account_overview(platform, &origin));
    }
    banner(&state, addr, tls_material.as_ref())?;
    demo_banner(platform.as_deref(), &origin)?;
    let mut app = router;
    if let Some(platform) = platform {
        app = app.merge(platform::router(platform));
    }

    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = state.config().limits.worker_threads {
        runtime.worker_threads(threads);
    }
    let runtime = runtime.enable_all().build()?;
    // Ctrl-C and SIGTERM are caught from here on: one sent the moment the ready file appears
    // stops the server cleanly instead of killing it.
    let shutdown = {
        let _runtime = runtime.enter();
        shutdown_signal().context("cannot catch SIGTERM")?
    };
    // The listener is bound and its backlog open: a client reading the file is answered.
    if let Some(path) = &ready_file {
        write_ready_file(path, &state, addr, tls_material.as_ref())?;
    }
    runtime.block_on(async move {
        let ready = started.elapsed();
        let _ = writeln!(
            std::io::stdout().lock(),
            "ready in {} ms; Ctrl-C to stop",
            ready.as_millis()
        );
        let _ = std::io::stdout().flush();
        idp::serve_app(listener, app, server_config, connection_limits, shutdown).await
    })?;
    let _ = writeln!(std::io::stdout().lock(), "stopped");
    Ok(ExitCode::SUCCESS)
}

/// The platform's side of the demo, connected to this provider as a brand would register it:
/// the first client that takes loopback redirects with signed ID tokens, and the first with
/// ID tokens encrypted to the platform's fixture key; each brand gets a connector of its own
/// the same way. `None` when the default provider has no client that fits.
fn platform_side(
    state: &IdpState,
    brands: &[idp::Brand],
    origin: &str,
    tls: Option<&tls::TlsMaterial>,
) -> anyhow::Result<Option<Arc<Platform>>> {
    let settings = platform::PlatformSettings::from_table(&state.config().platform)
        .map_err(anyhow::Error::msg)?;
    let Some(default) = connection(state, "", origin)? else {
        return Ok(None);
    };
    let mut others = Vec::new();
    for brand in brands {
        let base = format!("{origin}/brands/{}", brand.name);
        if let Some(connection) = connection(&brand.state, &brand.name, &base)? {
            others.push(connection);
        }
    }
    let config = PlatformConfig {
        origin: origin.to_owned(),
        issuer: default.issuer,
        authorization_endpoint: default.authorization_endpoint,
        token_endpoint: default.token_endpoint,
        jwks_uri: default.jwks_uri,
        plain: default.plain,
        decryption_key: default
            .encrypted
            .as_ref()
            .map(|_| keys::fixture_platform_key())
            .transpose()?
            .or_else(|| {
                others
                    .iter()
                    .any(|o| o.encrypted.is_some())
                    .then(keys::fixture_platform_key)
                    .and_then(Result::ok)
            }),
        encrypted: default.encrypted,
        extra_root_pem: tls.map(|t| t.ca_cert_pem.clone()),
        insecure_allow_http: tls.is_none(),
        max_conversations: state.config().limits.max_store_entries,
        window_scope: settings.window_scope,
        brands: others,
        accounts: settings.accounts,
    };
    Ok(Some(Arc::new(Platform::new(
        config,
        Arc::new(SystemClock),
    )?)))
}

/// The platform's connection to one provider reached at `base`, if it has a client to use.
fn connection(state: &IdpState, name: &str, base: &str) -> anyhow::Result<Option<BrandConnection>> {
    let clients = &state.config().clients;
    let connector = |c: &idp::ClientConfig| Connector {
        client_id: ClientId::new(&c.client_id),
        client_secret: ClientSecret::new(c.client_secret.expose()),
    };
    let Some(plain) = clients
        .iter()
        .find(|c| c.allow_loopback_redirects && c.encrypt_id_token.is_none())
    else {
        return Ok(None);
    };
    let encrypted = clients.iter().find(|c| {
        c.allow_loopback_redirects
            && c.encrypt_id_token
                .as_ref()
                .is_some_and(|e| e.public_key.is_none())
    });
    Ok(Some(BrandConnection {
        name: name.to_owned(),
        issuer: state.issuer().clone(),
        authorization_endpoint: format!("{base}{}", paths::AUTHORIZE),
        token_endpoint: url::Url::parse(&format!("{base}{}", paths::TOKEN))?,
        jwks_uri: url::Url::parse(&format!("{base}{}", paths::JWKS))?,
        plain: connector(plain),
        encrypted: encrypted.map(connector),
    }))
}

/// The platform IDP's accounts with the URLs of their two calls.
fn account_overview(platform: &Platform, origin: &str) -> Vec<AccountOverview> {
    platform
        .idp()
        .accounts()
        .iter()
        .map(|account| {
            let path =
                |template: &str| format!("{origin}{}", template.replace("{account}", &account.id));
            AccountOverview {
                account: account.id.clone(),
                flow: account.flow().to_owned(),
                authenticate: path(idp_api::AUTHENTICATE_PATH),
                sdk_authenticate: format!("{}?v=2.0", path(idp_api::SDK_AUTHENTICATE_PATH)),
            }
        })
        .collect()
}

fn demo_banner(platform: Option<&Platform>, origin: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match platform {
        Some(platform) => {
            writeln!(out, "  brand demo    {origin}/demo/brand")?;
            for brand in &platform.config().brands {
                writeln!(out, "  brand demo    {origin}/demo/brands/{}", brand.name)?;
            }
            writeln!(out, "  agent         {origin}/platform/agent")?;
            for account in account_overview(platform, origin) {
                writeln!(
                    out,
                    "  IDP account   {:<13} {:<8} POST {}",
                    account.account, account.flow, account.authenticate
                )?;
            }
            writeln!(
                out,
                "  IDP (SDKs)    POST {origin}{}?v=2.0",
                idp_api::SDK_AUTHENTICATE_PATH
            )?;
        }
        None => writeln!(
            out,
            "  brand demo    off: no client takes loopback redirects with signed ID tokens"
        )?,
    }
    Ok(())
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
    writeln!(
        out,
        "  admin API     {}/_harness/ ({})",
        state.config().public_url.as_deref().unwrap_or_default(),
        match state.config().admin_token {
            Some(_) => "any address, with Authorization: Bearer <admin token>",
            None => "loopback callers only",
        }
    )?;
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
    for brand in &overview.brands {
        writeln!(out, "  brand         {} {}", brand.name, brand.discovery)?;
    }
    Ok(())
}

/// Writes where everything is as JSON, through a temporary file renamed into place: a reader
/// polling for the file never sees half of it.
fn write_ready_file(
    path: &std::path::Path,
    state: &IdpState,
    addr: std::net::SocketAddr,
    tls: Option<&tls::TlsMaterial>,
) -> anyhow::Result<()> {
    let overview = state.overview();
    let doc = serde_json::json!({
        "issuer": overview.issuer,
        "public_url": state.config().public_url,
        "addr": addr.to_string(),
        "port": addr.port(),
        "ca": tls.and_then(|t| t.ca_path.as_ref()).map(|p| p.display().to_string()),
        "endpoints": overview
            .endpoints
            .iter()
            .map(|(name, url)| (name.clone(), serde_json::Value::from(url.as_str())))
            .collect::<serde_json::Map<_, _>>(),
        "clients": state.client_credentials().iter().map(|(id, secret)| {
            serde_json::json!({"client_id": id, "client_secret": secret})
        }).collect::<Vec<_>>(),
        "pid": std::process::id(),
    });
    let file_name = path
        .file_name()
        .with_context(|| format!("--ready-file {}: not a file name", path.display()))?;
    let temporary = path.with_file_name(format!(
        ".{}.{}.tmp",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&temporary, serde_json::to_string_pretty(&doc)? + "\n")
        .with_context(|| format!("--ready-file {}", temporary.display()))?;
    std::fs::rename(&temporary, path)
        .with_context(|| format!("--ready-file {}", path.display()))?;
    Ok(())
}

/// Catches Ctrl-C and, on Unix, SIGTERM from the moment it is called (inside the runtime);
/// the future resolves on the first of them.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    let caught = {
        use tokio::signal::unix::{signal, SignalKind};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        async move {
            tokio::select! {
                _ = interrupt.recv() => {},
                _ = terminate.recv() => {},
            }
        }
    };
    #[cfg(not(unix))]
    let caught = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    Ok(async move {
        caught.await;
        let _ = writeln!(std::io::stdout().lock(), "shutting down");
    })
}
