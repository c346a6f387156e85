//! `redeem`: a code redeemed at a token endpoint as the platform does, and its ID token verified.

use std::process::ExitCode;

use anyhow::Context as _;
use oidc_harness::claims::{ClientId, ClientSecret, Issuer};
use oidc_harness::verifier::{ClientAuth, CodeRedemption, KeySource, Verifier, VerifierConfig};

use super::read;
use crate::cli::{ClientAuthArg, Format, RedeemArgs};

use super::verify::{fixture_jwks, runtime};

pub(crate) fn redeem(args: RedeemArgs) -> anyhow::Result<ExitCode> {
    let endpoint: url::Url = args
        .token_endpoint
        .parse()
        .with_context(|| format!("--token-endpoint {:?}", args.token_endpoint))?;
    // The verifier is only used for its token-endpoint half here; its key is never consulted.
    let placeholder = KeySource::JwksDocument(fixture_jwks()?);
    let mut config = VerifierConfig::new(Issuer::new("-"), placeholder)
        .token_endpoint(
            endpoint,
            ClientId::new(&args.client_id),
            ClientSecret::new(&args.client_secret),
        )
        .client_auth(match args.client_auth {
            ClientAuthArg::Basic => ClientAuth::Basic,
            ClientAuthArg::Body => ClientAuth::Body,
            ClientAuthArg::Json => ClientAuth::JsonBody,
        })
        .pkce(args.code_verifier.is_some());
    config.redirect_uri = args.redirect_uri;
    config.insecure_allow_http = args.insecure_allow_http;
    if let Some(ca) = &args.ca {
        config.extra_root_pem = Some(read(ca)?);
    }
    let verifier = Verifier::new(config)?;
    let redemption = CodeRedemption {
        code: args.code,
        redirect_uri: None,
        code_verifier: args.code_verifier,
    };
    let outcome = runtime()?.block_on(verifier.redeem(&redemption));
    match (&outcome, args.format) {
        (Ok(tokens), Format::Text) => out!("{}", tokens.id_token),
        (Ok(tokens), Format::Json) => {
            out!(
                "{}",
                serde_json::json!({ "id_token": tokens.id_token, "access_token": tokens.access_token })
            )
        }
        (Err(rejection), Format::Text) => out!("rejected  {rejection}"),
        (Err(rejection), Format::Json) => {
            out!(
                "{}",
                serde_json::json!({ "verdict": "rejected", "reason": rejection.reason, "detail": rejection.detail })
            )
        }
    }
    Ok(if outcome.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
