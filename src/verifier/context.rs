//! What the caller knows about the exchange a token belongs to: the rules read it, the
//! verifier passes it in.

use crate::claims::Nonce;

/// What the caller knows about the exchange the token belongs to.
#[derive(Debug, Clone, Default)]
pub struct VerifyContext {
    /// Now, Unix seconds: the clock is an input, never read inside the rules.
    pub now: i64,
    /// The nonce sent with the authorization request, if one was.
    pub nonce: Option<Nonce>,
    /// The access token issued with the ID token, to check `at_hash`.
    pub access_token: Option<String>,
    /// The code issued with the ID token (hybrid responses), to check `c_hash`.
    pub code: Option<String>,
    /// The ID token came from the authorization endpoint: then `c_hash` is required with a
    /// code and `at_hash` with an access token (OIDC Core §3.3.2.11, §3.2.2.10). From the
    /// token endpoint, `at_hash` is optional.
    pub front_channel: bool,
}

impl VerifyContext {
    /// A context at `now` with nothing else known.
    pub fn at(now: i64) -> Self {
        Self {
            now,
            ..Self::default()
        }
    }
}
