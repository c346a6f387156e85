//! Key material: the provider's RS256 signing keys, the platform's RSA encryption key, their
//! public forms (JWK, one-line base64 SPKI, PEM, X.509), and the TLS certificates of `serve`.
//!
//! Keys are loaded from PEM (the committed fixtures are embedded in the binary) or generated.
//! A key's [`Kid`] is derived from the key itself, so one kid always names one key.

mod generate;
pub mod tls;

pub use generate::{generate_fixture_set, seeded_signing_keys, FixtureFile};

use std::fmt;
use std::sync::OnceLock;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _, EncodePrivateKey, EncodePublicKey};
use rsa::traits::PublicKeyParts as _;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::Serialize;
use sha1::{Digest as _, Sha1};

/// Why key material could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The text is not a PEM RSA key (PKCS#8, PKCS#1 or SPKI).
    #[error("not an RSA key in PEM form: {0}")]
    Parse(String),
    /// A certificate could not be made or parsed.
    #[error("certificate: {0}")]
    Certificate(String),
    /// A key or certificate file could not be read or written.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// What the file system said (in the message, so not also its source: a chain
        /// printed whole would say it twice).
        error: std::io::Error,
    },
}

/// A JWS/JWE key id. Ours are 40 lowercase hex characters like Google's: the hex SHA-1 of the
/// RFC 7638 thumbprint input of the public key.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Kid(String);

impl Kid {
    /// Wraps an existing key id (for example one read from a token header).
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The kid as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Kid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Kid({})", self.0)
    }
}

impl fmt::Display for Kid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One RSA key: always its public half, and its private half when we hold it.
#[derive(Clone)]
pub struct RsaKey {
    kid: Kid,
    /// PKCS#8 PEM of the private key, when known.
    private_pem: Option<String>,
    /// DER SubjectPublicKeyInfo.
    spki_der: Vec<u8>,
    /// Modulus, base64url without padding (RFC 7518 §6.3.1.1).
    n: String,
    /// Public exponent, base64url without padding.
    e: String,
}

impl fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaKey")
            .field("kid", &self.kid)
            .field("private", &self.private_pem.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl RsaKey {
    /// Reads a private key in PEM, PKCS#8 (`PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`).
    pub fn from_private_pem(pem: &str) -> Result<Self, KeyError> {
        let private = RsaPrivateKey::from_pkcs8_pem(pem)
            .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
            .map_err(|err| KeyError::Parse(err.to_string()))?;
        Self::from_private(&private)
    }

    /// Reads a public key: PEM SPKI (`PUBLIC KEY`), or the one-line base64 SPKI without PEM
    /// armour that the platform's console takes.
    pub fn from_public_pem_or_base64(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        let public = if text.starts_with("-----BEGIN") {
            RsaPublicKey::from_public_key_pem(text)
                .map_err(|err| KeyError::Parse(err.to_string()))?
        } else {
            let der = STANDARD
                .decode(text.split_whitespace().collect::<String>())
                .map_err(|err| KeyError::Parse(format!("base64 SPKI: {err}")))?;
            RsaPublicKey::from_public_key_der(&der)
                .map_err(|err| KeyError::Parse(err.to_string()))?
        };
        Self::from_public(&public, None)
    }

    /// A public key from JWK members `n` and `e` (base64url).
    pub fn from_jwk_components(n: &str, e: &str) -> Result<Self, KeyError> {
        let decode = |v: &str, what: &str| {
            URL_SAFE_NO_PAD
                .decode(v)
                .map_err(|err| KeyError::Parse(format!("JWK {what}: {err}")))
        };
        let n = rsa::BigUint::from_bytes_be(&decode(n, "n")?);
        let e = rsa::BigUint::from_bytes_be(&decode(e, "e")?);
        let public = RsaPublicKey::new(n, e).map_err(|err| KeyError::Parse(err.to_string()))?;
        Self::from_public(&public, None)
    }

    /// The modulus size in bits.
    pub fn bits(&self) -> usize {
        URL_SAFE_NO_PAD.decode(&self.n).map_or(0, |n| {
            let leading = n.iter().take_while(|b| **b == 0).count();
            n.get(leading).map_or(0, |first| {
                (n.len() - leading - 1) * 8 + (8 - first.leading_zeros() as usize)
            })
        })
    }

    pub(crate) fn from_private(private: &RsaPrivateKey) -> Result<Self, KeyError> {
        let pem = private
            .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
            .map_err(|err| KeyError::Parse(err.to_string()))?;
        Self::from_public(&private.to_public_key(), Some(pem.to_string()))
    }

    fn from_public(public: &RsaPublicKey, private_pem: Option<String>) -> Result<Self, KeyError> {
        let spki_der = public
            .to_public_key_der()
            .map_err(|err| KeyError::Parse(err.to_string()))?
            .into_vec();
        let n = URL_SAFE_NO_PAD.encode(public.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(public.e().to_bytes_be());
        // RFC 7638 §3: the required members, in lexicographic order, no whitespace.
        let thumbprint_input = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
        let kid = Kid(hex::encode(Sha1::digest(thumbprint_input.as_bytes())));
        Ok(Self {
            kid,
            private_pem,
            spki_der,
            n,
            e,
        })
    }

    /// The key id derived from this key.
    pub fn kid(&self) -> &Kid {
        &self.kid
    }

    /// PKCS#8 PEM of the private key, if this key has one.
    pub fn private_pem(&self) -> Option<&str> {
        self.private_pem.as_deref()
    }

    /// DER SubjectPublicKeyInfo: what tells two keys apart whatever their key ids.
    pub fn public_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// PEM SubjectPublicKeyInfo (`-----BEGIN PUBLIC KEY-----`).
    pub fn public_pem(&self) -> String {
        let body = STANDARD.encode(&self.spki_der);
        let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
        for line in body.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).unwrap_or_default());
            pem.push('\n');
        }
        pem.push_str("-----END PUBLIC KEY-----\n");
        pem
    }

    /// The one-line base64 DER SPKI without PEM armour, as the platform's "JWT Public Key"
    /// field takes it (`liveperson-auth.md` §2, key provisioning (a)).
    pub fn public_base64_line(&self) -> String {
        STANDARD.encode(&self.spki_der)
    }

    /// The public JWK with the given `use` (`sig` or `enc`) and `alg`.
    pub fn jwk(&self, use_: &'static str, alg: &'static str) -> Jwk {
        Jwk {
            alg,
            use_,
            kty: "RSA",
            e: self.e.clone(),
            n: self.n.clone(),
            kid: self.kid.clone(),
        }
    }
}

/// A public JSON Web Key with exactly the six members Google publishes (`google-oidc.md` §2.1).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Jwk {
    /// `RS256` for signing keys.
    pub alg: &'static str,
    /// `sig` or `enc`.
    #[serde(rename = "use")]
    pub use_: &'static str,
    /// Always `RSA`.
    pub kty: &'static str,
    /// Public exponent, base64url.
    pub e: String,
    /// Modulus, base64url.
    pub n: String,
    /// Key id.
    pub kid: Kid,
}

/// A provider signing key with the self-signed X.509 certificate that `/oauth2/v1/certs`
/// publishes for it.
#[derive(Debug, Clone)]
pub struct SigningKey {
    key: RsaKey,
    cert_pem: String,
}

impl SigningKey {
    /// Wraps a private key and its certificate; makes the certificate when none is given.
    pub fn new(key: RsaKey, cert_pem: Option<String>) -> Result<Self, KeyError> {
        if key.private_pem().is_none() {
            return Err(KeyError::Parse(
                "a signing key needs its private half".into(),
            ));
        }
        let cert_pem = match cert_pem {
            Some(pem) => pem,
            None => tls::signing_certificate(&key)?,
        };
        Ok(Self { key, cert_pem })
    }

    /// Generates a fresh 2048-bit signing key (used by key rotation).
    pub fn generate() -> Result<Self, KeyError> {
        let private = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)
            .map_err(|err| KeyError::Parse(err.to_string()))?;
        Self::new(RsaKey::from_private(&private)?, None)
    }

    /// The RSA key.
    pub fn key(&self) -> &RsaKey {
        &self.key
    }

    /// The key id.
    pub fn kid(&self) -> &Kid {
        self.key.kid()
    }

    /// The same key published and used under another key id (a brand that names its kids).
    pub fn with_kid(mut self, kid: Kid) -> Self {
        self.key.kid = kid;
        self
    }

    /// The X.509 certificate, PEM.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }
}

/// The committed fixture key set, embedded so every command works with no configuration.
pub mod fixtures {
    /// The provider's first (active) RS256 signing key, PKCS#8 PEM.
    pub const SIGNING_1_KEY: &str = include_str!("../../fixtures/keys/idp-signing-1.key.pem");
    /// Its X.509 certificate.
    pub const SIGNING_1_CERT: &str = include_str!("../../fixtures/keys/idp-signing-1.cert.pem");
    /// The provider's second published RS256 key (Google normally publishes two).
    pub const SIGNING_2_KEY: &str = include_str!("../../fixtures/keys/idp-signing-2.key.pem");
    /// Its X.509 certificate.
    pub const SIGNING_2_CERT: &str = include_str!("../../fixtures/keys/idp-signing-2.cert.pem");
    /// A key the provider never publishes, for forged signatures, PKCS#8 PEM.
    pub const ATTACKER_KEY: &str = include_str!("../../fixtures/keys/attacker-signing.key.pem");
    /// The platform's RSA encryption key pair (private half), PKCS#8 PEM.
    pub const PLATFORM_ENCRYPTION_KEY: &str =
        include_str!("../../fixtures/keys/platform-encryption.key.pem");
    /// The platform's encryption public key, PEM SPKI.
    pub const PLATFORM_ENCRYPTION_PUB: &str =
        include_str!("../../fixtures/keys/platform-encryption.pub.pem");
    /// The platform IDP's signing key for its consumer JWTs, PKCS#8 PEM.
    pub const PLATFORM_SIGNING_KEY: &str =
        include_str!("../../fixtures/keys/platform-signing.key.pem");
}

/// Parses an embedded fixture once per process; later calls get a copy. Parsing an RSA key
/// validates it, which costs more than copying the result.
fn once<T: Clone>(
    cell: &'static OnceLock<Result<T, String>>,
    make: impl FnOnce() -> Result<T, KeyError>,
) -> Result<T, KeyError> {
    cell.get_or_init(|| make().map_err(|e| e.to_string()))
        .clone()
        .map_err(KeyError::Parse)
}

/// The fixture signing keys, first one active.
pub fn fixture_signing_keys() -> Result<Vec<SigningKey>, KeyError> {
    static KEYS: OnceLock<Result<Vec<SigningKey>, String>> = OnceLock::new();
    once(&KEYS, || {
        [
            (fixtures::SIGNING_1_KEY, fixtures::SIGNING_1_CERT),
            (fixtures::SIGNING_2_KEY, fixtures::SIGNING_2_CERT),
        ]
        .into_iter()
        .map(|(key, cert)| SigningKey::new(RsaKey::from_private_pem(key)?, Some(cert.to_owned())))
        .collect()
    })
}

/// The fixture key the provider never publishes (forgeries sign with it).
pub fn fixture_attacker_key() -> Result<SigningKey, KeyError> {
    static KEY: OnceLock<Result<SigningKey, String>> = OnceLock::new();
    once(&KEY, || {
        SigningKey::new(RsaKey::from_private_pem(fixtures::ATTACKER_KEY)?, None)
    })
}

/// The platform's fixture encryption key pair.
pub fn fixture_platform_key() -> Result<RsaKey, KeyError> {
    static KEY: OnceLock<Result<RsaKey, String>> = OnceLock::new();
    once(&KEY, || {
        RsaKey::from_private_pem(fixtures::PLATFORM_ENCRYPTION_KEY)
    })
}

/// The platform IDP's fixture signing key, for the consumer JWTs it answers with.
pub fn fixture_platform_signing_key() -> Result<SigningKey, KeyError> {
    static KEY: OnceLock<Result<SigningKey, String>> = OnceLock::new();
    once(&KEY, || {
        SigningKey::new(
            RsaKey::from_private_pem(fixtures::PLATFORM_SIGNING_KEY)?,
            None,
        )
    })
}

#[cfg(test)]
mod tests;
