//! The dependency graph of the DAG-validation strategy (`strategies::dag`), and the work
//! distribution of its commit loop.
//!
//! Nodes are the transactions of a block; an edge `w -> j` (always `w < j`) says that `j`
//! may read something `w` writes, so `j` must not commit before `w` has. The edges are
//! fixed when the graph is built (the strategy discovers them from its first round of
//! executions); what changes while the block runs is, per transaction, the number of its
//! dependencies that have not committed yet. A transaction whose count is 0 is *ready*.
//!
//! The commit loop: workers take ready transactions with [`DepGraph::next`], commit them,
//! and report each commit with [`DepGraph::commit`], which counts down the dependents and
//! makes ready the ones that reach 0. `next` waits when nothing is ready and returns `None`
//! once every transaction has committed (or the run was abandoned with
//! [`DepGraph::abandon`]). Ready transactions come from two places: the *roots* (no
//! dependencies; a fixed list handed out through an atomic cursor, no lock) and the *queue*
//! of released dependents (a min-heap behind a mutex, with a condition variable to wait
//! on). `next` hands out the lowest ready transaction of the two.
//!
//! A transaction's life in the graph:
//!
//! ```text
//!   root:       ready (unclaimed, at or after the cursor) --next()--> running
//!   dependent:  waiting (pending > 0) --its last dependency commits--> ready (in the queue)
//!               ready (in the queue) --next()--> running
//!   both:       running (one worker holds it) --commit()--> committed
//! ```
//!
//! Each transition happens exactly once per transaction.
//!
//! Liveness (no worker blocks forever, no cycle, no lost wake-up):
//! - Edges only go from a lower to a higher index, so the graph has no cycle: the lowest
//!   transaction not yet committed has all its dependencies (all lower) committed, so its
//!   count is 0 and it is an unclaimed root, in the queue, or held by a worker. Hence while
//!   some transaction is uncommitted, `next` finds work or some worker holds a transaction
//!   it will commit.
//! - Every count reaches 0 exactly once (each edge is decremented exactly once, by the
//!   single commit of its source), and the decrement that reaches 0 pushes the transaction
//!   exactly once; each root is handed out once, by the cursor.
//! - A worker waits only after checking, while holding the queue's mutex, that the queue
//!   is empty, no root is left, nothing was abandoned and not everything has committed.
//!   Each event that falsifies that check happens with the mutex held, or is followed by
//!   taking the mutex, and is followed by a notification: a push (under the mutex, then
//!   notify), the last commit (its count increment, then the mutex taken and released,
//!   then notify all), abandoning (flag set under the mutex, then notify all). The
//!   roots never change after construction. So a waiter either sees the event in its
//!   check, or is already waiting when the notification comes: no wake-up is lost.
//! - A worker that fails or panics while holding a transaction calls `abandon` (the
//!   strategy arms a guard for that), which wakes every waiting worker and makes `next`
//!   return `None`: the other workers exit instead of waiting for a commit that will
//!   never come.
//!
//! Atomic orderings: only the dependency counters need more than `Relaxed` (see
//! `commit`). The other atomics are hints (`queued`, the `abandoned` fast path) or
//! counters whose decisive reads happen under the queue's mutex (`committed`,
//! `abandoned`), which orders them; the cursor only hands out distinct positions.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::error::Invariant;
use crate::sync::{lock, AtomicBool, AtomicUsize, Condvar, Mutex, Ordering};
use crate::txn::TxnIndex;

/// The dependency graph of one block, with the counters and the ready queue of its commit
/// loop. See the module documentation.
pub struct DepGraph {
    /// `deps[j]`: the transactions `j` depends on, sorted, distinct, all below `j`.
    deps: Vec<Vec<TxnIndex>>,
    /// `dependents[w]`: the transactions that depend on `w`, sorted.
    dependents: Vec<Vec<TxnIndex>>,
    /// `depth[j]`: the longest chain of dependencies ending at `j`, in transactions
    /// (1 for a transaction without dependencies).
    depth: Vec<usize>,
    edges: usize,
    /// The transactions without dependencies, ascending.
    roots: Vec<TxnIndex>,
    /// The next position of `roots` to hand out.
    next_root: AtomicUsize,
    /// `pending[j]`: how many of `deps[j]` have not committed yet.
    pending: Vec<AtomicUsize>,
    /// Released dependents, lowest index first (the lowest uncommitted transaction is the
    /// one everything else ends up waiting for).
    queue: Mutex<BinaryHeap<Reverse<TxnIndex>>>,
    /// The length of `queue`, readable without its lock: a hint only.
    queued: AtomicUsize,
    /// Signalled on every push, on the last commit and on abandoning.
    wake: Condvar,
    /// How many transactions have committed.
    committed: AtomicUsize,
    /// Set by `abandon`: the run failed, every worker stops.
    abandoned: AtomicBool,
}

/// Why a list of dependencies does not make a graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadEdge {
    pub from: TxnIndex,
    pub to: TxnIndex,
}

impl std::fmt::Display for BadEdge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&Invariant::from(self.clone()), f)
    }
}

/// A bad edge handed to the graph by a strategy is the strategy's bug.
impl From<BadEdge> for Invariant {
    fn from(BadEdge { from, to }: BadEdge) -> Self {
        Invariant::BadDependencyEdge { from, to }
    }
}

impl DepGraph {
    /// The graph in which transaction `j` depends on every transaction in `deps[j]`
    /// (duplicates are merged). Every dependency must be below its dependent: that is
    /// what rules out cycles.
    pub fn new(mut deps: Vec<Vec<TxnIndex>>) -> Result<Self, BadEdge> {
        let n = deps.len();
        let mut dependents = vec![Vec::new(); n];
        let mut depth = vec![0usize; n];
        let mut edges = 0;
        for (j, list) in deps.iter_mut().enumerate() {
            list.sort_unstable();
            list.dedup();
            if let Some(&from) = list.last().filter(|&&w| w >= j) {
                return Err(BadEdge { from, to: j });
            }
            edges += list.len();
            // All of `list` is below `j`, so their depths are final.
            depth[j] = 1 + list.iter().map(|&w| depth[w]).max().unwrap_or(0);
            for &w in list.iter() {
                dependents[w].push(j);
            }
        }
        let pending = deps.iter().map(|d| AtomicUsize::new(d.len())).collect();
        let roots = (0..n).filter(|&j| deps[j].is_empty()).collect();
        Ok(Self {
            deps,
            dependents,
            depth,
            edges,
            roots,
            next_root: AtomicUsize::new(0),
            pending,
            queue: Mutex::new(BinaryHeap::new()),
            queued: AtomicUsize::new(0),
            wake: Condvar::new(),
            committed: AtomicUsize::new(0),
            abandoned: AtomicBool::new(false),
        })
    }

    pub fn num_txns(&self) -> usize {
        self.deps.len()
    }

    /// Number of edges (each pair of transactions counted once).
    pub fn edges(&self) -> usize {
        self.edges
    }

    /// The longest chain of dependencies, in transactions (0 for an empty block, 1 when
    /// no transaction depends on another).
    pub fn longest_chain(&self) -> usize {
        self.depth.iter().copied().max().unwrap_or(0)
    }

    /// The longest chain of dependencies ending at `txn_idx`, in transactions.
    pub fn depth(&self, txn_idx: TxnIndex) -> usize {
        self.depth[txn_idx]
    }

    /// The transactions `txn_idx` depends on, sorted.
    pub fn dependencies(&self, txn_idx: TxnIndex) -> &[TxnIndex] {
        &self.deps[txn_idx]
    }

    /// The transactions that depend on `txn_idx`, sorted.
    pub fn dependents(&self, txn_idx: TxnIndex) -> &[TxnIndex] {
        &self.dependents[txn_idx]
    }

    /// True when `txn_idx` depends on no transaction.
    pub fn is_independent(&self, txn_idx: TxnIndex) -> bool {
        self.deps[txn_idx].is_empty()
    }

    /// The next unclaimed root, if any.
    fn claim_root(&self) -> Option<TxnIndex> {
        // Relaxed: the cursor only hands out distinct positions of an immutable list.
        let at = self.next_root.fetch_add(1, Ordering::Relaxed);
        self.roots.get(at).copied()
    }

    /// Claims the next unclaimed root if it is below `bound`. `Err(())` when that root
    /// was claimed by another worker meanwhile (look again).
    fn claim_root_below(&self, bound: TxnIndex) -> Result<Option<TxnIndex>, ()> {
        // Relaxed: as in `claim_root`; the compare-exchange makes the claim exclusive.
        let at = self.next_root.load(Ordering::Relaxed);
        match self.roots.get(at) {
            Some(&root) if root < bound => self
                .next_root
                .compare_exchange(at, at + 1, Ordering::Relaxed, Ordering::Relaxed)
                .map(|_| Some(root))
                .map_err(|_| ()),
            _ => Ok(None),
        }
    }

    /// Takes a ready transaction, waiting while none is ready. `None` once every
    /// transaction has committed, or the run was abandoned.
    ///
    /// The lowest ready transaction comes first (the lowest uncommitted transaction is the
    /// one everything else ends up waiting for, and a re-execution that runs after every
    /// lower transaction has committed reads final values): with one worker the commit
    /// order is the block order.
    pub fn next(&self) -> Option<TxnIndex> {
        crate::perturb::at(crate::perturb::Site::TaskHandOut);
        // Fast path, no lock: a root while no released dependent is queued (the hint may
        // be stale either way; the slow path below decides).
        if self.abandoned.load(Ordering::Relaxed) {
            return None;
        }
        if self.queued.load(Ordering::Relaxed) == 0 {
            if let Some(j) = self.claim_root() {
                return Some(j);
            }
        }
        let mut queue = lock(&self.queue);
        loop {
            // The decisive checks, under the mutex (see the liveness argument).
            if self.abandoned.load(Ordering::Relaxed) {
                return None;
            }
            if let Some(&Reverse(first)) = queue.peek() {
                match self.claim_root_below(first) {
                    Ok(Some(root)) => return Some(root),
                    Ok(None) => {
                        queue.pop();
                        self.queued.fetch_sub(1, Ordering::Relaxed);
                        return Some(first);
                    }
                    Err(()) => continue,
                }
            }
            if let Some(j) = self.claim_root() {
                return Some(j);
            }
            if self.committed.load(Ordering::Relaxed) == self.num_txns() {
                return None;
            }
            // Re-checked after every wake-up (spurious ones included).
            queue = self.wake.wait(queue).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Reports that `txn_idx` (taken from `next`) has committed: its writes are final
    /// and visible to every later reader. Makes ready the dependents whose last
    /// dependency this was and returns how many there were (the re-executions this
    /// commit released).
    pub fn commit(&self, txn_idx: TxnIndex) -> usize {
        let mut released = Vec::new();
        for &d in &self.dependents[txn_idx] {
            // AcqRel: the Release half publishes this transaction's committed writes
            // (made before this call) along the counter's modification order; the
            // Acquire half lets the commit that brings the count to 0 see the writes of
            // every earlier committer of `d`, and pass them on to the worker that pops
            // `d` (through the queue mutex). So `d` runs only after, and sees, all of its
            // dependencies' writes.
            if self.pending[d].fetch_sub(1, Ordering::AcqRel) == 1 {
                released.push(d);
            }
        }
        let count = released.len();
        if count > 0 {
            {
                let mut queue = lock(&self.queue);
                queue.extend(released.into_iter().map(Reverse));
                self.queued.fetch_add(count, Ordering::Relaxed);
            }
            if count == 1 {
                self.wake.notify_one();
            } else {
                self.wake.notify_all();
            }
        }
        // Relaxed: the waiters read the count under the mutex, which this commit takes
        // after the increment when it is the last one.
        if self.committed.fetch_add(1, Ordering::Relaxed) + 1 == self.num_txns() {
            // A waiter that read the old count under the mutex is waiting by the time
            // this lock is ours, so the notification reaches it.
            drop(lock(&self.queue));
            self.wake.notify_all();
        }
        count
    }

    /// Stops the commit loop: every waiting worker wakes up and `next` returns `None`
    /// from now on. Called when a worker fails or panics while holding a transaction.
    pub fn abandon(&self) {
        {
            let _queue = lock(&self.queue);
            // Relaxed: set under the mutex, where the waiters read it.
            self.abandoned.store(true, Ordering::Relaxed);
        }
        self.wake.notify_all();
    }

    /// True once every transaction has committed. Meant for after the workers have
    /// been joined (which orders their commits before this read).
    pub fn is_done(&self) -> bool {
        self.committed.load(Ordering::Relaxed) == self.num_txns()
    }

    /// Where the commit loop stands, for a hang report: commits, roots handed out, queued
    /// releases, and the transactions still waiting for dependencies (the first eight,
    /// with how many). Takes no lock.
    pub fn describe(&self) -> String {
        let waiting: Vec<String> = self
            .pending
            .iter()
            .enumerate()
            .filter(|(_, p)| p.load(Ordering::Relaxed) > 0)
            .map(|(j, p)| format!("{j}: {} left", p.load(Ordering::Relaxed)))
            .collect();
        format!(
            "{} of {} committed, {} of {} roots handed out, {} queued, abandoned {}; {} waiting [{}]",
            self.committed.load(Ordering::Relaxed),
            self.num_txns(),
            self.next_root.load(Ordering::Relaxed).min(self.roots.len()),
            self.roots.len(),
            self.queued.load(Ordering::Relaxed),
            self.abandoned.load(Ordering::Relaxed),
            waiting.len(),
            waiting.iter().take(8).cloned().collect::<Vec<_>>().join(", ")
        )
    }
}

impl std::fmt::Debug for DepGraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DepGraph")
            .field("deps", &self.deps)
            .field("edges", &self.edges)
            .field("longest_chain", &self.longest_chain())
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(stmlab_loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize as StdAtomic;

    #[test]
    fn shape_and_metrics() {
        // 0 -> 2, 1 -> 2, 2 -> 3 (listed twice), 4 alone.
        let g = DepGraph::new(vec![vec![], vec![], vec![1, 0], vec![2, 2], vec![]]).unwrap();
        assert_eq!(g.edges(), 3);
        assert_eq!(g.longest_chain(), 3);
        assert_eq!(g.dependencies(2), &[0, 1]);
        assert_eq!(g.dependents(2), &[3]);
        assert!(g.is_independent(4) && !g.is_independent(3));
        assert_eq!(DepGraph::new(vec![]).unwrap().longest_chain(), 0);
        assert_eq!(
            DepGraph::new(vec![vec![], vec![1]]).unwrap_err(),
            BadEdge { from: 1, to: 1 }
        );
    }

    #[test]
    fn describe_names_the_waiting_transactions() {
        let g = DepGraph::new(vec![vec![], vec![], vec![1, 0], vec![2, 2], vec![]]).unwrap();
        let first = g.next().unwrap();
        g.commit(first);
        let d = g.describe();
        assert!(
            d.starts_with("1 of 5 committed, 1 of 3 roots handed out"),
            "{d}"
        );
        assert!(d.contains("2 waiting [2: "), "{d}");
        assert!(d.contains("3: 1 left"), "{d}");
    }

    #[test]
    fn single_worker_commits_in_dependency_order() {
        let g = DepGraph::new(vec![vec![], vec![0], vec![0], vec![1, 2], vec![]]).unwrap();
        let mut order = Vec::new();
        let mut released = 0;
        while let Some(j) = g.next() {
            assert!(g.dependencies(j).iter().all(|d| order.contains(d)));
            order.push(j);
            released += g.commit(j);
        }
        assert_eq!(order, vec![0, 1, 2, 3, 4]);
        assert_eq!(released, 3);
        assert!(g.is_done());
    }

    #[test]
    fn many_workers_commit_everything_once() {
        // A dense random-ish graph, many times over.
        for round in 0..50usize {
            let n = 200;
            let deps: Vec<Vec<usize>> = (0..n)
                .map(|j| {
                    (0..j)
                        .filter(|w| (w * 7 + j * 13 + round) % 11 == 0)
                        .collect()
                })
                .collect();
            let g = DepGraph::new(deps).unwrap();
            let committed: Vec<StdAtomic> = (0..n).map(|_| StdAtomic::new(0)).collect();
            std::thread::scope(|s| {
                for _ in 0..4 {
                    s.spawn(|| {
                        while let Some(j) = g.next() {
                            for &d in g.dependencies(j) {
                                assert_eq!(committed[d].load(Ordering::Acquire), 1);
                            }
                            committed[j].fetch_add(1, Ordering::Release);
                            g.commit(j);
                        }
                    });
                }
            });
            assert!(committed.iter().all(|c| c.load(Ordering::Relaxed) == 1));
        }
    }

    #[test]
    fn abandon_wakes_waiting_workers() {
        let g = DepGraph::new(vec![vec![], vec![0]]).unwrap();
        std::thread::scope(|s| {
            let first = g.next();
            assert_eq!(first, Some(0));
            // Nothing else is ready: this worker waits until the run is abandoned.
            let waiter = s.spawn(|| g.next());
            std::thread::sleep(std::time::Duration::from_millis(20));
            g.abandon();
            assert_eq!(waiter.join().unwrap(), None);
        });
    }
}
