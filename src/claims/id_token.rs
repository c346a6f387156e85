//! Google-shaped ID token claims and UserInfo response, members in Google's order
//! (`google-oidc.md` §3.2 and §6.1).

use serde::{Deserialize, Serialize};

use super::persona::Persona;
use super::types::{ClientId, Issuer, Nonce, Subject};

/// The claims of an ID token as Google emits them from the code flow, in Google's order:
/// `iss, azp, aud, sub, hd, email, email_verified, at_hash, c_hash, nonce, name, picture,
/// given_name, family_name, locale, iat, exp`, then the platform's `lp_sdes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdTokenClaims {
    /// Issuer.
    pub iss: Issuer,
    /// Authorized party: the client id of the presenter.
    pub azp: ClientId,
    /// Audience: a single string, the client id (Google never sends an array).
    pub aud: ClientId,
    /// Subject.
    pub sub: Subject,
    /// Workspace domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hd: Option<String>,
    /// E-mail (`email` scope).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether the e-mail is verified, a JSON boolean.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// Left half of SHA-256 of the access token, base64url (OIDC Core §3.1.3.6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    /// Left half of SHA-256 of the code, base64url (OIDC Core §3.3.2.11), hybrid responses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c_hash: Option<String>,
    /// The nonce sent at authorization time, echoed only if one was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<Nonce>,
    /// Full name (`profile` scope).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Picture URL (`profile` scope).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    /// Given name (`profile` scope).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Family name (`profile` scope).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// Locale (only for personas that set one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Gender (OIDC Core §5.1; Google never sends it; only for personas that set one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    /// Preferred user name (OIDC Core §5.1; not Google's; only for personas that set one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    /// Phone number (OIDC Core §5.1; not Google's; only for personas that set one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expiry, Unix seconds; Google's tokens live exactly 3600 s.
    pub exp: i64,
    /// The platform's custom claim with authenticated customer information.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lp_sdes: Option<serde_json::Value>,
}

/// Which scopes were granted, as far as the claims care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClaimScopes {
    /// `email` (or its URL form) was granted.
    pub email: bool,
    /// `profile` (or its URL form) was granted.
    pub profile: bool,
}

impl IdTokenClaims {
    /// The claims Google would put in an ID token for `persona`, issued at `iat`.
    pub fn for_persona(
        persona: &Persona,
        iss: &Issuer,
        client: &ClientId,
        scopes: ClaimScopes,
        iat: i64,
        lifetime_secs: i64,
    ) -> Self {
        let email = scopes.email.then(|| persona.email.clone()).flatten();
        Self {
            iss: iss.clone(),
            azp: client.clone(),
            aud: client.clone(),
            sub: persona.sub.clone(),
            hd: persona.hd.clone(),
            email_verified: email
                .as_ref()
                .map(|_| persona.email_verified.unwrap_or(true)),
            email,
            at_hash: None,
            c_hash: None,
            nonce: None,
            name: scopes.profile.then(|| persona.name.clone()).flatten(),
            picture: scopes.profile.then(|| persona.picture.clone()).flatten(),
            given_name: scopes.profile.then(|| persona.given_name.clone()).flatten(),
            family_name: scopes
                .profile
                .then(|| persona.family_name.clone())
                .flatten(),
            locale: scopes.profile.then(|| persona.locale.clone()).flatten(),
            gender: scopes.profile.then(|| persona.gender.clone()).flatten(),
            preferred_username: scopes
                .profile
                .then(|| persona.preferred_username.clone())
                .flatten(),
            phone_number: scopes
                .profile
                .then(|| persona.phone_number.clone())
                .flatten(),
            iat,
            exp: iat.saturating_add(lifetime_secs),
            lp_sdes: persona.lp_sdes.clone(),
        }
    }
}

/// The UserInfo response, in the order Google's typed clients use:
/// `sub, name, given_name, family_name, picture, email, email_verified, locale, hd`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserInfo {
    /// Subject; must equal the ID token's.
    pub sub: Subject,
    /// Full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Given name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Family name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// Picture URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    /// E-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether the e-mail is verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// Locale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Workspace domain, last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hd: Option<String>,
}

impl UserInfo {
    /// The UserInfo claims for `persona`, limited by the granted scopes like the ID token's.
    pub fn for_persona(persona: &Persona, scopes: ClaimScopes) -> Self {
        let email = scopes.email.then(|| persona.email.clone()).flatten();
        Self {
            sub: persona.sub.clone(),
            name: scopes.profile.then(|| persona.name.clone()).flatten(),
            given_name: scopes.profile.then(|| persona.given_name.clone()).flatten(),
            family_name: scopes
                .profile
                .then(|| persona.family_name.clone())
                .flatten(),
            picture: scopes.profile.then(|| persona.picture.clone()).flatten(),
            email_verified: email
                .as_ref()
                .map(|_| persona.email_verified.unwrap_or(true)),
            email,
            locale: scopes.profile.then(|| persona.locale.clone()).flatten(),
            hd: persona.hd.clone(),
        }
    }
}
