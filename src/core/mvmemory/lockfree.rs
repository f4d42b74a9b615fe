//! The lock-free multi-version memory: an `scc::HashIndex` from keys to version lists
//! (`version_list.rs`). Reads take no lock: `HashIndex::peek_with` is lock-free, and a
//! version list is read by traversal under an epoch guard. Writes to existing keys take
//! no lock either; inserting a key never seen before goes through `HashIndex`'s insert,
//! once per key and block.

use std::hash::Hash;
use std::sync::Arc;

use crossbeam_epoch::{self as epoch, Atomic, Owned};
use crossbeam_utils::CachePadded;

use super::version_list::{Entry, VersionList};
use super::{diff_write_sets, MvMemory};
use crate::core::txn::{ReadResult, TxnIndex, Version};
use crate::core::FastHash;
use crate::sync::Ordering;

pub struct LockFreeMvMemory<K: 'static, V: 'static> {
    data: scc::HashIndex<K, Arc<VersionList<V>>, FastHash>,
    /// The keys each transaction's last recorded incarnation wrote. Only the worker that
    /// holds the transaction (executing it, or aborting it) touches its slot, and the
    /// scheduler's status lock orders those workers one after another.
    last_written: Vec<CachePadded<Atomic<Vec<K>>>>,
}

impl<K, V> LockFreeMvMemory<K, V>
where
    K: Clone + Eq + Hash + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn list(&self, key: &K) -> Arc<VersionList<V>> {
        if let Some(list) = self.data.peek_with(key, |_, l| l.clone()) {
            return list;
        }
        let fresh = Arc::new(VersionList::default());
        match self.data.insert_sync(key.clone(), fresh.clone()) {
            Ok(()) => fresh,
            // Another writer inserted the key first: use theirs.
            Err(_) => self
                .data
                .peek_with(key, |_, l| l.clone())
                .expect("a key is never removed from the index during a block"),
        }
    }

    fn last_keys(&self, txn_idx: TxnIndex) -> Vec<K> {
        let guard = &epoch::pin();
        // Acquire: pairs with the Release swap in `record` by this transaction's previous
        // holder (ordered before us by the scheduler's status lock as well).
        let cur = self.last_written[txn_idx].load(Ordering::Acquire, guard);
        crate::core::mvmemory::version_list::clone_vec(cur)
    }
}

impl<K, V> MvMemory<K, V> for LockFreeMvMemory<K, V>
where
    K: Clone + Eq + Hash + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn new(num_txns: usize) -> Self {
        Self {
            data: scc::HashIndex::with_hasher(FastHash::default()),
            last_written: (0..num_txns)
                .map(|_| CachePadded::new(Atomic::new(Vec::new())))
                .collect(),
        }
    }

    fn record(&self, version: Version, writes: &[(K, V)]) -> bool {
        let idx = version.txn_idx;
        for (key, value) in writes {
            self.list(key)
                .set(idx, Entry::Written(version.incarnation, value.clone()));
        }
        let old = self.last_keys(idx);
        let wrote_new = diff_write_sets(&old, writes, |key| {
            self.list(key).set(idx, Entry::Removed);
        });
        let keys: Vec<K> = writes.iter().map(|(k, _)| k.clone()).collect();
        let guard = &epoch::pin();
        // Release: the next holder's Acquire load sees the vector's contents.
        let previous = self.last_written[idx].swap(Owned::new(keys), Ordering::AcqRel, guard);
        crate::core::mvmemory::version_list::retire_vec(previous, guard);
        wrote_new
    }

    fn mark_estimates(&self, txn_idx: TxnIndex) {
        for key in self.last_keys(txn_idx) {
            self.list(&key).set(txn_idx, Entry::Estimate);
        }
    }

    fn read(&self, key: &K, txn_idx: TxnIndex) -> ReadResult<V> {
        let Some(list) = self.data.peek_with(key, |_, l| l.clone()) else {
            return ReadResult::Base;
        };
        list.read_below(txn_idx, |idx, entry| match entry {
            Entry::Written(inc, value) => ReadResult::Written {
                version: Version::new(idx, *inc),
                value: value.clone(),
            },
            Entry::Estimate => ReadResult::Estimate(idx),
            Entry::Removed => unreachable!("read_below skips removed entries"),
        })
        .unwrap_or(ReadResult::Base)
    }
}

impl<K: 'static, V: 'static> Drop for LockFreeMvMemory<K, V> {
    fn drop(&mut self) {
        for slot in &self.last_written {
            crate::core::mvmemory::version_list::free_vec_exclusive(slot);
        }
    }
}
