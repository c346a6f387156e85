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
        if claims.expires_at <= now || self.is_revoked(&claims.grant_id, now) {
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

    /// Issues a refresh token shaped like Google's (`1//0` + base64url). One issued for a grant
    /// revoked meanwhile is dropped again at once: a revocation scans the refresh tokens only
    /// the first time (`revoke_grant`), so one stored after that scan would otherwise outlive
    /// it. Stored first and checked after, so either the scan or this check sees the other.
    pub(crate) fn issue_refresh_token(&self, grant: &Grant, now: i64) -> String {
        let token = format!("1//0{}", random_token(72));
        let expires = now + self.refresh_lifetime;
        self.refresh_tokens
            .insert(token.clone(), grant.clone(), expires, now);
        if self.is_revoked(&grant.grant_id, now) {
            self.refresh_tokens.take(&token, now);
        }
        token
    }

    /// The grant of a live refresh token whose grant is not revoked; taken (single use) when
    /// `take`.
    pub(crate) fn refresh_grant(&self, token: &str, now: i64, take: bool) -> Option<Grant> {
        let grant = if take {
            self.refresh_tokens.take(token, now)
        } else {
            self.refresh_tokens.get(token, now)
        }?;
        (!self.is_revoked(&grant.grant_id, now)).then_some(grant)
    }

    fn is_revoked(&self, grant_id: &str, now: i64) -> bool {
        self.revoked_grants.get(grant_id, now).is_some()
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
    /// tokens are dropped (how many, for the log). Only the first revocation of a grant scans
    /// the refresh tokens: a redeemed code replayed over and over revokes its grant each time,
    /// and each scan would be a pass over up to the store's cap under its lock.
    pub(crate) fn revoke_grant(&self, grant_id: &str, now: i64) -> usize {
        let until = now + self.access_lifetime;
        let again = self
            .revoked_grants
            .insert(grant_id.to_owned(), (), until, now);
        self.edited_grants.take(grant_id, now);
        if again {
            return 0;
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idp::scope::Scopes;

    fn grant() -> Grant {
        let alice = crate::claims::fixture_personas().find("alice").cloned();
        Grant::new(
            ClientId::new("demo-client"),
            Arc::new(alice.expect("alice")),
            Scopes::parse(Some("openid email")).expect("scopes"),
        )
    }

    fn issuance() -> Issuance {
        Issuance::new(&TokensConfig::default(), 100)
    }

    #[test]
    fn a_revocation_drops_the_grants_refresh_tokens_and_only_the_first_scans_them() {
        let (issuance, revoked, kept) = (issuance(), grant(), grant());
        let doomed = [
            issuance.issue_refresh_token(&revoked, 0),
            issuance.issue_refresh_token(&revoked, 0),
        ];
        let other = issuance.issue_refresh_token(&kept, 0);
        let passes = issuance.refresh_tokens.passes() + 1;
        assert_eq!(issuance.revoke_grant(&revoked.grant_id, 10), 2);
        assert_eq!(issuance.refresh_tokens.passes(), passes, "one scan");
        for replay in 0..100 {
            assert_eq!(issuance.revoke_grant(&revoked.grant_id, 10 + replay), 0);
        }
        assert_eq!(issuance.refresh_tokens.passes(), passes, "no scan again");
        for token in &doomed {
            assert!(issuance.refresh_grant(token, 20, false).is_none());
        }
        let still = issuance
            .refresh_grant(&other, 20, false)
            .expect("other grant");
        assert_eq!(still.grant_id, kept.grant_id);
    }

    #[test]
    fn a_refresh_token_issued_after_its_grant_was_revoked_does_not_work() {
        let (issuance, grant) = (issuance(), grant());
        assert_eq!(issuance.revoke_grant(&grant.grant_id, 0), 0);
        // As a redemption that raced the revocation would issue it: after the one scan.
        let late = issuance.issue_refresh_token(&grant, 1);
        assert!(issuance.refresh_grant(&late, 2, false).is_none());
        assert!(issuance.refresh_grant(&late, 2, true).is_none());
        assert_eq!(issuance.sizes().2, 0, "not kept either");
    }

    #[test]
    fn a_refresh_token_in_the_store_is_refused_once_its_grant_is_revoked() {
        let (issuance, grant) = (issuance(), grant());
        let token = issuance.issue_refresh_token(&grant, 0);
        // Put back as if stored between a revocation's scan and the issuer's check.
        let stored = issuance.refresh_grant(&token, 0, false).expect("live");
        issuance.revoke_grant(&grant.grant_id, 1);
        issuance
            .refresh_tokens
            .insert(token.clone(), stored, 1_000, 1);
        assert!(issuance.refresh_grant(&token, 2, false).is_none());
        assert!(issuance.refresh_grant(&token, 2, true).is_none());
    }
}
