//! The provider's state: its parts (the registry of clients and personas, the key ring, the
//! faults and queued claims in force, the issued codes and tokens, the grants under way) behind
//! one type whose fields are its own. Handlers ask it; it asks its parts; no part asks back.

use std::sync::{Arc, OnceLock, RwLock, RwLockReadGuard};

use axum::body::Bytes;
use serde::Serialize;

use super::config::{ConfigError, IdpConfig};
use super::error::OAuthError;
use super::faults::{Faults, Lapse};
use super::grants::{AuthRequest, CodeGrant, DeviceGrant, Grant};
use super::issuance::Issuance;
use super::keyring::KeyRing;
use super::mint;
use super::observed::{Observation, Observations};
use super::queue::Queue;
use super::registry::{Client, Registry};
use crate::claims::{IdTokenClaims, Issuer, Nonce, Persona, Personas};
use crate::clock::Clock;
use crate::jose::left_half_sha256;
use crate::keys::{Kid, SigningKey};
use crate::pages::AccountOverview;
use crate::store::{random_token, Store};

/// How many entries each store holds. Access tokens themselves are not stored; sessions and
/// queued claims are bounded too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StoreSizes {
    /// Authorization codes waiting to be redeemed.
    pub codes: usize,
    /// Grants of access tokens whose persona was edited at the login page.
    pub edited_grants: usize,
    /// Refresh tokens.
    pub refresh_tokens: usize,
    /// Sign-in requests open at the login page.
    pub logins: usize,
    /// Device authorizations in progress.
    pub devices: usize,
    /// Grants revoked (a replayed code, a revoked token) while their access tokens could
    /// still be live.
    pub revoked_grants: usize,
}

impl IntoIterator for StoreSizes {
    type Item = usize;
    type IntoIter = std::array::IntoIter<usize, 6>;

    /// Every size, in the order of the fields.
    fn into_iter(self) -> Self::IntoIter {
        [
            self.codes,
            self.edited_grants,
            self.refresh_tokens,
            self.logins,
            self.devices,
            self.revoked_grants,
        ]
        .into_iter()
    }
}

/// The whole provider, shared by every request.
#[derive(Debug)]
pub struct IdpState {
    config: IdpConfig,
    issuer: Issuer,
    /// Where clients reach the endpoints (`public_url`, else the issuer).
    public_base: String,
    /// The sign-in cookie's name: a brand's is its own, so signing in at one brand is not
    /// signing in at another.
    session_cookie: String,
    /// Clients and personas: read as a snapshot per request, replaced whole by the admin API.
    registry: RwLock<Arc<Registry>>,
    keys: RwLock<KeyRing>,
    faults: RwLock<Arc<Faults>>,
    clock: Arc<dyn Clock>,
    discovery_json: Bytes,
    /// Codes, access and refresh tokens, and their revocation.
    issuance: Issuance,
    logins: Store<AuthRequest>,
    devices: Store<DeviceGrant>,
    /// user_code -> device_code.
    user_codes: Store<String>,
    /// Sign-in sessions (the session cookie's value -> who signed in, as edited).
    sessions: Store<Arc<Persona>>,
    /// What recent requests carried, for scenarios to assert.
    observed: Observations,
    /// Claims queued for next logins (`POST /_harness/queue`).
    queue: Queue,
    /// The platform IDP's accounts served beside this provider, for the overview; set once by
    /// whoever runs the platform side.
    platform_accounts: OnceLock<Vec<AccountOverview>>,
}

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl IdpState {
    /// Resolves a configuration into a provider: loads keys, personas and client keys.
    /// `issuer` is the final issuer (the caller knows the bound port).
    pub fn new(
        config: IdpConfig,
        issuer: Issuer,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ConfigError> {
        config.check()?;
        let keys = KeyRing::load(&config)?;
        let registry = Registry::load(&config)?;
        let public_base = config
            .public_url
            .clone()
            .unwrap_or_else(|| issuer.as_str().to_owned());
        let discovery_json =
            super::metadata::document(&issuer, &public_base, config.discovery.rfc9207);
        let cap = config.limits.max_store_entries;
        Ok(Self {
            faults: RwLock::new(Arc::new(config.faults.clone())),
            registry: RwLock::new(Arc::new(registry)),
            issuer,
            public_base,
            session_cookie: match &config.brand {
                Some(name) => format!("oidc_harness_session_{}", name.replace('-', "_")),
                None => "oidc_harness_session".to_owned(),
            },
            keys: RwLock::new(keys),
            clock,
            discovery_json,
            issuance: Issuance::new(&config.tokens, cap),
            logins: Store::new(cap),
            devices: Store::new(cap),
            user_codes: Store::new(cap),
            sessions: Store::new(cap),
            observed: Default::default(),
            platform_accounts: OnceLock::new(),
            queue: Default::default(),
            config,
        })
    }

    // --- what it is -------------------------------------------------------------------------

    /// The configuration it runs with.
    pub fn config(&self) -> &IdpConfig {
        &self.config
    }

    /// The issuer.
    pub fn issuer(&self) -> &Issuer {
        &self.issuer
    }

    /// Where clients reach the endpoints.
    pub(crate) fn public_base(&self) -> &str {
        &self.public_base
    }

    /// A URL on this provider as clients reach it: the public base plus `path`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.public_base)
    }

    /// `path` below this provider's own prefix (`/brands/acme/...` for a brand), for the forms
    /// of its pages: same origin as the page, whatever host the browser used.
    pub(crate) fn local_path(&self, path: &str) -> String {
        let prefix = url::Url::parse(&self.public_base)
            .map(|u| u.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        format!("{prefix}{path}")
    }

    /// The discovery document as built at start-up.
    pub(crate) fn discovery_json(&self) -> Bytes {
        self.discovery_json.clone()
    }

    /// The clock it reads the time from.
    pub(crate) fn clock(&self) -> Arc<dyn Clock> {
        Arc::clone(&self.clock)
    }

    pub(crate) fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The platform IDP's accounts listed in the overview, once set.
    pub(crate) fn platform_accounts(&self) -> Vec<AccountOverview> {
        self.platform_accounts.get().cloned().unwrap_or_default()
    }

    /// Lists the platform IDP's accounts in the overview (the first call counts).
    pub fn show_platform_accounts(&self, accounts: Vec<AccountOverview>) {
        let _ = self.platform_accounts.set(accounts);
    }

    // --- clients and personas ---------------------------------------------------------------

    /// The personas this provider can log in now.
    pub fn personas(&self) -> Personas {
        self.registry().personas().clone()
    }

    /// The clients and personas in force, as one snapshot.
    pub(crate) fn registry(&self) -> Arc<Registry> {
        Arc::clone(&read(&self.registry))
    }

    /// Replaces the registry with `change` applied to a copy, atomically with respect to other
    /// changes; `change` refusing leaves everything as it was.
    pub(crate) fn change_registry<T, E>(
        &self,
        change: impl FnOnce(&mut Registry) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut guard = self
            .registry
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut copy = Registry::clone(&guard);
        let done = change(&mut copy)?;
        *guard = Arc::new(copy);
        Ok(done)
    }

    /// A registered client.
    pub(crate) fn client(&self, id: &str) -> Option<Arc<Client>> {
        self.registry().client(id).cloned()
    }

    /// The shared persona for a `login_hint` (id, sub or e-mail).
    pub(crate) fn find_persona(&self, hint: &str) -> Option<Arc<Persona>> {
        self.registry().find(hint)
    }

    // --- keys -------------------------------------------------------------------------------

    fn key_ring(&self) -> RwLockReadGuard<'_, KeyRing> {
        read(&self.keys)
    }

    /// The kids in publication order (the first signs).
    pub fn published_kids(&self) -> Vec<Kid> {
        self.key_ring().kids()
    }

    /// The published key with this kid.
    pub(crate) fn published_key(&self, kid: &str) -> Option<SigningKey> {
        self.key_ring().key(kid).cloned()
    }

    /// The JWKS as published.
    pub(crate) fn jwks_json(&self) -> Bytes {
        self.key_ring().jwks_json()
    }

    /// kid -> X.509 PEM, as published.
    pub(crate) fn pem_json(&self) -> Bytes {
        self.key_ring().pem_json()
    }

    /// Puts `key` first (it signs from now on) and keeps up to `keys.max_published` keys
    /// published, dropping the oldest.
    pub fn rotate_to(&self, key: SigningKey) -> Result<Kid, String> {
        let kid = key.kid().clone();
        let mut ring = self
            .keys
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *ring = ring.rotated(key, self.config.keys.max_published)?;
        tracing::debug!(%kid, "signing key rotated");
        Ok(kid)
    }

    /// Generates a new signing key and rotates to it.
    pub fn rotate(&self) -> Result<Kid, String> {
        let key = SigningKey::generate().map_err(|e| e.to_string())?;
        self.rotate_to(key)
    }

    /// The active signing key.
    fn active_key(&self) -> Result<SigningKey, OAuthError> {
        self.key_ring().active_key().ok_or(OAuthError::ServerError)
    }

    // --- faults, queued claims, observations ------------------------------------------------

    /// The faults in force (a shared snapshot: reading them copies nothing).
    pub fn faults(&self) -> Arc<Faults> {
        Arc::clone(&read(&self.faults))
    }

    /// Whether the provider has this lapse now.
    pub(crate) fn lapses(&self, lapse: Lapse) -> bool {
        self.faults().lapses.contains(&lapse)
    }

    /// Replaces the faults in force.
    pub fn set_faults(&self, faults: Faults) {
        *self
            .faults
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(faults);
    }

    /// Claims queued for next logins.
    pub(crate) fn queue(&self) -> &Queue {
        &self.queue
    }

    /// Records what a request carried.
    pub(crate) fn observe(&self, observation: Observation) {
        self.observed.record(observation);
    }

    /// What the most recent requests carried, oldest first (at most 64).
    pub fn observed(&self) -> Vec<Observation> {
        self.observed.list()
    }

    // --- ID tokens --------------------------------------------------------------------------

    /// Mints an ID token for `grant`, with `at_hash` / `c_hash` when an access token / code is
    /// issued with it, encrypted when the client asks for envelopes.
    pub(crate) fn id_token(
        &self,
        client: &Client,
        grant: &Grant,
        nonce: Option<&Nonce>,
        access_token: Option<&str>,
        code: Option<&str>,
    ) -> Result<String, OAuthError> {
        let mut claims = IdTokenClaims::for_persona(
            &grant.persona,
            &self.issuer,
            &client.id,
            grant.scopes.claim_scopes(),
            self.now(),
            if self.lapses(Lapse::LongLivedIdToken) {
                7 * 86_400
            } else {
                self.config.tokens.id_token_lifetime_secs
            },
        );
        claims.at_hash = access_token.map(left_half_sha256);
        claims.c_hash = code.map(left_half_sha256);
        claims.nonce = nonce.cloned();
        let queued = self.queue.take(&client.id, &grant.persona.id);
        if queued.is_empty() {
            return self.seal(client, &claims);
        }
        let Ok(serde_json::Value::Object(mut members)) = serde_json::to_value(&claims) else {
            return Err(OAuthError::ServerError);
        };
        for (name, value) in queued.into_iter().flatten() {
            members.insert(name, value);
        }
        self.seal(client, &members)
    }

    /// Signs `claims` with the active key, then encrypts for the client if it wants envelopes.
    /// With a kept token or `mutate` faults in force, that token is issued or one is forged.
    pub(crate) fn seal<T: Serialize>(
        &self,
        client: &Client,
        claims: &T,
    ) -> Result<String, OAuthError> {
        let faults = self.faults();
        if let Some(template) = &faults.token {
            let active = self.active_key()?;
            let token = mint::from_template(template, &self.issuer, &active, client, claims)?;
            return Ok(self.issued(token));
        }
        if !faults.mutate.is_empty() {
            let genuine = self.active_key()?;
            let forged = mint::forge(&faults.mutate, &genuine, client, claims, self.now())?;
            return Ok(self.issued(forged));
        }
        let signer = self.key_ring().signer().ok_or(OAuthError::ServerError)?;
        let signed = self.issued(mint::sign(&signer, claims)?);
        mint::envelope(client, signed)
    }

    /// Records an ID token as issued (before any envelope), and hands it back.
    fn issued(&self, id_token: String) -> String {
        self.observed.record(Observation::Issued {
            id_token: id_token.clone(),
        });
        id_token
    }

    // --- codes, access and refresh tokens ---------------------------------------------------

    /// Issues an access token that carries its grant.
    pub(crate) fn issue_access_token(&self, grant: &Grant) -> String {
        self.issuance
            .issue_access_token(grant, &self.registry(), self.now())
    }

    /// The grant behind a live access token this provider issued and nobody revoked.
    pub(crate) fn access_grant(&self, token: &str) -> Option<Grant> {
        self.access_grant_expiring(token).map(|(grant, _)| grant)
    }

    /// The same, with when the token expires (Unix seconds).
    pub(crate) fn access_grant_expiring(&self, token: &str) -> Option<(Grant, i64)> {
        self.issuance
            .access_grant(token, &self.registry(), self.now())
    }

    /// Issues a refresh token for `grant`.
    pub(crate) fn issue_refresh_token(&self, grant: &Grant) -> String {
        self.issuance.issue_refresh_token(grant, self.now())
    }

    /// The grant of a live refresh token; taken (single use) when `take`.
    pub(crate) fn refresh_grant(&self, token: &str, take: bool) -> Option<Grant> {
        self.issuance.refresh_grant(token, self.now(), take)
    }

    /// Issues an authorization code, pending until redeemed.
    pub(crate) fn issue_code(&self, code: CodeGrant) -> String {
        self.issuance.issue_code(code, self.now())
    }

    /// Redeems a pending code (single use unless `reusable`).
    pub(crate) fn redeem_code(&self, code: &str, reusable: bool) -> Option<CodeGrant> {
        self.issuance.redeem_code(code, self.now(), reusable)
    }

    /// The grant id of a code issued here, within its lifetime, no longer pending.
    pub(crate) fn replayed_code(&self, code: &str) -> Option<String> {
        self.issuance.replayed_code(code, self.now())
    }

    /// Revokes every token of one authorization (how many refresh tokens went, for the log).
    pub(crate) fn revoke_grant(&self, grant_id: &str) -> usize {
        self.issuance.revoke_grant(grant_id, self.now())
    }

    // --- sign-in requests and sessions ------------------------------------------------------

    /// Keeps `request` while the login page is open; the page's request id.
    pub(crate) fn hold_login(&self, request: AuthRequest) -> String {
        let id = random_token(16);
        let now = self.now();
        self.logins.insert(
            id.clone(),
            request,
            now + self.config.tokens.login_lifetime_secs,
            now,
        );
        id
    }

    /// The sign-in request a login page shows, while open.
    pub(crate) fn pending_login(&self, id: &str) -> Option<AuthRequest> {
        self.logins.get(id, self.now())
    }

    /// Closes a sign-in request: the first to take it wins.
    pub(crate) fn take_login(&self, id: &str) -> Option<AuthRequest> {
        self.logins.take(id, self.now())
    }

    /// The sign-in cookie's name.
    pub(crate) fn session_cookie(&self) -> &str {
        &self.session_cookie
    }

    /// Remembers who signed in; the `Set-Cookie` value: `HttpOnly`, `SameSite=Lax` (sent on the
    /// same site's silent `prompt=none` frames, never cross-site), `Secure` over HTTPS.
    pub(crate) fn start_session(&self, persona: Arc<Persona>) -> String {
        let id = random_token(24);
        let now = self.now();
        let lifetime = self.config.tokens.session_lifetime_secs;
        self.sessions
            .insert(id.clone(), persona, now + lifetime, now);
        let secure = if self.public_base.starts_with("https:") {
            "; Secure"
        } else {
            ""
        };
        format!(
            "{}={id}; Path=/; Max-Age={lifetime}; HttpOnly; SameSite=Lax{secure}",
            self.session_cookie
        )
    }

    /// Who signed in with this session cookie value, while the session lasts.
    pub(crate) fn session(&self, id: &str) -> Option<Arc<Persona>> {
        self.sessions.get(id, self.now())
    }

    // --- device authorizations --------------------------------------------------------------

    /// Keeps a device authorization under its device code and its user code.
    pub(crate) fn hold_device(&self, device_code: &str, device: DeviceGrant) {
        let now = self.now();
        let until = now + self.config.tokens.device_code_lifetime_secs;
        let user_code = device.user_code.clone();
        self.devices
            .insert(device_code.to_owned(), device, until, now);
        self.user_codes
            .insert(user_code, device_code.to_owned(), until, now);
    }

    /// Changes a device authorization in place; what `change` returns, if it is still there.
    pub(crate) fn update_device<T>(
        &self,
        device_code: &str,
        change: impl FnOnce(&mut DeviceGrant) -> T,
    ) -> Option<T> {
        self.devices.update(device_code, self.now(), change)
    }

    /// Ends a device authorization.
    pub(crate) fn take_device(&self, device_code: &str) -> Option<DeviceGrant> {
        self.devices.take(device_code, self.now())
    }

    /// The device code a user code stands for, while it lasts.
    pub(crate) fn device_code_for(&self, user_code: &str) -> Option<String> {
        self.user_codes.get(user_code, self.now())
    }

    /// A user code is used: it stands for nothing from now on.
    pub(crate) fn forget_user_code(&self, user_code: &str) {
        self.user_codes.take(user_code, self.now());
    }

    /// How many entries each store holds.
    pub fn store_sizes(&self) -> StoreSizes {
        let (codes, edited_grants, refresh_tokens, revoked_grants) = self.issuance.sizes();
        StoreSizes {
            codes,
            edited_grants,
            refresh_tokens,
            logins: self.logins.len(),
            devices: self.devices.len(),
            revoked_grants,
        }
    }
}
