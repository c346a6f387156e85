//! JOSE: signing ID tokens (RS256 JWS) and wrapping them in JWE envelopes.
//!
//! Architecture invariant: this is the only module that names `josekit`; everything above it
//! sees compact strings and the types here.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use josekit::jwe::{JweEncrypter, JweHeader};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::keys::{Kid, RsaKey, SigningKey};

pub mod b64url;
pub mod compact;
pub mod json_text;
pub mod malform;
pub mod template;

/// Why a JOSE operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JoseError {
    /// A key could not be turned into a signer, encrypter or decrypter.
    #[error("key: {0}")]
    Key(String),
    /// Signing or encrypting failed.
    #[error("{0}")]
    Operation(String),
    /// Claims could not be serialised.
    #[error("claims: {0}")]
    Claims(#[from] serde_json::Error),
}

fn op(err: josekit::JoseError) -> JoseError {
    JoseError::Operation(err.to_string())
}

/// An RS256 signer for one provider key, built once and reused for every token: the key ready
/// for OpenSSL and the header's base64url, which is the same for every token of the key.
pub struct Signer {
    kid: Kid,
    key: openssl::rsa::Rsa<openssl::pkey::Private>,
    /// `{"alg":"RS256","kid":…,"typ":"JWT"}`, base64url, then the `.` that follows it.
    header: String,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// An RS256 signer for `key`.
    pub fn rs256(key: &SigningKey) -> Result<Self, JoseError> {
        let pem = key
            .key()
            .private_pem()
            .ok_or_else(|| JoseError::Key("signing key has no private half".into()))?;
        let rsa = openssl_rsa_private(pem)?;
        // Google's header, members in Google's order (serde_json keeps insertion order).
        let header = serde_json::to_vec(&serde_json::json!({
            "alg": "RS256",
            "kid": key.kid().as_str(),
            "typ": "JWT",
        }))?;
        Ok(Self {
            kid: key.kid().clone(),
            key: rsa,
            header: b64url::encode(header) + ".",
        })
    }

    /// The kid this signer puts in its headers.
    pub fn kid(&self) -> &Kid {
        &self.kid
    }

    /// Signs `claims` as a compact JWS with Google's header `{"alg":"RS256","kid":…,"typ":"JWT"}`,
    /// members in that order.
    ///
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 §8.2.1) on the key directly: the PKCS#1 v1.5
    /// encoding of the digest through OpenSSL's blinded private-key operation, which is what
    /// `EVP_DigestSign` does beneath the algorithm look-ups and the context it builds for
    /// every call. The signature is deterministic: the same bytes either way.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, JoseError> {
        let payload = serde_json::to_vec(claims)?;
        let size = self.key.size() as usize;
        let mut jws = String::with_capacity(
            self.header.len() + 1 + (payload.len() * 4).div_ceil(3) + (size * 4).div_ceil(3),
        );
        jws.push_str(&self.header);
        URL_SAFE_NO_PAD.encode_string(&payload, &mut jws);
        let mut encoded = [0u8; SHA256_DIGEST_INFO.len() + 32];
        encoded[..SHA256_DIGEST_INFO.len()].copy_from_slice(&SHA256_DIGEST_INFO);
        encoded[SHA256_DIGEST_INFO.len()..].copy_from_slice(&Sha256::digest(jws.as_bytes()));
        let mut signature = vec![0; size];
        let len = self
            .key
            .private_encrypt(&encoded, &mut signature, openssl::rsa::Padding::PKCS1)
            .map_err(|err| JoseError::Operation(err.to_string()))?;
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(&signature[..len], &mut jws);
        Ok(jws)
    }

    /// The algorithm name (`RS256`).
    pub fn algorithm(&self) -> &str {
        "RS256"
    }
}

/// JWE key-management algorithms the provider can encrypt with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum KeyAlg {
    /// `RSA-OAEP-256`, the platform's documented value. The default.
    #[default]
    #[serde(rename = "RSA-OAEP-256")]
    RsaOaep256,
    /// `RSA-OAEP` (SHA-1).
    #[serde(rename = "RSA-OAEP")]
    RsaOaep,
}

impl KeyAlg {
    /// The JOSE name.
    pub fn name(self) -> &'static str {
        match self {
            Self::RsaOaep256 => "RSA-OAEP-256",
            Self::RsaOaep => "RSA-OAEP",
        }
    }
}

/// JWE content-encryption algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ContentEnc {
    /// `A256GCM`. The default.
    #[default]
    #[serde(rename = "A256GCM")]
    A256Gcm,
    /// `A128GCM`.
    #[serde(rename = "A128GCM")]
    A128Gcm,
    /// `A128CBC-HS256`.
    #[serde(rename = "A128CBC-HS256")]
    A128CbcHs256,
    /// `A256CBC-HS512`.
    #[serde(rename = "A256CBC-HS512")]
    A256CbcHs512,
}

impl ContentEnc {
    /// Every supported value, for menus and tests.
    pub const ALL: [ContentEnc; 4] = [
        Self::A256Gcm,
        Self::A128Gcm,
        Self::A128CbcHs256,
        Self::A256CbcHs512,
    ];

    /// The JOSE name.
    pub fn name(self) -> &'static str {
        match self {
            Self::A256Gcm => "A256GCM",
            Self::A128Gcm => "A128GCM",
            Self::A128CbcHs256 => "A128CBC-HS256",
            Self::A256CbcHs512 => "A256CBC-HS512",
        }
    }
}

/// Wraps signed tokens in a compact JWE addressed to one RSA public key.
pub struct Encrypter {
    kid: Kid,
    alg: KeyAlg,
    enc: ContentEnc,
    inner: Box<dyn JweEncrypter>,
}

impl fmt::Debug for Encrypter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encrypter")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("enc", &self.enc)
            .finish_non_exhaustive()
    }
}

impl Encrypter {
    /// An encrypter to `key`'s public half.
    pub fn new(key: &RsaKey, alg: KeyAlg, enc: ContentEnc) -> Result<Self, JoseError> {
        let pem = key.public_pem();
        let inner: Box<dyn JweEncrypter> = match alg {
            KeyAlg::RsaOaep256 => Box::new(
                josekit::jwe::RSA_OAEP_256
                    .encrypter_from_pem(&pem)
                    .map_err(|e| JoseError::Key(e.to_string()))?,
            ),
            KeyAlg::RsaOaep => Box::new(
                josekit::jwe::RSA_OAEP
                    .encrypter_from_pem(&pem)
                    .map_err(|e| JoseError::Key(e.to_string()))?,
            ),
        };
        Ok(Self {
            kid: key.kid().clone(),
            alg,
            enc,
            inner,
        })
    }

    /// Encrypts a signed compact JWT: header `{"alg":…,"enc":…,"cty":"JWT","kid":…}`.
    pub fn encrypt(&self, signed_jwt: &str) -> Result<String, JoseError> {
        let mut header = JweHeader::new();
        header.set_algorithm(self.alg.name());
        header.set_content_encryption(self.enc.name());
        header.set_content_type("JWT");
        header.set_key_id(self.kid.as_str());
        josekit::jwe::serialize_compact(signed_jwt.as_bytes(), &header, self.inner.as_ref())
            .map_err(op)
    }
}

/// Checks RS256 signatures for one public key, built once.
pub struct Rs256Verifier {
    key: openssl::rsa::Rsa<openssl::pkey::Public>,
    bits: usize,
}

impl fmt::Debug for Rs256Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Rs256Verifier")
    }
}

/// The DER `DigestInfo` prefix of a SHA-256 digest in an EMSA-PKCS1-v1_5 encoding (RFC 8017
/// §9.2, note 1): the 19 bytes before the 32 of the digest.
const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

impl Rs256Verifier {
    /// A verifier for `key`'s public half.
    /// Any size is taken: whether a small key is refused is the verifier's rule to apply
    /// (RFC 7518 §3.3 asks for 2048 bits; the platform's own tutorial uses 1024).
    pub fn new(key: &RsaKey) -> Result<Self, JoseError> {
        let key = openssl::rsa::Rsa::public_key_from_pem(key.public_pem().as_bytes())
            .map_err(|e| JoseError::Key(e.to_string()))?;
        let bits = key.n().num_bits() as usize;
        Ok(Self { key, bits })
    }

    /// The modulus size, in bits.
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// Whether `signature` is a valid RS256 signature of `message` (RSASSA-PKCS1-v1_5 with
    /// SHA-256, RFC 8017 §8.2.2): exactly as long as the modulus, and its RSA public operation
    /// exactly the PKCS#1 v1.5 encoding of the message's digest, byte for byte, as OpenSSL's
    /// own verification compares it. Done on the key directly: OpenSSL 3's `EVP_DigestVerify`
    /// looks up the algorithms and builds a context for every call, which costs a fifth of
    /// the RSA operation it wraps.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let size = self.key.size() as usize;
        if signature.len() != size {
            return false;
        }
        let mut encoded = vec![0; size];
        // PKCS#1 padding checks the 00 01 FF..FF 00 block and leaves what follows it.
        let Ok(len) =
            self.key
                .public_decrypt(signature, &mut encoded, openssl::rsa::Padding::PKCS1)
        else {
            return false;
        };
        let digest: [u8; 32] = Sha256::digest(message).into();
        encoded.get(..len).is_some_and(|found| {
            found.len() == SHA256_DIGEST_INFO.len() + digest.len()
                && found[..SHA256_DIGEST_INFO.len()] == SHA256_DIGEST_INFO
                && found[SHA256_DIGEST_INFO.len()..] == digest
        })
    }
}

/// An RSA private key for OpenSSL from the PKCS#8 PEM the keys hold. The PKCS#1 key inside is
/// read with `d2i_RSAPrivateKey`, plain ASN.1: OpenSSL 3's PEM reader would try each of its
/// providers' decoders in turn, several times the work (the most of a signer's making, which
/// `serve` does for each key at start-up). Anything but PKCS#8 RSA takes that reader.
fn openssl_rsa_private(pem: &str) -> Result<openssl::rsa::Rsa<openssl::pkey::Private>, JoseError> {
    use rsa::pkcs8::der::Decode as _;
    let pkcs1 = rsa::pkcs8::SecretDocument::from_pem(pem)
        .ok()
        .filter(|(label, _)| *label == "PRIVATE KEY")
        .and_then(|(_, doc)| {
            let info = rsa::pkcs8::PrivateKeyInfo::from_der(doc.as_bytes()).ok()?;
            (info.algorithm.oid == RSA_ENCRYPTION)
                .then(|| openssl::rsa::Rsa::private_key_from_der(info.private_key).ok())
                .flatten()
        });
    match pkcs1 {
        Some(rsa) => Ok(rsa),
        None => openssl::rsa::Rsa::private_key_from_pem(pem.as_bytes())
            .map_err(|err| JoseError::Key(err.to_string())),
    }
}

/// rsaEncryption (RFC 8017 appendix C), the algorithm of a PKCS#8 RSA key.
const RSA_ENCRYPTION: rsa::pkcs8::ObjectIdentifier =
    rsa::pkcs8::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// Opens compact JWEs addressed to one RSA private key (`RSA-OAEP-256` or `RSA-OAEP`).
///
/// Making one parses the key twice (OpenSSL's decoders, a good part of `serve`'s start-up);
/// a clone shares the parsed key, so verifiers of one key clone one decrypter.
#[derive(Clone)]
pub struct Decrypter {
    /// The key's DER SubjectPublicKeyInfo, to tell which key this opens (a key id can be
    /// renamed; the key cannot).
    public: Vec<u8>,
    oaep256: josekit::jwe::alg::rsaes::RsaesJweDecrypter,
    oaep: josekit::jwe::alg::rsaes::RsaesJweDecrypter,
}

impl fmt::Debug for Decrypter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Decrypter")
    }
}

impl Decrypter {
    /// A decrypter for `key`, which must hold its private half.
    pub fn new(key: &RsaKey) -> Result<Self, JoseError> {
        let pem = key
            .private_pem()
            .ok_or_else(|| JoseError::Key("decryption needs a private key".into()))?;
        let key_err = |e: josekit::JoseError| JoseError::Key(e.to_string());
        Ok(Self {
            public: key.public_der().to_vec(),
            oaep256: josekit::jwe::RSA_OAEP_256
                .decrypter_from_pem(pem)
                .map_err(key_err)?,
            oaep: josekit::jwe::RSA_OAEP
                .decrypter_from_pem(pem)
                .map_err(key_err)?,
        })
    }

    /// Whether this opens JWEs addressed to `key` (the same public key, whatever its kid).
    pub fn opens_for(&self, key: &RsaKey) -> bool {
        self.public == key.public_der()
    }

    /// Decrypts; returns the protected header and the plaintext. The caller checks the header
    /// against its allow-lists first ([`compact::jwe_header`]).
    pub fn decrypt(&self, jwe: &str) -> Result<(serde_json::Value, Vec<u8>), JoseError> {
        let (payload, header) = josekit::jwe::deserialize_compact_with_selector(jwe, |header| {
            Ok(match header.algorithm() {
                Some("RSA-OAEP-256") => Some(&self.oaep256 as &dyn josekit::jwe::JweDecrypter),
                Some("RSA-OAEP") => Some(&self.oaep as &dyn josekit::jwe::JweDecrypter),
                _ => None,
            })
        })
        .map_err(op)?;
        Ok((
            serde_json::Value::Object(header.claims_set().clone()),
            payload,
        ))
    }
}

/// Opens a compact JWE with an RSA private key (see [`Decrypter`]).
pub fn decrypt(jwe: &str, key: &RsaKey) -> Result<(serde_json::Value, Vec<u8>), JoseError> {
    Decrypter::new(key)?.decrypt(jwe)
}

/// Signs exactly `input` with an RSA key under `alg` (RS or PS, 256 to 512), whatever header it
/// holds: the way to make the tokens no honest library would. An `alg` an RSA key cannot make
/// gives an empty signature.
pub(crate) fn rsa_sign(key: &SigningKey, alg: &str, input: &[u8]) -> Result<Vec<u8>, JoseError> {
    use rsa::pkcs8::DecodePrivateKey as _;
    use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _, Signer as _};
    let pem = key
        .key()
        .private_pem()
        .ok_or_else(|| JoseError::Key("no private key".into()))?;
    let private =
        || rsa::RsaPrivateKey::from_pkcs8_pem(pem).map_err(|e| JoseError::Key(e.to_string()));
    let mut rng = rand::rngs::OsRng;
    Ok(match alg {
        "RS256" => rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(private()?)
            .sign(input)
            .to_vec(),
        "RS384" => rsa::pkcs1v15::SigningKey::<sha2::Sha384>::new(private()?)
            .sign(input)
            .to_vec(),
        "RS512" => rsa::pkcs1v15::SigningKey::<sha2::Sha512>::new(private()?)
            .sign(input)
            .to_vec(),
        "PS256" => rsa::pss::BlindedSigningKey::<sha2::Sha256>::new(private()?)
            .sign_with_rng(&mut rng, input)
            .to_vec(),
        "PS384" => rsa::pss::BlindedSigningKey::<sha2::Sha384>::new(private()?)
            .sign_with_rng(&mut rng, input)
            .to_vec(),
        "PS512" => rsa::pss::BlindedSigningKey::<sha2::Sha512>::new(private()?)
            .sign_with_rng(&mut rng, input)
            .to_vec(),
        _ => Vec::new(),
    })
}

/// The left-most half of SHA-256 of `value`, base64url without padding: `at_hash` and `c_hash`
/// for RS256 tokens (OIDC Core §3.1.3.6, §3.3.2.11). Always 22 characters.
pub fn left_half_sha256(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    b64url::encode(&digest[..16])
}

#[cfg(test)]
mod tests;
