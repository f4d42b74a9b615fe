//! The versions of one key: a singly linked list of nodes sorted by transaction index,
//! highest first, one node per transaction that ever wrote the key. **All of the
//! multi-version memory's `unsafe` lives in this module** (the crate's other two sites:
//! `stmlab::core::pool::kept`, `evm::code_copies`).
//!
//! - Nodes are inserted with one CAS on the predecessor's `next` and never unlinked while
//!   the list is shared, so a node reference stays valid as long as the list does: nodes
//!   are freed in `Drop`, which has the list exclusively. Traversal therefore needs no
//!   epoch or hazard protection at all.
//! - A node's entry (a value with its incarnation, an ESTIMATE, or "removed") is held in
//!   place behind the node's own mutex and replaced under it. Only the worker that holds
//!   the node's transaction ever writes it, and readers hold it for the length of a clone,
//!   so the mutex is all but uncontended; it replaced an epoch-managed pointer that cost
//!   an allocation per write and a deferred free per replacement (together a tenth of a
//!   1-thread run on 10,000 ERC-20 transfers).

use std::marker::PhantomData;
use std::ptr;

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

impl<V> Node<V> {
    /// A node on the heap, not yet linked: its caller owns it until a CAS publishes it.
    fn boxed(txn_idx: TxnIndex, entry: Entry<V>, next: *mut Node<V>) -> *mut Node<V> {
        Box::into_raw(Box::new(Node {
            txn_idx,
            entry: Mutex::new(entry),
            next: AtomicPtr::new(next),
        }))
    }
}

/// Never empty while it is shared: a list is built with its first node, and nodes are only
/// added (`release_index` empties the lists of an index it owns, before dropping them).
pub(crate) struct VersionList<V> {
    head: AtomicPtr<Node<V>>,
    /// The list owns its nodes: it is `Send` and `Sync` exactly when they are (an
    /// `AtomicPtr` alone would make it both for any `V`). A node's value is only ever
    /// reached under its mutex, so `V: Send` is what either needs.
    _owns: PhantomData<Box<Node<V>>>,
}

impl<V: Send> VersionList<V> {
    /// A list of one node, transaction `txn_idx`'s: what a key written for the first time
    /// starts with, built whole before the index publishes it.
    pub(crate) fn with_first(txn_idx: TxnIndex, entry: Entry<V>) -> Self {
        Self {
            head: AtomicPtr::new(Node::boxed(txn_idx, entry, ptr::null_mut())),
            _owns: PhantomData,
        }
    }

    /// The head node's entry of a list that was never shared (one built by `with_first`
    /// that lost the race to publish its key), given back to be set in the list that won.
    pub(crate) fn into_first_entry(self) -> Entry<V> {
        // SAFETY: a list is never empty, so `head` is a node; `self` is owned, so no
        // other thread can reach it. The entry is taken out and `Removed` left, which the
        // drop of `self` frees with the node.
        let head = unsafe { &*self.head.load(Ordering::Relaxed) };
        std::mem::replace(&mut *lock(&head.entry), Entry::Removed)
    }

    /// Sets transaction `txn_idx`'s entry, inserting its node if needed.
    ///
    /// Callers guarantee that no two threads set the same transaction's entry at once
    /// (the scheduler gives a transaction's writes to one worker at a time); readers and
    /// other transactions' writers may run concurrently.
    pub(crate) fn set(&self, txn_idx: TxnIndex, entry: Entry<V>) {
        let mut entry = entry;
        loop {
            let (prev, cur) = self.find(txn_idx);
            // SAFETY: `cur` is null or a linked node, valid while the list is (see the
            // module docs).
            if let Some(node) = unsafe { cur.as_ref() } {
                if node.txn_idx == txn_idx {
                    let old = std::mem::replace(&mut *lock(&node.entry), entry);
                    // Freed after the lock is released.
                    drop(old);
                    return;
                }
            }
            let node = Node::boxed(txn_idx, entry, cur);
            // Between finding the position and linking there: where a racing writer of
            // the same list slips in.
            crate::perturb::at(crate::perturb::Site::MemoryWrite);
            // Release on success: a reader that Acquire-loads this link sees the node's
            // fields as initialised by `boxed`. Acquire on failure: we retry from a fresh
            // snapshot of the links.
            match prev.compare_exchange(cur, node, Ordering::Release, Ordering::Acquire) {
                Ok(_) => return,
                Err(_) => {
                    // Someone linked a node here first; take our entry back and retry.
                    // SAFETY: the node was never published; we own it alone.
                    let node = unsafe { Box::from_raw(node) };
                    entry = node.entry.into_inner().unwrap_or_else(|e| e.into_inner());
                }
            }
        }
    }

    /// The link to update and the first node with index <= `txn_idx` (or null).
    fn find(&self, txn_idx: TxnIndex) -> (&AtomicPtr<Node<V>>, *mut Node<V>) {
        let mut prev = &self.head;
        // Acquire: pairs with the Release CAS (or the list's construction) that linked
        // the node.
        let mut cur = prev.load(Ordering::Acquire);
        // SAFETY: nodes are valid while the list is (see module docs).
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
    pub(crate) fn read_below<R>(
        &self,
        below: TxnIndex,
        read: impl FnOnce(TxnIndex, &Entry<V>) -> R,
    ) -> Option<R> {
        // Acquire: pairs with the Release CAS that linked each node.
        let mut cur = self.head.load(Ordering::Acquire);
        // SAFETY: nodes are valid while the list is (see module docs).
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

impl<V> Drop for VersionList<V> {
    fn drop(&mut self) {
        // `&mut self`: no other thread can reach the list, so its chain is ours to free.
        drop(Detached(self.head.load(Ordering::Relaxed)));
    }
}

/// The nodes of one list, detached from it, owned by whoever holds this: freed where it is
/// dropped.
struct Detached<V>(*mut Node<V>);

// SAFETY: a detached chain is reachable from nothing else (see `release_index`), so it is
// owned as a `Box` of its head would be; sending it sends that ownership, which needs
// only the values to be `Send`.
unsafe impl<V: Send> Send for Detached<V> {}

impl<V> Drop for Detached<V> {
    fn drop(&mut self) {
        let mut cur = self.0;
        while !cur.is_null() {
            // SAFETY: the chain is owned here alone; each node was made by `Node::boxed`
            // and is freed once.
            let node = unsafe { Box::from_raw(cur) };
            cur = node.next.load(Ordering::Relaxed);
        }
    }
}

/// Frees an index of version lists, the lists' nodes on `threads` workers (a share of
/// the lists each), the index itself here.
pub(crate) fn release_index<K, V, H>(
    index: scc::HashIndex<K, Box<VersionList<V>>, H>,
    threads: usize,
) where
    K: Eq + std::hash::Hash + 'static,
    V: Send + 'static,
    H: std::hash::BuildHasher,
{
    // The index is owned here, so no thread can be reading any of its lists: each list's
    // chain of nodes is taken out whole (the list left empty, so that dropping it with
    // the index frees nothing twice) and owned by its `Detached`.
    let chains: Vec<Detached<V>> = {
        let guard = scc::Guard::new();
        index
            .iter(&guard)
            .map(|(_, list)| Detached(list.head.swap(ptr::null_mut(), Ordering::Relaxed)))
            .collect()
    };
    drop(index);
    let share = chains.len().div_ceil(threads.max(1)).max(1);
    let mut chains = chains;
    let mut shares: Vec<Vec<Detached<V>>> = Vec::new();
    while !chains.is_empty() {
        let tail = chains.split_off(chains.len().saturating_sub(share));
        shares.push(tail);
    }
    crate::pool::drop_on_workers(shares);
}
