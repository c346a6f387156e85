//! Choosing the brand's signing key: the one configured public key, or the JWKS key named by
//! the token's `kid` (`liveperson-auth.md` §2 "Key provisioning"). A JWKS URL is cached for its
//! `Cache-Control` max-age and refetched once, rate-limited, when a token names an unknown kid.
//! Header members that would let a token pick its own key (`jku`, `x5u`, `jwk`, `x5c`) are
//! never read.

use std::sync::Arc;

use serde_json::Value;

use super::reason::RejectReason;
use super::rejection::Rejection;
use crate::jose::Rs256Verifier;
use crate::keys::RsaKey;

/// Smallest RSA modulus read at all, in bits: the platform's own tutorial key has 1024, and
/// whether a key under 2048 refuses is the `key-size` rule's to say. Below this no key is
/// taken (a 512-bit key is factored in hours).
const MIN_RSA_BITS: usize = 1024;

#[derive(Debug, Clone)]
pub(crate) struct KeyEntry {
    kid: Option<String>,
    verifier: Arc<Rs256Verifier>,
}

impl KeyEntry {
    pub(crate) fn new(kid: Option<String>, key: &RsaKey) -> Result<Self, String> {
        if key.bits() < MIN_RSA_BITS {
            return Err(format!(
                "an RSA key of {} bits is too small (at least {MIN_RSA_BITS})",
                key.bits()
            ));
        }
        let verifier = Rs256Verifier::new(key).map_err(|e| e.to_string())?;
        Ok(Self {
            kid,
            verifier: Arc::new(verifier),
        })
    }
}

/// Parses a JWKS, keeping the RSA signing keys usable with RS256 and skipping entries that
/// cannot be used (other key types, `use: enc`, other algorithms, broken members, small keys).
pub(crate) fn parse_jwks(bytes: &[u8]) -> Result<Vec<KeyEntry>, String> {
    let doc: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("the JWKS is not JSON: {e}"))?;
    let keys = doc
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("the JWKS has no \"keys\" array")?;
    let usable = keys
        .iter()
        .filter(|k| k.get("kty").and_then(Value::as_str) == Some("RSA"))
        .filter(|k| {
            k.get("use")
                .and_then(Value::as_str)
                .is_none_or(|u| u == "sig")
        })
        .filter(|k| {
            k.get("alg")
                .and_then(Value::as_str)
                .is_none_or(|a| a == "RS256")
        })
        .filter_map(|k| {
            let n = k.get("n")?.as_str()?;
            let e = k.get("e")?.as_str()?;
            let key = RsaKey::from_jwk_components(n, e).ok()?;
            let kid = k.get("kid").and_then(Value::as_str).map(str::to_owned);
            KeyEntry::new(kid, &key).ok()
        })
        .collect();
    Ok(usable)
}

/// Picks the key for `kid` among `keys`.
fn pick(keys: &[KeyEntry], kid: Option<&str>) -> Result<Arc<Rs256Verifier>, Rejection> {
    match kid {
        Some(kid) => keys
            .iter()
            .find(|k| k.kid.as_deref() == Some(kid))
            .map(|k| Arc::clone(&k.verifier))
            .ok_or_else(|| {
                Rejection::new(
                    RejectReason::UnknownKid,
                    format!("no published key has kid {kid:?}"),
                )
            }),
        None => match keys {
            [only] => Ok(Arc::clone(&only.verifier)),
            [] => Err(Rejection::new(
                RejectReason::KeyUnavailable,
                "the key set holds no usable RSA signing key",
            )),
            many => Err(Rejection::new(
                RejectReason::KidAmbiguous,
                format!(
                    "the token names no kid and the key set has {} keys (OIDC Core §10.1)",
                    many.len()
                ),
            )),
        },
    }
}

#[derive(Debug, Default)]
pub(crate) struct Cached {
    keys: Vec<KeyEntry>,
    expires_at: i64,
    last_fetch: Option<i64>,
    /// The last refetch an unknown kid caused: these are rate-limited.
    last_forced: Option<i64>,
}

/// The brand's keys as configured.
#[derive(Debug)]
pub(crate) enum KeySet {
    /// One key, used whatever the token's kid says.
    Single(Arc<Rs256Verifier>),
    /// A fixed key set (a JWKS read from a file).
    Fixed(Vec<KeyEntry>),
    /// A JWKS endpoint, cached.
    Remote {
        url: url::Url,
        http: reqwest::Client,
        max_bytes: usize,
        refetch_interval: i64,
        cache: tokio::sync::Mutex<Cached>,
    },
}

impl KeySet {
    pub(crate) fn remote(
        url: url::Url,
        http: reqwest::Client,
        max_bytes: usize,
        refetch_interval: i64,
    ) -> Self {
        Self::Remote {
            url,
            http,
            max_bytes,
            refetch_interval,
            cache: tokio::sync::Mutex::new(Cached::default()),
        }
    }

    /// Fetches a remote key set now if it is not cached (a no-op for configured keys).
    pub(crate) async fn prefetch(&self, now: i64) -> Result<(), Rejection> {
        if let Self::Remote {
            url,
            http,
            max_bytes,
            cache,
            ..
        } = self
        {
            let mut cache = cache.lock().await;
            if cache.last_fetch.is_none() || now >= cache.expires_at {
                refresh(&mut cache, url, http, *max_bytes, now).await?;
            }
        }
        Ok(())
    }

    /// The verifier for a token whose header names `kid`, at time `now`.
    pub(crate) async fn resolve(
        &self,
        kid: Option<&str>,
        now: i64,
    ) -> Result<Arc<Rs256Verifier>, Rejection> {
        match self {
            Self::Single(verifier) => Ok(Arc::clone(verifier)),
            Self::Fixed(keys) => pick(keys, kid),
            Self::Remote {
                url,
                http,
                max_bytes,
                refetch_interval,
                cache,
            } => {
                // One fetch at a time: concurrent verifications wait for it rather than stampede.
                let mut cache = cache.lock().await;
                if cache.last_fetch.is_none() || now >= cache.expires_at {
                    refresh(&mut cache, url, http, *max_bytes, now).await?;
                }
                match pick(&cache.keys, kid) {
                    Err(rejection) if rejection.reason == RejectReason::UnknownKid => {
                        let recent = cache
                            .last_forced
                            .is_some_and(|at| now - at < *refetch_interval);
                        if recent {
                            return Err(rejection);
                        }
                        cache.last_forced = Some(now);
                        refresh(&mut cache, url, http, *max_bytes, now).await?;
                        pick(&cache.keys, kid)
                    }
                    other => other,
                }
            }
        }
    }
}

async fn refresh(
    cache: &mut Cached,
    url: &url::Url,
    http: &reqwest::Client,
    max_bytes: usize,
    now: i64,
) -> Result<(), Rejection> {
    cache.last_fetch = Some(now);
    let unavailable = |detail: String| Rejection::new(RejectReason::KeyUnavailable, detail);
    let fetched = async {
        let response = http
            .get(url.clone())
            .send()
            .await
            .map_err(|e| format!("JWKS {url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("JWKS {url}: HTTP {}", response.status()));
        }
        let max_age = max_age(response.headers());
        let body = super::code_flow::read_limited(response, max_bytes)
            .await
            .map_err(|e| format!("JWKS {url}: {e}"))?;
        Ok((parse_jwks(&body)?, max_age))
    }
    .await;
    match fetched {
        Ok((keys, max_age)) => {
            cache.keys = keys;
            cache.expires_at = now + max_age;
            Ok(())
        }
        // A failed refetch keeps the keys already known.
        Err(detail) if !cache.keys.is_empty() => {
            tracing::warn!(%detail, "JWKS refetch failed; keeping the cached keys");
            Ok(())
        }
        Err(detail) => Err(unavailable(detail)),
    }
}

/// `max-age` minus `Age`, from the response's caching headers; 0 when absent or `no-store`.
fn max_age(headers: &reqwest::header::HeaderMap) -> i64 {
    let cache_control = headers
        .get(reqwest::header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if cache_control
        .split(',')
        .any(|d| matches!(d.trim(), "no-store" | "no-cache"))
    {
        return 0;
    }
    let max_age = cache_control
        .split(',')
        .find_map(|d| d.trim().strip_prefix("max-age="))
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);
    let age = headers
        .get(reqwest::header::AGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);
    (max_age - age).max(0)
}
