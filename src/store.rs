//! A bounded, expiring map for codes, tokens, sign-in requests and conversations: used by the
//! provider and the platform alike, so it lives below both.
//!
//! The lock is a plain `std::sync::Mutex` held only for map operations, never across `.await`.

use std::collections::HashMap;
use std::sync::Mutex;

/// Random base64url text from `bytes` random bytes: codes, tokens and the keys the stores are
/// looked up by. They come from the thread's CSPRNG (ChaCha12, seeded and reseeded from the
/// OS), not from the OS for each one: a `getrandom` call per value was about 1.5 % of `serve`'s
/// CPU per code flow, which draws three.
pub(crate) fn random_token(bytes: usize) -> String {
    use base64::Engine as _;
    use rand::RngCore as _;
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// A map whose entries expire and whose size is capped.
#[derive(Debug)]
pub(crate) struct Store<T> {
    inner: Mutex<Inner<T>>,
    cap: usize,
}

#[derive(Debug)]
struct Inner<T> {
    entries: HashMap<String, Entry<T>>,
    inserts_since_purge: usize,
}

#[derive(Debug)]
struct Entry<T> {
    expires_at: i64,
    value: T,
}

impl<T: Clone> Store<T> {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                inserts_since_purge: 0,
            }),
            cap: cap.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<T>> {
        // A panic while holding this lock cannot leave a map half-updated, so a poisoned lock
        // is still safe to use.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Inserts `value` under `key` until `expires_at`. When the store is full, expired entries
    /// are purged first and then the entry closest to expiry is dropped.
    pub(crate) fn insert(&self, key: String, value: T, expires_at: i64, now: i64) {
        let mut inner = self.lock();
        self.insert_into(&mut inner, key, value, expires_at, now);
    }

    /// Inserts `value` under `key` unless a live entry is there already, in one step under the
    /// lock, so two callers cannot both insert; returns whether it inserted.
    pub(crate) fn insert_new(&self, key: String, value: T, expires_at: i64, now: i64) -> bool {
        let mut inner = self.lock();
        if inner.entries.get(&key).is_some_and(|e| e.expires_at > now) {
            return false;
        }
        self.insert_into(&mut inner, key, value, expires_at, now);
        true
    }

    fn insert_into(&self, inner: &mut Inner<T>, key: String, value: T, expires_at: i64, now: i64) {
        inner.inserts_since_purge += 1;
        if inner.entries.len() >= self.cap || inner.inserts_since_purge >= 1024 {
            inner.entries.retain(|_, e| e.expires_at > now);
            inner.inserts_since_purge = 0;
        }
        if inner.entries.len() >= self.cap {
            let oldest = inner
                .entries
                .iter()
                .min_by_key(|(_, e)| e.expires_at)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                inner.entries.remove(&oldest);
                tracing::warn!(
                    cap = self.cap,
                    "store full: dropped the entry closest to expiry"
                );
            }
        }
        inner.entries.insert(key, Entry { expires_at, value });
    }

    /// Removes and returns the live entry under `key`: the single-use read.
    pub(crate) fn take(&self, key: &str, now: i64) -> Option<T> {
        let entry = self.lock().entries.remove(key)?;
        (entry.expires_at > now).then_some(entry.value)
    }

    /// A copy of the live entry under `key`.
    pub(crate) fn get(&self, key: &str, now: i64) -> Option<T> {
        let inner = self.lock();
        let entry = inner.entries.get(key)?;
        (entry.expires_at > now).then(|| entry.value.clone())
    }

    /// Changes the live entry under `key` in place; returns what `f` returned.
    pub(crate) fn update<R>(&self, key: &str, now: i64, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        let mut inner = self.lock();
        let entry = inner.entries.get_mut(key)?;
        (entry.expires_at > now).then(|| f(&mut entry.value))
    }

    /// Removes every entry for which `doomed` is true; returns how many went.
    pub(crate) fn remove_where(&self, doomed: impl Fn(&T) -> bool) -> usize {
        let mut inner = self.lock();
        let before = inner.entries.len();
        inner.entries.retain(|_, e| !doomed(&e.value));
        before - inner.entries.len()
    }

    /// Entries held, live or not yet purged.
    pub(crate) fn len(&self) -> usize {
        self.lock().entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_is_single_use_and_honours_expiry() {
        let store = Store::new(10);
        store.insert("a".into(), 1, 100, 0);
        assert_eq!(store.get("a", 99), Some(1));
        assert_eq!(store.take("a", 99), Some(1));
        assert_eq!(store.take("a", 99), None);
        store.insert("b".into(), 2, 100, 0);
        assert_eq!(store.take("b", 100), None, "expired at exactly expires_at");
    }

    #[test]
    fn the_cap_holds_and_expired_entries_go_first() {
        let store = Store::new(3);
        store.insert("old".into(), 0, 10, 0);
        store.insert("x".into(), 1, 1000, 0);
        store.insert("y".into(), 2, 2000, 0);
        // "old" has expired by t=50 and is purged to make room.
        store.insert("z".into(), 3, 3000, 50);
        assert_eq!(store.len(), 3);
        assert_eq!(store.get("x", 50), Some(1));
        // Full of live entries: the one closest to expiry ("x") is dropped.
        store.insert("w".into(), 4, 4000, 50);
        assert_eq!(store.len(), 3);
        assert_eq!(store.get("x", 50), None);
        assert_eq!(store.get("w", 50), Some(4));
    }

    #[test]
    fn insert_new_refuses_a_live_key_only() {
        let store = Store::new(10);
        assert!(store.insert_new("a".into(), 1, 100, 0));
        assert!(!store.insert_new("a".into(), 2, 200, 50), "live");
        assert_eq!(store.get("a", 50), Some(1), "the first stays");
        assert!(store.insert_new("a".into(), 3, 300, 100), "expired at 100");
        assert_eq!(store.get("a", 100), Some(3));
    }

    #[test]
    fn update_and_remove_where() {
        let store = Store::new(10);
        store.insert("a".into(), 1, 100, 0);
        store.insert("b".into(), 2, 100, 0);
        assert_eq!(
            store.update("a", 0, |v| {
                *v += 10;
                *v
            }),
            Some(11)
        );
        assert_eq!(store.remove_where(|v| *v > 10), 1);
        assert_eq!(store.len(), 1);
    }
}
