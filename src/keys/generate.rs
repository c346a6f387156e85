//! `oidc-harness keys generate`: the deterministic recipe behind `fixtures/keys/`.
//!
//! Each key is drawn from a ChaCha20 stream seeded with the SHA-256 of its name, so running the
//! recipe again re-creates the committed files byte for byte.

use std::path::Path;

use rand::SeedableRng as _;
use rand_chacha::ChaCha20Rng;
use rsa::RsaPrivateKey;
use sha2::{Digest as _, Sha256};

use super::{tls, KeyError, RsaKey};

/// One file written by [`generate_fixture_set`].
#[derive(Debug, Clone)]
pub struct FixtureFile {
    /// File name inside the output folder.
    pub name: String,
    /// What the file is for.
    pub why: &'static str,
}

fn deterministic_key(name: &str) -> Result<RsaKey, KeyError> {
    let seed: [u8; 32] = Sha256::digest(format!("oidc-harness fixture key: {name}")).into();
    let mut rng = ChaCha20Rng::from_seed(seed);
    let private =
        RsaPrivateKey::new(&mut rng, 2048).map_err(|err| KeyError::Parse(err.to_string()))?;
    RsaKey::from_private(&private)
}

/// Two signing keys derived from `seed`, the same every time (a brand's own keys), made on two
/// threads the first time and remembered for the life of the process.
pub fn seeded_signing_keys(seed: &str) -> Result<Vec<super::SigningKey>, KeyError> {
    static MADE: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<String, Vec<super::SigningKey>>>,
    > = std::sync::OnceLock::new();
    let made = MADE.get_or_init(Default::default);
    if let Some(keys) = made.lock().unwrap_or_else(|p| p.into_inner()).get(seed) {
        return Ok(keys.clone());
    }
    let names = [format!("{seed} signing-1"), format!("{seed} signing-2")];
    let keys = std::thread::scope(|scope| {
        let handles: Vec<_> = names
            .iter()
            .map(|name| scope.spawn(move || deterministic_key(name)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| KeyError::Parse("key generation panicked".into()))?
                    .and_then(|key| super::SigningKey::new(key, None))
            })
            .collect::<Result<Vec<_>, _>>()
    })?;
    made.lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(seed.to_owned(), keys.clone());
    Ok(keys)
}

/// Writes the fixture key set into `dir` and lists what it wrote.
pub fn generate_fixture_set(dir: &Path) -> Result<Vec<FixtureFile>, KeyError> {
    std::fs::create_dir_all(dir).map_err(|source| KeyError::Io {
        path: dir.to_owned(),
        error: source,
    })?;
    let mut written = Vec::new();
    let mut put = |name: String, text: &str, why: &'static str| -> Result<(), KeyError> {
        let path = dir.join(&name);
        std::fs::write(&path, text).map_err(|source| KeyError::Io {
            path,
            error: source,
        })?;
        written.push(FixtureFile { name, why });
        Ok(())
    };
    for name in ["idp-signing-1", "idp-signing-2"] {
        let key = deterministic_key(name)?;
        let private = key.private_pem().unwrap_or_default().to_owned();
        put(
            format!("{name}.key.pem"),
            &private,
            "provider RS256 signing key (PKCS#8)",
        )?;
        put(
            format!("{name}.pub.pem"),
            &key.public_pem(),
            "its public key, PEM SPKI",
        )?;
        put(
            format!("{name}.pub.b64"),
            &format!("{}\n", key.public_base64_line()),
            "its public key as the platform console takes it: one-line base64 SPKI",
        )?;
        put(
            format!("{name}.cert.pem"),
            &tls::signing_certificate(&key)?,
            "its self-signed X.509 certificate (served at /oauth2/v1/certs)",
        )?;
    }
    let attacker = deterministic_key("attacker-signing")?;
    put(
        "attacker-signing.key.pem".into(),
        attacker.private_pem().unwrap_or_default(),
        "a key the provider never publishes: forgeries sign with it",
    )?;
    let platform = deterministic_key("platform-encryption")?;
    put(
        "platform-encryption.key.pem".into(),
        platform.private_pem().unwrap_or_default(),
        "the platform's RSA key for opening JWE envelopes (PKCS#8)",
    )?;
    put(
        "platform-encryption.pub.pem".into(),
        &platform.public_pem(),
        "the platform's public key that brands encrypt ID tokens to, PEM SPKI",
    )?;
    put(
        "platform-encryption.pub.b64".into(),
        &format!("{}\n", platform.public_base64_line()),
        "the same public key as one-line base64 SPKI",
    )?;
    let consumer = deterministic_key("platform-signing")?;
    put(
        "platform-signing.key.pem".into(),
        consumer.private_pem().unwrap_or_default(),
        "the platform IDP's RS256 key for the consumer JWTs it answers with (PKCS#8)",
    )?;
    put(
        "platform-signing.pub.pem".into(),
        &consumer.public_pem(),
        "its public key, PEM SPKI: what a consumer JWT verifies with",
    )?;
    Ok(written)
}
