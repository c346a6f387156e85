//! The published signing keys, newest first (the first one signs), and their JSON forms, built
//! once per change rather than per request; and where a provider's keys come from.

use std::path::Path;
use std::sync::Arc;

use axum::body::Bytes;

use super::config::{ConfigError, IdpConfig};
use crate::jose::Signer;
use crate::keys::{self, Kid, RsaKey, SigningKey};

/// The published signing keys with their signers, the JWKS and the PEM certificates.
#[derive(Debug)]
pub(crate) struct KeyRing {
    keys: Vec<(SigningKey, Arc<Signer>)>,
    jwks_json: Bytes,
    pem_json: Bytes,
}

impl KeyRing {
    /// Publishes `keys` in this order.
    pub(crate) fn new(keys: Vec<SigningKey>) -> Result<Self, String> {
        let keys = keys
            .into_iter()
            .map(|k| Signer::rs256(&k).map(|s| (k, Arc::new(s))))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        let jwks = serde_json::json!({
            "keys": keys.iter().map(|(k, _)| k.key().jwk("sig", "RS256")).collect::<Vec<_>>()
        });
        let pem: serde_json::Map<String, serde_json::Value> = keys
            .iter()
            .map(|(k, _)| (k.kid().to_string(), k.cert_pem().into()))
            .collect();
        Ok(Self {
            jwks_json: Bytes::from(serde_json::to_vec_pretty(&jwks).unwrap_or_default()),
            pem_json: Bytes::from(serde_json::to_vec_pretty(&pem).unwrap_or_default()),
            keys,
        })
    }

    /// The configuration's keys: the files of `keys.signing` with their `kids`, else a brand's
    /// own keys, else the fixture keys; then `keys.also_publish`.
    pub(crate) fn load(config: &IdpConfig) -> Result<Self, ConfigError> {
        let invalid = |m: String| ConfigError::Invalid(m);
        let mut signing = if config.keys.signing.is_empty() {
            match &config.brand {
                Some(name) => brand_keys(name, config.key_cache.as_deref())
                    .map_err(|e| invalid(format!("brand {name}: keys: {e}")))?,
                None => keys::fixture_signing_keys()
                    .map_err(|e| invalid(format!("fixture keys: {e}")))?,
            }
        } else {
            config
                .keys
                .signing
                .iter()
                .map(|path| {
                    let pem = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
                        path: path.clone(),
                        source,
                    })?;
                    RsaKey::from_private_pem(&pem)
                        .and_then(|k| SigningKey::new(k, None))
                        .map_err(|e| invalid(format!("{}: {e}", path.display())))
                })
                .collect::<Result<Vec<_>, _>>()?
        };
        for (key, kid) in signing.iter_mut().zip(&config.keys.kids) {
            *key = key.clone().with_kid(Kid::new(kid.clone()));
        }
        signing.extend(config.keys.also_publish.iter().cloned());
        Self::new(signing).map_err(invalid)
    }

    /// This ring with `key` first (it signs from now on), keeping at most `max` keys and
    /// dropping the oldest.
    pub(crate) fn rotated(&self, key: SigningKey, max: usize) -> Result<Self, String> {
        let mut keys: Vec<SigningKey> = std::iter::once(key)
            .chain(self.keys.iter().map(|(k, _)| k.clone()))
            .collect();
        keys.truncate(max);
        Self::new(keys)
    }

    /// The active key's signer.
    pub(crate) fn signer(&self) -> Option<Arc<Signer>> {
        self.keys.first().map(|(_, s)| Arc::clone(s))
    }

    /// The active signing key.
    pub(crate) fn active_key(&self) -> Option<SigningKey> {
        self.keys.first().map(|(key, _)| key.clone())
    }

    /// The published key with this kid.
    pub(crate) fn key(&self, kid: &str) -> Option<&SigningKey> {
        self.keys
            .iter()
            .map(|(k, _)| k)
            .find(|k| k.kid().as_str() == kid)
    }

    /// The kids in publication order (the first signs).
    pub(crate) fn kids(&self) -> Vec<Kid> {
        self.keys.iter().map(|(k, _)| k.kid().clone()).collect()
    }

    /// The JWKS document.
    pub(crate) fn jwks_json(&self) -> Bytes {
        self.jwks_json.clone()
    }

    /// kid -> X.509 PEM certificate.
    pub(crate) fn pem_json(&self) -> Bytes {
        self.pem_json.clone()
    }
}

/// Brand `name`'s own signing keys: derived from its name, the same at every start; read from
/// `cache` when an earlier start left them there, written there otherwise.
fn brand_keys(name: &str, cache: Option<&Path>) -> Result<Vec<SigningKey>, String> {
    let files = |dir: &Path| [1, 2].map(|i| dir.join(format!("brand-{name}-signing-{i}.key.pem")));
    if let Some(dir) = cache {
        let cached: Option<Vec<SigningKey>> = files(dir)
            .iter()
            .map(|path| {
                let pem = std::fs::read_to_string(path).ok()?;
                let key = RsaKey::from_private_pem(&pem).ok()?;
                SigningKey::new(key, None).ok()
            })
            .collect();
        if let Some(keys) = cached {
            return Ok(keys);
        }
    }
    let keys = keys::seeded_signing_keys(&format!("brand {name}")).map_err(|e| e.to_string())?;
    if let Some(dir) = cache {
        // A cache only: failing to write it costs the next start some time, nothing else.
        if std::fs::create_dir_all(dir).is_ok() {
            for (key, path) in keys.iter().zip(files(dir)) {
                if let Some(pem) = key.key().private_pem() {
                    let _ = keys::tls::write(&path, pem, true);
                }
            }
        }
    }
    Ok(keys)
}
