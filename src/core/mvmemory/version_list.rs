//! The versions of one key: a lock-free singly linked list sorted by transaction index,
//! highest first. **All of the multi-version memory's `unsafe` lives in this module** (the
//! crate's other two sites: `strategies::pool::kept`, `evm::code_copies`).
//!
//! - A node per transaction that ever wrote the key; nodes are inserted with one CAS on
//!   the predecessor's `next` and never unlinked while the list is shared, so a node
//!   reference stays valid as long as the list does (nodes are freed in `Drop`, which has
//!   the list exclusively).
//! - A node's entry (a value with its incarnation, an ESTIMATE, or "removed") is replaced
//!   by swapping a new allocation in; the old one is handed to crossbeam-epoch, which
//!   frees it once no pinned thread can still hold it. Readers pin, load, and clone what
//!   they need before unpinning.

use crossbeam_epoch::{self as epoch, Atomic, Guard, Owned, Shared};

use crate::core::txn::{Incarnation, TxnIndex};
use crate::sync::Ordering;

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
    /// Never null once the node is linked: the inserting thread stores the first entry
    /// before the CAS that publishes the node.
    entry: Atomic<Entry<V>>,
    next: Atomic<Node<V>>,
}

pub(crate) struct VersionList<V> {
    head: Atomic<Node<V>>,
}

impl<V> Default for VersionList<V> {
    fn default() -> Self {
        Self {
            head: Atomic::null(),
        }
    }
}

impl<V: Send + Sync> VersionList<V> {
    /// A list of one node, transaction `txn_idx`'s: what a key written for the first time
    /// starts with, built whole before the index publishes it (one allocation and no CAS
    /// fewer than inserting an empty list and then the node).
    pub(crate) fn with_first(txn_idx: TxnIndex, entry: Entry<V>) -> Self {
        let node = Owned::new(Node {
            txn_idx,
            entry: Atomic::new(entry),
            next: Atomic::null(),
        });
        Self {
            head: Atomic::from(node),
        }
    }

    /// The first node's entry of a list that was never shared (one built by `with_first`
    /// that lost the race to publish its key): given back, to be set in the list that won.
    pub(crate) fn into_first_entry(self) -> Option<Entry<V>> {
        // SAFETY: `self` is owned, so no other thread can reach the list or its nodes:
        // nothing needs protecting. The entry is swapped out before `self` drops (which
        // skips a null entry), so it is freed exactly once, by the caller.
        unsafe {
            let guard = epoch::unprotected();
            let head = self.head.load(Ordering::Relaxed, guard);
            let node = head.as_ref()?;
            let entry = node.entry.swap(Shared::null(), Ordering::Relaxed, guard);
            (!entry.is_null()).then(|| *entry.into_owned().into_box())
        }
    }

    /// Sets transaction `txn_idx`'s entry, inserting its node if needed. `guard` pins the
    /// calling thread (one pin for a whole write set).
    ///
    /// Callers guarantee that no two threads set the same transaction's entry at once
    /// (the scheduler gives a transaction's writes to one worker at a time); readers and
    /// other transactions' writers may run concurrently.
    pub(crate) fn set(&self, txn_idx: TxnIndex, entry: Entry<V>, guard: &Guard) {
        let mut entry = Owned::new(entry);
        loop {
            let (prev, cur) = self.find(txn_idx, guard);
            // SAFETY: `cur` was loaded under `guard` from a list whose nodes are freed
            // only in `Drop`; it is null or valid.
            if let Some(node) = unsafe { cur.as_ref() } {
                if node.txn_idx == txn_idx {
                    // AcqRel: Release publishes the new entry's contents to readers that
                    // Acquire-load it; Acquire makes the old entry's contents ours before
                    // we hand it to the collector.
                    let old = node.entry.swap(entry, Ordering::AcqRel, guard);
                    if !old.is_null() {
                        // SAFETY: `old` is unreachable from the list now (we swapped it
                        // out) and is destroyed only after every thread pinned before
                        // this point unpins, so no reader can still use it.
                        unsafe { guard.defer_destroy(old) };
                    }
                    return;
                }
            }
            let node = Owned::new(Node {
                txn_idx,
                entry: Atomic::null(),
                next: Atomic::null(),
            });
            node.entry.store(entry, Ordering::Relaxed);
            node.next.store(cur, Ordering::Relaxed);
            // Release on success: a reader that Acquire-loads this link sees the node's
            // fields (entry and next) as initialised above. Acquire on failure: we
            // retry from a fresh snapshot.
            match prev.compare_exchange(cur, node, Ordering::Release, Ordering::Acquire, guard) {
                Ok(_) => return,
                Err(e) => {
                    // Someone linked a node here first; take our entry back and retry.
                    // SAFETY: the failed node was never published; we own it alone.
                    let failed = e.new;
                    let inner = failed.entry.swap(Shared::null(), Ordering::Relaxed, guard);
                    // SAFETY: `inner` is the entry we stored into the unpublished node.
                    entry = unsafe { inner.into_owned() };
                    drop(failed);
                }
            }
        }
    }

    /// The link to update and the first node with index <= `txn_idx` (or null).
    fn find<'g>(
        &'g self,
        txn_idx: TxnIndex,
        guard: &'g Guard,
    ) -> (&'g Atomic<Node<V>>, Shared<'g, Node<V>>) {
        let mut prev = &self.head;
        // Acquire: pairs with the Release CAS that linked the node.
        let mut cur = prev.load(Ordering::Acquire, guard);
        // SAFETY: nodes are valid while the list is (see module docs).
        while let Some(node) = unsafe { cur.as_ref() } {
            if node.txn_idx <= txn_idx {
                break;
            }
            prev = &node.next;
            cur = node.next.load(Ordering::Acquire, guard);
        }
        (prev, cur)
    }

    /// Applies `read` to the entry of the highest transaction below `below` that has not
    /// removed its write, with that transaction's index.
    pub(crate) fn read_below<R>(
        &self,
        below: TxnIndex,
        read: impl FnOnce(TxnIndex, &Entry<V>) -> R,
    ) -> Option<R> {
        let guard = &epoch::pin();
        let mut cur = self.head.load(Ordering::Acquire, guard);
        // SAFETY: nodes are valid while the list is (see module docs).
        while let Some(node) = unsafe { cur.as_ref() } {
            if node.txn_idx < below {
                // Acquire: pairs with the Release half of the swap that stored it.
                let entry = node.entry.load(Ordering::Acquire, guard);
                // SAFETY: a linked node's entry is never null, and a swapped-out entry is
                // freed only after our guard unpins.
                match unsafe { entry.as_ref() } {
                    Some(Entry::Removed) | None => {}
                    Some(e) => return Some(read(node.txn_idx, e)),
                }
            }
            cur = node.next.load(Ordering::Acquire, guard);
        }
        None
    }
}

impl<V> Drop for VersionList<V> {
    fn drop(&mut self) {
        // SAFETY: `&mut self`: no other thread can reach the list, so nothing is
        // protected and every node and its current entry can be freed at once.
        unsafe {
            let guard = epoch::unprotected();
            let mut cur = self.head.load(Ordering::Relaxed, guard);
            while !cur.is_null() {
                let node = cur.into_owned();
                let entry = node.entry.load(Ordering::Relaxed, guard);
                if !entry.is_null() {
                    drop(entry.into_owned());
                }
                cur = node.next.load(Ordering::Relaxed, guard);
            }
        }
    }
}
