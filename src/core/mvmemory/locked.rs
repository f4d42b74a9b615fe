//! The lock-based multi-version memory: a concurrent map (`scc::HashMap`) from keys to a
//! mutex-guarded ordered map of versions. Simple to trust; the baseline the lock-free
//! implementation is benchmarked against.
//!
//! Lock order: `last_written[i]`, then `scc`'s bucket lock, then that key's mutex. No thread
//! holds two key mutexes or two `last_written` slots at once. (Not modelled under loom:
//! `scc`'s bucket locks are invisible to it; the std mutexes here stay std under loom.)

use std::collections::BTreeMap;
use std::hash::Hash;
use std::sync::Mutex;

use super::{diff_write_sets, MvMemory};
use crate::core::txn::{Incarnation, TxnIndex, Version};
use crate::core::FastHash;

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
}

impl<K, V> MvMemory<K, V> for LockedMvMemory<K, V>
where
    K: Clone + Eq + Hash + Send + Sync,
    V: Clone + Send + Sync,
{
    fn latest_below<R>(
        &self,
        key: &K,
        txn_idx: TxnIndex,
        on: impl FnOnce(TxnIndex, Option<(Incarnation, &V)>) -> R,
    ) -> Option<R> {
        self.data
            .read_sync(key, |_, m| {
                lock(m)
                    .range(..txn_idx)
                    .next_back()
                    .map(|(idx, e)| match e {
                        Entry::Written(inc, v) => on(*idx, Some((*inc, v))),
                        Entry::Estimate => on(*idx, None),
                    })
            })
            .flatten()
    }

    fn new(num_txns: usize) -> Self {
        Self {
            data: scc::HashMap::with_hasher(FastHash::default()),
            last_written: (0..num_txns).map(|_| Mutex::new(Vec::new())).collect(),
        }
    }

    fn record(&self, version: Version, writes: &[(K, V)]) -> bool {
        let idx = version.txn_idx;
        for (key, value) in writes {
            let entry = self.data.entry_sync(key.clone()).or_default();
            lock(entry.get()).insert(idx, Entry::Written(version.incarnation, value.clone()));
        }
        let mut last = lock(&self.last_written[idx]);
        let wrote_new = diff_write_sets(&last, writes, |key| {
            self.data.read_sync(key, |_, m| lock(m).remove(&idx));
        });
        *last = writes.iter().map(|(k, _)| k.clone()).collect();
        wrote_new
    }

    fn mark_estimates(&self, txn_idx: TxnIndex) {
        let last = lock(&self.last_written[txn_idx]);
        for key in last.iter() {
            self.data.read_sync(key, |_, m| {
                if let Some(e) = lock(m).get_mut(&txn_idx) {
                    *e = Entry::Estimate;
                }
            });
        }
    }
}
