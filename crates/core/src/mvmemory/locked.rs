//! The lock-based multi-version memory: a concurrent map (`scc::HashMap`) from keys to a
//! mutex-guarded ordered map of versions. Simple to trust; the baseline the lock-free
//! implementation is benchmarked against.
//!
//! Lock order: `scc`'s bucket lock, then that key's mutex. No thread holds two key mutexes
//! at once. (Not modelled under loom:
//! `scc`'s bucket locks are invisible to it; the std mutexes here stay std under loom.)

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::sole_writer::{self, route, Route, SoleEntry, TwoPlaces};
use super::{diff_write_sets, MvMemory};
use crate::perturb::{self, Site};
use crate::txn::{Incarnation, Key, TxnIndex, Version};
use crate::FastHash;

/// Locks one of this memory's std mutexes (std's even under loom: see the module docs).
/// A poisoned mutex means a worker panicked holding it; the pool reports that panic.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Debug)]
pub(crate) enum Entry<V> {
    Written(Incarnation, V),
    Estimate,
}

pub struct LockedMvMemory<K, V> {
    data: scc::HashMap<K, Mutex<BTreeMap<TxnIndex, Entry<V>>>, FastHash>,
    /// Each transaction's sole-writer key's entry (`sole_writer.rs`); `None` once removed.
    sole: Vec<SoleEntry<K, Option<Entry<V>>>>,
}

impl<K, V> LockedMvMemory<K, V>
where
    K: Key,
    V: Clone + Send + Sync,
{
    /// Sets (`Some`) or removes (`None`) transaction `txn_idx`'s entry for `key`: in its
    /// sole-writer slot when the key lives there, in the map otherwise
    /// (`sole_writer.rs`).
    fn set(&self, key: &K, txn_idx: TxnIndex, entry: Option<Entry<V>>) {
        let entry = match route(key, txn_idx, self.sole.len()) {
            Route::Index => entry,
            Route::OwnSlot(owner) => match self.sole[owner].set(key, entry) {
                Ok(()) => return,
                Err(entry) => entry,
            },
            Route::Foreign(owner) => {
                self.sole[owner].move_out(key, |moved| self.set_in_map(key, owner, moved));
                entry
            }
        };
        self.set_in_map(key, txn_idx, entry);
    }

    fn set_in_map(&self, key: &K, txn_idx: TxnIndex, entry: Option<Entry<V>>) {
        match entry {
            Some(entry) => {
                let versions = self.data.entry_sync(key.clone()).or_default();
                lock(versions.get()).insert(txn_idx, entry);
            }
            None => {
                self.data.read_sync(key, |_, m| lock(m).remove(&txn_idx));
            }
        }
    }
}

impl<K, V> TwoPlaces<K, V> for LockedMvMemory<K, V>
where
    K: Key,
    V: Clone + Send + Sync,
{
    type Entry = Option<Entry<V>>;

    fn in_index<R>(
        &self,
        key: &K,
        below: TxnIndex,
        on: impl FnOnce(TxnIndex, Option<(Incarnation, &V)>) -> R,
    ) -> Option<R> {
        self.data
            .read_sync(key, |_, m| {
                lock(m)
                    .range(..below)
                    .next_back()
                    .map(|(idx, e)| lend(*idx, e, on))
            })
            .flatten()
    }

    fn slot(&self, owner: TxnIndex) -> Option<&SoleEntry<K, Option<Entry<V>>>> {
        self.sole.get(owner)
    }

    fn lend<R>(
        owner: TxnIndex,
        entry: &Option<Entry<V>>,
        on: impl FnOnce(TxnIndex, Option<(Incarnation, &V)>) -> R,
    ) -> Option<R> {
        entry.as_ref().map(|e| lend(owner, e, on))
    }
}

fn lend<V, R>(
    idx: TxnIndex,
    entry: &Entry<V>,
    on: impl FnOnce(TxnIndex, Option<(Incarnation, &V)>) -> R,
) -> R {
    match entry {
        Entry::Written(inc, v) => on(idx, Some((*inc, v))),
        Entry::Estimate => on(idx, None),
    }
}

impl<K, V> MvMemory<K, V> for LockedMvMemory<K, V>
where
    K: Key,
    V: Clone + Send + Sync,
{
    fn latest_below<R>(
        &self,
        key: &K,
        txn_idx: TxnIndex,
        on: impl FnOnce(TxnIndex, Option<(Incarnation, &V)>) -> R,
    ) -> Option<R> {
        perturb::at(Site::MemoryRead);
        sole_writer::latest_below(self, key, txn_idx, on)
    }

    fn new(num_txns: usize) -> Self {
        Self {
            data: scc::HashMap::with_hasher(FastHash::default()),
            sole: (0..num_txns).map(|_| SoleEntry::default()).collect(),
        }
    }

    fn record(&self, version: Version, writes: &[(K, V)], previous: &[(K, V)]) -> bool {
        let idx = version.txn_idx;
        perturb::at(Site::MemoryWrite);
        for (key, value) in writes {
            self.set(
                key,
                idx,
                Some(Entry::Written(version.incarnation, value.clone())),
            );
        }
        diff_write_sets(previous, writes, |key| self.set(key, idx, None))
    }

    fn mark_estimates(&self, txn_idx: TxnIndex, written: &[(K, V)]) {
        for (key, _) in written {
            // Every key here was written by this transaction's last incarnation, so its
            // entry exists where `set` looks.
            self.set(key, txn_idx, Some(Entry::Estimate));
        }
    }
}
