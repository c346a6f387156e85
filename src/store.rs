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

/// Inserts between two purges of the expired entries.
const PURGE_EVERY: usize = 1024;

/// A store full of live entries makes room for this fraction of its cap (1/64) at once, so
/// that each insert into a flooded store does not cost a pass over all of it: with the
/// default cap of 100 000, one pass per 1 563 inserts instead of two per insert.
const EVICT_FRACTION: usize = 64;

#[derive(Debug)]
struct Inner<T> {
    entries: HashMap<String, Entry<T>>,
    inserts_since_purge: usize,
    /// Passes over every entry so far (purges, evictions, `remove_where`): what a flood costs.
    passes: u64,
    /// Inserts so far: the next entry's `seq`.
    inserted: u64,
}

#[derive(Debug)]
struct Entry<T> {
    expires_at: i64,
    /// The store's insert count when this entry went in: unique, and later for later entries.
    seq: u64,
    value: T,
}

impl<T: Clone> Store<T> {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                inserts_since_purge: 0,
                passes: 0,
                inserted: 0,
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

    /// Inserts `value` under `key` until `expires_at`; returns whether it replaced a live
    /// entry. When the store is full, expired entries are purged first; if it is still full,
    /// the 1/64 of its cap closest to expiry are dropped (at least one), with one warning.
    pub(crate) fn insert(&self, key: String, value: T, expires_at: i64, now: i64) -> bool {
        let mut inner = self.lock();
        let replaced = inner.entries.get(&key).is_some_and(|e| e.expires_at > now);
        self.insert_into(&mut inner, key, value, expires_at, now);
        replaced
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
        let full = inner.entries.len() >= self.cap && !inner.entries.contains_key(&key);
        if full || inner.inserts_since_purge >= PURGE_EVERY {
            inner.purge(now);
        }
        if inner.entries.len() >= self.cap && !inner.entries.contains_key(&key) {
            let dropped = inner.evict(self.cap.div_ceil(EVICT_FRACTION));
            tracing::warn!(
                cap = self.cap,
                dropped,
                "store full of live entries: dropped those closest to expiry"
            );
        }
        let seq = inner.inserted;
        inner.inserted += 1;
        inner.entries.insert(
            key,
            Entry {
                expires_at,
                seq,
                value,
            },
        );
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

    /// Removes every entry for which `doomed` is true, in a pass over all of them; returns how
    /// many went.
    pub(crate) fn remove_where(&self, doomed: impl Fn(&T) -> bool) -> usize {
        let mut inner = self.lock();
        inner.passes += 1;
        let before = inner.entries.len();
        inner.entries.retain(|_, e| !doomed(&e.value));
        before - inner.entries.len()
    }

    /// Entries held, live or not yet purged.
    pub(crate) fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Passes over every entry so far: purges, evictions and `remove_where`.
    #[cfg(test)]
    pub(crate) fn passes(&self) -> u64 {
        self.lock().passes
    }
}

impl<T> Inner<T> {
    /// Drops the expired entries.
    fn purge(&mut self, now: i64) {
        self.passes += 1;
        self.entries.retain(|_, e| e.expires_at > now);
        self.inserts_since_purge = 0;
    }

    /// Drops the `n` entries closest to expiry, the first inserted first among those that
    /// expire in the same second (all of them if there are fewer); returns how many went.
    fn evict(&mut self, n: usize) -> usize {
        self.passes += 1;
        let n = n.min(self.entries.len());
        let Some(last) = n.checked_sub(1) else {
            return 0;
        };
        let mut order: Vec<(i64, u64)> = self.entries.values().map(Entry::order).collect();
        let threshold = *order.select_nth_unstable(last).1;
        let before = self.entries.len();
        self.entries.retain(|_, e| e.order() > threshold);
        before - self.entries.len()
    }
}

impl<T> Entry<T> {
    /// The order entries are dropped in when the store is full: expiry, then insertion.
    fn order(&self) -> (i64, u64) {
        (self.expires_at, self.seq)
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
    fn a_flooded_store_makes_room_in_batches_not_a_pass_per_insert() {
        // 640 live entries, the first to expire first; 1/64 of the cap is 10.
        let store = Store::new(640);
        for i in 0..640 {
            store.insert(format!("k{i}"), i, 1_000 + i, 0);
        }
        let before = store.passes();
        store.insert("new".into(), -1, 9_999, 0);
        assert_eq!(store.len(), 631, "ten went to make room");
        assert_eq!(store.get("k9", 0), None);
        assert_eq!(store.get("k10", 0), Some(10));
        assert_eq!(store.passes() - before, 2, "one purge, one eviction");
        // The next nine fit without another pass over the store.
        for i in 0..9 {
            store.insert(format!("more{i}"), i, 9_999, 0);
        }
        assert_eq!((store.len(), store.passes() - before), (640, 2));
        // 10 000 inserts into a full store: two passes per ten, not two per insert.
        for i in 0..10_000 {
            store.insert(format!("flood{i}"), i, 20_000 + i, 0);
        }
        assert_eq!(store.len(), 640);
        assert!(
            store.passes() - before <= 2 + 2 * 1_000 + 10,
            "{}",
            store.passes()
        );
        assert_eq!(store.get("flood9999", 0), Some(9_999), "the newest stays");
        assert_eq!(store.lock().evict(5), 5, "evict says how many went");
        assert_eq!(store.lock().evict(1_000), 635, "at most all of them");
    }

    #[test]
    fn a_store_far_from_full_still_purges_every_1024_inserts() {
        let store = Store::new(10_000);
        // Expires at t=50: gone at the purge the 1 024th insert makes at t=50.
        store.insert("old".into(), 0, 50, 0);
        for i in 1..1023 {
            store.insert(format!("k{i}"), i, 1_000, 50);
        }
        assert_eq!(store.len(), 1_023, "no purge yet");
        store.insert("k1023".into(), 1023, 1_000, 50);
        assert_eq!(store.len(), 1_023, "the purge dropped the expired entry");
        assert_eq!(store.passes(), 1);
    }

    #[test]
    fn entries_of_one_expiry_second_go_first_in_first_out_and_only_as_many_as_needed() {
        // A burst in one second shares its expiry: 2 of the 128 go (1/64), the first two.
        let store = Store::new(128);
        for i in 0..128 {
            store.insert(format!("k{i}"), i, 500, 0);
        }
        store.insert("late".into(), 128, 600, 0);
        assert_eq!(store.len(), 127);
        assert_eq!(store.get("late", 0), Some(128));
        assert_eq!((store.get("k0", 0), store.get("k1", 0)), (None, None));
        assert_eq!(store.get("k2", 0), Some(2));
        // An earlier expiry goes before an earlier insert.
        let store = Store::new(128);
        store.insert("early".into(), 0, 100, 0);
        for i in 1..128 {
            store.insert(format!("k{i}"), i, 500, 0);
        }
        store.insert("late".into(), 128, 600, 0);
        assert_eq!(store.get("early", 0), None);
        assert_eq!((store.get("k1", 0), store.get("k2", 0)), (None, Some(2)));
        assert_eq!(store.len(), 127);
    }

    #[test]
    fn replacing_a_key_in_a_full_store_drops_nothing() {
        let store = Store::new(3);
        for (i, k) in ["a", "b", "c"].into_iter().enumerate() {
            store.insert(k.into(), i, 100, 0);
        }
        store.insert("a".into(), 9, 200, 0);
        assert_eq!(store.len(), 3);
        assert_eq!(
            (store.get("a", 0), store.get("b", 0), store.get("c", 0)),
            (Some(9), Some(1), Some(2))
        );
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
    fn insert_says_whether_it_replaced_a_live_entry() {
        let store = Store::new(10);
        assert!(!store.insert("a".into(), 1, 100, 0), "new");
        assert!(store.insert("a".into(), 2, 200, 50), "live");
        assert_eq!(store.get("a", 50), Some(2), "replaced");
        assert!(!store.insert("a".into(), 3, 300, 200), "expired at 200");
        assert_eq!(store.get("a", 200), Some(3));
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
