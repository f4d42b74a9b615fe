//! The lock-based multi-version memory: a concurrent map (`scc::HashMap`) from keys to a
//! mutex-guarded ordered map of versions. Simple to trust; the baseline the lock-free
//! implementation is benchmarked against.
//!
//! Lock order: `last_written[i]`, then `scc`'s bucket lock, then that key's mutex. No thread
//! holds two key mutexes or two `last_written` slots at once. (Not modelled under loom:
//! `scc`'s bucket locks are invisible to it; the std mutexes here stay std under loom.)

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::sole_writer::{self, slot_of, SoleEntry, Spill, TwoPlaces};
use super::{diff_write_sets, MvMemory};
use crate::core::txn::{Incarnation, Key, TxnIndex, Version};
use crate::core::FastHash;
use crate::perturb::{self, Site};

/// Locks one of this memory's std mutexes (std's even under loom: see the module docs).
/// A poisoned mutex means a worker panicked holding it; the pool reports that panic.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Debug)]
enum Entry<V> {
    Written(Incarnation, V),
    Estimate,
}

pub struct LockedMvMemory<K, V> {
    data: scc::HashMap<K, Mutex<BTreeMap<TxnIndex, Entry<V>>>, FastHash>,
    /// The keys each transaction's last recorded incarnation wrote.
    last_written: Vec<Mutex<Vec<K>>>,
    /// Each transaction's sole-writer key's entry (`sole_writer.rs`); `None` once removed.
    sole: Vec<SoleEntry<K, Option<Entry<V>>>>,
    spill: Spill,
}

impl<K, V> LockedMvMemory<K, V>
where
    K: Key,
    V: Clone + Send + Sync,
{
    /// Sets (`Some`) or removes (`None`) transaction `txn_idx`'s entry for `key` in its
    /// sole-writer slot, if the key goes there; gives the entry back if not.
    fn set_in_slot(
        &self,
        key: &K,
        txn_idx: TxnIndex,
        entry: Option<Entry<V>>,
    ) -> Result<(), Option<Entry<V>>> {
        let Some(own) = slot_of(key, txn_idx, self.sole.len()) else {
            return Err(entry);
        };
        self.sole[own].set(key, entry)?;
        Ok(())
    }
}

impl<K, V> TwoPlaces<K, V> for LockedMvMemory<K, V>
where
    K: Key,
    V: Clone + Send + Sync,
{
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

    fn in_slot<R>(
        &self,
        key: &K,
        writer: TxnIndex,
        on: impl FnOnce(TxnIndex, Option<(Incarnation, &V)>) -> R,
    ) -> Option<R> {
        self.sole[writer]
            .read(key, |entry| entry.as_ref().map(|e| lend(writer, e, on)))
            .flatten()
    }

    fn slots(&self) -> usize {
        self.sole.len()
    }

    fn spill(&self) -> &Spill {
        &self.spill
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
            last_written: (0..num_txns).map(|_| Mutex::new(Vec::new())).collect(),
            sole: (0..num_txns).map(|_| SoleEntry::default()).collect(),
            spill: Spill::default(),
        }
    }

    fn record(&self, version: Version, writes: &[(K, V)]) -> bool {
        let idx = version.txn_idx;
        perturb::at(Site::MemoryWrite);
        for (key, value) in writes {
            let written = Entry::Written(version.incarnation, value.clone());
            let Err(Some(written)) = self.set_in_slot(key, idx, Some(written)) else {
                continue;
            };
            if key.sole_writer().is_some() {
                self.spill.note();
            }
            let entry = self.data.entry_sync(key.clone()).or_default();
            lock(entry.get()).insert(idx, written);
        }
        let mut last = lock(&self.last_written[idx]);
        let wrote_new = diff_write_sets(&last, writes, |key| {
            if self.set_in_slot(key, idx, None).is_err() {
                self.data.read_sync(key, |_, m| lock(m).remove(&idx));
            }
        });
        *last = writes.iter().map(|(k, _)| k.clone()).collect();
        wrote_new
    }

    fn mark_estimates(&self, txn_idx: TxnIndex) {
        let last = lock(&self.last_written[txn_idx]);
        for key in last.iter() {
            if self
                .set_in_slot(key, txn_idx, Some(Entry::Estimate))
                .is_ok()
            {
                continue;
            }
            self.data.read_sync(key, |_, m| {
                if let Some(e) = lock(m).get_mut(&txn_idx) {
                    *e = Entry::Estimate;
                }
            });
        }
    }
}
