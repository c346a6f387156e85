//! What the provider grants and holds while a grant is under way: authorizations, codes with
//! their PKCE challenge, sign-in requests waiting at the login page, device authorizations.

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use super::scope::Scopes;
use crate::claims::{ClientId, Nonce, Persona};
use crate::store::random_token;

/// What an authorization grants: who, to which client, with which scopes.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub(crate) client_id: ClientId,
    /// Shared: every code and token of the grant points at one copy.
    pub(crate) persona: Arc<Persona>,
    pub(crate) scopes: Scopes,
    /// Ties codes, access and refresh tokens of one authorization together for revocation.
    pub(crate) grant_id: Arc<str>,
}

impl Grant {
    /// A new authorization, with a fresh grant id.
    pub(crate) fn new(client_id: ClientId, persona: Arc<Persona>, scopes: Scopes) -> Self {
        Self {
            client_id,
            persona,
            scopes,
            grant_id: Arc::from(random_token(12)),
        }
    }
}

/// A code waiting to be redeemed.
#[derive(Debug, Clone)]
pub(crate) struct CodeGrant {
    pub(crate) grant: Grant,
    pub(crate) redirect_uri: String,
    pub(crate) nonce: Option<Nonce>,
    pub(crate) pkce: Option<Pkce>,
    pub(crate) offline: bool,
}

/// PKCE parameters bound to a code (RFC 7636).
#[derive(Debug, Clone)]
pub(crate) struct Pkce {
    pub(crate) challenge: String,
    pub(crate) s256: bool,
}

impl Pkce {
    /// Checks PKCE parameters (RFC 7636 §4.2, §4.3): the method defaults to `plain`.
    pub(crate) fn parse(
        challenge: Option<&str>,
        method: Option<&str>,
    ) -> Result<Option<Self>, &'static str> {
        let Some(challenge) = challenge else {
            return match method {
                Some(_) => Err("code_challenge_method without code_challenge."),
                None => Ok(None),
            };
        };
        let s256 = match method.unwrap_or("plain") {
            "S256" => true,
            "plain" => false,
            _ => return Err("Invalid code_challenge_method: use S256 or plain."),
        };
        let valid_chars = challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        let valid_len = if s256 {
            challenge.len() == 43
        } else {
            (43..=128).contains(&challenge.len())
        };
        if !valid_chars || !valid_len {
            return Err("Invalid code_challenge.");
        }
        Ok(Some(Self {
            challenge: challenge.to_owned(),
            s256,
        }))
    }

    /// Whether `verifier` answers this challenge; constant-time.
    pub(crate) fn verify(&self, verifier: &str) -> bool {
        let valid = (43..=128).contains(&verifier.len())
            && verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        let computed = if self.s256 {
            URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
        } else {
            verifier.to_owned()
        };
        valid && bool::from(computed.as_bytes().ct_eq(self.challenge.as_bytes()))
    }
}

/// Which artifacts the authorization response carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct ResponseType {
    pub(crate) code: bool,
    pub(crate) token: bool,
    pub(crate) id_token: bool,
}

impl ResponseType {
    /// Parses a space-separated set; order does not matter (`id_token token` is fine).
    pub(crate) fn parse(text: &str) -> Option<Self> {
        if text == "none" {
            return Some(Self::default());
        }
        let mut rt = Self::default();
        for part in text.split(' ') {
            let seen = match part {
                "code" => std::mem::replace(&mut rt.code, true),
                "token" => std::mem::replace(&mut rt.token, true),
                "id_token" => std::mem::replace(&mut rt.id_token, true),
                _ => return None,
            };
            if seen {
                return None;
            }
        }
        Some(rt)
    }

    pub(crate) fn returns_tokens(self) -> bool {
        self.token || self.id_token
    }
}

/// How the response travels back (OAuth 2.0 Multiple Response Types; Form Post).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResponseMode {
    Query,
    Fragment,
    FormPost,
}

/// A validated authorization request, kept while the login page is open.
#[derive(Debug, Clone)]
pub(crate) struct AuthRequest {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) response_type: ResponseType,
    pub(crate) response_mode: ResponseMode,
    pub(crate) scopes: Scopes,
    pub(crate) state: Option<String>,
    pub(crate) nonce: Option<Nonce>,
    pub(crate) pkce: Option<Pkce>,
    pub(crate) login_hint: Option<String>,
    pub(crate) offline: bool,
}

/// A device authorization in progress (RFC 8628).
#[derive(Debug, Clone)]
pub(crate) struct DeviceGrant {
    pub(crate) client_id: ClientId,
    pub(crate) scopes: Scopes,
    pub(crate) user_code: String,
    pub(crate) status: DeviceStatus,
    pub(crate) last_poll: Option<i64>,
}

#[derive(Debug, Clone)]
pub(crate) enum DeviceStatus {
    Pending,
    Approved(Arc<Persona>),
    Denied,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_types_parse_in_any_order_once_each() {
        let rt = ResponseType::parse("id_token token").unwrap();
        assert!(rt.token && rt.id_token && !rt.code);
        assert_eq!(ResponseType::parse("none"), Some(ResponseType::default()));
        assert!(ResponseType::parse("code code").is_none());
        assert!(ResponseType::parse("code none").is_none());
        assert!(ResponseType::parse("Code").is_none());
        assert!(ResponseType::parse("").is_none());
    }

    #[test]
    fn pkce_rules() {
        let parse_pkce = Pkce::parse;
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        // RFC 7636 appendix B.
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        let pkce = parse_pkce(Some(challenge), Some("S256")).unwrap().unwrap();
        assert!(pkce.verify(verifier));
        assert!(!pkce.verify("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXx"));
        let plain = parse_pkce(Some(verifier), None).unwrap().unwrap();
        assert!(!plain.s256 && plain.verify(verifier));
        assert!(parse_pkce(Some(challenge), Some("S512")).is_err());
        assert!(parse_pkce(Some("short"), Some("S256")).is_err());
        assert!(parse_pkce(None, Some("S256")).is_err());
        assert!(parse_pkce(None, None).unwrap().is_none());
    }
}
