//! Claims queued for next logins (`POST /_harness/queue`): plain data, each set used once.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::claims::ClientId;

/// Whose next login a queued claim set is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum QueueFor {
    /// The next ID token issued to this client.
    Client(String),
    /// The next ID token issued for this persona.
    Persona(String),
}

/// Claims waiting for a login.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Queued {
    #[serde(flatten)]
    pub(crate) target: QueueFor,
    /// Members set in the ID token, over what the persona gives.
    pub(crate) claims: Map<String, Value>,
}

/// The queue already holds [`Queue::CAPACITY`] claim sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct QueueFull;

/// Claim sets queued for next logins, in order; each is used once, then gone.
#[derive(Debug, Default)]
pub(crate) struct Queue {
    entries: Mutex<VecDeque<Queued>>,
    /// How many are queued, read without the lock on every issuance.
    len: AtomicUsize,
}

impl Queue {
    /// The most claim sets waiting at once.
    pub(crate) const CAPACITY: usize = 1024;

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Queued>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a claim set; how many are waiting now.
    pub(crate) fn push(&self, queued: Queued) -> Result<usize, QueueFull> {
        let mut entries = self.lock();
        if entries.len() >= Self::CAPACITY {
            return Err(QueueFull);
        }
        entries.push_back(queued);
        self.len.store(entries.len(), Ordering::Release);
        Ok(entries.len())
    }

    /// Takes the first set waiting for `persona`, then the first for `client`: the claims an
    /// ID token for them gets on top of its own, the client's last.
    pub(crate) fn take(&self, client: &ClientId, persona: &str) -> Vec<Map<String, Value>> {
        if self.len.load(Ordering::Acquire) == 0 {
            return Vec::new();
        }
        let mut entries = self.lock();
        let mut taken = Vec::new();
        for wanted in [
            QueueFor::Persona(persona.to_owned()),
            QueueFor::Client(client.as_str().to_owned()),
        ] {
            if let Some(at) = entries.iter().position(|q| q.target == wanted) {
                if let Some(queued) = entries.remove(at) {
                    taken.push(queued.claims);
                }
            }
        }
        self.len.store(entries.len(), Ordering::Release);
        taken
    }

    /// What is waiting, in order.
    pub(crate) fn list(&self) -> Vec<Queued> {
        self.lock().iter().cloned().collect()
    }

    /// Drops everything waiting.
    pub(crate) fn clear(&self) {
        let mut entries = self.lock();
        entries.clear();
        self.len.store(0, Ordering::Release);
    }
}
