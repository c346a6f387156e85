//! Scopes as Google takes and returns them: `openid`, `email`, `profile` or their
//! `https://www.googleapis.com/auth/userinfo.*` URLs, normalised in responses.

use crate::claims::ClaimScopes;

const EMAIL_URL: &str = "https://www.googleapis.com/auth/userinfo.email";
const PROFILE_URL: &str = "https://www.googleapis.com/auth/userinfo.profile";

/// A parsed, validated scope set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Scopes {
    pub(crate) openid: bool,
    pub(crate) email: bool,
    pub(crate) profile: bool,
}

/// Why a scope parameter was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScopeError {
    Missing,
    NoOpenid,
    Unknown,
}

impl Scopes {
    /// Parses a space-separated scope list. Every value must be known and `openid` present.
    pub(crate) fn parse(text: Option<&str>) -> Result<Self, ScopeError> {
        let text = text
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(ScopeError::Missing)?;
        let mut scopes = Self::default();
        for value in text.split(' ').filter(|v| !v.is_empty()) {
            match value {
                "openid" => scopes.openid = true,
                "email" | EMAIL_URL => scopes.email = true,
                "profile" | PROFILE_URL => scopes.profile = true,
                _ => return Err(ScopeError::Unknown),
            }
        }
        if scopes.openid {
            Ok(scopes)
        } else {
            Err(ScopeError::NoOpenid)
        }
    }

    pub(crate) fn claim_scopes(self) -> ClaimScopes {
        ClaimScopes {
            email: self.email,
            profile: self.profile,
        }
    }

    /// The scope as the token endpoint returns it: `https://…/userinfo.email openid`.
    pub(crate) fn token_form(self) -> String {
        let mut out = Vec::with_capacity(3);
        if self.email {
            out.push(EMAIL_URL);
        }
        if self.profile {
            out.push(PROFILE_URL);
        }
        if self.openid {
            out.push("openid");
        }
        out.join(" ")
    }

    /// The scope as the authorization redirect returns it: short names, then the URLs.
    pub(crate) fn redirect_form(self) -> String {
        let mut out = Vec::with_capacity(5);
        if self.email {
            out.push("email");
        }
        if self.profile {
            out.push("profile");
        }
        if self.openid {
            out.push("openid");
        }
        if self.email {
            out.push(EMAIL_URL);
        }
        if self.profile {
            out.push(PROFILE_URL);
        }
        out.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_normalise_like_google() {
        let s = Scopes::parse(Some("openid email")).unwrap();
        assert_eq!(
            s.token_form(),
            "https://www.googleapis.com/auth/userinfo.email openid"
        );
        let s = Scopes::parse(Some(
            "openid profile https://www.googleapis.com/auth/userinfo.email",
        ))
        .unwrap();
        assert_eq!(
            s.redirect_form(),
            "email profile openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile"
        );
        assert_eq!(
            Scopes::parse(Some("openid")).unwrap().token_form(),
            "openid"
        );
    }

    #[test]
    fn refusals() {
        assert_eq!(Scopes::parse(None), Err(ScopeError::Missing));
        assert_eq!(Scopes::parse(Some("  ")), Err(ScopeError::Missing));
        assert_eq!(
            Scopes::parse(Some("email profile")),
            Err(ScopeError::NoOpenid)
        );
        assert_eq!(
            Scopes::parse(Some("openid admin")),
            Err(ScopeError::Unknown)
        );
    }
}
