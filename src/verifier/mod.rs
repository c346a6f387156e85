//! The platform side: the relying party that redeems codes, opens envelopes, verifies ID tokens
//! and turns them into authenticated customer information, as `liveperson-auth.md` says the
//! platform does. Each rule cites the section it follows.
//!
//! [`Verifier::verify`] returns an [`AuthenticatedConsumer`] (which nothing else can make) or a
//! [`Rejection`] with a stable [`RejectReason`] code. It never panics on input.
//!
//! This module never imports `idp`: the verifier meets the provider only over HTTP and through
//! tokens.

mod basis;
mod code_flow;
mod config;
mod consumer;
mod context;
mod json;
mod keyset;
mod payload;
mod reason;
mod redirect;
mod rejection;
mod rule;
mod rules;
mod sdes;

pub use basis::Basis;
pub use code_flow::{pkce_pair, CodeRedemption, TokenRequest, TokenSet};
pub use config::{ClientAuth, Flow, KeySource, PhoneNumberMapping, VerifierConfig};
pub use consumer::{
    AuthenticatedConsumer, ConsumerProfile, Field, ProfileField, Provenance, StandardClaims,
};
pub use context::VerifyContext;
pub use reason::{PlatformError, RejectReason};
pub use redirect::{
    read_front_channel, read_implicit_redirect, read_redirect, redirect_params, FrontChannel,
    Handover,
};
pub use rejection::Rejection;
pub use rule::{Reading, Refuses, Rule};
pub use sdes::flatten_sdes;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use crate::jose::compact::{self, UnverifiedJws};
use crate::jose::Decrypter;
use crate::keys::RsaKey;
use crate::store::Store;

use keyset::{KeyEntry, KeySet};

/// No token past this many bytes is read, in either reading: a resource limit.
const HARD_TOKEN_BYTES: usize = 262_144;

/// The smallest RSA key the strict reading takes (RFC 7518 §3.3).
const MIN_STRICT_RSA_BITS: usize = 2048;
use payload::JwsHeader;

/// The strict reading's refusal for a verdict of the platform reading, or `None` where the
/// strict reading authenticates too.
pub fn strict_refusal(verdict: &Result<AuthenticatedConsumer, Rejection>) -> Option<&Rejection> {
    match verdict {
        Ok(consumer) => consumer.strict_findings().first(),
        Err(refusal) => Some(refusal.strict()),
    }
}

/// Why a verifier could not be built from its configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifierError {
    /// A key could not be used.
    #[error("key: {0}")]
    Key(String),
    /// The HTTP client could not be built (for example a bad extra root certificate).
    #[error("HTTP client: {0}")]
    Http(String),
    /// The configuration is incomplete for its flow.
    #[error("{0}")]
    Config(&'static str),
}

/// The platform-side verifier, built once from a [`VerifierConfig`].
#[derive(Debug)]
pub struct Verifier {
    config: VerifierConfig,
    http: reqwest::Client,
    keys: KeySet,
    decrypter: Option<Decrypter>,
    /// The signatures of accepted tokens, with `reject_replays`.
    accepted: Option<Store<()>>,
}

impl Verifier {
    /// Builds the HTTP client, the signature verifiers and the decrypter once.
    pub fn new(config: VerifierConfig) -> Result<Self, VerifierError> {
        let decrypter = Self::decrypter_for(config.decryption_key.as_ref())?;
        Self::with_decrypter(config, decrypter)
    }

    /// The decrypter of a configuration's `decryption_key`, to share among verifiers of it
    /// ([`Verifier::with_decrypter`]).
    pub fn decrypter_for(key: Option<&RsaKey>) -> Result<Option<Decrypter>, VerifierError> {
        key.map(Decrypter::new)
            .transpose()
            .map_err(|e| VerifierError::Key(e.to_string()))
    }

    /// As [`Verifier::new`], with the decrypter of `config.decryption_key` made already:
    /// verifiers of one key (the platform's connectors) share one parsed key. A decrypter
    /// for another key, or one where the configuration names none (or none where it names
    /// one), is a configuration error.
    pub fn with_decrypter(
        config: VerifierConfig,
        decrypter: Option<Decrypter>,
    ) -> Result<Self, VerifierError> {
        match (&config.decryption_key, &decrypter) {
            (None, None) => {}
            (Some(key), Some(d)) if d.opens_for(key) => {}
            _ => {
                return Err(VerifierError::Config(
                    "the decrypter is not the one of the configured decryption key",
                ))
            }
        }
        if config.flow == Flow::Code
            && (config.token_endpoint.is_none()
                || config.client_id.is_none()
                || config.client_secret.is_none())
        {
            return Err(VerifierError::Config(
                "the code flow needs a token endpoint, a client id and a client secret",
            ));
        }
        let mut builder = reqwest::Client::builder()
            .timeout(config.http_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .https_only(!config.insecure_allow_http);
        if let Some(pem) = &config.extra_root_pem {
            let cert = reqwest::Certificate::from_pem(pem.as_bytes())
                .map_err(|e| VerifierError::Http(e.to_string()))?;
            builder = builder.add_root_certificate(cert);
        }
        let http = builder
            .build()
            .map_err(|e| VerifierError::Http(e.to_string()))?;
        let keys = match &config.signing_key {
            KeySource::PublicKey(key) => KeySet::Single(std::sync::Arc::new(
                crate::jose::Rs256Verifier::new(key)
                    .map_err(|e| VerifierError::Key(e.to_string()))?,
            )),
            KeySource::JwksDocument(text) => {
                KeySet::Fixed(keyset::parse_jwks(text.as_bytes()).map_err(VerifierError::Key)?)
            }
            KeySource::JwksUrl(url) => {
                if url.scheme() != "https" && !config.insecure_allow_http {
                    return Err(VerifierError::Key(format!(
                        "the JWKS URL {url} is not HTTPS"
                    )));
                }
                KeySet::remote(
                    url.clone(),
                    http.clone(),
                    config.max_response_bytes,
                    config.jwks_refetch_interval_secs,
                )
            }
        };
        if let KeySource::PublicKey(key) = &config.signing_key {
            KeyEntry::new(None, key).map_err(VerifierError::Key)?;
        }
        let accepted = config
            .reject_replays
            .then(|| Store::new(config.replay_cache_entries));
        Ok(Self {
            config,
            http,
            keys,
            decrypter,
            accepted,
        })
    }

    /// Fetches the brand's JWKS now if it is not cached yet (configured keys need nothing).
    pub async fn prefetch_keys(&self, now: i64) -> Result<(), Rejection> {
        self.keys.prefetch(now).await
    }

    /// The configuration.
    pub fn config(&self) -> &VerifierConfig {
        &self.config
    }

    /// Redeems `code` at the configured token endpoint.
    pub async fn redeem(&self, redemption: &CodeRedemption) -> Result<TokenSet, Rejection> {
        code_flow::redeem(&self.http, &self.config, redemption).await
    }

    /// Verifies an ID token (compact JWS, or a JWE around one) handed over by a page, a popup
    /// redirect or an app (Implicit Flow, §2), or returned by the token endpoint.
    ///
    /// The result is the configured [`Reading`]'s. Both readings are worked out in this one
    /// pass: under the platform reading, the consumer's
    /// [`strict_findings`](AuthenticatedConsumer::strict_findings) are what the strict reading
    /// refuses; under the strict reading, the first of them is the refusal.
    pub async fn verify(
        &self,
        token: &str,
        ctx: &VerifyContext,
    ) -> Result<AuthenticatedConsumer, Rejection> {
        let mut findings = rules::Findings::default();
        let verdict = self.verify_both(token, ctx, &mut findings).await;
        self.decide(verdict, findings)
    }

    /// The configured reading's verdict, from the platform reading's and its findings.
    fn decide(
        &self,
        verdict: Result<AuthenticatedConsumer, Rejection>,
        findings: rules::Findings,
    ) -> Result<AuthenticatedConsumer, Rejection> {
        let strict = self.config.reading == Reading::Strict;
        let mut findings = findings.0;
        match verdict {
            Err(_) if strict && !findings.is_empty() => Err(findings.swap_remove(0)),
            Err(mut refusal) => {
                refusal.strict_first = findings.into_iter().next().map(Box::new);
                Err(refusal)
            }
            Ok(_) if strict && !findings.is_empty() => Err(findings.swap_remove(0)),
            Ok(mut consumer) => {
                consumer.findings.append(&mut findings);
                Ok(consumer)
            }
        }
    }

    async fn verify_both(
        &self,
        token: &str,
        ctx: &VerifyContext,
        findings: &mut rules::Findings,
    ) -> Result<AuthenticatedConsumer, Rejection> {
        let config = &self.config;
        // Nothing past a hard size is read; past the configured size, only the strict
        // reading refuses (the platform publishes no limit, §7.2).
        if token.len() > HARD_TOKEN_BYTES {
            return Err(Rejection::on(
                Rule::HardSize,
                format!(
                    "{} bytes, more than the {HARD_TOKEN_BYTES} this verifier reads",
                    token.len()
                ),
            ));
        }
        if token.len() > config.max_token_bytes {
            findings.refuse(Rejection::on(
                Rule::TokenSize,
                format!(
                    "{} bytes, more than the {} allowed",
                    token.len(),
                    config.max_token_bytes
                ),
            ))?;
        }
        let segments = compact::segments(token);
        let inner;
        let (jws_text, encrypted) = match segments {
            5 => {
                inner = self.open_envelope(token, findings)?;
                (inner.as_str(), true)
            }
            3 if config.require_encryption => {
                return Err(Rejection::new(
                    RejectReason::EncryptionRequired,
                    "a plain JWS where an envelope is required",
                ))
            }
            3 => (token, false),
            n => {
                return Err(Rejection::new(
                    RejectReason::Malformed,
                    format!("{n} segments: neither a JWS (3) nor a JWE (5)"),
                ))
            }
        };
        let jws = UnverifiedJws::parse(jws_text)
            .map_err(|e| Rejection::new(RejectReason::Malformed, e.0))?;
        let header = JwsHeader::read(jws.unverified_header())
            .map_err(|e| Rejection::new(RejectReason::Malformed, e))?;
        rules::check_jws_header(&header, config, findings)?;
        // Signature (§2 "Signing", §4.1): the key comes from configuration, never from the token.
        let kid = header.kid().map(str::to_owned);
        let verifier = self.keys.resolve(kid.as_deref(), ctx.now).await?;
        if verifier.bits() < MIN_STRICT_RSA_BITS {
            findings.refuse(Rejection::on(
                Rule::KeySize,
                format!(
                    "the brand's key has {} bits, under {MIN_STRICT_RSA_BITS}",
                    verifier.bits()
                ),
            ))?;
        }
        if !verifier.verify(jws.signing_input(), jws.signature()) {
            return Err(Rejection::new(
                RejectReason::SignatureInvalid,
                "the RS256 signature does not verify with the brand's key",
            ));
        }
        // The signature names the signed content, whatever its text: non-canonical base64 was
        // refused above, and RSA admits one signature per content and key.
        let fingerprint = self
            .accepted
            .as_ref()
            .map(|_| URL_SAFE_NO_PAD.encode(Sha256::digest(jws.signature())));
        let consumer = rules::consumer(
            jws.into_unverified_payload(),
            ctx,
            config,
            kid,
            encrypted,
            findings,
        )?;
        if let (Some(accepted), Some(fingerprint)) = (&self.accepted, fingerprint) {
            let forget_at = consumer.expires_at().saturating_add(config.leeway_secs);
            if !accepted.insert_new(fingerprint, (), forget_at, ctx.now) {
                return Err(Rejection::new(
                    RejectReason::TokenReplayed,
                    "this ID token was accepted before; each is accepted once until it expires",
                ));
            }
        }
        Ok(consumer)
    }

    /// Opens a JWE envelope and returns the signed JWT inside (§2 "Encryption").
    fn open_envelope(
        &self,
        token: &str,
        findings: &mut rules::Findings,
    ) -> Result<String, Rejection> {
        let header =
            compact::jwe_header(token).map_err(|e| Rejection::new(RejectReason::Malformed, e.0))?;
        rules::check_jwe_header(&header, &self.config, findings)?;
        let enc = header
            .get("enc")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("");
        rules::check_jwe_sizes(token, enc)?;
        let Some(decrypter) = &self.decrypter else {
            return Err(Rejection::new(
                RejectReason::DecryptFailed,
                "an envelope arrived and no platform key is configured",
            ));
        };
        let (_, plaintext) = decrypter
            .decrypt(token)
            .map_err(|e| Rejection::new(RejectReason::DecryptFailed, e.to_string()))?;
        let inner = String::from_utf8(plaintext).map_err(|_| {
            Rejection::new(
                RejectReason::EnvelopeInvalid,
                "the envelope's content is not text",
            )
        })?;
        // "JWS in JWE" (§2): the content must itself be a signed JWT, never claims in the clear
        // or another envelope.
        if compact::segments(&inner) != 3 {
            return Err(Rejection::new(
                RejectReason::EnvelopeInvalid,
                "the envelope does not contain a signed JWT",
            ));
        }
        Ok(inner)
    }

    /// A front channel that carried several artifacts (`code id_token`, `code token`,
    /// `code id_token token`, `id_token token`): the front-channel ID token is verified
    /// first, its `c_hash` and `at_hash` required for the code and access token beside it;
    /// then the code, if any, is redeemed and the token endpoint's ID token verified, and the
    /// two must name the same issuer and subject (OIDC Core §3.3.2.12, §3.3.3.6). The verdict
    /// is the token endpoint's consumer when there is a code, the front channel's otherwise.
    pub async fn authenticate_front_channel(
        &self,
        front: &FrontChannel,
        code_verifier: Option<String>,
        ctx: &VerifyContext,
    ) -> Result<AuthenticatedConsumer, Rejection> {
        let front_consumer = match &front.id_token {
            Some(id_token) => {
                let front_ctx = VerifyContext {
                    code: front.code.clone(),
                    access_token: front.access_token.clone(),
                    front_channel: true,
                    ..ctx.clone()
                };
                Some(self.verify(id_token, &front_ctx).await?)
            }
            None => None,
        };
        let Some(code) = &front.code else {
            return front_consumer.ok_or_else(|| {
                Rejection::new(
                    RejectReason::HandoverMissing,
                    "the redirect carries neither a code nor an id_token",
                )
            });
        };
        let back = self
            .authenticate_code(
                &CodeRedemption {
                    code: code.clone(),
                    redirect_uri: None,
                    code_verifier,
                },
                ctx,
            )
            .await?;
        let Some(front) = front_consumer else {
            return Ok(back);
        };
        let mut findings = rules::Findings(front.findings.clone());
        if front.iss() != back.iss() || front.sub() != back.sub() {
            findings.refuse(Rejection::new(
                RejectReason::SubjectMismatch,
                format!(
                    "the authorization endpoint's ID token names {} at {}, the token endpoint's {} at {}",
                    front.sub(),
                    front.iss(),
                    back.sub(),
                    back.iss()
                ),
            ))?;
        }
        let mut back = back;
        findings.0.append(&mut back.findings);
        self.decide(Ok(back), findings)
    }

    /// The Code Flow (§1): redeems the code, then verifies the ID token, checking `at_hash`
    /// against the access token that came with it.
    pub async fn authenticate_code(
        &self,
        redemption: &CodeRedemption,
        ctx: &VerifyContext,
    ) -> Result<AuthenticatedConsumer, Rejection> {
        let tokens = self.redeem(redemption).await?;
        let ctx = VerifyContext {
            access_token: tokens
                .access_token
                .clone()
                .or_else(|| ctx.access_token.clone()),
            code: None,
            front_channel: false,
            ..ctx.clone()
        };
        self.verify(&tokens.id_token, &ctx).await
    }
}

#[cfg(test)]
mod tests;
