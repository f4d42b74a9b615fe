//! The lock-free memory's index of keys: a table of slots sized for the block before it
//! starts, each slot set once (to a boxed key and value) and never cleared or moved while
//! the table is shared. A key goes in the first free slot at or after its
//! hash (linear probing); a look-up walks the same slots until it finds the key or a free
//! slot. A key whose first [`PROBES`] slots are all taken goes to an overflow index
//! (`scc::HashIndex`, which grows), so a block with more keys than its table planned for
//! is slower there, never wrong.
//!
//! Why not `scc::HashIndex` alone, as before: an index that can grow must be able to move
//! its entries, so each look-up enters an epoch, and each new key pays an insert that may
//! relocate buckets. Here a look-up is a hash, a few loads and key comparisons, and a new
//! key one `OnceLock::set`: on 2,000 ERC-20 transfers at 1 thread the memory's reads and
//! writes were a tenth of Block-STM's instructions.
//!
//! A slot is a pointer (16 bytes with its `OnceLock`), the key and value boxed beside it:
//! so the table can be planned with room to spare (twice the keys a block is expected to
//! write) at little memory. With keys and values held in the slots themselves (72 bytes
//! a slot for EVM locations), a table of that size cost Block-STM a tenth more peak
//! memory on 10,000 ERC-20 transfers, and one sized tighter filled up on blocks that
//! write more keys than planned (5,000 swaps: 35,000 keys, 3,230 of them in the
//! overflow).
//!
//! A look-up takes no lock: `OnceLock::get` is one load. An insert sets a free slot with
//! `OnceLock::set`, a compare-and-swap; a second thread setting the same slot at that
//! moment waits for the first one's store of a pointer, then finds the slot taken.
//!
//! Why a free slot ends a look-up: slots are only ever set, so the slots a key's insert
//! found taken are still taken; a key is in the overflow only if all of its [`PROBES`]
//! slots were taken when it was inserted, so a look-up that meets a free slot among them
//! knows the key is in neither place yet (a racing insert that has not published its key
//! is ordered after the look-up, as an insert that had not begun would be).

use std::hash::{BuildHasher, Hash};
use std::sync::OnceLock;

use crate::FastHash;

/// Slots a key may be placed in, from its hash on, before it goes to the overflow index.
const PROBES: usize = 32;

pub(crate) struct KeyTable<K: 'static, T: 'static> {
    slots: Box<[OnceLock<Box<(K, T)>>]>,
    /// `slots.len() - 1`; the length is a power of two.
    mask: usize,
    /// `log2(slots.len())`.
    bits: u32,
    hasher: FastHash,
    /// Keys whose slots were all taken. Boxed: the index moves its entries when it grows,
    /// and a writer holding a reference into a moved-from copy would lose what it set.
    overflow: scc::HashIndex<K, Box<T>, FastHash>,
}

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
            slots: (0..len).map(|_| OnceLock::new()).collect(),
            mask: len - 1,
            bits: len.trailing_zeros(),
            hasher: FastHash::default(),
            overflow: scc::HashIndex::with_hasher(FastHash::default()),
        }
    }

    /// The slots `key` may be in, in probing order. The first is taken from the hash's
    /// high bits, spread by a multiplication (Fibonacci hashing): foldhash's fast hash is
    /// made for tables that use its high bits, and its low bits alone left runs of taken
    /// slots long enough to push keys of 2,000 ERC-20 transfers into the overflow.
    #[inline]
    fn probe(&self, key: &K) -> impl Iterator<Item = &OnceLock<Box<(K, T)>>> {
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

    /// Applies `f` to `key`'s value, if the table holds the key.
    #[inline]
    pub(crate) fn with<R>(&self, key: &K, f: impl FnOnce(&T) -> R) -> Option<R> {
        for slot in self.probe(key) {
            // `get` is an Acquire load of the slot's state: it pairs with the Release of
            // the `set` that published the key and its value, so both are seen whole.
            match slot.get() {
                Some(held) if held.0 == *key => return Some(f(&held.1)),
                Some(_) => {}
                None => return None,
            }
        }
        self.overflow.peek_with(key, |_, value| f(value))
    }

    /// Inserts `value` for `key`, unless the table holds the key already: then `value`
    /// is given back, and the key's value stays as it is.
    pub(crate) fn insert(&self, key: &K, value: T) -> Result<(), T> {
        let mut value = value;
        for slot in self.probe(key) {
            if slot.get().is_none() {
                // Another thread may set this slot first (its key or another): then our
                // value comes back, and the slot is looked at as taken.
                match slot.set(Box::new((key.clone(), value))) {
                    Ok(()) => return Ok(()),
                    Err(lost) => value = lost.1,
                }
            }
            if slot.get().is_some_and(|held| held.0 == *key) {
                return Err(value);
            }
        }
        self.overflow
            .insert_sync(key.clone(), Box::new(value))
            .map_err(|(_, lost)| *lost)
    }
}

#[cfg(test)]
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
            assert_eq!(table.insert(&k, 0), Err(0), "key {k} twice");
        }
        assert_eq!(table.with(&1000, |v| *v), None);
        assert!(!table.overflow.is_empty());
        let in_slots = table.slots.iter().filter(|s| s.get().is_some()).count();
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
