//! The clients and personas in force: registered clients with their encrypters built once,
//! the personas that can sign in, and every persona version a token may still name.

use std::collections::HashMap;
use std::sync::Arc;

use super::config::{ClientConfig, ConfigError, IdpConfig};
use crate::claims::{ClientId, Persona, Personas};
use crate::jose::Encrypter;
use crate::keys::{self, RsaKey};

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

/// The clients and personas in force. The admin API builds a changed copy and swaps it in, so
/// a request sees one consistent registry and a change is seen by the next request.
#[derive(Debug, Clone)]
pub(crate) struct Registry {
    clients: HashMap<String, Arc<Client>>,
    /// The personas that can sign in, in order.
    personas: Personas,
    /// Every persona that was ever live, shared, append-only: an access token names its
    /// persona by position here, so a persona replaced or deleted later still answers for the
    /// tokens issued before.
    shared: Vec<Arc<Persona>>,
}

impl Registry {
    /// How many persona versions are kept for the tokens that name them.
    pub(crate) const MAX_SHARED: usize = 4096;

    /// The configuration's clients, encrypters built, and its personas.
    pub(crate) fn load(config: &IdpConfig) -> Result<Self, ConfigError> {
        let mut clients: HashMap<String, Arc<Client>> = HashMap::new();
        for client in &config.clients {
            let built = Client::new(client.clone())
                .map_err(|e| ConfigError::Invalid(format!("client {}: {e}", client.client_id)))?;
            clients.insert(client.client_id.clone(), Arc::new(built));
        }
        let personas = config.load_personas()?;
        Ok(Self {
            clients,
            shared: personas.list.iter().cloned().map(Arc::new).collect(),
            personas,
        })
    }

    /// A registered client.
    pub(crate) fn client(&self, id: &str) -> Option<&Arc<Client>> {
        self.clients.get(id)
    }

    /// Every registered client, by client id.
    pub(crate) fn clients(&self) -> Vec<&Arc<Client>> {
        let mut clients: Vec<&Arc<Client>> = self.clients.values().collect();
        clients.sort_by(|a, b| a.config.client_id.cmp(&b.config.client_id));
        clients
    }

    /// The personas that can sign in, in order.
    pub(crate) fn personas(&self) -> &Personas {
        &self.personas
    }

    /// The live persona for a `login_hint` (id, sub or e-mail), shared.
    pub(crate) fn find(&self, hint: &str) -> Option<Arc<Persona>> {
        let found = self.personas.find(hint)?;
        self.shared.iter().rev().find(|p| p.id == found.id).cloned()
    }

    /// Where `persona` is kept for the tokens that name it, if it is this very copy.
    pub(crate) fn shared_index(&self, persona: &Arc<Persona>) -> Option<usize> {
        self.shared.iter().position(|p| Arc::ptr_eq(p, persona))
    }

    /// The persona version kept at `index`.
    pub(crate) fn shared(&self, index: usize) -> Option<&Arc<Persona>> {
        self.shared.get(index)
    }

    /// Creates (`true`) or replaces (`false`) a persona; a refusal says which member is at
    /// fault and changes nothing.
    pub(crate) fn put_persona(&mut self, persona: &Persona) -> Result<bool, String> {
        let others = self.personas.list.iter().filter(|p| p.id != persona.id);
        for other in others {
            if other.sub == persona.sub {
                return Err(format!("sub: {} is persona {:?}'s", persona.sub, other.id));
            }
            if persona.email.is_some() && other.email == persona.email {
                return Err(format!(
                    "email: {:?} is persona {:?}'s",
                    persona.email.as_deref().unwrap_or_default(),
                    other.id
                ));
            }
        }
        if self.shared.len() >= Self::MAX_SHARED {
            return Err(format!(
                "{} persona versions are kept for the tokens that name them; restart the server",
                Self::MAX_SHARED
            ));
        }
        self.shared.push(Arc::new(persona.clone()));
        let list = &mut self.personas.list;
        match list.iter_mut().find(|p| p.id == persona.id) {
            Some(slot) => {
                *slot = persona.clone();
                Ok(false)
            }
            None => {
                list.push(persona.clone());
                Ok(true)
            }
        }
    }

    /// Persona `id` can no longer sign in; whether there was one.
    pub(crate) fn remove_persona(&mut self, id: &str) -> bool {
        let before = self.personas.list.len();
        self.personas.list.retain(|p| p.id != id);
        self.personas.list.len() != before
    }

    /// Registers `client` under `id`; whether it is new.
    pub(crate) fn put_client(&mut self, id: &str, client: Client) -> bool {
        self.clients
            .insert(id.to_owned(), Arc::new(client))
            .is_none()
    }

    /// Unregisters client `id`; whether there was one.
    pub(crate) fn remove_client(&mut self, id: &str) -> bool {
        self.clients.remove(id).is_some()
    }
}
