//! The entry of a key that only one transaction ever writes ([`Key::sole_writer`]: an EVM
//! transaction's deferred fee), kept in a slot of that transaction instead of in the
//! memory's index of keys. Such a key has at most one version, its writer's, so a slot per
//! transaction holds all there is: writing it inserts nothing into a shared index and
//! hashes nothing, and a block's memory holds a third fewer keys on plain transfers.
//!
//! The slot is a hint that must hold for speed only. A sole-writer key that cannot go to
//! its slot (written by another transaction, or a second such key of the same one) goes to
//! the index like any key, and [`Spill`] remembers that the index may now hold one, so
//! reads look there too from then on.

use crate::core::txn::{Incarnation, Key, TxnIndex};
use crate::sync::{lock, AtomicBool, Mutex, Ordering};

/// One transaction's slot: the key it holds and that key's entry (`E`: the memory's entry
/// type), or nothing yet.
pub(crate) struct SoleEntry<K, E>(Mutex<Option<(K, E)>>);

impl<K: Key, E> Default for SoleEntry<K, E> {
    fn default() -> Self {
        Self(Mutex::new(None))
    }
}

impl<K: Key, E> SoleEntry<K, E> {
    /// Sets `entry` as `key`'s, when the slot is free or holds `key`; gives it back when
    /// the slot holds another key. Callers pass only the slot of `key.sole_writer()`, and
    /// only from the worker that holds that transaction (the memory's contract for
    /// writes), so the lock is never contended by writers.
    pub(crate) fn set(&self, key: &K, entry: E) -> Result<(), E> {
        let mut slot = lock(&self.0);
        match &mut *slot {
            None => *slot = Some((key.clone(), entry)),
            Some((held, old)) if held == key => {
                let old = std::mem::replace(old, entry);
                // Freed after the lock is released.
                drop(slot);
                drop(old);
            }
            Some(_) => return Err(entry),
        }
        Ok(())
    }

    /// Applies `read` to `key`'s entry, when this slot holds `key`; `None` otherwise.
    /// `read` runs under the slot's lock.
    pub(crate) fn read<R>(&self, key: &K, read: impl FnOnce(&E) -> R) -> Option<R> {
        match &*lock(&self.0) {
            Some((held, entry)) if held == key => Some(read(entry)),
            _ => None,
        }
    }
}

/// Whether any sole-writer key had to go to the index.
#[derive(Default)]
pub(crate) struct Spill(AtomicBool);

impl Spill {
    /// Notes that a sole-writer key is about to go to the index. Called before that
    /// insert: a reader that then finds no note reads as if before the insert, which the
    /// scheduler's ordering of the writer's completion before later validations makes
    /// safe (every validation that must see the write runs after the note).
    pub(crate) fn note(&self) {
        // SeqCst, like the scheduler's own flags: the note is ordered before the insert
        // and before the writer's completion in one total order with the readers' loads.
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether the index may hold `key`.
    pub(crate) fn index_may_hold<K: Key>(&self, key: &K) -> bool {
        // SeqCst: pairs with `note` (above).
        key.sole_writer().is_none() || self.0.load(Ordering::SeqCst)
    }
}

/// A memory with the two places a key's entries can be: its index of keys and the
/// transactions' sole-writer slots. [`latest_below`] reads through them.
pub(crate) trait TwoPlaces<K: Key, V> {
    /// `MvMemory::latest_below` among the index's entries only.
    fn in_index<R>(
        &self,
        key: &K,
        below: TxnIndex,
        on: impl FnOnce(TxnIndex, Option<(Incarnation, &V)>) -> R,
    ) -> Option<R>;

    /// `MvMemory::latest_below` in transaction `writer`'s slot only.
    fn in_slot<R>(
        &self,
        key: &K,
        writer: TxnIndex,
        on: impl FnOnce(TxnIndex, Option<(Incarnation, &V)>) -> R,
    ) -> Option<R>;

    /// How many transactions have a slot.
    fn slots(&self) -> usize;

    fn spill(&self) -> &Spill;
}

/// `MvMemory::latest_below` for a memory with sole-writer slots: the index for an
/// ordinary key, the writer's slot for a sole-writer key, and, once a sole-writer key has
/// gone to the index (never on EVM blocks), the later of the two places' entries (each
/// looked at once; a race between the looks is one more stale read, which validation
/// catches like any other).
pub(crate) fn latest_below<K: Key, V, R>(
    memory: &impl TwoPlaces<K, V>,
    key: &K,
    txn_idx: TxnIndex,
    on: impl FnOnce(TxnIndex, Option<(Incarnation, &V)>) -> R,
) -> Option<R> {
    let index_may_hold = memory.spill().index_may_hold(key);
    let Some(writer) = read_slot(key, txn_idx, memory.slots()) else {
        return index_may_hold
            .then(|| memory.in_index(key, txn_idx, on))
            .flatten();
    };
    if !index_may_hold {
        return memory.in_slot(key, writer, on);
    }
    let in_slot = memory.in_slot(key, writer, |idx, _| idx);
    let in_index = memory.in_index(key, txn_idx, |idx, _| idx);
    if in_index > in_slot {
        memory.in_index(key, txn_idx, on)
    } else {
        memory.in_slot(key, writer, on)
    }
}

/// The transaction whose slot a write of `key` by `txn_idx` goes to: `txn_idx` itself
/// when it is the key's sole writer and has a slot (`txns` of them), else none.
pub(crate) fn slot_of<K: Key>(key: &K, txn_idx: TxnIndex, txns: usize) -> Option<TxnIndex> {
    (key.sole_writer() == Some(txn_idx) && txn_idx < txns).then_some(txn_idx)
}

/// The slot a read of `key` by `reader` looks in: the key's sole writer's, when that
/// transaction comes before the reader.
pub(crate) fn read_slot<K: Key>(key: &K, reader: TxnIndex, txns: usize) -> Option<TxnIndex> {
    key.sole_writer().filter(|&w| w < reader && w < txns)
}
