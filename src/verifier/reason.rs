//! Why a token or a code was refused: one stable code per reason. Scenarios and scripts
//! compare codes, never message text.

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
    /// The signing key is smaller than 2048 bits (RFC 7518 §3.3).
    #[error("key_too_small")]
    KeyTooSmall,
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
    pub const ALL: [RejectReason; 35] = [
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
        Self::KeyTooSmall,
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
            Self::KeyTooSmall => "key_too_small",
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

    /// The platform IDP's `internalErrorCode` a refusal for this reason corresponds to
    /// (`liveperson-auth.md` §8.4), or `None` where none is published. The IDP answers it as
    /// `500 {"internalErrorCode": "<code>"}`. Where the platform is not known to refuse at all
    /// (a rule only the strict reading holds), there is none either.
    pub fn platform_error(self) -> Option<PlatformError> {
        let (code, name) = match self {
            Self::Malformed => ("1008", "JWT_NOT_VALID"),
            Self::AlgNotAllowed => ("1003", "NO_SUCH_ALGORITHM"),
            Self::EnvelopeInvalid | Self::DecryptFailed => ("1004", "JOSE_EXCEPTION"),
            Self::UnknownKid => ("1041", "JWK_ID_NOT_FOUND"),
            Self::KidAmbiguous => ("1042", "MULTIPLE_JWK_WITHOUT_KID_HEADER"),
            Self::KeyUnavailable => ("1038", "JWK_PARSE_FAILED"),
            Self::SignatureInvalid | Self::IssuerMismatch | Self::ClaimMissing => {
                ("9007", "CUSTOMER_JWT_NOT_VALID")
            }
            Self::ClaimInvalid => ("1009", "JWT_PARSING_ERROR"),
            Self::Expired => ("1012", "JWT_EXPIRED"),
            Self::LpSdesInvalid => ("1026", "SDE_PARSE_EXCEPTION"),
            Self::HandoverMissing => ("9012", "INPUT_VALIDATION_ERROR"),
            Self::TokenEndpointUnreachable => ("9013", "AUTHENTICATION_TIMEOUT"),
            Self::TokenEndpointError | Self::TokenResponseInvalid => {
                ("9011", "CUSTOMER_AUTH_FAILED")
            }
            Self::TokenTooLarge
            | Self::CritUnsupported
            | Self::TypNotAllowed
            | Self::EncryptionRequired
            | Self::KeyTooSmall
            | Self::AudienceMismatch
            | Self::AzpMismatch
            | Self::IssuedInFuture
            | Self::NotYetValid
            | Self::LifetimeInvalid
            | Self::NonceMismatch
            | Self::AtHashMismatch
            | Self::CHashMismatch
            | Self::SubjectMismatch
            | Self::TokenReplayed
            | Self::StateMismatch
            | Self::AuthorizationError
            | Self::InsecureTransport => return None,
        };
        Some(PlatformError { code, name })
    }

    /// The platform error code as reports show it: the code, or `unpublished`.
    pub fn platform_error_code(self) -> &'static str {
        self.platform_error().map_or("unpublished", |e| e.code)
    }

    /// What the reason means, in a line (the reason table in docs/verifier.md is made from these).
    pub fn meaning(self) -> &'static str {
        match self {
            Self::Malformed => "not a compact JWS or JWE",
            Self::TokenTooLarge => "over `max_token_bytes`",
            Self::AlgNotAllowed => "a JWS or JWE algorithm not on the allow-list",
            Self::CritUnsupported => "a `crit` header",
            Self::TypNotAllowed => "a JWS `typ` other than `JWT` (`at+jwt`, `logout+jwt`), or a `cty`",
            Self::EnvelopeInvalid => "a compressed envelope, or one that does not wrap a signed JWT",
            Self::DecryptFailed => "the envelope could not be opened",
            Self::EncryptionRequired => "a bare JWS where envelopes are required",
            Self::UnknownKid => "no published key has the token's kid",
            Self::KidAmbiguous => "no kid, several candidate keys",
            Self::KeyUnavailable => "the JWKS could not be fetched or held no usable key",
            Self::KeyTooSmall => "the signing key has fewer than 2048 bits",
            Self::SignatureInvalid => "the signature does not verify",
            Self::IssuerMismatch => "`iss` is not the configured issuer",
            Self::AudienceMismatch => "`aud` lacks the configured client id, or names an audience the client does not trust",
            Self::AzpMismatch => "`azp` present and not the client id, or several audiences and no `azp`",
            Self::Expired => "`exp` has passed",
            Self::IssuedInFuture => "`iat` is in the future",
            Self::NotYetValid => "`nbf` is in the future",
            Self::LifetimeInvalid => "`exp` before `iat`, or `exp - iat` over `max_lifetime_secs`",
            Self::ClaimMissing => "`iss`, `sub`, `exp` or `iat` absent (or `sub` empty)",
            Self::ClaimInvalid => "a claim of the wrong type, milliseconds, or a `sub` over 255 ASCII characters",
            Self::NonceMismatch => "`nonce` differs from the one sent, or is missing",
            Self::AtHashMismatch => "`at_hash` does not match the access token, or is missing beside one in the front channel",
            Self::CHashMismatch => "`c_hash` does not match the code, or is missing beside one in the front channel",
            Self::SubjectMismatch => "the two ID tokens of a hybrid flow name different issuers or subjects",
            Self::LpSdesInvalid => "`lp_sdes` breaks the schema",
            Self::TokenReplayed => "the same ID token a second time, with `reject_replays`",
            Self::StateMismatch => "the redirect's `state` is missing or not the one sent",
            Self::AuthorizationError => "the redirect carries an `error` instead of a code or a token",
            Self::HandoverMissing => "the redirect carries neither a code nor an ID token",
            Self::InsecureTransport => "an `http://` endpoint without `insecure_allow_http`",
            Self::TokenEndpointUnreachable => "connection, TLS or timeout at the token endpoint",
            Self::TokenEndpointError => "the token endpoint answered with an HTTP error",
            Self::TokenResponseInvalid => "a 200 without a usable JSON body or `id_token`",
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

/// One of the platform IDP's internal error codes (`liveperson-auth.md` §8.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PlatformError {
    /// The code, as the IDP sends it: a string of digits (`"9007"`).
    pub code: &'static str,
    /// Its name in the circulating list (`CUSTOMER_JWT_NOT_VALID`).
    pub name: &'static str,
}
