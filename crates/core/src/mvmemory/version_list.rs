//! The versions of one key: a singly linked list of nodes sorted by transaction index,
//! highest first, one node per transaction that ever wrote the key; and [`Versions`], the
//! block's index of keys to lists together with the arena their nodes live in. The
//! multi-version memory's `unsafe` lives here and in the two files it builds on,
//! `arena.rs` (where nodes and keys are made) and `key_table.rs` (the index of keys); the
//! crate's other site is `pool::kept`, the engine crate's `evm::code_copies`.
//!
//! - A block's nodes live in one arena (`arena.rs`), not each in a box of its own. Making
//!   a node is a `fetch_add` and a write (an allocation only for a new bucket); freeing
//!   the block's nodes is a scan of the buckets in the order they were filled.
//!   With a box per node, freeing the chain block's memory at 1 thread was a cache miss
//!   per node: 11% of the run's samples for 0.6% of its instructions (report item 30).
//! - Nodes are inserted with one CAS on the predecessor's `next` and never unlinked, so a
//!   node reference stays valid as long as the arena does. The arena is a field of
//!   [`Versions`] beside the index of lists, and nothing outside this module reaches a
//!   list: every node a list links is one of that arena's, and nodes are only reached
//!   through `&Versions`, so never once the arena is dropped. Dropping a list follows no
//!   pointer (`VersionList` has no `Drop`, and must never get one): so the index and the
//!   arena may be dropped in either order, or at once on two threads (the index's lists
//!   live in its own arena of keys, and its overflow holds pointers, which `scc` may free
//!   lazily, after both arenas have gone: a pointer's drop reads nothing). Traversal
//!   therefore needs no epoch or hazard protection at all.
//! - A node's entry (a value with its incarnation, an ESTIMATE, or "removed") is held in
//!   place behind the node's own mutex and replaced under it. Only the worker that holds
//!   the node's transaction ever writes it, and readers hold it for the length of a clone,
//!   so the mutex is all but uncontended; it replaced an epoch-managed pointer that cost
//!   an allocation per write and a deferred free per replacement (together a tenth of a
//!   1-thread run on 10,000 ERC-20 transfers).
//! - A node that is made and never linked (a writer that lost a race to publish its key's
//!   list, or a CAS it lost to a writer of another transaction and then found its own
//!   transaction's node in place: which the scheduler rules out) stays in the arena with
//!   its entry set to `Removed`, freed with the rest.

use std::ptr;

use super::arena::Arena;
use super::key_table::KeyTable;
use crate::sync::{lock, AtomicPtr, Mutex, Ordering};
use crate::txn::{Incarnation, TxnIndex};

/// What a transaction's node says about the key.
#[derive(Debug)]
pub(crate) enum Entry<V> {
    Written(Incarnation, V),
    /// Written by an aborted incarnation: the next one will probably write again.
    Estimate,
    /// The transaction's latest incarnation does not write the key.
    Removed,
}

struct Node<V> {
    txn_idx: TxnIndex,
    entry: Mutex<Entry<V>>,
    /// The node of the next lower transaction, or null.
    next: AtomicPtr<Node<V>>,
}

/// A node in the arena, not yet linked: its maker alone knows of it until a CAS (or the
/// publication of a new list) links it.
fn make_node<V>(
    nodes: &Arena<Node<V>>,
    txn_idx: TxnIndex,
    entry: Entry<V>,
    next: *mut Node<V>,
) -> *mut Node<V> {
    nodes.make(Node {
        txn_idx,
        entry: Mutex::new(entry),
        next: AtomicPtr::new(next),
    })
}

/// One key's list: its head, the node of the highest transaction that wrote the key.
/// Never empty once shared: a list is built with its first node, and nodes are only added.
struct VersionList<V> {
    head: AtomicPtr<Node<V>>,
}

// A list's drop must follow no pointer (module docs): it has no drop at all. (Not under
// loom, whose atomics keep state of their own to drop.)
#[cfg(not(stmlab_loom))]
const _: () = assert!(!std::mem::needs_drop::<VersionList<String>>());

// SAFETY: a list is a pointer into its block's arena, whose nodes hold their values
// behind mutexes and atomics: reaching a value from another thread needs `V: Send`, as a
// `Mutex<V>` does to be `Send` and `Sync`. (`AtomicPtr` alone would make the list both
// for any `V`; these bounds are the honest ones.)
unsafe impl<V: Send> Send for VersionList<V> {}
// SAFETY: as above.
unsafe impl<V: Send> Sync for VersionList<V> {}

impl<V> VersionList<V> {
    /// Sets transaction `txn_idx`'s entry, inserting its node (made in `nodes`) if needed.
    ///
    /// Callers guarantee that no two threads set the same transaction's entry at once
    /// (the scheduler gives a transaction's writes to one worker at a time); readers and
    /// other transactions' writers may run concurrently.
    fn set(&self, nodes: &Arena<Node<V>>, txn_idx: TxnIndex, entry: Entry<V>) {
        let mut entry = Some(entry);
        // The node made for the entry, kept across a lost CAS and linked on a retry.
        let mut made: *mut Node<V> = ptr::null_mut();
        loop {
            let (prev, cur) = self.find(txn_idx);
            // SAFETY: `cur` is null or a linked node of `nodes`, valid while the arena
            // is (module docs).
            if let Some(node) = unsafe { cur.as_ref() } {
                if node.txn_idx == txn_idx {
                    let new = match entry.take() {
                        Some(entry) => entry,
                        // SAFETY: `made` is non-null once `entry` is taken: a node of the
                        // arena no other thread reached (its CAS failed).
                        None => {
                            std::mem::replace(&mut *lock(unsafe { &(*made).entry }), Entry::Removed)
                        }
                    };
                    let old = std::mem::replace(&mut *lock(&node.entry), new);
                    // Freed after the lock is released.
                    drop(old);
                    return;
                }
            }
            match entry.take() {
                Some(entry) => made = make_node(nodes, txn_idx, entry, cur),
                // SAFETY: as above, `made` is ours alone until the CAS below succeeds.
                // Relaxed: the Release CAS that links it publishes this store too.
                None => unsafe { &*made }.next.store(cur, Ordering::Relaxed),
            }
            // Between finding the position and linking there: where a racing writer of
            // the same list slips in.
            crate::perturb::at(crate::perturb::Site::MemoryWrite);
            // Release on success: a reader that Acquire-loads this link sees the node's
            // fields as initialised by `make`. Acquire on failure: we retry from a fresh
            // snapshot of the links.
            if prev
                .compare_exchange(cur, made, Ordering::Release, Ordering::Acquire)
                .is_ok()
            {
                return;
            }
            // Someone linked a node here first: find the place again, `made` in hand.
        }
    }

    /// The link to update and the first node with index <= `txn_idx` (or null).
    fn find(&self, txn_idx: TxnIndex) -> (&AtomicPtr<Node<V>>, *mut Node<V>) {
        let mut prev = &self.head;
        // Acquire: pairs with the Release CAS (or the publication of the list) that
        // linked the node.
        let mut cur = prev.load(Ordering::Acquire);
        // SAFETY: nodes are valid while the arena is (module docs).
        while let Some(node) = unsafe { cur.as_ref() } {
            if node.txn_idx <= txn_idx {
                break;
            }
            prev = &node.next;
            cur = node.next.load(Ordering::Acquire);
        }
        (prev, cur)
    }

    /// Applies `read` to the entry of the highest transaction below `below` that has not
    /// removed its write, with that transaction's index. `read` runs under that entry's
    /// mutex: it must not touch this list.
    fn read_below<R>(
        &self,
        below: TxnIndex,
        read: impl FnOnce(TxnIndex, &Entry<V>) -> R,
    ) -> Option<R> {
        // Acquire: pairs with the Release CAS that linked each node.
        let mut cur = self.head.load(Ordering::Acquire);
        // SAFETY: nodes are valid while the arena is (module docs).
        while let Some(node) = unsafe { cur.as_ref() } {
            if node.txn_idx < below {
                let entry = lock(&node.entry);
                if !matches!(*entry, Entry::Removed) {
                    return Some(read(node.txn_idx, &entry));
                }
            }
            cur = node.next.load(Ordering::Acquire);
        }
        None
    }
}

/// A block's version lists, by key, and the arena of their nodes. Either may be dropped
/// first: a list's drop follows no pointer (module docs).
pub(crate) struct Versions<K: 'static, V: 'static> {
    lists: KeyTable<K, VersionList<V>>,
    nodes: Arena<Node<V>>,
}

impl<K, V> Versions<K, V>
where
    K: Eq + std::hash::Hash + Clone + Send + 'static,
    V: Send + 'static,
{
    /// Versions for about `keys` keys (the index's size: `KeyTable::with_capacity`).
    pub(crate) fn with_capacity(keys: usize) -> Self {
        Self {
            lists: KeyTable::with_capacity(keys),
            nodes: Arena::new(),
        }
    }

    /// How many slots the index has.
    #[cfg(test)]
    pub(crate) fn slots_len(&self) -> usize {
        self.lists.slots_len()
    }

    /// Sets transaction `txn_idx`'s entry for `key`, inserting the key's list if the key
    /// is new. The same contract as `VersionList::set`: one writer per transaction at a
    /// time. (The index never moves a list once inserted: with an index that moved its
    /// entries as it grew, a writer that found the key just before would set its entry
    /// in the moved-from copy, lost; the racing-writers test in `tests/core_mock.rs`
    /// caught exactly that.)
    pub(crate) fn set(&self, key: &K, txn_idx: TxnIndex, entry: Entry<V>) {
        let mut entry = Some(entry);
        // At most twice round: keys are never removed during a block, so a key another
        // writer published is found on the second look. Looping rather than asserting it
        // makes a lost entry impossible, not merely unexpected.
        loop {
            self.lists.with(key, |list| {
                if let Some(entry) = entry.take() {
                    list.set(&self.nodes, txn_idx, entry);
                }
            });
            let Some(unset) = entry.take() else {
                return;
            };
            // A new key: publish a list that already holds the entry. If another writer
            // published the key first, theirs stays, and the entry goes into it.
            let head = make_node(&self.nodes, txn_idx, unset, ptr::null_mut());
            let list = VersionList {
                head: AtomicPtr::new(head),
            };
            if self.lists.insert(key, list).is_ok() {
                return;
            }
            // SAFETY: `head` is a node of the arena that no other thread reached (the
            // table kept its list unpublished, in the table's arena). Its entry is taken
            // back and `Removed` left, freed with the arena.
            let head = unsafe { &*head };
            entry = Some(std::mem::replace(&mut *lock(&head.entry), Entry::Removed));
        }
    }

    /// Applies `read` to the entry of the highest transaction below `below` that wrote
    /// `key` and has not removed the write (see `VersionList::read_below`).
    #[inline]
    pub(crate) fn read_below<R>(
        &self,
        key: &K,
        below: TxnIndex,
        read: impl FnOnce(TxnIndex, &Entry<V>) -> R,
    ) -> Option<R> {
        self.lists
            .with(key, |list| list.read_below(below, read))
            .flatten()
    }
}

#[cfg(all(test, not(stmlab_loom)))]
mod tests {
    use std::sync::atomic::AtomicUsize as StdCounter;
    use std::sync::Arc;

    use super::*;

    /// Counts its drops.
    struct Counted(Arc<StdCounter>);

    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn racing_writers_of_many_keys_lose_nothing_and_every_value_is_dropped_once() {
        let dropped = Arc::new(StdCounter::new(0));
        let keys = 300u64;
        let versions: Versions<u64, Counted> = Versions::with_capacity(16);
        std::thread::scope(|s| {
            for t in 0..4u32 {
                let (versions, dropped) = (&versions, &dropped);
                s.spawn(move || {
                    for k in 0..keys {
                        versions.set(
                            &k,
                            t as TxnIndex,
                            Entry::Written(0, Counted(dropped.clone())),
                        );
                        // A second write of the same transaction replaces, in place.
                        versions.set(
                            &k,
                            t as TxnIndex,
                            Entry::Written(1, Counted(dropped.clone())),
                        );
                    }
                });
            }
        });
        for k in 0..keys {
            for below in 1..=4 {
                let found = versions.read_below(&k, below, |idx, entry| {
                    (idx, matches!(entry, Entry::Written(1, _)))
                });
                assert_eq!(found, Some((below - 1, true)), "key {k} below {below}");
            }
            assert!(versions.read_below(&k, 0, |_, _| ()).is_none());
        }
        // 8 values a key were made; the 4 replaced ones were dropped at once.
        assert_eq!(dropped.load(Ordering::Relaxed), 4 * keys as usize);
        drop(versions);
        assert_eq!(dropped.load(Ordering::Relaxed), 8 * keys as usize);
    }
}
