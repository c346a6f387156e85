//! Every rule the verifier applies, with what it rests on and which reading refuses on it.
//!
//! The verifier reads a token two ways in one pass. The **platform** reading predicts what the
//! platform does: it refuses only on rules whose basis is the platform's own (`documented` or
//! `observed`), and on the few without which the token cannot be read at all. The **strict**
//! reading refuses on every rule: OpenID Connect, JOSE best practice and this harness's safe
//! defaults. A rule only the strict reading refuses on becomes, in the platform reading, a
//! finding on the authenticated consumer, which names the risk.
//!
//! Citations name the project's reference pages (`docs/reference/`).

use std::fmt;

use serde::Serialize;

use super::basis::Basis;
use super::reason::RejectReason;

/// Which reading refuses a token that breaks a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Refuses {
    /// Both readings: the platform is known to refuse, or the token cannot be read otherwise.
    Both,
    /// Only the strict reading; the platform reading keeps the consumer and names the finding.
    StrictOnly,
}

/// Which reading decides a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reading {
    /// What the platform is expected to do. The default.
    #[default]
    Platform,
    /// Every rule refuses (`--strict`).
    Strict,
}

impl Reading {
    /// The name reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Platform => "platform",
            Self::Strict => "strict",
        }
    }
}

/// One rule of the verifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "&'static str")]
#[non_exhaustive]
pub enum Rule {
    /// No token is read past a hard size: a resource limit, not a prediction.
    HardSize,
    /// The token is at most `max_token_bytes`.
    TokenSize,
    /// A compact JWS or JWE of JSON objects in canonical base64url.
    Compact,
    /// The JWS `alg` is on the allow-list (RS256), never `none`.
    JwsAlg,
    /// No `zip` or `b64` in a JWS header.
    JwsMembers,
    /// No `crit` extension this verifier does not understand.
    Crit,
    /// `typ` absent or `JWT`.
    Typ,
    /// No `cty` announcing nested content.
    Cty,
    /// `kid` is a string.
    KidType,
    /// The JWE `alg` is one the platform names (`RSA-OAEP-256`) or `RSA-OAEP`.
    JweAlg,
    /// The JWE `alg` is `RSA-OAEP-256`, the one the platform names.
    JweAlgDocumented,
    /// The JWE `enc` is one this verifier can open.
    JweEnc,
    /// The JWE `enc` is not `A128CBC-HS256`, which drew the IDP's 9012.
    JweEncSeenRefused,
    /// No compressed envelope.
    JweZip,
    /// The JWE `cty`, when present, is `JWT`.
    JweCty,
    /// The IV and tag have the sizes RFC 7518 fixes for the `enc`.
    JweSizes,
    /// The envelope opens with the platform's key.
    Decrypt,
    /// The envelope holds a signed JWT.
    JweContent,
    /// A plain JWS where the configuration requires an envelope.
    EncryptionRequired,
    /// The token's `kid` names a published key.
    KidKnown,
    /// Without a `kid`, the key set holds one candidate key.
    KidAmbiguous,
    /// The key set could be fetched and holds a usable key.
    KeysUsable,
    /// The signing key has at least 2048 bits.
    KeySize,
    /// The signature verifies with the brand's key.
    Signature,
    /// `iss` is the configured issuer, exactly.
    Issuer,
    /// `iss`, `sub`, `exp` and `iat` are present.
    RequiredClaims,
    /// `exp`, `iat` and `nbf` are numbers of seconds.
    NumericDate,
    /// `sub` is at most 255 ASCII characters.
    SubFormat,
    /// `exp` has not passed.
    Expiry,
    /// `iat` is not in the future.
    IssuedAt,
    /// `exp - iat` is between 0 and `max_lifetime_secs`.
    Lifetime,
    /// `nbf` is not in the future.
    NotBefore,
    /// `aud` holds the client id and only trusted audiences.
    Audience,
    /// `azp` is the client id when present or when `aud` has several values.
    AuthorizedParty,
    /// `nonce` is the one sent.
    Nonce,
    /// `at_hash` matches the access token.
    AtHash,
    /// `c_hash` matches the code.
    CHash,
    /// The standard claims the agent sees are strings.
    ClaimTypes,
    /// `lp_sdes` follows the platform's schema.
    LpSdes,
    /// `lp_sdes` follows the schema, where the connector says so (`lp_sdes_strict`).
    LpSdesConfigured,
    /// Each ID token is accepted once (`reject_replays`).
    Replay,
    /// The two ID tokens of a hybrid flow name one issuer and subject.
    HybridSubject,
    /// `state` comes back as sent.
    State,
    /// The redirect carries no `error`.
    AuthorizationError,
    /// The redirect carries a code or an ID token.
    Handover,
    /// Every endpoint is HTTPS.
    Https,
    /// The token endpoint answers.
    TokenEndpointReachable,
    /// The token endpoint redeems the code.
    TokenEndpointAnswer,
    /// The token endpoint's answer is JSON with an `id_token`.
    TokenResponse,
}

impl Rule {
    /// Every rule, in the order the verifier applies them.
    pub const ALL: [Rule; 49] = [
        Self::HardSize,
        Self::TokenSize,
        Self::Compact,
        Self::JwsAlg,
        Self::JwsMembers,
        Self::Crit,
        Self::Typ,
        Self::Cty,
        Self::KidType,
        Self::JweAlg,
        Self::JweAlgDocumented,
        Self::JweEnc,
        Self::JweEncSeenRefused,
        Self::JweZip,
        Self::JweCty,
        Self::JweSizes,
        Self::Decrypt,
        Self::JweContent,
        Self::EncryptionRequired,
        Self::KidKnown,
        Self::KidAmbiguous,
        Self::KeysUsable,
        Self::KeySize,
        Self::Signature,
        Self::Issuer,
        Self::RequiredClaims,
        Self::NumericDate,
        Self::SubFormat,
        Self::Expiry,
        Self::IssuedAt,
        Self::Lifetime,
        Self::NotBefore,
        Self::Audience,
        Self::AuthorizedParty,
        Self::Nonce,
        Self::AtHash,
        Self::CHash,
        Self::ClaimTypes,
        Self::LpSdes,
        Self::LpSdesConfigured,
        Self::Replay,
        Self::HybridSubject,
        Self::State,
        Self::AuthorizationError,
        Self::Handover,
        Self::Https,
        Self::TokenEndpointReachable,
        Self::TokenEndpointAnswer,
        Self::TokenResponse,
    ];

    /// Everything known about the rule, in one table.
    fn spec(self) -> Spec {
        use Basis::{Assumed, Documented, Observed, Standard};
        use Refuses::{Both, StrictOnly};
        use RejectReason as R;
        let s = |id, reason, basis, refuses, cite, risk| Spec {
            id,
            reason,
            basis,
            refuses,
            cite,
            risk,
        };
        match self {
            Self::HardSize => s("token-size-hard", R::TokenTooLarge, Assumed, Both,
                "a resource limit of this harness: nothing past 256 KiB is read", ""),
            Self::TokenSize => s("token-size", R::TokenTooLarge, Assumed, StrictOnly,
                "liveperson-auth.md §7.2: no size limit is published; 32 KiB is this harness's",
                "a token this large may pass a size limit the platform keeps to itself"),
            Self::Compact => s("compact-serialization", R::Malformed, Observed, Both,
                "liveperson-auth.md §8.4: the IDP answers 1001 PARSE_ERROR and 1008 JWT_NOT_VALID", ""),
            Self::JwsAlg => s("jws-alg", R::AlgNotAllowed, Documented, Both,
                "liveperson-auth.md §1.3, §2: ID tokens are signed RS256 with the key given to the platform", ""),
            Self::JwsMembers => s("jws-zip-b64", R::Malformed, Standard, StrictOnly,
                "RFC 7516 §4.1.3 (zip is JWE-only), RFC 7797 §7 (JWTs never use b64)",
                "a header member that changes what is signed or how"),
            Self::Crit => s("crit", R::CritUnsupported, Standard, StrictOnly,
                "RFC 7515 §4.1.11: an extension the recipient does not understand must be refused",
                "an extension the token says must be understood was ignored"),
            Self::Typ => s("typ", R::TypNotAllowed, Standard, StrictOnly,
                "RFC 8725 §3.11: explicit typing keeps one kind of JWT from passing for another",
                "a JWT of another kind (a logout or access token) can pass for an ID token"),
            Self::Cty => s("cty-nested", R::TypNotAllowed, Standard, StrictOnly,
                "RFC 8725 §3.12, RFC 7519 §5.2: cty announces nested content an ID token never has",
                "the header announces nested content"),
            Self::KidType => s("kid-type", R::Malformed, Standard, StrictOnly,
                "RFC 7515 §4.1.4: kid is a string", "a kid that is no string names no key"),
            Self::JweAlg => s("jwe-alg", R::AlgNotAllowed, Documented, Both,
                "liveperson-auth.md §2, §8.2: envelopes are encrypted to the platform's key with RSA-OAEP-256", ""),
            Self::JweAlgDocumented => s("jwe-alg-rsa-oaep", R::AlgNotAllowed, Assumed, StrictOnly,
                "liveperson-auth.md §8.2: RSA-OAEP (SHA-1) appears in no LivePerson source; accepting it is this harness's choice",
                "RSA-OAEP is not the key management the platform names (RSA-OAEP-256); it may refuse it"),
            Self::JweEnc => s("jwe-enc", R::AlgNotAllowed, Assumed, Both,
                "liveperson-auth.md §7.2: no enc is published; these are the four this harness can open", ""),
            Self::JweEncSeenRefused => s("jwe-enc-a128cbc-hs256", R::AlgNotAllowed, Assumed, StrictOnly,
                "liveperson-auth.md §8.2: an A128CBC-HS256 envelope drew the IDP's 9012, cause never stated",
                "an A128CBC-HS256 envelope drew the platform IDP's 9012 INPUT_VALIDATION_ERROR once"),
            Self::JweZip => s("jwe-zip", R::EnvelopeInvalid, Assumed, Both,
                "RFC 8725 §3.6 advises against compressing before encrypting; this harness opens no compressed envelope", ""),
            Self::JweCty => s("jwe-cty", R::EnvelopeInvalid, Standard, StrictOnly,
                "RFC 7519 §5.2: the cty of a nested JWT is JWT", "the envelope says it holds something other than a JWT"),
            Self::JweSizes => s("jwe-iv-tag", R::DecryptFailed, Standard, Both,
                "RFC 7518 §5.2, §5.3: each enc fixes its IV and tag sizes; a short tag weakens the integrity check", ""),
            Self::Decrypt => s("jwe-decrypt", R::DecryptFailed, Observed, Both,
                "liveperson-auth.md §8.4: the IDP answers 1004 JOSE_EXCEPTION", ""),
            Self::JweContent => s("jwe-content", R::EnvelopeInvalid, Documented, Both,
                "liveperson-auth.md §2: sign, then encrypt (a JWS inside the JWE)", ""),
            Self::EncryptionRequired => s("encryption-required", R::EncryptionRequired, Assumed, Both,
                "this connector's setting (require_encryption)", ""),
            Self::KidKnown => s("kid-known", R::UnknownKid, Observed, Both,
                "liveperson-auth.md §8.4: the IDP answers 1041 JWK_ID_NOT_FOUND", ""),
            Self::KidAmbiguous => s("kid-ambiguous", R::KidAmbiguous, Observed, Both,
                "liveperson-auth.md §8.4: the IDP answers 1042 MULTIPLE_JWK_WITHOUT_KID_HEADER", ""),
            Self::KeysUsable => s("jwks-usable", R::KeyUnavailable, Observed, Both,
                "liveperson-auth.md §8.4: the IDP answers 1038 JWK_PARSE_FAILED", ""),
            Self::KeySize => s("key-size", R::KeyTooSmall, Standard, StrictOnly,
                "RFC 7518 §3.3: RS256 keys are 2048 bits or larger; the platform's own tutorial uses 1024 (liveperson-auth.md §8.1)",
                "a key under 2048 bits can be factored, and then anyone can sign as the brand"),
            Self::Signature => s("signature", R::SignatureInvalid, Documented, Both,
                "liveperson-auth.md §2, §6.3: the platform verifies the signature; a key mismatch is the IDP's 9007", ""),
            Self::Issuer => s("iss", R::IssuerMismatch, Documented, Both,
                "liveperson-auth.md §1.1, §4.1: iss is compared, case-sensitively, with the configured issuer", ""),
            Self::RequiredClaims => s("required-claims", R::ClaimMissing, Documented, Both,
                "liveperson-auth.md §3.1: iss, sub, exp and iat are required", ""),
            Self::NumericDate => s("numeric-date", R::ClaimInvalid, Documented, Both,
                "liveperson-auth.md §3.1, §7.1 item 5: exp and iat are numbers of seconds", ""),
            Self::SubFormat => s("sub-format", R::ClaimInvalid, Standard, StrictOnly,
                "OIDC Core §2: sub is at most 255 ASCII characters",
                "a sub past 255 ASCII characters may be cut or mangled downstream"),
            Self::Expiry => s("exp", R::Expired, Observed, Both,
                "liveperson-auth.md §4.4, §8.4: exp is when the platform asks again; the IDP answers 1012 JWT_EXPIRED", ""),
            Self::IssuedAt => s("iat-future", R::IssuedInFuture, Standard, StrictOnly,
                "OIDC Core §3.1.3.7 item 10, RFC 7519 §4.1.6",
                "a token issued in the future points at a wrong clock or a forged time"),
            Self::Lifetime => s("lifetime", R::LifetimeInvalid, Assumed, StrictOnly,
                "liveperson-auth.md §8.1: the platform accepted 12- and 13-year tokens; a day is Google's Node library's limit (google-oidc.md §7)",
                "a stolen token stays good until exp"),
            Self::NotBefore => s("nbf", R::NotYetValid, Standard, StrictOnly,
                "RFC 7519 §4.1.5: a JWT must not be accepted before nbf",
                "a token used before its nbf"),
            Self::Audience => s("aud", R::AudienceMismatch, Standard, StrictOnly,
                "OIDC Core §3.1.3.7 items 3 and 4; the platform documents no aud rule and its tutorial uses acc:<account> (liveperson-auth.md §8.1)",
                "a token minted for someone else is accepted as this consumer's"),
            Self::AuthorizedParty => s("azp", R::AzpMismatch, Standard, StrictOnly,
                "OIDC Core §3.1.3.7 item 5",
                "a token issued to another party is accepted"),
            Self::Nonce => s("nonce", R::NonceMismatch, Standard, StrictOnly,
                "OIDC Core §3.1.3.7 item 11; the platform documents no nonce rule (liveperson-auth.md §7.2)",
                "a token from another sign-in can be replayed into this one"),
            Self::AtHash => s("at-hash", R::AtHashMismatch, Standard, StrictOnly,
                "OIDC Core §3.2.2.10, §3.3.2.11",
                "the access token beside the ID token is not the one it was issued with"),
            Self::CHash => s("c-hash", R::CHashMismatch, Standard, StrictOnly,
                "OIDC Core §3.3.2.11",
                "the code beside the ID token is not the one it was issued with"),
            Self::ClaimTypes => s("claim-types", R::ClaimInvalid, Standard, StrictOnly,
                "OIDC Core §5.1: the standard claims the agent sees are strings",
                "a claim of the wrong type is not shown to the agent"),
            Self::LpSdes => s("lp-sdes-schema", R::LpSdesInvalid, Assumed, StrictOnly,
                "liveperson-auth.md §3.3, §8.4: unsupported SDEs are dropped, yet the IDP has 1026 SDE_PARSE_EXCEPTION, its trigger unpublished",
                "the platform IDP may refuse the login with 1026 SDE_PARSE_EXCEPTION"),
            Self::LpSdesConfigured => s("lp-sdes-strict", R::LpSdesInvalid, Assumed, Both,
                "this connector's setting (lp_sdes_strict)", ""),
            Self::Replay => s("replay", R::TokenReplayed, Standard, Both,
                "OIDC Core §15.5.2; on only where the connector sets reject_replays", ""),
            Self::HybridSubject => s("hybrid-subject", R::SubjectMismatch, Standard, StrictOnly,
                "OIDC Core §3.3.3.6",
                "the two ID tokens of one sign-in name different consumers"),
            Self::State => s("state", R::StateMismatch, Documented, Both,
                "liveperson-auth.md §1.4: the provider must echo state unchanged", ""),
            Self::AuthorizationError => s("authorization-error", R::AuthorizationError, Documented, Both,
                "liveperson-auth.md §6.2", ""),
            Self::Handover => s("handover", R::HandoverMissing, Documented, Both,
                "liveperson-auth.md §1.4: the code or the token comes back as a parameter", ""),
            Self::Https => s("https", R::InsecureTransport, Documented, Both,
                "liveperson-auth.md §4.2: all authentication traffic is HTTPS", ""),
            Self::TokenEndpointReachable => s("token-endpoint-reachable", R::TokenEndpointUnreachable, Observed, Both,
                "liveperson-auth.md §8.4: the IDP answers 9013 AUTHENTICATION_TIMEOUT", ""),
            Self::TokenEndpointAnswer => s("token-endpoint-answer", R::TokenEndpointError, Documented, Both,
                "liveperson-auth.md §1.3, §4.3: an error answer fails the chat request", ""),
            Self::TokenResponse => s("token-response", R::TokenResponseInvalid, Documented, Both,
                "liveperson-auth.md §1.3: HTTP 200 JSON with id_token", ""),
        }
    }

    /// The stable id reports use (`lifetime`, `key-size`).
    pub fn id(self) -> &'static str {
        self.spec().id
    }

    /// The reason code a refusal on this rule carries.
    pub fn reason(self) -> RejectReason {
        self.spec().reason
    }

    /// What the rule rests on.
    pub fn basis(self) -> Basis {
        self.spec().basis
    }

    /// Which reading refuses on it.
    pub fn refuses(self) -> Refuses {
        self.spec().refuses
    }

    /// Whether `reading` refuses a token that breaks it.
    pub fn refuses_in(self, reading: Reading) -> bool {
        reading == Reading::Strict || self.refuses() == Refuses::Both
    }

    /// Where the rule comes from, with a citation of the project's reference pages or a spec.
    pub fn cite(self) -> &'static str {
        self.spec().cite
    }

    /// For a rule only the strict reading refuses on: the risk the platform reading's
    /// finding names.
    pub fn risk(self) -> &'static str {
        self.spec().risk
    }

    /// The rule a refusal for `reason` is on, when the verifier did not name one: the first in
    /// [`Rule::ALL`] with that reason.
    pub fn for_reason(reason: RejectReason) -> Rule {
        use RejectReason as R;
        match reason {
            R::Malformed => Self::Compact,
            R::TokenTooLarge => Self::TokenSize,
            R::AlgNotAllowed => Self::JwsAlg,
            R::CritUnsupported => Self::Crit,
            R::TypNotAllowed => Self::Typ,
            R::EnvelopeInvalid => Self::JweContent,
            R::DecryptFailed => Self::Decrypt,
            R::EncryptionRequired => Self::EncryptionRequired,
            R::UnknownKid => Self::KidKnown,
            R::KidAmbiguous => Self::KidAmbiguous,
            R::KeyUnavailable => Self::KeysUsable,
            R::KeyTooSmall => Self::KeySize,
            R::SignatureInvalid => Self::Signature,
            R::IssuerMismatch => Self::Issuer,
            R::AudienceMismatch => Self::Audience,
            R::AzpMismatch => Self::AuthorizedParty,
            R::Expired => Self::Expiry,
            R::IssuedInFuture => Self::IssuedAt,
            R::NotYetValid => Self::NotBefore,
            R::LifetimeInvalid => Self::Lifetime,
            R::ClaimMissing => Self::RequiredClaims,
            R::ClaimInvalid => Self::NumericDate,
            R::NonceMismatch => Self::Nonce,
            R::AtHashMismatch => Self::AtHash,
            R::CHashMismatch => Self::CHash,
            R::SubjectMismatch => Self::HybridSubject,
            R::LpSdesInvalid => Self::LpSdes,
            R::TokenReplayed => Self::Replay,
            R::StateMismatch => Self::State,
            R::AuthorizationError => Self::AuthorizationError,
            R::HandoverMissing => Self::Handover,
            R::InsecureTransport => Self::Https,
            R::TokenEndpointUnreachable => Self::TokenEndpointReachable,
            R::TokenEndpointError => Self::TokenEndpointAnswer,
            R::TokenResponseInvalid => Self::TokenResponse,
        }
    }

    /// The rule for an id, if it is one.
    pub fn from_id(id: &str) -> Option<Rule> {
        Self::ALL.into_iter().find(|r| r.id() == id)
    }
}

impl From<Rule> for &'static str {
    fn from(rule: Rule) -> Self {
        rule.id()
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

struct Spec {
    id: &'static str,
    reason: RejectReason,
    basis: Basis,
    refuses: Refuses,
    cite: &'static str,
    risk: &'static str,
}
