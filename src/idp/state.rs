//! The provider's state: configuration resolved into clients, personas and keys, the stores,
//! and the issuing of codes and tokens that every grant shares.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::body::Bytes;

use super::config::{ClientConfig, ConfigError, IdpConfig};
use super::error::OAuthError;
use super::faults::{Faults, Lapse};
use super::scope::Scopes;
use super::sealed;
use crate::claims::{ClientId, IdTokenClaims, Issuer, Nonce, Persona, Personas};
use crate::clock::Clock;
use crate::jose::{left_half_sha256, Encrypter, Signer};
use crate::keys::{self, Kid, RsaKey, SigningKey};
use crate::store::Store;

/// A registered client with its encrypter built once.
#[derive(Debug)]
pub(crate) struct Client {
    pub(crate) config: ClientConfig,
    pub(crate) id: ClientId,
    pub(crate) encrypter: Option<Encrypter>,
    /// The platform key its ID tokens are encrypted to, when it names one: kept envelopes
    /// (`faults.token`) are sealed to it too.
    pub(crate) platform_key: Option<RsaKey>,
}

impl Client {
    /// A client from its configuration, with its encrypter built (the platform key it encrypts
    /// to read from `public_key`, or the fixture platform key).
    pub(crate) fn new(config: ClientConfig) -> Result<Self, String> {
        let platform_key = match config
            .encrypt_id_token
            .as_ref()
            .and_then(|e| e.public_key.as_ref())
        {
            None => None,
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                Some(
                    RsaKey::from_public_pem_or_base64(&text)
                        .map_err(|e| format!("{}: {e}", path.display()))?,
                )
            }
        };
        let encrypter = match &config.encrypt_id_token {
            None => None,
            Some(enc) => {
                let key = match &platform_key {
                    Some(key) => key.clone(),
                    None => keys::fixture_platform_key().map_err(|e| e.to_string())?,
                };
                Some(Encrypter::new(&key, enc.alg, enc.enc).map_err(|e| e.to_string())?)
            }
        };
        Ok(Self {
            id: ClientId::new(&config.client_id),
            config,
            encrypter,
            platform_key,
        })
    }

    /// Whether `uri` is one this client may be redirected to.
    pub(crate) fn accepts_redirect(&self, uri: &str) -> bool {
        if self.config.redirect_uris.iter().any(|r| r == uri) {
            return true;
        }
        self.config.allow_loopback_redirects && is_loopback_uri(uri)
    }
}

/// RFC 8252 §7.3: a loopback redirect on any port. Userinfo, fragments and anything but the
/// literal loopback hosts are refused, so `http://127.0.0.1@evil.example/` never passes.
pub(crate) fn is_loopback_uri(uri: &str) -> bool {
    let Ok(url) = url::Url::parse(uri) else {
        return false;
    };
    if !matches!(url.scheme(), "http" | "https")
        || !url.username().is_empty()
        || url.password().is_some()
        || url.fragment().is_some()
    {
        return false;
    }
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(domain)) => domain == "localhost",
        None => false,
    }
}

/// The published signing keys (newest first; the first one signs) and their JSON forms, built
/// once per change rather than per request.
#[derive(Debug)]
pub(crate) struct KeyRing {
    pub(crate) keys: Vec<(SigningKey, Arc<Signer>)>,
    pub(crate) jwks_json: Bytes,
    pub(crate) pem_json: Bytes,
}

impl KeyRing {
    fn new(keys: Vec<SigningKey>) -> Result<Self, String> {
        let keys = keys
            .into_iter()
            .map(|k| Signer::rs256(&k).map(|s| (k, Arc::new(s))))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        let jwks = serde_json::json!({
            "keys": keys.iter().map(|(k, _)| k.key().jwk("sig", "RS256")).collect::<Vec<_>>()
        });
        let pem: serde_json::Map<String, serde_json::Value> = keys
            .iter()
            .map(|(k, _)| (k.kid().to_string(), k.cert_pem().into()))
            .collect();
        Ok(Self {
            jwks_json: Bytes::from(serde_json::to_vec_pretty(&jwks).unwrap_or_default()),
            pem_json: Bytes::from(serde_json::to_vec_pretty(&pem).unwrap_or_default()),
            keys,
        })
    }

    pub(crate) fn signer(&self) -> Option<Arc<Signer>> {
        self.keys.first().map(|(_, s)| Arc::clone(s))
    }
}

/// The clients and personas in force. The admin API builds a changed copy and swaps it in, so
/// a request sees one consistent registry and a change is seen by the next request.
#[derive(Debug, Clone)]
pub(crate) struct Registry {
    pub(crate) clients: HashMap<String, Arc<Client>>,
    /// The personas that can sign in, in order.
    pub(crate) personas: Personas,
    /// Every persona that was ever live, shared, append-only: an access token names its
    /// persona by position here, so a persona replaced or deleted later still answers for the
    /// tokens issued before.
    pub(crate) shared: Vec<Arc<Persona>>,
}

impl Registry {
    /// How many persona versions are kept for the tokens that name them.
    pub(crate) const MAX_SHARED: usize = 4096;

    /// The live persona for a `login_hint` (id, sub or e-mail), shared.
    pub(crate) fn find(&self, hint: &str) -> Option<Arc<Persona>> {
        let found = self.personas.find(hint)?;
        self.shared.iter().rev().find(|p| p.id == found.id).cloned()
    }
}

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

/// The whole provider, shared by every request.
#[derive(Debug)]
pub struct IdpState {
    pub(crate) config: IdpConfig,
    pub(crate) issuer: Issuer,
    /// Where clients reach the endpoints (`public_url`, else the issuer).
    pub(crate) public_base: String,
    /// The sign-in cookie's name: a brand's is its own, so signing in at one brand is not
    /// signing in at another.
    pub(crate) session_cookie: String,
    /// Clients and personas: read as a snapshot per request, replaced whole by the admin API.
    pub(crate) registry: RwLock<Arc<Registry>>,
    pub(crate) keys: RwLock<KeyRing>,
    pub(crate) faults: RwLock<Arc<Faults>>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) discovery_json: Bytes,
    pub(crate) codes: Store<CodeGrant>,
    /// Access tokens and codes carry what they need (`sealed.rs`); this keys their MAC.
    token_key: [u8; 32],
    /// Grants revoked while their access tokens could still be live.
    revoked_grants: Store<()>,
    /// Grants whose persona was edited at the login page, which a token cannot name by index.
    edited_grants: Store<Grant>,
    pub(crate) refresh_tokens: Store<Grant>,
    pub(crate) logins: Store<super::authorize::AuthRequest>,
    pub(crate) devices: Store<DeviceGrant>,
    /// user_code -> device_code.
    pub(crate) user_codes: Store<String>,
    /// Sign-in sessions (the session cookie's value -> who signed in, as edited).
    pub(crate) sessions: Store<Arc<Persona>>,
    /// What recent requests carried, for scenarios to assert.
    pub(crate) observed: super::observed::Observations,
    /// Claims queued for next logins (`POST /_harness/queue`).
    pub(crate) queue: super::queue::Queue,
    /// The platform IDP's accounts served beside this provider, for the overview; set once by
    /// whoever runs the platform side.
    pub(crate) platform_accounts: std::sync::OnceLock<Vec<crate::workspace::AccountOverview>>,
}

pub(crate) use crate::store::random_token;

/// Brand `name`'s own signing keys: derived from its name, the same at every start; read from
/// `cache` when an earlier start left them there, written there otherwise.
fn brand_keys(name: &str, cache: Option<&std::path::Path>) -> Result<Vec<SigningKey>, String> {
    let files = |dir: &std::path::Path| {
        [1, 2].map(|i| dir.join(format!("brand-{name}-signing-{i}.key.pem")))
    };
    if let Some(dir) = cache {
        let cached: Option<Vec<SigningKey>> = files(dir)
            .iter()
            .map(|path| {
                let pem = std::fs::read_to_string(path).ok()?;
                let key = RsaKey::from_private_pem(&pem).ok()?;
                SigningKey::new(key, None).ok()
            })
            .collect();
        if let Some(keys) = cached {
            return Ok(keys);
        }
    }
    let keys = keys::seeded_signing_keys(&format!("brand {name}")).map_err(|e| e.to_string())?;
    if let Some(dir) = cache {
        // A cache only: failing to write it costs the next start some time, nothing else.
        if std::fs::create_dir_all(dir).is_ok() {
            for (key, path) in keys.iter().zip(files(dir)) {
                if let Some(pem) = key.key().private_pem() {
                    let _ = keys::tls::write(&path, pem, true);
                }
            }
        }
    }
    Ok(keys)
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
        let invalid = |m: String| ConfigError::Invalid(m);
        let signing = if config.keys.signing.is_empty() {
            match &config.brand {
                Some(name) => brand_keys(name, config.key_cache.as_deref())
                    .map_err(|e| invalid(format!("brand {name}: keys: {e}")))?,
                None => keys::fixture_signing_keys()
                    .map_err(|e| invalid(format!("fixture keys: {e}")))?,
            }
        } else {
            config
                .keys
                .signing
                .iter()
                .map(|path| {
                    let pem = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
                        path: path.clone(),
                        source,
                    })?;
                    RsaKey::from_private_pem(&pem)
                        .and_then(|k| SigningKey::new(k, None))
                        .map_err(|e| invalid(format!("{}: {e}", path.display())))
                })
                .collect::<Result<Vec<_>, _>>()?
        };
        let mut signing = signing;
        for (key, kid) in signing.iter_mut().zip(&config.keys.kids) {
            *key = key.clone().with_kid(Kid::new(kid.clone()));
        }
        signing.extend(config.keys.also_publish.iter().cloned());
        let keys = KeyRing::new(signing).map_err(invalid)?;

        let mut clients: HashMap<String, Arc<Client>> = HashMap::new();
        for client in &config.clients {
            let built = Client::new(client.clone())
                .map_err(|e| invalid(format!("client {}: {e}", client.client_id)))?;
            clients.insert(client.client_id.clone(), Arc::new(built));
        }
        let personas = config.load_personas()?;
        let public_base = config
            .public_url
            .clone()
            .unwrap_or_else(|| issuer.as_str().to_owned());
        let discovery_json =
            super::discovery::document(&issuer, &public_base, config.discovery.rfc9207);
        let cap = config.limits.max_store_entries;

        Ok(Self {
            faults: RwLock::new(Arc::new(config.faults.clone())),
            registry: RwLock::new(Arc::new(Registry {
                clients,
                shared: personas.list.iter().cloned().map(Arc::new).collect(),
                personas,
            })),
            issuer,
            public_base,
            session_cookie: match &config.brand {
                Some(name) => format!("oidc_harness_session_{}", name.replace('-', "_")),
                None => "oidc_harness_session".to_owned(),
            },
            keys: RwLock::new(keys),
            clock,
            discovery_json,
            codes: Store::new(cap),
            token_key: {
                let mut key = [0u8; 32];
                rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
                key
            },
            revoked_grants: Store::new(cap),
            edited_grants: Store::new(cap),
            refresh_tokens: Store::new(cap),
            logins: Store::new(cap),
            devices: Store::new(cap),
            user_codes: Store::new(cap),
            sessions: Store::new(cap),
            observed: Default::default(),
            platform_accounts: std::sync::OnceLock::new(),
            queue: Default::default(),
            config,
        })
    }

    /// What the most recent requests carried, oldest first (at most 64).
    pub fn observed(&self) -> Vec<super::Observation> {
        self.observed.list()
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &IdpConfig {
        &self.config
    }

    /// The issuer.
    pub fn issuer(&self) -> &Issuer {
        &self.issuer
    }

    /// The personas this provider can log in now.
    pub fn personas(&self) -> Personas {
        self.registry().personas.clone()
    }

    /// The clients and personas in force, as one snapshot.
    pub(crate) fn registry(&self) -> Arc<Registry> {
        Arc::clone(
            &self
                .registry
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
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
        self.registry().clients.get(id).cloned()
    }

    /// The shared persona for a `login_hint` (id, sub or e-mail).
    pub(crate) fn find_persona(&self, hint: &str) -> Option<Arc<Persona>> {
        self.registry().find(hint)
    }

    pub(crate) fn now(&self) -> i64 {
        self.clock.now()
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

    pub(crate) fn key_ring(&self) -> std::sync::RwLockReadGuard<'_, KeyRing> {
        self.keys
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The kids in publication order (the first signs).
    pub fn published_kids(&self) -> Vec<Kid> {
        self.key_ring()
            .keys
            .iter()
            .map(|(k, _)| k.kid().clone())
            .collect()
    }

    /// Puts `key` first (it signs from now on) and keeps up to `keys.max_published` keys
    /// published, dropping the oldest.
    pub fn rotate_to(&self, key: SigningKey) -> Result<Kid, String> {
        let kid = key.kid().clone();
        let mut ring = self
            .keys
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut keys: Vec<SigningKey> = std::iter::once(key)
            .chain(ring.keys.iter().map(|(k, _)| k.clone()))
            .collect();
        keys.truncate(self.config.keys.max_published);
        *ring = KeyRing::new(keys)?;
        tracing::debug!(%kid, "signing key rotated");
        Ok(kid)
    }

    /// Generates a new signing key and rotates to it.
    pub fn rotate(&self) -> Result<Kid, String> {
        let key = SigningKey::generate().map_err(|e| e.to_string())?;
        self.rotate_to(key)
    }

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
    /// With `mutate` faults in force, the token is forged instead (`jose::malform`).
    pub(crate) fn seal<T: serde::Serialize>(
        &self,
        client: &Client,
        claims: &T,
    ) -> Result<String, OAuthError> {
        let faults = self.faults();
        if let Some(template) = &faults.token {
            return self.issue_template(client, template, claims);
        }
        let mutations = &faults.mutate;
        if !mutations.is_empty() {
            // Loaded only when forging: serve's start-up never pays for it.
            let attacker = keys::fixture_attacker_key().map_err(|_| OAuthError::ServerError)?;
            let genuine = self.active_key()?;
            let serde_json::Value::Object(claims) =
                serde_json::to_value(claims).map_err(|_| OAuthError::ServerError)?
            else {
                return Err(OAuthError::ServerError);
            };
            let header = serde_json::Map::from_iter([
                ("alg".to_owned(), "RS256".into()),
                ("kid".to_owned(), genuine.kid().as_str().into()),
                ("typ".to_owned(), "JWT".into()),
            ]);
            let keys = crate::jose::malform::ForgeKeys {
                genuine: &genuine,
                unpublished: &attacker,
                client_secret: client.config.client_secret.expose(),
                envelope: client.encrypter.as_ref(),
                now: self.now(),
            };
            let forged =
                crate::jose::malform::forge(mutations, header, claims, &keys).map_err(|err| {
                    tracing::error!(%err, "forging failed");
                    OAuthError::ServerError
                })?;
            self.observed.record(super::observed::Observation::Issued {
                id_token: forged.clone(),
            });
            return Ok(forged);
        }
        let signer = self.key_ring().signer().ok_or(OAuthError::ServerError)?;
        let signed = signer.sign(claims).map_err(|err| {
            tracing::error!(%err, "signing failed");
            OAuthError::ServerError
        })?;
        self.observed.record(super::observed::Observation::Issued {
            id_token: signed.clone(),
        });
        match &client.encrypter {
            None => Ok(signed),
            Some(encrypter) => encrypter.encrypt(&signed).map_err(|err| {
                tracing::error!(%err, "encryption failed");
                OAuthError::ServerError
            }),
        }
    }

    /// The active signing key.
    fn active_key(&self) -> Result<SigningKey, OAuthError> {
        self.key_ring()
            .keys
            .first()
            .map(|(key, _)| key.clone())
            .ok_or(OAuthError::ServerError)
    }

    /// Issues a kept token: the template's text with this request's issuer, client, active kid,
    /// nonce and hashes in its placeholders.
    fn issue_template<T: serde::Serialize>(
        &self,
        client: &Client,
        template: &crate::jose::template::TokenTemplate,
        claims: &T,
    ) -> Result<String, OAuthError> {
        let claims = serde_json::to_value(claims).map_err(|_| OAuthError::ServerError)?;
        let member = |name: &str| claims.get(name).and_then(serde_json::Value::as_str);
        let published = self.active_key()?;
        let fixture = |e: keys::KeyError| {
            tracing::error!(%e, "fixture key");
            OAuthError::ServerError
        };
        let unpublished = keys::fixture_attacker_key().map_err(fixture)?;
        // The client's own platform key when its configuration names one, as its other
        // envelopes are sealed.
        let fixture_platform;
        let platform = match &client.platform_key {
            Some(key) => key,
            None => {
                fixture_platform = keys::fixture_platform_key().map_err(fixture)?;
                &fixture_platform
            }
        };
        let live = crate::jose::template::Live {
            iss: self.issuer.as_str(),
            client_id: client.id.as_str(),
            kid: published.kid().as_str(),
            nonce: member("nonce"),
            at_hash: member("at_hash"),
            c_hash: member("c_hash"),
        };
        let token = template
            .render(
                &live,
                &crate::jose::template::TemplateKeys {
                    published: &published,
                    unpublished: &unpublished,
                    platform,
                    other: unpublished.key(),
                },
            )
            .map_err(|err| {
                tracing::error!(%err, "issuing the kept token failed");
                OAuthError::ServerError
            })?;
        self.observed.record(super::observed::Observation::Issued {
            id_token: token.clone(),
        });
        Ok(token)
    }

    /// Issues an access token shaped like Google's (`ya29.a0` + base64url) that carries its
    /// grant, so nothing is stored per token.
    pub(crate) fn issue_access_token(&self, grant: &Grant) -> String {
        let now = self.now();
        let expires_at = now + self.config.tokens.access_token_lifetime_secs;
        let persona = self
            .registry()
            .shared
            .iter()
            .position(|p| Arc::ptr_eq(p, &grant.persona))
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

    /// The grant behind a live access token this provider issued and nobody revoked.
    pub(crate) fn access_grant(&self, token: &str) -> Option<Grant> {
        self.access_grant_expiring(token).map(|(grant, _)| grant)
    }

    /// The same, with when the token expires (Unix seconds).
    pub(crate) fn access_grant_expiring(&self, token: &str) -> Option<(Grant, i64)> {
        let claims = sealed::read(&self.token_key, token)?;
        let now = self.now();
        if claims.expires_at <= now || self.revoked_grants.get(&claims.grant_id, now).is_some() {
            return None;
        }
        if claims.persona == sealed::EDITED {
            let grant = self.edited_grants.get(&claims.grant_id, now)?;
            return Some((grant, claims.expires_at));
        }
        let grant = Grant {
            client_id: ClientId::new(claims.client_id),
            persona: Arc::clone(self.registry().shared.get(usize::from(claims.persona))?),
            scopes: claims.scopes,
            grant_id: Arc::from(claims.grant_id),
        };
        Some((grant, claims.expires_at))
    }

    /// Issues a refresh token shaped like Google's (`1//0` + base64url).
    pub(crate) fn issue_refresh_token(&self, grant: &Grant) -> String {
        let token = format!("1//0{}", random_token(72));
        let now = self.now();
        let expires = now + self.config.tokens.refresh_token_lifetime_secs;
        self.refresh_tokens
            .insert(token.clone(), grant.clone(), expires, now);
        token
    }

    /// Issues an authorization code shaped like Google's (`4/0A`, 73 characters) that names
    /// its grant (`sealed.rs`), and keeps it pending until redeemed.
    pub(crate) fn issue_code(&self, code: CodeGrant) -> String {
        let now = self.now();
        let expires_at = now + self.config.tokens.code_lifetime_secs;
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

    /// The grant of a code this provider issued, still within its lifetime, that is no longer
    /// pending: a replay (RFC 6749 §4.1.2).
    pub(crate) fn replayed_code(&self, code: &str) -> Option<String> {
        let claims = sealed::read_code(&self.token_key, code)?;
        (claims.expires_at > self.now()).then_some(claims.grant_id)
    }

    /// Revokes every token of one authorization: its access tokens stop working and its refresh
    /// tokens are dropped (how many, for the log).
    pub(crate) fn revoke_grant(&self, grant_id: &str) -> usize {
        let now = self.now();
        let until = now + self.config.tokens.access_token_lifetime_secs;
        self.revoked_grants
            .insert(grant_id.to_owned(), (), until, now);
        self.edited_grants.take(grant_id, now);
        self.refresh_tokens
            .remove_where(|g| &*g.grant_id == grant_id)
    }

    /// How many entries each store holds: `(codes, edited grants of access tokens, refresh,
    /// logins, devices)`. Access tokens themselves are not stored. Sessions and queued claims
    /// are bounded too.
    pub fn store_sizes(&self) -> [usize; 5] {
        [
            self.codes.len(),
            self.edited_grants.len(),
            self.refresh_tokens.len(),
            self.logins.len(),
            self.devices.len(),
        ]
    }

    /// The faults in force (a shared snapshot: reading them copies nothing).
    pub fn faults(&self) -> Arc<Faults> {
        Arc::clone(
            &self
                .faults
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
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
}
