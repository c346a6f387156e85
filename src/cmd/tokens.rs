//! `verify`, `mint` and `redeem`: the token-level commands, for reproducing an edge case and
//! keeping it as a fixture.

use std::io::Read as _;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use oidc_harness::claims::{ClaimScopes, ClientId, ClientSecret, IdTokenClaims, Issuer, Nonce};
use oidc_harness::jose::malform::{forge, ForgeKeys, Mutation};
use oidc_harness::jose::{ContentEnc, Encrypter, KeyAlg, Signer};
use oidc_harness::keys::{self, RsaKey};
use oidc_harness::verifier::{
    strict_refusal, AuthenticatedConsumer, ClientAuth, CodeRedemption, KeySource,
    PhoneNumberMapping, Reading, Rejection, Verifier, VerifierConfig, VerifyContext,
};

use super::{now, read};
use crate::cli::{
    ClientAuthArg, FixtureArgs, FixtureFlow, Format, MintArgs, PhoneMapping, RedeemArgs,
    TokenCheckArgs, VerifyArgs,
};

/// A key file: public (PEM or one-line base64 SPKI), or a private PEM whose public half is used.
/// `--key`: a file, or the console's one-line key itself (what the platform's own tutorial
/// prints for its "JWT Public Key" field).
fn public_key(arg: &str) -> anyhow::Result<RsaKey> {
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
fn fixture_jwks() -> anyhow::Result<String> {
    let keys: Vec<_> = keys::fixture_signing_keys()?
        .iter()
        .map(|k| k.key().jwk("sig", "RS256"))
        .collect();
    Ok(serde_json::json!({ "keys": keys }).to_string())
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// The token in `input` (a file, or - for standard input), less one trailing newline from
/// `mint` or an editor.
fn read_token(input: &str) -> anyhow::Result<String> {
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
fn verifier_config(args: &TokenCheckArgs) -> anyhow::Result<VerifierConfig> {
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

fn verify_context(args: &TokenCheckArgs) -> anyhow::Result<VerifyContext> {
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
fn source_line() -> String {
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

pub(crate) fn fixture(args: FixtureArgs) -> anyhow::Result<ExitCode> {
    use oidc_harness::scenario::fixture::{make, reproduced, FixtureOptions, Original};
    use oidc_harness::scenario::FlowKind;
    let original = Original {
        token: read_token(&args.input)?,
        config: verifier_config(&args.check)?,
        ctx: verify_context(&args.check)?,
    };
    let options = FixtureOptions {
        flow: match args.flow {
            FixtureFlow::Code => FlowKind::Code,
            FixtureFlow::Implicit => FlowKind::Implicit,
            FixtureFlow::Popup => FlowKind::Popup,
            FixtureFlow::PopupImplicit => FlowKind::PopupImplicit,
            FixtureFlow::Mobile => FlowKind::Mobile,
        },
        keep: args.keep,
        fake: args.fake,
        id: args.id,
        source: source_line(),
    };
    let fixture = runtime()?
        .block_on(make(original, &options))
        .map_err(|e| anyhow::anyhow!(e))?;
    std::fs::write(&args.out, &fixture.text).with_context(|| format!("{}", args.out.display()))?;
    for note in &fixture.notes {
        eprintln!("note: {note}");
    }
    if reproduced(&fixture) {
        out!(
            "wrote {}: {}, reproduced by run",
            args.out.display(),
            fixture.expected
        );
        Ok(ExitCode::SUCCESS)
    } else {
        let got = match (fixture.replay.verdict, fixture.replay.reason) {
            (_, Some(reason)) => format!("rejected ({reason})"),
            (Some(_), None) => "authenticated".to_owned(),
            (None, None) => "no verdict".to_owned(),
        };
        out!(
            "wrote {}: the original was {}, but the file run gets {got}: {}",
            args.out.display(),
            fixture.expected,
            fixture.replay.detail
        );
        Ok(ExitCode::from(1))
    }
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

pub(crate) fn mint(args: MintArgs) -> anyhow::Result<ExitCode> {
    if args.mutate.iter().any(|m| m == "list") {
        for mutation in Mutation::ALL {
            out!("{:<28} {}", mutation.name(), mutation.catalog_id());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mutations = args
        .mutate
        .iter()
        .map(|name| {
            Mutation::from_name(name)
                .with_context(|| format!("--mutate {name:?}: not in the catalog (--mutate list)"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let personas = oidc_harness::claims::fixture_personas();
    let Some(persona) = personas.find(&args.persona) else {
        bail!(
            "unknown persona {:?}; the fixtures have {}",
            args.persona,
            personas.ids().join(", ")
        );
    };
    let mut claims = IdTokenClaims::for_persona(
        persona,
        &Issuer::new(&args.issuer),
        &ClientId::new(&args.client_id),
        ClaimScopes {
            email: true,
            profile: true,
        },
        now(args.now.as_deref())?,
        args.lifetime,
    );
    claims.nonce = args.nonce.map(Nonce::new);
    let signing = keys::fixture_signing_keys()?.remove(0);
    let encrypter = if args.encrypt {
        let alg: KeyAlg = serde_json::from_value(args.alg.clone().into())
            .with_context(|| format!("--alg {:?}: use RSA-OAEP-256 or RSA-OAEP", args.alg))?;
        let enc: ContentEnc =
            serde_json::from_value(args.enc.clone().into()).with_context(|| {
                format!(
                    "--enc {:?}: use A256GCM, A128GCM, A128CBC-HS256 or A256CBC-HS512",
                    args.enc
                )
            })?;
        let to = match &args.encrypt_to {
            Some(path) => public_key(&path.to_string_lossy())?,
            None => keys::fixture_platform_key()?,
        };
        Some(Encrypter::new(&to, alg, enc)?)
    } else {
        None
    };
    let token = if mutations.is_empty() {
        let signed = Signer::rs256(&signing)?.sign(&claims)?;
        match &encrypter {
            Some(encrypter) => encrypter.encrypt(&signed)?,
            None => signed,
        }
    } else {
        let serde_json::Value::Object(claims) = serde_json::to_value(&claims)? else {
            bail!("claims are not an object")
        };
        let header = serde_json::Map::from_iter([
            ("alg".to_owned(), "RS256".into()),
            ("kid".to_owned(), signing.kid().as_str().into()),
            ("typ".to_owned(), "JWT".into()),
        ]);
        let attacker = keys::fixture_attacker_key()?;
        let forge_keys = ForgeKeys {
            genuine: &signing,
            unpublished: &attacker,
            client_secret: "demo-secret",
            envelope: encrypter.as_ref(),
            now: claims
                .get("iat")
                .and_then(serde_json::Value::as_i64)
                .unwrap_or_default(),
        };
        forge(&mutations, header, claims, &forge_keys)?
    };
    out!("{token}");
    Ok(ExitCode::SUCCESS)
}

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
