//! The lock-free memory's index of keys: a table of slots sized for the block before it
//! starts, each slot set once (to a pointer to a key and value made in the table's arena,
//! `arena.rs`) and never cleared or moved while the table is shared. A key goes in the
//! first free slot at or after its hash (linear probing); a look-up walks the same slots
//! until it finds the key or a free slot. A key whose first [`PROBES`] slots are all taken
//! goes to an overflow index (`scc::HashIndex`, which grows, of pointers into the same
//! arena), so a block with more keys than its table planned for is slower there, never
//! wrong.
//!
//! Why not `scc::HashIndex` alone, as before: an index that can grow must be able to move
//! its entries, so each look-up enters an epoch, and each new key pays an insert that may
//! relocate buckets. Here a look-up is a hash, a few loads and key comparisons, and a new
//! key one compare-and-swap: on 2,000 ERC-20 transfers at 1 thread the memory's reads and
//! writes were a tenth of Block-STM's instructions.
//!
//! A slot is a pointer (8 bytes), the key and value in the arena beside it: so the table
//! can be planned with room to spare (twice the keys a block is expected to write) at
//! little memory. With keys and values held in the slots themselves (72 bytes a slot for
//! EVM locations), a table of that size cost Block-STM a tenth more peak memory on 10,000
//! ERC-20 transfers, and one sized tighter filled up on blocks that write more keys than
//! planned (5,000 swaps: 35,000 keys, 3,230 of them in the overflow). With each key and
//! value boxed on its own, as before the arena, freeing a block's keys was a free per key
//! (0.6 ms of a 1-thread block of 10,000 ERC-20 transfers, 2 ms at 2 threads); the arena
//! frees them a bucket at a time, and reads nothing of a key that needs no drop.
//!
//! A look-up takes no lock: a slot is one Acquire load. An insert makes its key and value
//! in the arena, then sets a free slot with a compare-and-swap (Release, so a look-up that
//! loads the pointer sees the key and value it points to); a second thread setting the
//! same slot at that moment loses the CAS and finds the slot taken. A key and value whose
//! insert lost (the key was there already) stay in the arena unpublished, freed with it.
//!
//! Why a free slot ends a look-up: slots are only ever set, so the slots a key's insert
//! found taken are still taken; a key is in the overflow only if all of its [`PROBES`]
//! slots were taken when it was inserted, so a look-up that meets a free slot among them
//! knows the key is in neither place yet (a racing insert that has not published its key
//! is ordered after the look-up, as an insert that had not begun would be).

use std::hash::{BuildHasher, Hash};
use std::ptr;
// Std's atomics even under loom, as `OnceLock` was here before: the slots' publication is
// not modelled (the overflow's `scc` locks are invisible to loom; `locked.rs` says the same
// of its map). Only the arena's counter, a loom atomic, is.
use std::sync::atomic::{AtomicPtr, Ordering};

use super::arena::Arena;
use crate::FastHash;

/// Slots a key may be placed in, from its hash on, before it goes to the overflow index.
const PROBES: usize = 32;

pub(crate) struct KeyTable<K: 'static, T: 'static> {
    /// Null, or a key and value made in `keys`.
    slots: Box<[AtomicPtr<(K, T)>]>,
    /// `slots.len() - 1`; the length is a power of two.
    mask: usize,
    /// `log2(slots.len())`.
    bits: u32,
    hasher: FastHash,
    /// Keys whose slots were all taken, with pointers to their keys and values in `keys`
    /// (not the values themselves: the index moves its entries when it grows, and a
    /// writer holding a reference into a moved-from copy would lose what it set).
    overflow: scc::HashIndex<K, Held<K, T>, FastHash>,
    /// Where every key and value of the table lives (the slots' and the overflow's).
    keys: Arena<(K, T)>,
}

/// A pointer to a key and value in a table's arena, as its overflow holds it.
struct Held<K, T>(*mut (K, T));

impl<K, T> Clone for Held<K, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K, T> Copy for Held<K, T> {}

// SAFETY: a `Held` is only ever dereferenced by its table, as a shared reference to a key
// and value of the table's arena (which is `Sync` for `K, T: Send + Sync`); moving or
// sharing the pointer itself between threads is what the table's own slots do.
unsafe impl<K: Send + Sync, T: Send + Sync> Send for Held<K, T> {}
// SAFETY: as above.
unsafe impl<K: Send + Sync, T: Send + Sync> Sync for Held<K, T> {}

impl<K, T> KeyTable<K, T>
where
    K: Eq + Hash + Clone + 'static,
    T: 'static,
{
    /// A table for about `keys` keys: the next power of two at or above twice as many
    /// slots (at least [`PROBES`]), so that probing stays short while the table is at most
    /// half full.
    pub(crate) fn with_capacity(keys: usize) -> Self {
        let len = keys
            .saturating_mul(2)
            .max(PROBES)
            .checked_next_power_of_two()
            .unwrap_or(usize::MAX / 2 + 1);
        Self {
            slots: (0..len).map(|_| AtomicPtr::new(ptr::null_mut())).collect(),
            mask: len - 1,
            bits: len.trailing_zeros(),
            hasher: FastHash::default(),
            overflow: scc::HashIndex::with_hasher(FastHash::default()),
            keys: Arena::new(),
        }
    }

    /// The slots `key` may be in, in probing order. The first is taken from the hash's
    /// high bits, spread by a multiplication (Fibonacci hashing): foldhash's fast hash is
    /// made for tables that use its high bits, and its low bits alone left runs of taken
    /// slots long enough to push keys of 2,000 ERC-20 transfers into the overflow.
    #[inline]
    fn probe(&self, key: &K) -> impl Iterator<Item = &AtomicPtr<(K, T)>> {
        let spread = self
            .hasher
            .hash_one(key)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let start = (spread >> (u64::BITS - self.bits)) as usize;
        (0..PROBES.min(self.slots.len()))
            .map(move |i| &self.slots[start.wrapping_add(i) & self.mask])
    }

    /// How many slots the table has.
    #[cfg(test)]
    pub(crate) fn slots_len(&self) -> usize {
        self.slots.len()
    }

    /// The key and value `held` points to.
    ///
    /// # Safety
    /// `held` must be a pointer of this table's slots or overflow (non-null), loaded with
    /// Acquire from a slot or found in the overflow: such a pointer was made by
    /// `self.keys` (`insert`) and published with a Release CAS (slots) or the index's own
    /// synchronisation (overflow), which the load that found it pairs with, so the key and
    /// value it points to are written; the arena never moves or frees a value while the
    /// table, which owns it, is alive, and values are only shared, never written, after
    /// publication.
    #[inline]
    unsafe fn held(&self, held: *mut (K, T)) -> &(K, T) {
        // SAFETY: the caller's contract, above.
        unsafe { &*held }
    }

    /// Applies `f` to `key`'s value, if the table holds the key.
    #[inline]
    pub(crate) fn with<R>(&self, key: &K, f: impl FnOnce(&T) -> R) -> Option<R> {
        for slot in self.probe(key) {
            // Acquire: pairs with the Release CAS that published the pointer.
            let held = slot.load(Ordering::Acquire);
            if held.is_null() {
                return None;
            }
            // SAFETY: non-null, Acquire-loaded from a slot (`held`'s contract).
            let (k, value) = unsafe { self.held(held) };
            if k == key {
                return Some(f(value));
            }
        }
        self.overflow
            // SAFETY: a pointer of the overflow (`held`'s contract).
            .peek_with(key, |_, held| f(&unsafe { self.held(held.0) }.1))
    }

    /// Inserts `value` for `key`, unless the table holds the key already: then `Err`, and
    /// the key's value stays as it is (the one given stays in the arena, unpublished, and
    /// is dropped with it).
    pub(crate) fn insert(&self, key: &K, value: T) -> Result<(), ()> {
        let made = self.keys.make((key.clone(), value));
        for slot in self.probe(key) {
            // Acquire (the load and a lost CAS): to read the key of a pointer another
            // insert published. Release on success: publishes the key and value.
            let mut held = slot.load(Ordering::Acquire);
            if held.is_null() {
                match slot.compare_exchange(
                    ptr::null_mut(),
                    made,
                    Ordering::Release,
                    Ordering::Acquire,
                ) {
                    Ok(_) => return Ok(()),
                    Err(winner) => held = winner,
                }
            }
            // SAFETY: non-null, Acquire-loaded from a slot or returned by the lost CAS
            // with Acquire (`held`'s contract).
            if unsafe { self.held(held) }.0 == *key {
                return Err(());
            }
        }
        self.overflow
            .insert_sync(key.clone(), Held(made))
            .map_err(|_| ())
    }
}

// Not under loom: the arena's counter is a loom atomic there, usable only inside a model.
#[cfg(all(test, not(stmlab_loom)))]
mod tests {
    use super::*;

    #[test]
    fn keys_past_their_probes_go_to_the_overflow_and_are_found_there() {
        // 32 slots: 200 keys fill the table and spill.
        let table: KeyTable<u64, u64> = KeyTable::with_capacity(1);
        for k in 0..200 {
            assert_eq!(table.insert(&k, k * 10), Ok(()));
        }
        for k in 0..200 {
            assert_eq!(table.with(&k, |v| *v), Some(k * 10), "key {k}");
            assert_eq!(table.insert(&k, 0), Err(()), "key {k} twice");
            assert_eq!(table.with(&k, |v| *v), Some(k * 10), "key {k} kept");
        }
        assert_eq!(table.with(&1000, |v| *v), None);
        assert!(!table.overflow.is_empty());
        let in_slots = table
            .slots
            .iter()
            .filter(|s| !s.load(Ordering::Relaxed).is_null())
            .count();
        assert_eq!(in_slots + table.overflow.len(), 200);
    }

    #[test]
    fn racing_inserts_of_one_key_keep_one_value() {
        for round in 0..200u64 {
            let table: KeyTable<u64, u64> = KeyTable::with_capacity(64);
            let won: Vec<bool> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..4u64)
                    .map(|t| {
                        let table = &table;
                        s.spawn(move || {
                            // Every thread also inserts keys of its own, to race for slots.
                            for k in 0..8 {
                                let _ = table.insert(&(1000 + t * 100 + k), k);
                            }
                            table.insert(&round, t).is_ok()
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            assert_eq!(won.iter().filter(|w| **w).count(), 1, "round {round}");
            let winner = won.iter().position(|w| *w).unwrap() as u64;
            assert_eq!(table.with(&round, |v| *v), Some(winner));
            for t in 0..4u64 {
                for k in 0..8 {
                    assert_eq!(table.with(&(1000 + t * 100 + k), |v| *v), Some(k));
                }
            }
        }
    }
}
