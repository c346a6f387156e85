//! `oidc-harness check`: a brand's own provider, checked the way the platform uses it.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use oidc_harness::scenario::{self, Report, SignIn};

use crate::cli::{CheckArgs, CheckFlow, PkceArg};

use super::run::emit;

pub(crate) fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let mobile = args.flow == CheckFlow::MobileCode;
    if mobile && args.code_from.is_none() {
        anyhow::bail!(
            "--flow mobile-code needs --code-from: an app's codes come back to the app's \
             redirect URI, not to check's loopback listener (--interactive signs in with \
             --flow code, implicit or both)"
        );
    }
    if mobile && args.token_from.is_some() {
        anyhow::bail!(
            "--flow mobile-code checks an app's codes only: leave out --token-from, and check \
             the Implicit Flow in a run of its own"
        );
    }
    if mobile && matches!(args.pkce, Some(PkceArg::On | PkceArg::Auto)) {
        anyhow::bail!(
            "--pkce on and auto do not go with --flow mobile-code: the SDK hands the platform no \
             PKCE verifier, so an app's codes are asked for without a challenge \
             (liveperson-auth.md §8.3)"
        );
    }
    let sign_in = if args.discovery_only {
        SignIn::DiscoveryOnly
    } else if args.code_from.is_some() || args.token_from.is_some() {
        SignIn::Commands {
            code_from: args.code_from,
            token_from: args.token_from,
        }
    } else {
        SignIn::Interactive {
            port: args.callback_port,
            code: matches!(args.flow, CheckFlow::Code | CheckFlow::Both),
            implicit: matches!(args.flow, CheckFlow::Implicit | CheckFlow::Both),
            open: !args.no_open,
        }
    };
    let code_flow = match &sign_in {
        SignIn::Commands { code_from, .. } => code_from.is_some(),
        SignIn::Interactive { code, .. } => *code,
        SignIn::DiscoveryOnly => false,
    };
    if code_flow && args.client_secret.is_none() {
        anyhow::bail!(
            "--client-secret is needed for the Code Flow: the platform redeems codes with it \
             (an Implicit-only run, --token-from or --flow implicit, needs none)"
        );
    }
    let plan = scenario::CheckPlan {
        discovery: args
            .discovery
            .parse()
            .with_context(|| format!("--discovery {:?}", args.discovery))?,
        client_id: args.client_id,
        client_secret: args.client_secret.unwrap_or_default(),
        implicit_client_id: args.implicit_client_id,
        implicit_client_secret: args.implicit_client_secret,
        redirect_uri: args.redirect_uri,
        scope: args.scope,
        sign_in,
        command_timeout: std::time::Duration::from_secs(args.command_timeout),
        decrypt_key: match &args.decrypt_key {
            Some(path) => Some(
                oidc_harness::keys::RsaKey::from_private_pem(&super::read(path)?).with_context(
                    || format!("{}: not an RSA private key in PEM", path.display()),
                )?,
            ),
            None => None,
        },
        extra_root_pem: args.ca.as_deref().map(super::read).transpose()?,
        strict: args.strict,
        pkce: match args.pkce {
            _ if mobile => scenario::Pkce::Off,
            Some(PkceArg::Off) => scenario::Pkce::Off,
            Some(PkceArg::On) => scenario::Pkce::On,
            Some(PkceArg::Auto) | None => scenario::Pkce::Auto,
        },
        mobile,
        now: super::now(None)?,
        save_fixtures: args.save_fixtures,
    };
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let outcomes = runtime.block_on(scenario::run_check(&plan));
    let report = Report::new(
        outcomes,
        u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    );
    let subject = plan.discovery.to_string();
    emit(
        &report,
        args.format,
        args.out.as_deref(),
        ("oidc-harness check", &subject),
    )
}
