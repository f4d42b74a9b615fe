//! The lock-free multi-version memory: a table of keys sized for the block
//! (`key_table.rs`), each key with its version list, the lists' nodes in one arena of the
//! block (`version_list.rs`). Finding a key's
//! versions takes no lock: a look-up in the table is a few loads, and a version list is
//! traversed without one. Inserting a key never seen before sets one slot of the table,
//! once per key and block (a thread setting the same slot at the same moment waits for
//! that store, `key_table.rs`). The mutexes are per
//! version (the entry one transaction wrote for one key) and per transaction (its
//! sole-writer slot): each is written only by the worker holding that transaction, so they
//! are all but uncontended, an atomic swap each.

use crossbeam_utils::CachePadded;

use super::sole_writer::{self, route, Route, SoleEntry, TwoPlaces};
use super::version_list::{Entry, Versions};
use super::{diff_write_sets, MvMemory};
use crate::perturb::{self, Site};
use crate::txn::{Incarnation, Key, TxnIndex, Version};

/// Keys planned per transaction, unless the block says otherwise
/// ([`MvMemory::for_block`]): an ERC-20 transfer writes three keys to the index under the
/// coarse conflict model (sender account, two balances; its fee goes to its own slot),
/// four under `fields` and `deltas` (the sender's balance and nonce are two keys), a swap
/// seven. The table has twice as many slots as planned keys (`key_table.rs`).
const KEYS_PER_TXN: usize = 5;

/// Keys planned for a block however few its transactions: a table of 4,096 slots (64 KiB,
/// set up in microseconds). Small blocks can write many keys: bundled block 2462997 (a
/// 2016 attack, nine transactions) writes 1,946, which overflowed the 512 slots planned by
/// its transactions and gas, and ran a fifth slower for it.
const MIN_PLANNED_KEYS: usize = 2_048;

/// The most keys a hint (`TxnExecutor::expected_keys`) may plan for: 2^20 keys, a table
/// of 32 MiB. A hint comes from input not yet checked (an EVM block's header), so it must
/// not make the memory reserve what the machine cannot hold; a block that writes more
/// keys than planned is slower, never wrong.
const MAX_HINTED_KEYS: usize = 1 << 20;

pub struct LockFreeMvMemory<K: 'static, V: 'static> {
    data: Versions<K, V>,
    /// Per transaction, on a cache line of its own, its sole-writer key's entry
    /// (`sole_writer.rs`), if it writes one: what only the worker holding the transaction
    /// (executing it, or aborting it) writes, and the scheduler's status lock orders those
    /// workers one after another.
    sole: Vec<CachePadded<SoleEntry<K, Entry<V>>>>,
}

impl<K, V> LockFreeMvMemory<K, V>
where
    K: Key + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// Sets transaction `txn_idx`'s entry for `key`: in the transaction's own slot for its
    /// sole-writer key, in the index otherwise (`sole_writer.rs`).
    fn set(&self, key: &K, txn_idx: TxnIndex, entry: Entry<V>) {
        perturb::at(Site::MemoryWrite);
        let entry = match route(key, txn_idx, self.sole.len()) {
            Route::Index => entry,
            Route::OwnSlot(owner) => match self.sole[owner].set(key, entry) {
                Ok(()) => return,
                Err(entry) => entry,
            },
            Route::Foreign(owner) => {
                self.sole[owner].move_out(key, |moved| self.set_in_index(key, owner, moved));
                entry
            }
        };
        self.set_in_index(key, txn_idx, entry);
    }

    fn set_in_index(&self, key: &K, txn_idx: TxnIndex, entry: Entry<V>) {
        self.data.set(key, txn_idx, entry);
    }
}

impl<K, V> TwoPlaces<K, V> for LockFreeMvMemory<K, V>
where
    K: Key + 'static,
    V: Clone + Send + Sync + 'static,
{
    type Entry = Entry<V>;

    fn in_index<R>(
        &self,
        key: &K,
        below: TxnIndex,
        on: impl FnOnce(TxnIndex, Option<(Incarnation, &V)>) -> R,
    ) -> Option<R> {
        self.data.read_below(key, below, |idx, entry| {
            lend(idx, entry, on).expect("read_below skips removed entries")
        })
    }

    fn slot(&self, owner: TxnIndex) -> Option<&SoleEntry<K, Entry<V>>> {
        self.sole.get(owner).map(|slot| &**slot)
    }

    fn lend<R>(
        owner: TxnIndex,
        entry: &Entry<V>,
        on: impl FnOnce(TxnIndex, Option<(Incarnation, &V)>) -> R,
    ) -> Option<R> {
        lend(owner, entry, on)
    }
}

/// Lends a found entry to `on`: `None` when the entry says the key is not written.
fn lend<V, R>(
    idx: TxnIndex,
    entry: &Entry<V>,
    on: impl FnOnce(TxnIndex, Option<(Incarnation, &V)>) -> R,
) -> Option<R> {
    match entry {
        Entry::Written(inc, value) => Some(on(idx, Some((*inc, value)))),
        Entry::Estimate => Some(on(idx, None)),
        Entry::Removed => None,
    }
}

impl<K, V> MvMemory<K, V> for LockFreeMvMemory<K, V>
where
    K: Key + 'static,
    V: Clone + Send + Sync + 'static,
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
        Self::for_block(num_txns, None)
    }

    fn for_block(num_txns: usize, expected_keys: Option<usize>) -> Self {
        let planned = num_txns
            .saturating_mul(KEYS_PER_TXN)
            .max(expected_keys.unwrap_or(0).min(MAX_HINTED_KEYS))
            .max(MIN_PLANNED_KEYS);
        Self {
            // Sized for a few keys per transaction up front: the table does not grow
            // (keys beyond it go to its slower overflow index).
            data: Versions::with_capacity(planned),
            sole: (0..num_txns)
                .map(|_| CachePadded::new(SoleEntry::default()))
                .collect(),
        }
    }

    fn record(&self, version: Version, writes: &[(K, V)], previous: &[(K, V)]) -> bool {
        let idx = version.txn_idx;
        for (key, value) in writes {
            self.set(key, idx, Entry::Written(version.incarnation, value.clone()));
        }
        diff_write_sets(previous, writes, |key| {
            self.set(key, idx, Entry::Removed);
        })
    }

    fn mark_estimates(&self, txn_idx: TxnIndex, written: &[(K, V)]) {
        for (key, _) in written {
            self.set(key, txn_idx, Entry::Estimate);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::txn::ReadResult;

    #[test]
    fn a_hint_beyond_any_machine_is_capped() {
        // A header's gas used is read before the block is checked: a hint of usize::MAX
        // keys must not make the memory try to reserve them.
        let m = LockFreeMvMemory::<u64, u64>::for_block(4, Some(usize::MAX));
        assert!(m.data.slots_len() <= 2 * MAX_HINTED_KEYS);
        m.record(Version::new(1, 0), &[(7, 70)], &[]);
        assert_eq!(
            m.read(&7, 2),
            ReadResult::Written {
                version: Version::new(1, 0),
                value: 70
            }
        );
        assert_eq!(m.read(&7, 1), ReadResult::Base);
    }
}
