//! Why a token or a code was refused: one stable code per reason. Scenarios and scripts
//! compare codes, never message text.

use std::fmt;

use serde::Serialize;

/// The reasons a verifier refuses, each with a stable code ([`RejectReason::code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, thiserror::Error)]
#[serde(into = "&'static str")]
#[non_exhaustive]
pub enum RejectReason {
    /// Not a compact JWS or JWE: wrong segment count, bad base64url, a header or payload that
    /// is not a JSON object, duplicate header members.
    #[error("malformed")]
    Malformed,
    /// Larger than `max_token_bytes`.
    #[error("token_too_large")]
    TokenTooLarge,
    /// A JWS or JWE algorithm not on the allow-list (`none`, `HS256`, `dir`, `RSA1_5`, ...).
    #[error("alg_not_allowed")]
    AlgNotAllowed,
    /// A `crit` header naming extensions the verifier does not understand (RFC 7515 §4.1.11).
    #[error("crit_unsupported")]
    CritUnsupported,
    /// A JWS header that says this is not an ID token: `typ` other than `JWT` (`at+jwt`,
    /// `logout+jwt`), or a `cty` announcing nested content (RFC 8725 §3.11, §3.12).
    #[error("typ_not_allowed")]
    TypNotAllowed,
    /// An envelope the platform does not take: compressed (`zip`), or not wrapping a signed JWT.
    #[error("envelope_invalid")]
    EnvelopeInvalid,
    /// The envelope could not be opened: wrong key, tampered ciphertext or tag, no key set.
    #[error("decrypt_failed")]
    DecryptFailed,
    /// A plain JWS where the configuration requires an envelope.
    #[error("encryption_required")]
    EncryptionRequired,
    /// No published key has the token's `kid`, even after a refetch.
    #[error("unknown_kid")]
    UnknownKid,
    /// No `kid`, and the key set has more than one candidate key.
    #[error("kid_ambiguous")]
    KidAmbiguous,
    /// The JWKS could not be fetched or held no usable key.
    #[error("key_unavailable")]
    KeyUnavailable,
    /// The signature does not verify with the chosen key.
    #[error("signature_invalid")]
    SignatureInvalid,
    /// `iss` is not the configured issuer.
    #[error("issuer_mismatch")]
    IssuerMismatch,
    /// `aud` does not contain the configured client id.
    #[error("audience_mismatch")]
    AudienceMismatch,
    /// `aud` has several values and `azp` is missing or not the client id.
    #[error("azp_mismatch")]
    AzpMismatch,
    /// `exp` has passed (beyond the leeway).
    #[error("expired")]
    Expired,
    /// `iat` is in the future (beyond the leeway).
    #[error("issued_in_future")]
    IssuedInFuture,
    /// `nbf` is in the future (beyond the leeway).
    #[error("not_yet_valid")]
    NotYetValid,
    /// `exp - iat` is longer than `max_lifetime_secs`, or `exp` comes before `iat`.
    #[error("lifetime_invalid")]
    LifetimeInvalid,
    /// A required claim (`iss`, `sub`, `exp`, `iat`) is absent or empty.
    #[error("claim_missing")]
    ClaimMissing,
    /// A claim has the wrong type or an impossible value (a string `exp`, milliseconds).
    #[error("claim_invalid")]
    ClaimInvalid,
    /// `nonce` differs from the one sent, or is missing.
    #[error("nonce_mismatch")]
    NonceMismatch,
    /// `at_hash` does not match the access token, or is missing from an ID token the
    /// authorization endpoint issued with an access token.
    #[error("at_hash_mismatch")]
    AtHashMismatch,
    /// `c_hash` does not match the code, or is missing from an ID token the authorization
    /// endpoint issued with a code.
    #[error("c_hash_mismatch")]
    CHashMismatch,
    /// The two ID tokens of a hybrid flow name different issuers or subjects (OIDC Core
    /// §3.3.3.6).
    #[error("subject_mismatch")]
    SubjectMismatch,
    /// `lp_sdes` is not an array of SDEs, or a supported SDE has a field of the wrong type.
    #[error("lp_sdes_invalid")]
    LpSdesInvalid,
    /// The same ID token was accepted before, with `reject_replays` on (catalog N04).
    #[error("token_replayed")]
    TokenReplayed,
    /// The authorization redirect's `state` is missing or not the one sent (RFC 6749 §10.12).
    #[error("state_mismatch")]
    StateMismatch,
    /// The authorization redirect carries an `error` instead of a code or a token.
    #[error("authorization_error")]
    AuthorizationError,
    /// The authorization redirect carries neither a code nor an ID token.
    #[error("handover_missing")]
    HandoverMissing,
    /// An `http://` endpoint without `insecure_allow_http`.
    #[error("insecure_transport")]
    InsecureTransport,
    /// The token endpoint could not be reached: connection, TLS or timeout.
    #[error("token_endpoint_unreachable")]
    TokenEndpointUnreachable,
    /// The token endpoint answered with an HTTP error.
    #[error("token_endpoint_error")]
    TokenEndpointError,
    /// The token endpoint answered 200 without a usable body: not JSON, too large, no `id_token`.
    #[error("token_response_invalid")]
    TokenResponseInvalid,
}

impl RejectReason {
    /// Every reason, in documentation order.
    pub const ALL: [RejectReason; 34] = [
        Self::Malformed,
        Self::TokenTooLarge,
        Self::AlgNotAllowed,
        Self::CritUnsupported,
        Self::TypNotAllowed,
        Self::EnvelopeInvalid,
        Self::DecryptFailed,
        Self::EncryptionRequired,
        Self::UnknownKid,
        Self::KidAmbiguous,
        Self::KeyUnavailable,
        Self::SignatureInvalid,
        Self::IssuerMismatch,
        Self::AudienceMismatch,
        Self::AzpMismatch,
        Self::Expired,
        Self::IssuedInFuture,
        Self::NotYetValid,
        Self::LifetimeInvalid,
        Self::ClaimMissing,
        Self::ClaimInvalid,
        Self::NonceMismatch,
        Self::AtHashMismatch,
        Self::CHashMismatch,
        Self::SubjectMismatch,
        Self::LpSdesInvalid,
        Self::TokenReplayed,
        Self::StateMismatch,
        Self::AuthorizationError,
        Self::HandoverMissing,
        Self::InsecureTransport,
        Self::TokenEndpointUnreachable,
        Self::TokenEndpointError,
        Self::TokenResponseInvalid,
    ];

    /// The stable code: the one mapping from reason to text.
    pub fn code(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::TokenTooLarge => "token_too_large",
            Self::AlgNotAllowed => "alg_not_allowed",
            Self::CritUnsupported => "crit_unsupported",
            Self::TypNotAllowed => "typ_not_allowed",
            Self::EnvelopeInvalid => "envelope_invalid",
            Self::DecryptFailed => "decrypt_failed",
            Self::EncryptionRequired => "encryption_required",
            Self::UnknownKid => "unknown_kid",
            Self::KidAmbiguous => "kid_ambiguous",
            Self::KeyUnavailable => "key_unavailable",
            Self::SignatureInvalid => "signature_invalid",
            Self::IssuerMismatch => "issuer_mismatch",
            Self::AudienceMismatch => "audience_mismatch",
            Self::AzpMismatch => "azp_mismatch",
            Self::Expired => "expired",
            Self::IssuedInFuture => "issued_in_future",
            Self::NotYetValid => "not_yet_valid",
            Self::LifetimeInvalid => "lifetime_invalid",
            Self::ClaimMissing => "claim_missing",
            Self::ClaimInvalid => "claim_invalid",
            Self::NonceMismatch => "nonce_mismatch",
            Self::AtHashMismatch => "at_hash_mismatch",
            Self::CHashMismatch => "c_hash_mismatch",
            Self::SubjectMismatch => "subject_mismatch",
            Self::LpSdesInvalid => "lp_sdes_invalid",
            Self::TokenReplayed => "token_replayed",
            Self::StateMismatch => "state_mismatch",
            Self::AuthorizationError => "authorization_error",
            Self::HandoverMissing => "handover_missing",
            Self::InsecureTransport => "insecure_transport",
            Self::TokenEndpointUnreachable => "token_endpoint_unreachable",
            Self::TokenEndpointError => "token_endpoint_error",
            Self::TokenResponseInvalid => "token_response_invalid",
        }
    }

    /// The reason for a code, if it is one.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }
}

impl From<RejectReason> for &'static str {
    fn from(reason: RejectReason) -> Self {
        reason.code()
    }
}

/// A refusal: the reason and a sentence saying what exactly was wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// The stable reason.
    pub reason: RejectReason,
    /// What was wrong, for people.
    pub detail: String,
}

impl Rejection {
    /// A rejection for `reason`.
    pub fn new(reason: RejectReason, detail: impl Into<String>) -> Self {
        Self {
            reason,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason.code(), self.detail)
    }
}

impl std::error::Error for Rejection {}
