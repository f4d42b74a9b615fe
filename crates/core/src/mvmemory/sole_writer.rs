//! The entry of a key that only one transaction ever writes ([`Key::sole_writer`]: an EVM
//! transaction's deferred fee), kept in a slot of that transaction instead of in the
//! memory's index of keys. Such a key has at most one version, its writer's, so a slot per
//! transaction holds all there is: writing it inserts nothing into a shared index and
//! hashes nothing, and a block's memory holds a third fewer keys on plain transfers.
//!
//! The slot is a hint that must hold for speed only, and a key's entries live in exactly
//! one place at any time, which the slot decides (under its lock):
//! - the slot holds the key: its entry is there, and the index has none for it;
//! - the slot holds another key (a second sole-writer key of the same transaction), or
//!   says the key has moved: the key's entries are in the index, like any key's;
//! - the slot is empty: the key is written nowhere yet.
//!
//! A write by another transaction than the key's sole writer (the hint broken) first
//! moves the slot's entry into the index, as the owner's version, and marks the slot
//! "moved", all under the slot's lock; only then does it write its own entry to the
//! index. The owner's later writes find the mark and go to the index too. A reader decides
//! under the same lock, so it never sees a key in two places, and the owner's and the
//! mover's writes of the owner's entry never overlap (the version lists' contract).

use crate::sync::{lock, Mutex};
use crate::txn::{Incarnation, Key, TxnIndex};

/// What a slot holds for its key.
enum Held<E> {
    /// The key's entry (`E`: the memory's entry type).
    Here(E),
    /// The key's entries are in the index (the hint was broken).
    Moved,
}

/// One transaction's slot: the key it holds and where that key's entry is, or nothing
/// yet.
pub(crate) struct SoleEntry<K, E>(Mutex<Option<(K, Held<E>)>>);

/// Where a read finds a key, as its slot says.
pub(crate) enum Found<R> {
    /// In the slot: what the reader made of the entry.
    Here(R),
    /// In the index.
    Elsewhere,
    /// Not written.
    Nowhere,
}

impl<K: Key, E> Default for SoleEntry<K, E> {
    fn default() -> Self {
        Self(Mutex::new(None))
    }
}

impl<K: Key, E> SoleEntry<K, E> {
    /// Sets `entry` as `key`'s, when the slot is free or holds `key`; gives it back when
    /// the key belongs in the index (the slot holds another key, or the key has moved).
    /// Called only for the slot of `key.sole_writer()`, by the worker that holds that
    /// transaction.
    pub(crate) fn set(&self, key: &K, entry: E) -> Result<(), E> {
        let mut slot = lock(&self.0);
        match &mut *slot {
            None => *slot = Some((key.clone(), Held::Here(entry))),
            Some((held, Held::Here(old))) if held == key => {
                let old = std::mem::replace(old, entry);
                // Freed after the lock is released.
                drop(slot);
                drop(old);
            }
            Some(_) => return Err(entry),
        }
        Ok(())
    }

    /// Applies `read` to `key`'s entry when the slot holds it (under the slot's lock),
    /// or says where else to look.
    pub(crate) fn read<R>(&self, key: &K, read: impl FnOnce(&E) -> R) -> Found<R> {
        match &*lock(&self.0) {
            None => Found::Nowhere,
            Some((held, Held::Here(entry))) if held == key => Found::Here(read(entry)),
            Some(_) => Found::Elsewhere,
        }
    }

    /// Before a transaction other than the key's sole writer writes `key` to the index:
    /// hands the slot's entry for `key` (if any) to `to_index`, which stores it in the
    /// index as the owner's, and marks the key as moved, all under the slot's lock. A
    /// slot that holds another key needs nothing (this key lives in the index already).
    pub(crate) fn move_out(&self, key: &K, to_index: impl FnOnce(E)) {
        let mut slot = lock(&self.0);
        match slot.take() {
            None => *slot = Some((key.clone(), Held::Moved)),
            Some((held, Held::Here(entry))) if held == *key => {
                to_index(entry);
                *slot = Some((held, Held::Moved));
            }
            other => *slot = other,
        }
    }
}

/// A memory with sole-writer slots beside its index of keys; [`latest_below`] reads
/// through both.
pub(crate) trait TwoPlaces<K: Key, V> {
    /// What a slot holds for its key.
    type Entry;

    /// `MvMemory::latest_below` among the index's entries only.
    fn in_index<R>(
        &self,
        key: &K,
        below: TxnIndex,
        on: impl FnOnce(TxnIndex, Option<(Incarnation, &V)>) -> R,
    ) -> Option<R>;

    /// Transaction `owner`'s slot, if it has one.
    fn slot(&self, owner: TxnIndex) -> Option<&SoleEntry<K, Self::Entry>>;

    /// Lends a slot's entry, written by `owner`, to `on`: `None` when it says the key is
    /// not written.
    fn lend<R>(
        owner: TxnIndex,
        entry: &Self::Entry,
        on: impl FnOnce(TxnIndex, Option<(Incarnation, &V)>) -> R,
    ) -> Option<R>;
}

/// `MvMemory::latest_below` for a memory with sole-writer slots: the index for an
/// ordinary key; for a sole-writer key, wherever its slot says it lives (module docs).
pub(crate) fn latest_below<K: Key, V, M: TwoPlaces<K, V>, R>(
    memory: &M,
    key: &K,
    txn_idx: TxnIndex,
    on: impl FnOnce(TxnIndex, Option<(Incarnation, &V)>) -> R,
) -> Option<R> {
    let Some((owner, slot)) = key
        .sole_writer()
        .and_then(|owner| memory.slot(owner).map(|slot| (owner, slot)))
    else {
        return memory.in_index(key, txn_idx, on);
    };
    let mut on = Some(on);
    let found = slot.read(key, |entry| {
        // The owner's entry is visible to readers above it only; below, the key (which
        // lives only here) reads as not written.
        (owner < txn_idx)
            .then(|| M::lend(owner, entry, on.take().expect("used once")))
            .flatten()
    });
    match found {
        Found::Here(result) => result,
        Found::Nowhere => None,
        Found::Elsewhere => memory.in_index(key, txn_idx, on.take().expect("not used")),
    }
}

/// Where a write of `key` by `txn_idx` goes.
pub(crate) enum Route {
    /// An ordinary key (or one whose owner has no slot): the index.
    Index,
    /// Its owner writes it: try the owner's slot.
    OwnSlot(TxnIndex),
    /// Another transaction writes it (the hint broken): move the owner's entry out of its
    /// slot, then the index.
    Foreign(TxnIndex),
}

pub(crate) fn route<K: Key>(key: &K, txn_idx: TxnIndex, txns: usize) -> Route {
    match key.sole_writer() {
        Some(owner) if owner >= txns => Route::Index,
        Some(owner) if owner == txn_idx => Route::OwnSlot(owner),
        Some(owner) => Route::Foreign(owner),
        None => Route::Index,
    }
}
