//! A token kept as text: the protected header and payload exactly as a provider wrote them,
//! with a few values left as placeholders the issuing provider fills in, signed and
//! encrypted the way the original was. `oidc-harness fixture` writes these from real tokens;
//! the mock provider issues them instead of minting (`[provider.token]`, `faults.token`).
//!
//! Placeholders are whole JSON string values: `"${iss}"`, `"${client_id}"`, `"${kid}"`,
//! `"${nonce}"`, `"${at_hash}"`, `"${c_hash}"`. One without a value in this request (no nonce
//! sent, no access token issued) stays as written.

use josekit::jwe::{JweContentEncryption, JweEncrypter as _, JweHeader};
use serde::{Deserialize, Serialize};

use super::{b64url, JoseError};
use crate::keys::{RsaKey, SigningKey};

/// Which key signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sign {
    /// The provider's active, published key, with the header's `alg` (RS256, RS384, RS512,
    /// PS256, PS384, PS512). The default.
    #[default]
    Published,
    /// A key the provider never published, with the header's `alg`.
    Unpublished,
    /// No key: zero bytes of `signature_len` (for an `alg` there is no key for, or `none`).
    Zeros,
}

/// Whom an envelope is encrypted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Recipient {
    /// The platform's key. The default.
    #[default]
    Platform,
    /// A key that is not the platform's: the envelope cannot be opened.
    Other,
    /// Nobody: the envelope's `alg` or `enc` is one no key can use; its segments are zero
    /// bytes of the original lengths (`segment_lens`).
    Nobody,
}

/// A token as text. See the module documentation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenTemplate {
    /// The JWS protected header, as JSON text. Absent for an envelope around bare claims.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// The JWS payload (or an envelope's bare plaintext), as text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    /// Which key signs.
    pub sign: Sign,
    /// The signature's length in bytes when it was not the key's (cut short, padded, empty);
    /// with `zeros`, the number of zero bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature_len: Option<usize>,
    /// The envelope's protected header, as JSON text: the signed token is encrypted with its
    /// `alg` and `enc` and this exact header as the additional data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub envelope: Option<String>,
    /// Whom the envelope is encrypted to.
    pub encrypt_to: Recipient,
    /// The envelope's encrypted key, IV, ciphertext and tag lengths in bytes, where the
    /// original's differ from what its `alg` and `enc` make (a cut tag, a short IV); `0` keeps
    /// what encryption made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment_lens: Option<[usize; 4]>,
    /// The whole token, sent exactly as written: for text that is no compact JWS or JWE of
    /// JSON (a fourth segment, base64 padding, a JSON serialization). Nothing else applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compact: Option<String>,
}

/// The values a provider fills in when it issues a template.
#[derive(Debug, Clone, Default)]
pub struct Live<'a> {
    /// `${iss}`.
    pub iss: &'a str,
    /// `${client_id}`.
    pub client_id: &'a str,
    /// `${kid}`: the active key's.
    pub kid: &'a str,
    /// `${nonce}`, when the request sent one.
    pub nonce: Option<&'a str>,
    /// `${at_hash}`, when an access token is issued with the ID token.
    pub at_hash: Option<&'a str>,
    /// `${c_hash}`, when a code is issued with it.
    pub c_hash: Option<&'a str>,
}

/// The keys a template is signed and encrypted with.
#[derive(Debug, Clone, Copy)]
pub struct TemplateKeys<'a> {
    /// The provider's active, published key.
    pub published: &'a SigningKey,
    /// A key the provider does not publish.
    pub unpublished: &'a SigningKey,
    /// The platform's encryption key.
    pub platform: &'a RsaKey,
    /// A key that is not the platform's.
    pub other: &'a RsaKey,
}

impl TokenTemplate {
    /// What is wrong with this template as written, if anything.
    pub fn problem(&self) -> Option<&'static str> {
        match (&self.compact, &self.header, &self.payload) {
            (Some(_), None, None) if self.envelope.is_none() => None,
            (Some(_), _, _) => {
                Some("compact is the whole token: leave out header, payload and envelope")
            }
            (None, _, None) => Some("a token needs a payload (or compact)"),
            (None, None, Some(_)) if self.envelope.is_none() => {
                Some("bare claims need an envelope; a JWS needs a header")
            }
            _ => None,
        }
    }

    /// The token, with `live`'s values in its placeholders.
    pub fn render(&self, live: &Live<'_>, keys: &TemplateKeys<'_>) -> Result<String, JoseError> {
        if let Some(compact) = &self.compact {
            return Ok(compact.clone());
        }
        let payload = fill(self.payload.as_deref().unwrap_or_default(), live);
        let plaintext = match &self.header {
            None => payload,
            Some(header) => {
                let header = fill(header, live);
                let input = format!(
                    "{}.{}",
                    b64url::encode(header.as_bytes()),
                    b64url::encode(payload.as_bytes())
                );
                let alg = serde_json::from_str::<serde_json::Value>(&header)
                    .ok()
                    .and_then(|h| h.get("alg").and_then(|a| a.as_str()).map(str::to_owned))
                    .unwrap_or_default();
                let mut signature = match self.sign {
                    Sign::Published => super::rsa_sign(keys.published, &alg, input.as_bytes())?,
                    Sign::Unpublished => super::rsa_sign(keys.unpublished, &alg, input.as_bytes())?,
                    Sign::Zeros => Vec::new(),
                };
                if let Some(len) = self.signature_len {
                    signature.resize(len, 0);
                }
                format!("{input}.{}", b64url::encode(&signature))
            }
        };
        match &self.envelope {
            None => Ok(plaintext),
            Some(header) => self.seal(&fill(header, live), plaintext.as_bytes(), keys),
        }
    }

    fn seal(
        &self,
        header: &str,
        plaintext: &[u8],
        keys: &TemplateKeys<'_>,
    ) -> Result<String, JoseError> {
        let member = |name: &str| {
            serde_json::from_str::<serde_json::Value>(header)
                .ok()
                .and_then(|h| h.get(name).and_then(|v| v.as_str()).map(str::to_owned))
                .unwrap_or_default()
        };
        let protected = b64url::encode(header.as_bytes());
        let to = match self.encrypt_to {
            Recipient::Platform => Some(keys.platform),
            Recipient::Other => Some(keys.other),
            Recipient::Nobody => None,
        };
        let usable = to.and_then(|to| {
            let enc = content_encryption(&member("enc"))?;
            let alg = key_encryption(&member("alg"), to)?;
            Some((alg, enc))
        });
        let mut segments: [Vec<u8>; 4] = match usable {
            Some((alg, enc)) => {
                let cek = random(enc.key_len());
                let iv = random(enc.iv_len());
                let encrypted_key = alg
                    .encrypt(&cek, &JweHeader::new(), &mut JweHeader::new())
                    .map_err(|e| JoseError::Operation(e.to_string()))?
                    .unwrap_or_default();
                let (ciphertext, tag) = enc
                    .encrypt(&cek, Some(&iv), plaintext, protected.as_bytes())
                    .map_err(|e| JoseError::Operation(e.to_string()))?;
                [encrypted_key, iv, ciphertext, tag.unwrap_or_default()]
            }
            None => Default::default(),
        };
        if let Some(lens) = self.segment_lens {
            for (segment, len) in segments.iter_mut().zip(lens) {
                if len != 0 {
                    segment.resize(len, 0);
                }
            }
        }
        let [key, iv, ciphertext, tag] = segments.map(|s| b64url::encode(&s));
        Ok(format!("{protected}.{key}.{iv}.{ciphertext}.{tag}"))
    }
}

/// Replaces each placeholder that has a value.
fn fill(text: &str, live: &Live<'_>) -> String {
    let mut out = text.to_owned();
    for (name, value) in [
        ("iss", Some(live.iss)),
        ("client_id", Some(live.client_id)),
        ("kid", Some(live.kid)),
        ("nonce", live.nonce),
        ("at_hash", live.at_hash),
        ("c_hash", live.c_hash),
    ] {
        if let Some(value) = value {
            let placeholder = format!("\"${{{name}}}\"");
            if out.contains(&placeholder) {
                out = out.replace(&placeholder, &serde_json::Value::from(value).to_string());
            }
        }
    }
    out
}

fn random(len: usize) -> Vec<u8> {
    use rand::RngCore as _;
    let mut bytes = vec![0; len];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

/// Whether an RSA key can sign under `alg`.
pub fn rsa_alg(alg: &str) -> bool {
    matches!(
        alg,
        "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512"
    )
}

/// The content encryption named `enc`, if it is one josekit makes.
fn content_encryption(enc: &str) -> Option<&'static dyn JweContentEncryption> {
    use josekit::jwe::enc;
    Some(match enc {
        "A128GCM" => &enc::A128GCM,
        "A192GCM" => &enc::A192GCM,
        "A256GCM" => &enc::A256GCM,
        "A128CBC-HS256" => &enc::A128CBC_HS256,
        "A192CBC-HS384" => &enc::A192CBC_HS384,
        "A256CBC-HS512" => &enc::A256CBC_HS512,
        _ => return None,
    })
}

/// Whether an envelope with this `alg` and `enc` can be made with an RSA key.
pub fn sealable(alg: &str, enc: &str) -> bool {
    content_encryption(enc).is_some()
        && matches!(
            alg,
            "RSA1_5" | "RSA-OAEP" | "RSA-OAEP-256" | "RSA-OAEP-384" | "RSA-OAEP-512"
        )
}

/// The RSA key encryption named `alg`, to `to`.
fn key_encryption(alg: &str, to: &RsaKey) -> Option<josekit::jwe::alg::rsaes::RsaesJweEncrypter> {
    #[allow(deprecated)]
    let algorithm = match alg {
        "RSA1_5" => josekit::jwe::RSA1_5,
        "RSA-OAEP" => josekit::jwe::RSA_OAEP,
        "RSA-OAEP-256" => josekit::jwe::RSA_OAEP_256,
        "RSA-OAEP-384" => josekit::jwe::RSA_OAEP_384,
        "RSA-OAEP-512" => josekit::jwe::RSA_OAEP_512,
        _ => return None,
    };
    algorithm.encrypter_from_pem(to.public_pem()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> (Vec<SigningKey>, SigningKey, RsaKey) {
        (
            crate::keys::fixture_signing_keys().unwrap(),
            crate::keys::fixture_attacker_key().unwrap(),
            crate::keys::fixture_platform_key().unwrap(),
        )
    }

    fn live() -> Live<'static> {
        Live {
            iss: "https://idp",
            client_id: "c\"1",
            kid: "k1",
            nonce: Some("n"),
            at_hash: None,
            c_hash: None,
        }
    }

    #[test]
    fn placeholders_with_a_value_are_filled_as_json_strings() {
        let text = r#"{"iss":"${iss}","aud":["${client_id}","x"],"nonce":"${nonce}","at_hash":"${at_hash}"}"#;
        assert_eq!(
            fill(text, &live()),
            r#"{"iss":"https://idp","aud":["c\"1","x"],"nonce":"n","at_hash":"${at_hash}"}"#
        );
    }

    #[test]
    fn a_jws_is_the_exact_text_signed_with_the_named_key() {
        let (signing, attacker, platform) = keys();
        let header = "{ \"kid\":\"${kid}\", \"alg\":\"RS256\" }";
        let payload = "{\"sub\":\"a\\u00e9\",\"exp\":1.0e9}";
        let template = TokenTemplate {
            header: Some(header.into()),
            payload: Some(payload.into()),
            ..TokenTemplate::default()
        };
        let tk = TemplateKeys {
            published: &signing[0],
            unpublished: &attacker,
            platform: &platform,
            other: attacker.key(),
        };
        let token = template.render(&live(), &tk).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(
            b64url::decode(parts[0]).unwrap(),
            b"{ \"kid\":\"k1\", \"alg\":\"RS256\" }"
        );
        assert_eq!(b64url::decode(parts[1]).unwrap(), payload.as_bytes());
        let signature = b64url::decode(parts[2]).unwrap();
        let input = format!("{}.{}", parts[0], parts[1]);
        assert!(super::super::Rs256Verifier::new(signing[0].key())
            .unwrap()
            .verify(input.as_bytes(), &signature));
        let unpublished = TokenTemplate {
            sign: Sign::Unpublished,
            signature_len: Some(100),
            ..template
        }
        .render(&live(), &tk)
        .unwrap();
        let signature = b64url::decode(unpublished.split('.').nth(2).unwrap()).unwrap();
        assert_eq!(signature.len(), 100);
    }

    #[test]
    fn an_envelope_has_the_exact_header_and_opens_with_the_platform_key_only() {
        let (signing, attacker, platform) = keys();
        let tk = TemplateKeys {
            published: &signing[0],
            unpublished: &attacker,
            platform: &platform,
            other: attacker.key(),
        };
        for enc in ["A256GCM", "A128CBC-HS256"] {
            let envelope = format!("{{\"enc\":\"{enc}\",\"alg\":\"RSA-OAEP-256\",\"x\":1}}");
            let template = TokenTemplate {
                header: Some(r#"{"alg":"RS256"}"#.into()),
                payload: Some("{}".into()),
                envelope: Some(envelope.clone()),
                ..TokenTemplate::default()
            };
            let jwe = template.render(&live(), &tk).unwrap();
            let first = jwe.split('.').next().unwrap();
            assert_eq!(b64url::decode(first).unwrap(), envelope.as_bytes());
            let (_, inner) = super::super::decrypt(&jwe, &platform).unwrap();
            assert_eq!(inner.split(|b| *b == b'.').count(), 3);
            let sealed_elsewhere = TokenTemplate {
                encrypt_to: Recipient::Other,
                segment_lens: Some([0, 0, 0, 8]),
                ..template
            }
            .render(&live(), &tk)
            .unwrap();
            assert!(super::super::decrypt(&sealed_elsewhere, &platform).is_err());
            let tag = sealed_elsewhere.rsplit('.').next().unwrap();
            assert_eq!(b64url::decode(tag).unwrap().len(), 8);
        }
    }

    #[test]
    fn problems_name_what_is_missing() {
        let t = |compact: bool, header: bool, payload: bool, envelope: bool| TokenTemplate {
            compact: compact.then(|| "a.b.c".into()),
            header: header.then(|| "{}".into()),
            payload: payload.then(|| "{}".into()),
            envelope: envelope.then(|| "{}".into()),
            ..TokenTemplate::default()
        };
        assert_eq!(t(true, false, false, false).problem(), None);
        assert_eq!(t(false, true, true, false).problem(), None);
        assert_eq!(t(false, false, true, true).problem(), None);
        assert!(t(true, true, false, false).problem().is_some());
        assert!(t(false, true, false, false).problem().is_some());
        assert!(t(false, false, true, false).problem().is_some());
    }
}
