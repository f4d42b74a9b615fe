//! The lock-free memory's index of keys: a table of slots sized for the block before it
//! starts, each slot set once (a key and its value, held in place) and never cleared or
//! moved while the table is shared. A key goes in the first free slot at or after its
//! hash (linear probing); a look-up walks the same slots until it finds the key or a free
//! slot. A key whose first [`PROBES`] slots are all taken goes to an overflow index
//! (`scc::HashIndex`, which grows), so a block with more keys than its table planned for
//! is slower there, never wrong.
//!
//! Why not `scc::HashIndex` alone, as before: an index that can grow must be able to move
//! its entries, so each look-up enters an epoch, and each new key pays an insert that may
//! relocate buckets. Here a look-up is a hash, a few loads and key comparisons, and a new
//! key one `OnceLock::set`: on 2,000 ERC-20 transfers at 1 thread the memory's reads and
//! writes were a tenth of Block-STM's instructions. A slot holds its value in place, with
//! no allocation per key: the table never moves it.
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
    slots: Box<[OnceLock<(K, T)>]>,
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
    /// A table of the next power of two at or above `keys` slots (at least [`PROBES`]).
    /// Its caller plans for fewer keys than that: probing grows long as a table fills.
    pub(crate) fn with_capacity(keys: usize) -> Self {
        let len = keys
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
    fn probe(&self, key: &K) -> impl Iterator<Item = &OnceLock<(K, T)>> {
        let spread = self
            .hasher
            .hash_one(key)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let start = (spread >> (u64::BITS - self.bits)) as usize;
        (0..PROBES.min(self.slots.len()))
            .map(move |i| &self.slots[start.wrapping_add(i) & self.mask])
    }

    /// Applies `f` to `key`'s value, if the table holds the key.
    pub(crate) fn with<R>(&self, key: &K, f: impl FnOnce(&T) -> R) -> Option<R> {
        for slot in self.probe(key) {
            // `get` is an Acquire load of the slot's state: it pairs with the Release of
            // the `set` that published the key and its value, so both are seen whole.
            match slot.get() {
                Some((k, value)) if k == key => return Some(f(value)),
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
                match slot.set((key.clone(), value)) {
                    Ok(()) => return Ok(()),
                    Err((_, lost)) => value = lost,
                }
            }
            if slot.get().is_some_and(|(k, _)| k == key) {
                return Err(value);
            }
        }
        self.overflow
            .insert_sync(key.clone(), Box::new(value))
            .map_err(|(_, lost)| *lost)
    }

    /// Every value, taken out of the table, which is then empty: in `shares` parts of
    /// about the same number of slots each, for as many threads to free.
    pub(crate) fn into_parts(
        self,
        shares: usize,
    ) -> (Vec<Vec<T>>, scc::HashIndex<K, Box<T>, FastHash>) {
        let Self {
            slots, overflow, ..
        } = self;
        let per_share = slots.len().div_ceil(shares.max(1));
        let mut slots = slots.into_vec();
        let parts = slots
            .chunks_mut(per_share)
            .map(|chunk| {
                chunk
                    .iter_mut()
                    .filter_map(|s| s.take())
                    .map(|(_, v)| v)
                    .collect()
            })
            .collect();
        (parts, overflow)
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
        let (parts, overflow) = table.into_parts(3);
        let in_slots: usize = parts.iter().map(Vec::len).sum();
        assert_eq!(in_slots + overflow.len(), 200);
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
