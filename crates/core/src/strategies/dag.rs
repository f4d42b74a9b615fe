//! Strategy `dag`, DAG validation: validate in parallel while building a dependency graph,
//! so that only the transactions that were actually affected by an earlier one execute
//! again.
//!
//! The proposal it implements: validate a large group of executed transactions in
//! parallel; when transaction `j` read a location an earlier transaction `w` wrote, make
//! `j` depend on `w` instead of aborting it; commit the transactions without dependencies
//! at once; when `w` commits, re-execute (and then validate) only its direct dependents.
//!
//! As built here:
//!
//! 1. **Round 1.** Every transaction executes once, in parallel on the worker pool,
//!    against the pre-block state alone (every read resolves to the pre-state), recording
//!    its read set and write set.
//! 2. **Graph.** A writer index maps every key to the transactions whose round-1
//!    execution wrote it, in block order. For each transaction `j` and each key `k` it
//!    read, the nearest writer `w < j` of `k` gives an edge `w -> j` (found in parallel).
//!    Only the nearest one: `j`'s re-execution reads `k` from the highest committed writer
//!    below it, and `w` is that writer once it has committed. A read of `k` below a bound
//!    `t` (a delta chain's link) depends on the nearest writer below `t` instead. (Round 1
//!    reads only the pre-state, so a chain's lower links show up only in re-executions;
//!    one the graph did not foresee is caught by the repair pass.) One refinement: a
//!    transaction whose round-1 execution wrote nothing although it depends on an earlier
//!    one (the typical case: the second transaction of a sender, rejected in round 1
//!    because it saw the pre-block nonce) is indexed as a writer of the keys through which
//!    it depends. Its real write set is unknown, and what it would most likely write is
//!    exactly those keys (the sender's nonce and balance); without this a sender's chain
//!    of transactions would all depend on the first one only, race each other once it
//!    commits, and leave the repair pass to serialise them. Extra edges cost parallelism,
//!    never correctness. The graph is a [`DepGraph`]: per transaction a count of
//!    uncommitted dependencies and a list of dependents; edges go from lower to higher
//!    index only, so there is no cycle.
//! 3. **Commit loop.** Workers take ready transactions (count 0) from the graph, the
//!    lowest index first (so one worker commits in block order). A transaction without dependencies commits its round-1 execution as it is; one with
//!    dependencies - all of them committed by now - executes again against the committed
//!    store (a [`LockedMvMemory`]: a read by `j` resolves to the highest committed writer
//!    below `j`) and commits that execution. Committing records the write set in the store,
//!    then counts down the dependents, making ready those whose last dependency it was.
//!    Waiting and termination are the graph's (see `core::dep_graph` for the liveness
//!    argument); a worker that fails or panics abandons the graph so no one waits forever.
//! 4. **Repair pass.** The graph comes from round-1 write sets, and a re-execution may
//!    write keys its round-1 execution did not (or stop writing some), so a transaction
//!    may have committed after reading a location whose final writer it did not wait for.
//!    One sequential pass in block order validates every transaction's final read set
//!    against the store (each read must resolve to the version it recorded); a stale one
//!    executes again, inline - every earlier transaction is final by then, so the new
//!    execution is too - and replaces its write set in the store. This pass is not in the
//!    proposal: it is what makes the result exactly sequential whatever the graph missed.
//!    `Metrics::repairs` counts its re-executions: none on the generated workloads; on
//!    the 32 bundled mainnet blocks about 1% of the transactions, most of them in one
//!    block (3356896), where transactions rejected in round 1 (a sender's second one in
//!    the block) turn out to pay accounts that later, independent transactions read:
//!    what a rejected execution would have written is unknowable from round 1.
//!
//! Why the result is the sequential one: after the repair pass has passed transaction
//! `j`, the store holds, for every transaction up to `j`, the writes of an execution whose
//! every read resolves to the same version now as when it ran. A version names one
//! recorded write set (incarnation 0 for round 1, 1 for the commit loop, one more per
//! repair), so by induction each of those executions read exactly the sequential values,
//! and `execute` being a pure function of its reads, wrote exactly the sequential writes.
//!
//! Metrics: `executions` (round 1 + re-executions + repairs), `validations` (the repair
//! pass validates every transaction once), `aborts` (executions thrown away: round-1
//! executions of dependent transactions, and repaired ones), `dependency_edges`,
//! `longest_chain`, `max_released` (the most re-executions a single commit released) and
//! `repairs`. [`execute_with_report`] also returns the graph and per-transaction counts.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crate::dep_graph::DepGraph;
use crate::error::{BlockError, Invariant};
use crate::metrics::Metrics;
use crate::mvmemory::locked::LockedMvMemory;
use crate::mvmemory::MvMemory;
use crate::phase::Phase;
use crate::pool::{map_indices, run_workers};
use crate::read_set::{ReadSet, RecordingView};
use crate::txn::{
    Execution, Incarnation, Key as _, ReadResult, TxnExecutor, TxnIndex, TxnResult, Version,
};

type Key<T> = <T as TxnExecutor>::Key;
type Value<T> = <T as TxnExecutor>::Value;
type Output<T> = <T as TxnExecutor>::Output;
type Error<T> = BlockError<<T as TxnExecutor>::Error>;
type Store<T> = LockedMvMemory<Key<T>, Value<T>>;
/// The committed result of every transaction, in block order.
pub type Results<T> = Vec<TxnResult<Key<T>, Value<T>, Output<T>>>;

/// A finished execution of one transaction.
pub struct Run<T: TxnExecutor> {
    reads: ReadSet<Key<T>>,
    writes: Vec<(Key<T>, Value<T>)>,
    output: Output<T>,
}

impl<T: TxnExecutor> Run<T> {
    pub fn output(&self) -> &Output<T> {
        &self.output
    }
}

/// A transaction's latest execution and its incarnation (0: round 1, 1: the commit loop,
/// one more per repair).
pub struct Final<T: TxnExecutor> {
    pub incarnation: Incarnation,
    pub run: Run<T>,
}

/// One `dag` run's state between its phases: the round-1 executions, the dependency
/// graph and the committed store. Its steps are what the strategy does per transaction,
/// whoever drives them: [`execute_with_report`] runs them on threads, the simulator on
/// its virtual clock.
pub struct Dag<T: TxnExecutor> {
    round1: Vec<Run<T>>,
    graph: DepGraph,
    store: Store<T>,
}

/// What committing a transaction takes, found before the commit is published: nothing
/// for an independent one (its round-1 execution stands), a re-execution against the
/// committed store for a dependent one.
pub struct CommitWork<T: TxnExecutor>(Option<Run<T>>);

impl<T: TxnExecutor> CommitWork<T> {
    /// True for a dependent transaction, executed again.
    pub fn reexecuted(&self) -> bool {
        self.0.is_some()
    }
}

impl<T: TxnExecutor> Dag<T> {
    /// A run over round 1's executions and the dependencies found from them.
    pub fn new(round1: Vec<Run<T>>, deps: Vec<Vec<TxnIndex>>) -> Result<Self, Invariant> {
        let n = round1.len();
        Ok(Self {
            round1,
            graph: DepGraph::new(deps).map_err(Invariant::from)?,
            store: Store::<T>::new(n),
        })
    }

    pub fn graph(&self) -> &DepGraph {
        &self.graph
    }

    /// Round 1's execution of `txn_idx`: against the pre-block state alone.
    pub fn execute_round_one(txns: &T, txn_idx: TxnIndex) -> Result<Run<T>, Error<T>> {
        let mut reads = ReadSet::for_execution();
        let execution = {
            let base = |_: &Key<T>, _: Option<TxnIndex>| ReadResult::Base;
            let mut view = RecordingView::new(base, &mut reads);
            txns.execute(txn_idx, &mut view)
        };
        finished::<T>(txn_idx, reads, execution)
    }

    /// The first half of committing ready transaction `j` (every dependency committed):
    /// a dependent one executes again against the committed store.
    pub fn begin_commit(&self, txns: &T, j: TxnIndex) -> Result<CommitWork<T>, Error<T>> {
        if self.graph.is_independent(j) {
            Ok(CommitWork(None))
        } else {
            execute_against_store(txns, &self.store, j).map(|run| CommitWork(Some(run)))
        }
    }

    /// The second half: records `j`'s writes in the store, then commits it in the graph.
    /// Returns how many dependents it made ready, and the re-execution, if there was one.
    pub fn complete_commit(&self, j: TxnIndex, work: CommitWork<T>) -> (usize, Option<Run<T>>) {
        // The first write set of `j` the store records: none before it to replace.
        match &work.0 {
            None => self
                .store
                .record(Version::new(j, 0), &self.round1[j].writes, &[]),
            Some(run) => self.store.record(Version::new(j, 1), &run.writes, &[]),
        };
        // The writes are in the store: now the dependents may run.
        crate::perturb::at(crate::perturb::Site::DagCommit);
        crate::perturb::progress();
        (self.graph.commit(j), work.0)
    }

    /// Every transaction's execution after the commit loop: round 1's, replaced by the
    /// commit loop's re-executions.
    pub fn finals(&mut self, reexecuted: Vec<(TxnIndex, Run<T>)>) -> Vec<Final<T>> {
        let mut finals: Vec<Final<T>> = std::mem::take(&mut self.round1)
            .into_iter()
            .map(|run| Final {
                incarnation: 0,
                run,
            })
            .collect();
        for (j, run) in reexecuted {
            finals[j] = Final {
                incarnation: 1,
                run,
            };
        }
        finals
    }

    /// The repair pass's step for `j`, once `0..j` are final: validates its execution
    /// against the store (reads below a bound below theirs) and, if stale, executes it
    /// again and replaces its writes there. When it executed again, returns the kind of
    /// the first stale read (`StaleRead::kind`).
    pub fn repair(
        &self,
        txns: &T,
        j: TxnIndex,
        fin: &mut Final<T>,
    ) -> Result<Option<&'static str>, Error<T>> {
        crate::perturb::at(crate::perturb::Site::DagRepair);
        crate::perturb::progress();
        let Some(kind) = self.store.first_stale(j, &fin.run.reads).map(|r| r.kind()) else {
            return Ok(None);
        };
        fin.incarnation += 1;
        // The store holds `fin`'s writes (the commit loop or an earlier repair recorded
        // them): the new ones replace them.
        let stale = std::mem::replace(&mut fin.run, execute_against_store(txns, &self.store, j)?);
        self.store.record(
            Version::new(j, fin.incarnation),
            &fin.run.writes,
            &stale.writes,
        );
        Ok(Some(kind))
    }
}

/// What the graph did, beside the output: for tests and for looking at one block.
#[derive(Debug)]
pub struct DagReport {
    /// The dependency graph found from round 1 (its counters are spent).
    pub graph: DepGraph,
    /// Per transaction, how many times it executed: 1 for a transaction committed from
    /// round 1, 2 for one re-executed in the commit loop, one more per repair.
    pub executions: Vec<u32>,
    /// Per transaction, the re-executions its commit released: the dependents whose last
    /// uncommitted dependency it was.
    pub released: Vec<u32>,
    /// The transactions the repair pass executed again, in block order.
    pub repaired: Vec<TxnIndex>,
}

/// Executes the block with DAG validation on `threads` worker threads and returns the
/// committed result of every transaction, in block order.
pub fn execute<T: TxnExecutor>(
    txns: &T,
    threads: usize,
    metrics: &mut Metrics,
) -> Result<Results<T>, Error<T>> {
    execute_with_report(txns, threads, metrics).map(|(results, _)| results)
}

/// [`execute`], also returning the dependency graph and per-transaction counts.
pub fn execute_with_report<T: TxnExecutor>(
    txns: &T,
    threads: usize,
    metrics: &mut Metrics,
) -> Result<(Results<T>, DagReport), Error<T>> {
    crate::pool::check_threads(threads)?;
    let n = txns.num_txns();
    // More workers than transactions would only wait.
    let threads = threads.min(n.max(1));

    // 1. Round 1: every transaction once, in parallel, against the pre-block state.
    let start = Instant::now();
    let round1 = map_indices(threads, n, |idx| Dag::execute_round_one(txns, idx))?
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    metrics.executions += n as u64;
    metrics.phase(Phase::Execute, start.elapsed());

    // 2. The dependency graph.
    let start = Instant::now();
    let (deps, blame) = discover_dependencies::<T>(&round1, threads)?;
    let mut run = Dag::new(round1, deps)?;
    metrics.dependency_edges = run.graph.edges() as u64;
    metrics.longest_chain = run.graph.longest_chain() as u64;
    metrics.phase(Phase::Graph, start.elapsed());

    // 3. The commit loop.
    let start = Instant::now();
    let (reexecuted, released) = commit_loop(txns, threads, &run)?;
    let mut executions = vec![1u32; n];
    for (j, _) in &reexecuted {
        // A dependent's round-1 execution is thrown away: it counts under the kind of
        // the read that made it dependent.
        if let Some(kind) = blame[*j] {
            metrics.count_abort_kind(kind);
        }
        executions[*j] += 1;
        metrics.executions += 1;
        metrics.aborts += 1;
    }
    let mut finals = run.finals(reexecuted);
    metrics.max_released = released.iter().copied().max().unwrap_or(0) as u64;
    metrics.phase(Phase::Commit, start.elapsed());

    // 4. The repair pass, in block order.
    let start = Instant::now();
    let mut repaired = Vec::new();
    for (j, fin) in finals.iter_mut().enumerate() {
        metrics.validations += 1;
        if let Some(kind) = run.repair(txns, j, fin)? {
            metrics.count_abort_kind(kind);
            executions[j] += 1;
            metrics.executions += 1;
            metrics.aborts += 1;
            metrics.repairs += 1;
            repaired.push(j);
        }
    }
    metrics.phase(Phase::Repair, start.elapsed());

    let results = finals
        .into_iter()
        .map(|fin| TxnResult {
            writes: fin.run.writes,
            output: fin.run.output,
        })
        .collect();
    let report = DagReport {
        graph: run.graph,
        executions,
        released,
        repaired,
    };
    Ok((results, report))
}

fn finished<T: TxnExecutor>(
    txn_idx: TxnIndex,
    reads: ReadSet<Key<T>>,
    execution: Execution<Key<T>, Value<T>, Output<T>, <T as TxnExecutor>::Error>,
) -> Result<Run<T>, Error<T>> {
    let (writes, output) = execution.into_done(txn_idx)?;
    Ok(Run {
        reads,
        writes,
        output,
    })
}

/// The last (highest) entry of the sorted `writers` below `txn_idx`.
fn nearest_below(writers: &[TxnIndex], txn_idx: TxnIndex) -> Option<TxnIndex> {
    let below = writers.partition_point(|&w| w < txn_idx);
    below.checked_sub(1).map(|i| writers[i])
}

/// Per transaction, the transactions it depends on and the kind of the first read that
/// made it dependent (`None` for an independent one).
type Dependencies = (Vec<Vec<TxnIndex>>, Vec<Option<&'static str>>);

/// The dependencies of every transaction, from the round-1 read and write sets (see the
/// module documentation, step 2). A read of `k` below bound `t` (a link of a delta
/// chain) depends on the nearest round-1 writer of `k` below `t`, not below the reader:
/// that is the writer it resolves to once committed.
fn discover_dependencies<T: TxnExecutor>(
    round1: &[Run<T>],
    threads: usize,
) -> Result<Dependencies, Error<T>> {
    let n = round1.len();
    // Writer index: key -> the transactions that wrote it in round 1, ascending (pushed in
    // block order).
    let mut writers: HashMap<&Key<T>, Vec<TxnIndex>> = HashMap::new();
    for (j, run) in round1.iter().enumerate() {
        for (key, _) in &run.writes {
            let list = writers.entry(key).or_default();
            if list.last() != Some(&j) {
                list.push(j);
            }
        }
    }
    // Every read of `j` as (key, the bound it resolves below, the kind it counts under).
    let bounded = |j: TxnIndex| {
        let run = &round1[j];
        let plain = run.reads.iter().map(move |(key, _)| (key, j, None));
        let below = run
            .reads
            .iter_below()
            .map(move |(key, t, _)| (key, (*t).min(j), Some("delta")));
        plain.chain(below)
    };
    // The refinement: a transaction that wrote nothing but read a key an earlier one wrote
    // is taken to write that key too.
    let mut inferred: Vec<(&Key<T>, TxnIndex)> = Vec::new();
    for (j, run) in round1.iter().enumerate() {
        if run.writes.is_empty() {
            for (key, bound, _) in bounded(j) {
                if writers
                    .get(key)
                    .and_then(|w| nearest_below(w, bound))
                    .is_some()
                {
                    inferred.push((key, j));
                }
            }
        }
    }
    if !inferred.is_empty() {
        let mut touched = Vec::new();
        for (key, j) in inferred {
            writers.entry(key).or_default().push(j);
            touched.push(key);
        }
        for key in touched {
            if let Some(list) = writers.get_mut(key) {
                list.sort_unstable();
                list.dedup();
            }
        }
    }
    let writers = &writers;

    // The edges, in parallel: for each read of `j`, the nearest writer below its bound.
    let next = AtomicUsize::new(0);
    let per_worker = run_workers(threads, |_| {
        let mut found = Vec::new();
        loop {
            // Relaxed: hands out distinct indices only (results travel through `join`).
            let j = next.fetch_add(1, Ordering::Relaxed);
            if j >= n {
                break found;
            }
            let mut blame = None;
            let mut deps: Vec<TxnIndex> = bounded(j)
                .filter_map(|(key, bound, kind)| {
                    let w = writers.get(key).and_then(|w| nearest_below(w, bound))?;
                    // Only for a dependent transaction: its round-1 execution is lost.
                    blame.get_or_insert_with(|| kind.unwrap_or_else(|| key.kind()));
                    Some(w)
                })
                .collect();
            deps.sort_unstable();
            deps.dedup();
            found.push((j, deps, blame));
        }
    })?;
    let mut deps = vec![Vec::new(); n];
    let mut blames = vec![None; n];
    for (j, list, blame) in per_worker.into_iter().flatten() {
        deps[j] = list;
        blames[j] = blame;
    }
    Ok((deps, blames))
}

/// Executes `txn_idx` against the committed store: each read resolves to the highest
/// committed writer below it.
fn execute_against_store<T: TxnExecutor>(
    txns: &T,
    store: &Store<T>,
    txn_idx: TxnIndex,
) -> Result<Run<T>, Error<T>> {
    let mut reads = ReadSet::for_execution();
    let execution = {
        // A read below `t` is the same look-up as a read by `t` (`t <= txn_idx`).
        let resolve = |key: &Key<T>, below: Option<TxnIndex>| {
            store.read(key, below.map_or(txn_idx, |t| t.min(txn_idx)))
        };
        let mut view = RecordingView::new(resolve, &mut reads);
        txns.execute(txn_idx, &mut view)
    };
    finished::<T>(txn_idx, reads, execution)
}

/// Abandons the graph if its worker unwinds, so the other workers stop waiting. A worker
/// unwinding because the stress watchdog cancelled the run notes the graph's state first.
struct AbandonOnPanic<'a>(&'a DepGraph);

impl Drop for AbandonOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            if crate::perturb::cancelled() {
                crate::perturb::note_state(|| format!("dependency graph: {}", self.0.describe()));
            }
            self.0.abandon();
        }
    }
}

type Reexecuted<T> = Vec<(TxnIndex, Run<T>)>;

/// Step 3: commits every transaction, in an order the graph allows: each worker takes
/// ready transactions from the graph (waiting while there are none) and runs both halves
/// of their commit. Returns the re-executions and, per transaction, the re-executions its
/// commit released.
fn commit_loop<T: TxnExecutor>(
    txns: &T,
    threads: usize,
    run: &Dag<T>,
) -> Result<(Reexecuted<T>, Vec<u32>), Error<T>> {
    let graph = &run.graph;
    let per_worker = run_workers(threads, |_| {
        let _guard = AbandonOnPanic(graph);
        let mut reexecuted = Vec::new();
        let mut released = Vec::new();
        while let Some(j) = graph.next() {
            let work = match run.begin_commit(txns, j) {
                Ok(work) => work,
                Err(e) => {
                    graph.abandon();
                    return Err(e);
                }
            };
            let (count, rerun) = run.complete_commit(j, work);
            if let Some(rerun) = rerun {
                reexecuted.push((j, rerun));
            }
            released.push((j, count as u32));
        }
        Ok((reexecuted, released))
    })?;
    let mut all_reexecuted = Vec::new();
    let mut all_released = vec![0u32; run.round1.len()];
    for worker in per_worker {
        let (reexecuted, released) = worker?;
        all_reexecuted.extend(reexecuted);
        for (j, count) in released {
            all_released[j] = count;
        }
    }
    if !graph.is_done() {
        return Err(Invariant::CommitLoopUnfinished.into());
    }
    Ok((all_reexecuted, all_released))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::EngineError;
    use crate::txn::StateView;
    use proptest::prelude::*;
    use std::convert::Infallible;

    /// A mock transaction over `u64` keys and values (every key is 0 before the block).
    #[derive(Clone, Debug, Default)]
    struct MockTx {
        reads: Vec<u64>,
        /// The keys written when the values read add up to an even number...
        writes_even: Vec<u64>,
        /// ...and when they add up to an odd one: the write set may change between
        /// incarnations.
        writes_odd: Vec<u64>,
        /// `(key, expected)`: rejected (no writes) unless `key`, which must be among the
        /// reads, reads `expected` (a nonce check).
        guard: Option<(u64, u64)>,
        /// Write the sum of the values read plus one instead of a hash.
        increment: bool,
        /// Panic when executed against anything but the pre-block state.
        panic_on_reexecution: bool,
    }

    #[derive(Clone, Debug, PartialEq, Eq)]
    enum MockOutput {
        Ran(Vec<u64>),
        Rejected(Vec<u64>),
    }

    struct MockTxns(Vec<MockTx>);

    fn mix(txn_idx: usize, key: u64, sum: u64) -> u64 {
        let mut z = (txn_idx as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(key.wrapping_mul(0xBF58_476D_1CE4_E5B9))
            .wrapping_add(sum);
        z = (z ^ (z >> 31)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 29)
    }

    impl TxnExecutor for MockTxns {
        type Key = u64;
        type Value = u64;
        type Output = MockOutput;
        type Error = Infallible;

        fn num_txns(&self) -> usize {
            self.0.len()
        }

        fn execute<S: StateView<u64, u64>>(
            &self,
            txn_idx: TxnIndex,
            view: &mut S,
        ) -> Execution<u64, u64, MockOutput, Infallible> {
            let tx = &self.0[txn_idx];
            let mut values = Vec::new();
            let mut from_base = true;
            for key in &tx.reads {
                values.push(match view.read(key) {
                    ReadResult::Written { value, .. } => {
                        from_base = false;
                        value
                    }
                    ReadResult::Base => 0,
                    ReadResult::Estimate(on) => return Execution::Blocked { on },
                });
            }
            if tx.panic_on_reexecution && !from_base {
                panic!("mock transaction {txn_idx} panics on re-execution");
            }
            if let Some((key, expected)) = tx.guard {
                let at = tx
                    .reads
                    .iter()
                    .position(|k| *k == key)
                    .expect("guard key is read");
                if values[at] != expected {
                    return Execution::Done {
                        writes: Vec::new(),
                        output: MockOutput::Rejected(values),
                    };
                }
            }
            let sum = values.iter().fold(0u64, |a, v| a.wrapping_add(*v));
            let keys = if sum % 2 == 0 {
                &tx.writes_even
            } else {
                &tx.writes_odd
            };
            let writes = keys
                .iter()
                .map(|&k| {
                    let v = if tx.increment {
                        sum.wrapping_add(1)
                    } else {
                        mix(txn_idx, k, sum)
                    };
                    (k, v)
                })
                .collect();
            Execution::Done {
                writes,
                output: MockOutput::Ran(values),
            }
        }
    }

    /// The reference: one transaction after another over a map.
    fn sequential(txns: &MockTxns) -> Vec<(Vec<(u64, u64)>, MockOutput)> {
        struct View<'a>(&'a HashMap<u64, u64>);
        impl StateView<u64, u64> for View<'_> {
            fn record(&mut self, _: &u64, _: Option<TxnIndex>, _: Option<Version>) {}
            fn peek(&mut self, key: &u64, below: Option<TxnIndex>) -> ReadResult<u64> {
                assert!(
                    below.is_none(),
                    "this module's mock never reads below a bound"
                );
                match self.0.get(key) {
                    Some(&value) => ReadResult::Written {
                        version: Version::new(0, 0),
                        value,
                    },
                    None => ReadResult::Base,
                }
            }
        }
        let mut state = HashMap::new();
        (0..txns.num_txns())
            .map(|j| match txns.execute(j, &mut View(&state)) {
                Execution::Done { writes, output } => {
                    for (k, v) in &writes {
                        state.insert(*k, *v);
                    }
                    (writes, output)
                }
                other => unreachable!("a sequential mock run ends: {other:?}"),
            })
            .collect()
    }

    fn run_dag(txns: &MockTxns, threads: usize) -> (Metrics, DagReport) {
        let mut metrics = Metrics::default();
        let (results, report) = execute_with_report(txns, threads, &mut metrics).unwrap();
        let got: Vec<_> = results.into_iter().map(|r| (r.writes, r.output)).collect();
        assert_eq!(got, sequential(txns), "dag at {threads} threads");
        // The counters agree with each other and with the report.
        let n = txns.num_txns() as u64;
        assert_eq!(metrics.executions, n + metrics.aborts);
        assert_eq!(metrics.validations, n);
        assert_eq!(metrics.repairs, report.repaired.len() as u64);
        assert_eq!(
            report.executions.iter().map(|&e| u64::from(e)).sum::<u64>(),
            metrics.executions
        );
        assert_eq!(metrics.dependency_edges, report.graph.edges() as u64);
        assert_eq!(metrics.longest_chain, report.graph.longest_chain() as u64);
        for j in 0..txns.num_txns() {
            let repairs = report.repaired.iter().filter(|&&r| r == j).count() as u32;
            let reexecuted = u32::from(!report.graph.is_independent(j));
            assert_eq!(report.executions[j], 1 + reexecuted + repairs, "tx {j}");
        }
        // Every dependent's re-execution was released by exactly one commit.
        let dependents = (0..txns.num_txns())
            .filter(|&j| !report.graph.is_independent(j))
            .count() as u32;
        assert_eq!(report.released.iter().sum::<u32>(), dependents);
        (metrics, report)
    }

    fn tx(reads: &[u64], writes: &[u64]) -> MockTx {
        MockTx {
            reads: reads.to_vec(),
            writes_even: writes.to_vec(),
            writes_odd: writes.to_vec(),
            ..MockTx::default()
        }
    }

    #[test]
    fn empty_block() {
        let (metrics, report) = run_dag(&MockTxns(Vec::new()), 4);
        assert_eq!(metrics.executions, 0);
        assert_eq!(report.graph.longest_chain(), 0);
    }

    #[test]
    fn independent_transactions_execute_once() {
        let txns = MockTxns((0..50).map(|i| tx(&[i], &[i])).collect());
        for threads in [1, 2, 4, 8] {
            let (metrics, report) = run_dag(&txns, threads);
            assert_eq!(metrics.executions, 50);
            assert_eq!((metrics.dependency_edges, metrics.longest_chain), (0, 1));
            assert!(report.executions.iter().all(|&e| e == 1));
        }
    }

    #[test]
    fn only_direct_dependents_re_execute() {
        // 0 writes key 100; 3 and 7 read it; 7 also writes 101, read by 9. The rest are
        // independent.
        let mut list: Vec<MockTx> = (0..12).map(|i| tx(&[i], &[i])).collect();
        list[0] = tx(&[0], &[0, 100]);
        list[3] = tx(&[3, 100], &[3]);
        list[7] = tx(&[7, 100], &[7, 101]);
        list[9] = tx(&[9, 101], &[9]);
        let txns = MockTxns(list);
        for threads in [1, 2, 4, 8] {
            for _ in 0..20 {
                let (metrics, report) = run_dag(&txns, threads);
                assert_eq!(report.graph.dependencies(3), &[0]);
                assert_eq!(report.graph.dependencies(7), &[0]);
                assert_eq!(report.graph.dependencies(9), &[7]);
                assert_eq!((metrics.dependency_edges, metrics.longest_chain), (3, 3));
                assert_eq!(metrics.repairs, 0);
                let reexecuted: Vec<usize> =
                    (0..12).filter(|&j| report.executions[j] > 1).collect();
                assert_eq!(reexecuted, vec![3, 7, 9]);
                assert_eq!((report.released[0], report.released[7]), (2, 1));
                assert_eq!(metrics.max_released, 2);
            }
        }
    }

    #[test]
    fn repair_pass_catches_a_write_set_that_moved() {
        // Round 1: 1 reads key 1 as 0 (even) and writes key 10; 2 reads key 20, which no
        // one wrote in round 1, so 2 is independent and commits its round-1 execution.
        // But 0 writes key 1 with an odd value, so 1's re-execution writes key 20 instead:
        // 2 read a stale value and only the repair pass can notice.
        let txns = MockTxns(vec![
            // Reads key 5 (0) and writes key 1 = 0 + 1: odd.
            MockTx {
                increment: true,
                ..tx(&[5], &[1])
            },
            MockTx {
                reads: vec![1],
                writes_even: vec![10],
                writes_odd: vec![20],
                ..MockTx::default()
            },
            tx(&[20], &[30]),
            // Depends on 2 through key 30, so it re-executes in the commit loop, and again
            // in the repair pass once 2 has been repaired.
            tx(&[30], &[31]),
        ]);
        for threads in [1, 2, 4, 8] {
            let (metrics, report) = run_dag(&txns, threads);
            assert!(report.graph.is_independent(2));
            assert_eq!(report.repaired, vec![2, 3]);
            assert_eq!(metrics.repairs, 2);
            assert_eq!(report.executions, vec![1, 2, 2, 3]);
        }
    }

    #[test]
    fn rejected_chain_is_inferred() {
        // A sender's nonce chain (key 0) inside independent transactions: in round 1 every
        // chain link but the first is rejected and writes nothing. The refinement chains
        // them link to link, so each re-executes once, after its predecessor, and no
        // repair is needed.
        let mut list: Vec<MockTx> = (0..60).map(|i| tx(&[1000 + i], &[1000 + i])).collect();
        let links: Vec<usize> = (0..10).map(|i| 3 + 6 * i).collect();
        for (nonce, &at) in links.iter().enumerate() {
            list[at] = MockTx {
                reads: vec![0],
                writes_even: vec![0],
                writes_odd: vec![0],
                guard: Some((0, nonce as u64)),
                increment: true,
                ..MockTx::default()
            };
        }
        let txns = MockTxns(list);
        for threads in [1, 2, 4, 8] {
            for _ in 0..10 {
                let (metrics, report) = run_dag(&txns, threads);
                assert_eq!(metrics.repairs, 0);
                assert_eq!((metrics.dependency_edges, metrics.longest_chain), (9, 10));
                for (i, &at) in links.iter().enumerate().skip(1) {
                    assert_eq!(report.graph.dependencies(at), &[links[i - 1]]);
                }
                for j in 0..60 {
                    let expected = if links[1..].contains(&j) { 2 } else { 1 };
                    assert_eq!(report.executions[j], expected, "tx {j}");
                }
            }
        }
    }

    #[test]
    fn a_panicking_worker_does_not_hang_the_others() {
        // Many dependents of 0, one of which panics when it re-executes: the run must end
        // with an error, not wait forever for that transaction's commit.
        let mut list: Vec<MockTx> = (0..40).map(|i| tx(&[0, 100 + i], &[100 + i])).collect();
        list[0] = tx(&[0], &[0]);
        list[17].panic_on_reexecution = true;
        let txns = MockTxns(list);
        for threads in [2, 4, 8] {
            let mut metrics = Metrics::default();
            let got = execute(&txns, threads, &mut metrics);
            assert!(
                matches!(
                    got,
                    Err(BlockError::Engine(EngineError::Invariant(
                        Invariant::WorkerPanicked
                    )))
                ),
                "{threads} threads"
            );
        }
    }

    #[test]
    fn a_read_below_a_bound_depends_on_the_writer_below_the_bound() {
        // 0 and 1 write key 1 in round 1; 3 reads key 1 below 1 (a delta chain's link
        // below transaction 1), and key 2, which no one wrote; 4 reads key 1 plainly.
        let run = |reads: ReadSet<u64>, writes: Vec<(u64, u64)>| Run::<MockTxns> {
            reads,
            writes,
            output: MockOutput::Ran(Vec::new()),
        };
        let mut below = ReadSet::default();
        below.record(2, None);
        below.record_below(1, 1, None);
        let mut plain = ReadSet::default();
        plain.record(1, None);
        let round1 = vec![
            run(ReadSet::default(), vec![(1, 5)]),
            run(ReadSet::default(), vec![(1, 6)]),
            run(ReadSet::default(), vec![(7, 1)]),
            run(below, vec![(8, 1)]),
            run(plain, vec![(9, 1)]),
        ];
        let (deps, blame) = discover_dependencies::<MockTxns>(&round1, 2).unwrap();
        assert_eq!(deps[3], vec![0], "below 1, not below 3");
        assert_eq!(deps[4], vec![1]);
        assert_eq!(blame[3], Some("delta"));
        assert_eq!(blame[4], Some("key"));
        assert_eq!((blame[0], blame[2]), (None, None));
    }

    fn mock_tx() -> impl Strategy<Value = MockTx> {
        let keys = || proptest::collection::vec(0u64..10, 0..4);
        (
            keys(),
            keys(),
            keys(),
            any::<bool>(),
            proptest::option::of((0u64..10, 0u64..3)),
        )
            .prop_map(|(reads, writes_even, odd, stable, guard)| {
                let dedup = |mut v: Vec<u64>| {
                    v.sort_unstable();
                    v.dedup();
                    v
                };
                let writes_even = dedup(writes_even);
                let writes_odd = if stable {
                    writes_even.clone()
                } else {
                    dedup(odd)
                };
                let mut reads = reads;
                let guard = guard.map(|(key, expected)| {
                    reads.push(key);
                    (key, expected)
                });
                MockTx {
                    reads,
                    writes_even,
                    writes_odd,
                    increment: guard.is_some(),
                    guard,
                    ..MockTx::default()
                }
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn matches_sequential_on_random_blocks(
            list in proptest::collection::vec(mock_tx(), 0..40),
            threads in 1usize..6,
        ) {
            let txns = MockTxns(list);
            for _ in 0..4 {
                run_dag(&txns, threads);
            }
        }
    }
}
