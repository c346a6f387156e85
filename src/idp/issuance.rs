//! Issuing, redeeming and revoking what a grant hands out besides ID tokens: authorization
//! codes, access tokens (which carry their grant, `sealed.rs`) and refresh tokens.

use std::sync::Arc;

use super::config::TokensConfig;
use super::grants::{CodeGrant, Grant};
use super::registry::Registry;
use super::sealed;
use crate::claims::ClientId;
use crate::store::{random_token, Store};

/// The stores behind codes and tokens, and the key their MACs use.
#[derive(Debug)]
pub(crate) struct Issuance {
    /// Access tokens and codes carry what they need (`sealed.rs`); this keys their MAC.
    token_key: [u8; 32],
    access_lifetime: i64,
    refresh_lifetime: i64,
    code_lifetime: i64,
    codes: Store<CodeGrant>,
    /// Grants revoked while their access tokens could still be live.
    revoked_grants: Store<()>,
    /// Grants whose persona was edited at the login page, which a token cannot name by index.
    edited_grants: Store<Grant>,
    refresh_tokens: Store<Grant>,
}

impl Issuance {
    /// Empty stores of at most `cap` entries each, with a fresh random key.
    pub(crate) fn new(tokens: &TokensConfig, cap: usize) -> Self {
        Self {
            token_key: {
                let mut key = [0u8; 32];
                rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
                key
            },
            access_lifetime: tokens.access_token_lifetime_secs,
            refresh_lifetime: tokens.refresh_token_lifetime_secs,
            code_lifetime: tokens.code_lifetime_secs,
            codes: Store::new(cap),
            revoked_grants: Store::new(cap),
            edited_grants: Store::new(cap),
            refresh_tokens: Store::new(cap),
        }
    }

    /// Issues an access token shaped like Google's (`ya29.a0` + base64url) that carries its
    /// grant, so nothing is stored per token unless its persona is not in `registry`.
    pub(crate) fn issue_access_token(
        &self,
        grant: &Grant,
        registry: &Registry,
        now: i64,
    ) -> String {
        let expires_at = now + self.access_lifetime;
        let persona = registry
            .shared_index(&grant.persona)
            .and_then(|i| u16::try_from(i).ok())
            .filter(|&i| i != sealed::EDITED)
            .unwrap_or_else(|| {
                self.edited_grants.insert(
                    grant.grant_id.to_string(),
                    grant.clone(),
                    expires_at,
                    now,
                );
                sealed::EDITED
            });
        sealed::issue(
            &self.token_key,
            &sealed::Claims {
                expires_at,
                scopes: grant.scopes,
                persona,
                grant_id: grant.grant_id.to_string(),
                client_id: grant.client_id.to_string(),
            },
        )
    }

    /// The grant behind a live access token issued here and not revoked, with when the token
    /// expires (Unix seconds).
    pub(crate) fn access_grant(
        &self,
        token: &str,
        registry: &Registry,
        now: i64,
    ) -> Option<(Grant, i64)> {
        let claims = sealed::read(&self.token_key, token)?;
        if claims.expires_at <= now || self.revoked_grants.get(&claims.grant_id, now).is_some() {
            return None;
        }
        if claims.persona == sealed::EDITED {
            let grant = self.edited_grants.get(&claims.grant_id, now)?;
            return Some((grant, claims.expires_at));
        }
        let grant = Grant {
            client_id: ClientId::new(claims.client_id),
            persona: Arc::clone(registry.shared(usize::from(claims.persona))?),
            scopes: claims.scopes,
            grant_id: Arc::from(claims.grant_id),
        };
        Some((grant, claims.expires_at))
    }

    /// Issues a refresh token shaped like Google's (`1//0` + base64url).
    pub(crate) fn issue_refresh_token(&self, grant: &Grant, now: i64) -> String {
        let token = format!("1//0{}", random_token(72));
        let expires = now + self.refresh_lifetime;
        self.refresh_tokens
            .insert(token.clone(), grant.clone(), expires, now);
        token
    }

    /// The grant of a live refresh token; taken (single use) when `take`.
    pub(crate) fn refresh_grant(&self, token: &str, now: i64, take: bool) -> Option<Grant> {
        if take {
            self.refresh_tokens.take(token, now)
        } else {
            self.refresh_tokens.get(token, now)
        }
    }

    /// Issues an authorization code shaped like Google's (`4/0A`, 73 characters) that names
    /// its grant (`sealed.rs`), and keeps it pending until redeemed.
    pub(crate) fn issue_code(&self, code: CodeGrant, now: i64) -> String {
        let expires_at = now + self.code_lifetime;
        let value = sealed::issue_code(
            &self.token_key,
            &sealed::CodeClaims {
                expires_at,
                grant_id: code.grant.grant_id.to_string(),
            },
        );
        self.codes.insert(value.clone(), code, expires_at, now);
        value
    }

    /// Redeems a pending code: taken, so it is gone whatever happens next, unless `reusable`.
    pub(crate) fn redeem_code(&self, code: &str, now: i64, reusable: bool) -> Option<CodeGrant> {
        if reusable {
            self.codes.get(code, now)
        } else {
            self.codes.take(code, now)
        }
    }

    /// The grant of a code issued here, still within its lifetime, that is no longer pending:
    /// a replay (RFC 6749 §4.1.2).
    pub(crate) fn replayed_code(&self, code: &str, now: i64) -> Option<String> {
        let claims = sealed::read_code(&self.token_key, code)?;
        (claims.expires_at > now).then_some(claims.grant_id)
    }

    /// Revokes every token of one authorization: its access tokens stop working and its refresh
    /// tokens are dropped (how many, for the log).
    pub(crate) fn revoke_grant(&self, grant_id: &str, now: i64) -> usize {
        let until = now + self.access_lifetime;
        self.revoked_grants
            .insert(grant_id.to_owned(), (), until, now);
        self.edited_grants.take(grant_id, now);
        self.refresh_tokens
            .remove_where(|g| &*g.grant_id == grant_id)
    }

    /// How many codes, edited grants, refresh tokens and revoked grants are held.
    pub(crate) fn sizes(&self) -> (usize, usize, usize, usize) {
        (
            self.codes.len(),
            self.edited_grants.len(),
            self.refresh_tokens.len(),
            self.revoked_grants.len(),
        )
    }
}
