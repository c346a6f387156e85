//! `verify`: one token, verified as the platform does, both readings shown.

use std::io::Read as _;
use std::process::ExitCode;

use anyhow::Context as _;
use oidc_harness::claims::{ClientId, Issuer, Nonce};
use oidc_harness::keys::{self, RsaKey};
use oidc_harness::verifier::{
    strict_refusal, AuthenticatedConsumer, KeySource, PhoneNumberMapping, Reading, Rejection,
    Verifier, VerifierConfig, VerifyContext,
};

use super::{now, read};
use crate::cli::{Format, PhoneMapping, TokenCheckArgs, VerifyArgs};

/// A key file: public (PEM or one-line base64 SPKI), or a private PEM whose public half is used.
/// `--key`: a file, or the console's one-line key itself (what the platform's own tutorial
/// prints for its "JWT Public Key" field).
pub(super) fn public_key(arg: &str) -> anyhow::Result<RsaKey> {
    let path = std::path::Path::new(arg);
    let inline = !path.exists()
        && arg.len() > 64
        && arg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
    if inline {
        return RsaKey::from_public_pem_or_base64(arg)
            .context("--key: not an RSA public key (one-line base64 SPKI)");
    }
    let text = read(path)?;
    RsaKey::from_public_pem_or_base64(&text)
        .or_else(|_| RsaKey::from_private_pem(&text))
        .with_context(|| {
            format!(
                "{}: not an RSA public key (PEM or one-line base64 SPKI)",
                path.display()
            )
        })
}

fn private_key(path: &std::path::Path) -> anyhow::Result<RsaKey> {
    RsaKey::from_private_pem(&read(path)?)
        .with_context(|| format!("{}: not an RSA private key in PEM", path.display()))
}

/// The fixture signing keys as a JWKS document.
pub(super) fn fixture_jwks() -> anyhow::Result<String> {
    let keys: Vec<_> = keys::fixture_signing_keys()?
        .iter()
        .map(|k| k.key().jwk("sig", "RS256"))
        .collect();
    Ok(serde_json::json!({ "keys": keys }).to_string())
}

pub(super) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// The token in `input` (a file, or - for standard input), less one trailing newline from
/// `mint` or an editor.
pub(super) fn read_token(input: &str) -> anyhow::Result<String> {
    let token = if input == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("standard input")?;
        text
    } else {
        read(std::path::Path::new(input))?
    };
    let token = token.strip_suffix('\n').unwrap_or(&token);
    Ok(token.strip_suffix('\r').unwrap_or(token).to_owned())
}

/// The platform side `verify` and `fixture` check a token with.
pub(super) fn verifier_config(args: &TokenCheckArgs) -> anyhow::Result<VerifierConfig> {
    let signing_key = match (&args.key, &args.jwks) {
        (Some(key), _) => KeySource::PublicKey(public_key(key)?),
        (None, Some(url)) if url.starts_with("https://") || url.starts_with("http://") => {
            KeySource::JwksUrl(url.parse().with_context(|| format!("--jwks {url:?}"))?)
        }
        (None, Some(path)) => KeySource::JwksDocument(read(std::path::Path::new(path))?),
        (None, None) => KeySource::JwksDocument(fixture_jwks()?),
    };
    let mut config = VerifierConfig::new(Issuer::new(&args.issuer), signing_key);
    config.decryption_key = Some(match &args.decrypt_key {
        Some(path) => private_key(path)?,
        None => keys::fixture_platform_key()?,
    });
    config.client_id = args.client_id.clone().map(ClientId::new);
    config.trusted_audiences.clone_from(&args.trusted_audience);
    config.allow_untrusted_audiences = args.allow_untrusted_audiences;
    config.lp_sdes_strict = args.lp_sdes_strict;
    config.phone_number_mapping = match args.phone_number_mapping {
        PhoneMapping::CustomerImei => PhoneNumberMapping::CustomerImei,
        PhoneMapping::PersonalContactPhone => PhoneNumberMapping::PersonalContactPhone,
    };
    config.leeway_secs = args.leeway;
    config.require_encryption = args.require_encryption;
    config.insecure_allow_millisecond_timestamps = args.insecure_allow_millisecond_timestamps;
    config.insecure_allow_string_timestamps = args.insecure_allow_string_timestamps;
    if let Some(ca) = &args.ca {
        config.extra_root_pem = Some(read(ca)?);
    }
    Ok(config)
}

pub(super) fn verify_context(args: &TokenCheckArgs) -> anyhow::Result<VerifyContext> {
    Ok(VerifyContext {
        now: now(args.now.as_deref())?,
        nonce: args.nonce.clone().map(Nonce::new),
        access_token: args.access_token.clone(),
        code: None,
        front_channel: false,
    })
}

pub(crate) fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let token = read_token(&args.input)?;
    let config = verifier_config(&args.check)?;
    let relaxations: Vec<&str> = config.relaxations();
    let verifier = Verifier::new(config)?;
    let ctx = verify_context(&args.check)?;
    let verdict = runtime()?.block_on(verifier.verify(&token, &ctx));
    let reading = if args.check.strict {
        Reading::Strict
    } else {
        Reading::Platform
    };
    let accepted = match reading {
        Reading::Platform => verdict.is_ok(),
        Reading::Strict => strict_refusal(&verdict).is_none(),
    };
    match args.format {
        Format::Json => out!(
            "{}",
            serde_json::to_string_pretty(&verdict_json(&verdict, reading, &relaxations))?
        ),
        Format::Text => print_verdict(&verdict, reading, &relaxations)?,
    }
    Ok(if accepted {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// A refusal as JSON: the reason, the rule and its basis, and the platform IDP's error code.
fn refusal_json(rejection: &Rejection) -> serde_json::Value {
    let platform_error = rejection.reason.platform_error();
    serde_json::json!({
        "verdict": "rejected",
        "reason": rejection.reason,
        "detail": rejection.detail,
        "rule": rejection.rule,
        "basis": rejection.basis(),
        "cite": rejection.rule.cite(),
        "internalErrorCode": rejection.platform_error_code(),
        "internalErrorName": platform_error.map(|e| e.name),
    })
}

/// The command line as the scenario's `source`: an access token's value is left out.
pub(super) fn source_line() -> String {
    let mut words = Vec::new();
    let mut secret_next = false;
    for arg in std::env::args().skip(1) {
        let word = if secret_next {
            "<access token>".to_owned()
        } else if let Some(("--access-token", _)) = arg.split_once('=') {
            "--access-token=<access token>".to_owned()
        } else {
            arg.clone()
        };
        secret_next = arg == "--access-token";
        words.push(word);
    }
    format!("oidc-harness {}", words.join(" "))
}

fn verdict_json(
    verdict: &Result<AuthenticatedConsumer, Rejection>,
    reading: Reading,
    relaxations: &[&str],
) -> serde_json::Value {
    let platform = match verdict {
        Ok(_) => serde_json::json!({ "verdict": "authenticated" }),
        Err(rejection) => refusal_json(rejection),
    };
    let strict = match strict_refusal(verdict) {
        None => serde_json::json!({ "verdict": "authenticated" }),
        Some(rejection) => refusal_json(rejection),
    };
    let decided = match reading {
        Reading::Platform => &platform,
        Reading::Strict => &strict,
    };
    let mut out = decided.clone();
    out["reading"] = serde_json::json!(reading);
    out["relaxations"] = serde_json::json!(relaxations);
    if let Ok(consumer) = verdict {
        out["consumer"] = serde_json::json!(consumer);
        out["findings"] = consumer
            .strict_findings()
            .iter()
            .map(|f| {
                let mut finding = refusal_json(f);
                finding["risk"] = serde_json::json!(f.rule.risk());
                finding.as_object_mut().map(|o| o.remove("verdict"));
                finding
            })
            .collect();
        out["notes"] = serde_json::json!(notes(consumer, relaxations));
    }
    out["platform"] = platform;
    out["strict"] = strict;
    out
}

/// What was not checked and why, beside the findings.
fn notes(consumer: &AuthenticatedConsumer, relaxations: &[&str]) -> Vec<String> {
    let mut notes = Vec::new();
    if relaxations.contains(&"any_audience") {
        notes.push(match consumer.audience() {
            Some(aud) => format!(
                "aud {aud} was not compared: no client id is configured (any_audience); a token \
                 minted for someone else would pass"
            ),
            None => "the token has no aud, and none is asked for (any_audience)".to_owned(),
        });
    }
    notes
}

fn print_verdict(
    verdict: &Result<AuthenticatedConsumer, Rejection>,
    reading: Reading,
    relaxations: &[&str],
) -> anyhow::Result<()> {
    let strict = strict_refusal(verdict);
    match (reading, verdict, strict) {
        (Reading::Strict, Ok(_), Some(refusal)) => {
            out!("rejected  {}", refusal.explained());
            out!("  the platform reading authenticates it; see the findings below");
        }
        (Reading::Strict, Err(rejection), Some(refusal)) => {
            out!("rejected  {}", refusal.explained());
            if refusal != rejection {
                out!("platform: rejected  {}", rejection.explained());
            }
        }
        (_, Err(rejection), _) => out!("rejected  {}", rejection.explained()),
        (_, Ok(consumer), _) => {
            let envelope = if consumer.encrypted() {
                "signed and encrypted"
            } else {
                "signed"
            };
            out!(
                "authenticated  sub {}  iss {}  ({envelope}, kid {})",
                consumer.sub(),
                consumer.iss(),
                consumer.kid().unwrap_or("-")
            );
            let expires = time::OffsetDateTime::from_unix_timestamp(consumer.expires_at())
                .ok()
                .and_then(|t| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap_or_default();
            out!("  expires {expires}");
            let width = consumer
                .fields()
                .iter()
                .map(|f| f.key.len())
                .max()
                .unwrap_or(0);
            for field in consumer.fields() {
                out!(
                    "  {:<width$}  {}  ({})",
                    field.key,
                    field.value,
                    field.source
                );
            }
            for warning in consumer.warnings() {
                out!("warning: {warning}");
            }
        }
    }
    if let Ok(consumer) = verdict {
        for risk in consumer.risks() {
            out!("warning: {risk}");
        }
        for note in notes(consumer, relaxations) {
            out!("warning: {note}");
        }
    }
    match (reading, verdict, strict) {
        (Reading::Platform, Ok(_), Some(refusal)) => {
            out!("strict: rejected  {}", refusal.explained());
        }
        (Reading::Platform, Err(rejection), Some(refusal)) if refusal != rejection => {
            out!("strict: rejected  {}", refusal.explained());
        }
        (Reading::Strict, Ok(_), None) | (Reading::Platform, _, _) => {}
        (Reading::Strict, Err(_), _) => {}
        (Reading::Strict, Ok(_), Some(_)) => out!("platform: authenticated"),
    }
    if !relaxations.is_empty() {
        out!("relaxed: {}", relaxations.join(", "));
    }
    Ok(())
}
