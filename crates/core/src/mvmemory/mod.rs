//! Multi-version memory: for every key, the values written by the transactions of the
//! block, each tagged with the version (transaction, incarnation) that wrote it, or an
//! ESTIMATE marker left by an aborted incarnation.
//!
//! A read by transaction `j` resolves to the entry of the highest transaction below `j`:
//! a value with its version, an ESTIMATE naming the transaction to wait for, or nothing
//! (read the pre-block state). Two implementations stand behind one trait:
//! [`locked::LockedMvMemory`] (a concurrent map of keys to mutex-guarded ordered maps) and
//! [`lockfree::LockFreeMvMemory`] (a lock-free index of lock-free version lists, each
//! version's entry behind its own, all but uncontended, mutex). Both keep a key that only
//! one transaction ever writes (`Key::sole_writer`) in a slot of that transaction, not in
//! their index (`sole_writer.rs`).

#[allow(unsafe_code)]
mod arena;
#[allow(unsafe_code)]
mod key_table;
pub mod locked;
pub mod lockfree;
mod sole_writer;
#[allow(unsafe_code)]
mod version_list;

use std::collections::HashSet;
use std::hash::Hash;

use crate::read_set::{ReadSet, StaleRead};
use crate::txn::{Incarnation, ReadResult, TxnIndex, Version};

/// The operations Block-STM (and the DAG strategy) need from multi-version memory.
///
/// Concurrency contract: `record` and `mark_estimates` for one transaction are called by
/// the one worker that holds that transaction's execution (or abort) at the time; `read`
/// and `validate` may run concurrently with anything.
///
/// The memory keeps no copy of a transaction's write set: its caller holds the write sets
/// (Block-STM's records, the DAG strategy's runs) and hands back the one last recorded,
/// which is what `record` compares the new one with and what `mark_estimates` marks.
/// Copying the keys into the memory as well cost an allocation and a clone of every key
/// per execution, and a sixteenth of Block-STM's peak memory on 10,000 ERC-20 transfers.
pub trait MvMemory<K, V>: Send + Sync {
    /// Memory for a block of `num_txns` transactions.
    fn new(num_txns: usize) -> Self
    where
        Self: Sized;

    /// Memory for a block of `num_txns` transactions that are expected to write about
    /// `expected_keys` distinct keys in all (`TxnExecutor::expected_keys`), sized for
    /// them where the memory sizes anything up front.
    fn for_block(num_txns: usize, expected_keys: Option<usize>) -> Self
    where
        Self: Sized,
    {
        let _ = expected_keys;
        Self::new(num_txns)
    }

    /// Records incarnation `version`'s write set `writes`, replacing `previous`: the write
    /// set last recorded for the same transaction (empty if none was). Keys of `previous`
    /// that `writes` lacks are removed. Returns true when `writes` has a key `previous`
    /// does not.
    fn record(&self, version: Version, writes: &[(K, V)], previous: &[(K, V)]) -> bool;

    /// Turns the entries of transaction `txn_idx`'s last recorded write set, `written`,
    /// into ESTIMATE markers (its incarnation was aborted).
    fn mark_estimates(&self, txn_idx: TxnIndex, written: &[(K, V)]);

    /// Applies `on` to the entry of the highest transaction below `txn_idx` that wrote
    /// `key`, with that transaction's index: `Some((incarnation, value))` for a value,
    /// `None` for an ESTIMATE. `None` when there is no such transaction (the pre-block
    /// state). The value is lent, not cloned.
    fn latest_below<R>(
        &self,
        key: &K,
        txn_idx: TxnIndex,
        on: impl FnOnce(TxnIndex, Option<(Incarnation, &V)>) -> R,
    ) -> Option<R>;

    /// What key `key` resolves to for reader `txn_idx`.
    fn read(&self, key: &K, txn_idx: TxnIndex) -> ReadResult<V>
    where
        V: Clone,
    {
        self.latest_below(key, txn_idx, |idx, written| match written {
            Some((inc, value)) => ReadResult::Written {
                version: Version::new(idx, inc),
                value: value.clone(),
            },
            None => ReadResult::Estimate(idx),
        })
        .unwrap_or(ReadResult::Base)
    }

    /// The version `read` would resolve to (`Ok(None)`: the pre-block state;
    /// `Err(blocking)`: an ESTIMATE of `blocking`), without cloning the value: what
    /// validation compares.
    fn read_origin(&self, key: &K, txn_idx: TxnIndex) -> Result<Option<Version>, TxnIndex> {
        self.latest_below(key, txn_idx, |idx, written| {
            written
                .map(|(inc, _)| Some(Version::new(idx, inc)))
                .ok_or(idx)
        })
        .unwrap_or(Ok(None))
    }

    /// True when every read recorded in `reads` by transaction `txn_idx` still resolves
    /// to the same version (an ESTIMATE never does). A read below bound `t` is the same
    /// "highest writer below" look-up with `t` in place of the reader.
    fn validate(&self, txn_idx: TxnIndex, reads: &ReadSet<K>) -> bool {
        self.first_stale(txn_idx, reads).is_none()
    }

    /// The first read of `reads` (by `txn_idx`) that no longer resolves to the version it
    /// recorded, if any (`validate` fails exactly when there is one).
    fn first_stale<'r>(
        &self,
        txn_idx: TxnIndex,
        reads: &'r ReadSet<K>,
    ) -> Option<StaleRead<'r, K>> {
        reads.first_stale(|key, below| {
            // A bound above the reader is no read a view hands out; clamped all the same.
            let reader = below.map_or(txn_idx, |t| t.min(txn_idx));
            self.read_origin(key, reader).map_err(|_| ())
        })
    }
}

/// Compares a transaction's previous write set (`old`) with its new one: calls `removed`
/// for every old key no longer written, and returns whether the new one writes a key the
/// old one did not. Write sets are mostly a handful of keys, so small ones are compared by
/// linear scans, without allocating; large ones through hash sets.
pub(crate) fn diff_write_sets<K: Eq + Hash, V>(
    old: &[(K, V)],
    new: &[(K, V)],
    mut removed: impl FnMut(&K),
) -> bool {
    const SMALL: usize = 16;
    if old.len() <= SMALL && new.len() <= SMALL {
        for (key, _) in old {
            if !new.iter().any(|(k, _)| k == key) {
                removed(key);
            }
        }
        new.iter().any(|(k, _)| !old.iter().any(|(o, _)| o == k))
    } else {
        let new_keys: HashSet<&K> = new.iter().map(|(k, _)| k).collect();
        for (key, _) in old {
            if !new_keys.contains(key) {
                removed(key);
            }
        }
        let old_keys: HashSet<&K> = old.iter().map(|(k, _)| k).collect();
        new_keys.iter().any(|k| !old_keys.contains(k))
    }
}
