//! `mint`: an ID token signed by the fixture keys, malformed on demand.

use std::process::ExitCode;

use anyhow::{bail, Context as _};
use oidc_harness::claims::{ClaimScopes, ClientId, IdTokenClaims, Issuer, Nonce};
use oidc_harness::jose::malform::{forge, ForgeKeys, Mutation};
use oidc_harness::jose::{ContentEnc, Encrypter, KeyAlg, Signer};
use oidc_harness::keys::{self};

use super::now;
use crate::cli::MintArgs;

use super::verify::public_key;

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
