//! Strategy `block-stm`: Block-STM (Gelashvili et al., PPoPP 2023).
//!
//! Workers run the collaborative scheduler's loop (`core::scheduler`): take the lower of
//! the next execution and the next validation task. An execution reads through the
//! multi-version memory (`core::mvmemory`), recording the version each read resolved to;
//! a read of an ESTIMATE suspends the transaction on the transaction that left it, until
//! that one finishes executing. A finished execution records its write set as the
//! transaction's new version. A validation re-reads the read set; if any read resolves
//! differently, the first validation to notice aborts the incarnation, turns its writes
//! into ESTIMATEs, and the scheduler re-executes it and revalidates the transactions after
//! it. When both indices have passed the block and no task is active, the last recorded
//! execution of every transaction is the sequential one.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_utils::CachePadded;

use crate::error::{BlockError, Invariant};
use crate::metrics::Metrics;
use crate::mvmemory::MvMemory;
use crate::phase::Phase;
use crate::pool::run_workers;
use crate::read_set::{ReadSet, RecordingView};
use crate::scheduler::{Scheduler, Task};
use crate::sync::Mutex;
use crate::txn::{BlockResults, Execution, TxnExecutor, TxnIndex, TxnResult, Version};

/// The last execution of one transaction: what validation re-checks and what the block's
/// output is assembled from.
struct Record<T: TxnExecutor> {
    reads: ReadSet<T::Key>,
    writes: Vec<(T::Key, T::Value)>,
    output: T::Output,
}

/// Counters shared by the workers. Relaxed: they are only summed after the workers are
/// joined, which orders every increment before the read.
#[derive(Default)]
struct Counters {
    executions: AtomicU64,
    validations: AtomicU64,
    aborts: AtomicU64,
    suspensions: AtomicU64,
    /// The aborts by the kind of their first stale read, written on aborts only. A std
    /// mutex even under loom, like the std atomics beside it: a counter, no
    /// synchronisation the models check.
    aborts_by_kind: std::sync::Mutex<BTreeMap<&'static str, u64>>,
}

type Slot<T> = CachePadded<Mutex<Option<Arc<Record<T>>>>>;

/// One block's Block-STM run: the shared state every worker works on. `execute` runs it on
/// a pool of scoped threads; the loom models run `work` on loom threads, so they check this
/// very loop.
pub struct BlockStm<T: TxnExecutor, M> {
    memory: M,
    scheduler: Scheduler,
    records: Vec<Slot<T>>,
    counters: Counters,
    /// Set by a worker that hit an error, so the others stop instead of waiting for a
    /// `done` that will never come.
    failed: AtomicBool,
    /// Whether a first incarnation suspends on its transaction's dependency hint.
    dependency_hints: bool,
}

struct Worker<'a, T: TxnExecutor, M> {
    txns: &'a T,
    memory: &'a M,
    scheduler: &'a Scheduler,
    records: &'a [Slot<T>],
    counters: &'a Counters,
    dependency_hints: bool,
}

/// A worker's next move, as [`BlockStm::begin`] returns it to the driver that runs the
/// worker (a real thread in [`BlockStm::work`], the simulator's virtual clock in
/// `stmlab-sim`):
///
/// ```text
///   begin(carried task) --Working(p)--> [the task's cost: none on a thread; modelled
///        ^      |                         on the simulator's clock] --> complete(p)
///        |      +--Idle--> ask again later (spin)                         |
///        |      +--Done--> the worker leaves                              |
///        +------------------------ the follow-up task, if any -----------+
/// ```
pub enum Step<T: TxnExecutor> {
    /// A task whose reading half ran; its effects are published by [`BlockStm::complete`].
    Working(Pending<T>),
    /// No task to take now.
    Idle,
    /// The block is done, or a worker failed: the worker leaves its loop.
    Done,
}

/// A task between its two halves: what it read or decided, not yet published.
pub struct Pending<T: TxnExecutor> {
    version: Version,
    work: PendingWork<T>,
}

enum PendingWork<T: TxnExecutor> {
    /// The transaction ran; its outcome and read set.
    Executed {
        reads: ReadSet<T::Key>,
        execution: Execution<T::Key, T::Value, T::Output, T::Error>,
    },
    /// A first incarnation suspended on the transaction's dependency hint before it ran
    /// (already registered with the scheduler).
    Suspended,
    /// A validation's verdict on the recorded read set.
    /// `stale`: the kind of the first stale read (`StaleRead::kind`), `None` if valid.
    /// `record`: what was validated, whose writes an abort marks as ESTIMATEs.
    /// `then`: the execution claimed to run after it (`Task::ValidateThenExecute`).
    Validated {
        stale: Option<&'static str>,
        record: Arc<Record<T>>,
        then: Option<Version>,
    },
}

/// What a pending task is, for a driver that models its cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PendingKind {
    /// An execution that ran to its end.
    Executed,
    /// An execution stopped at an ESTIMATE.
    Blocked,
    /// A first incarnation suspended on the dependency hint, before running.
    Suspended,
    /// A validation.
    Validated,
}

impl<T: TxnExecutor> Pending<T> {
    pub fn version(&self) -> Version {
        self.version
    }

    pub fn kind(&self) -> PendingKind {
        match &self.work {
            PendingWork::Executed {
                execution: Execution::Blocked { .. },
                ..
            } => PendingKind::Blocked,
            PendingWork::Executed { .. } => PendingKind::Executed,
            PendingWork::Suspended => PendingKind::Suspended,
            PendingWork::Validated { .. } => PendingKind::Validated,
        }
    }
}

impl<T: TxnExecutor, M: MvMemory<T::Key, T::Value>> Worker<'_, T, M> {
    /// The reading half of a task: the next task from the scheduler unless one is carried,
    /// then the execution (through the multi-version memory) or the validation (of the
    /// recorded read set). Publishes nothing, except a first incarnation's suspension on
    /// its dependency hint, which has no reading half.
    fn begin(&self, carried: Option<Task>) -> Result<Step<T>, BlockError<T::Error>> {
        let task = match carried {
            Some(task) => task,
            None => {
                if self.scheduler.done() {
                    return Ok(Step::Done);
                }
                match self.scheduler.next_task() {
                    Some(task) => task,
                    None => return Ok(Step::Idle),
                }
            }
        };
        let (version, work) = match task {
            Task::Execute(version) => (version, self.begin_execution(version)?),
            Task::Validate(version) => (version, self.begin_validation(version, None)?),
            Task::ValidateThenExecute(version, then) => {
                (version, self.begin_validation(version, Some(then))?)
            }
        };
        Ok(Step::Working(Pending { version, work }))
    }

    fn begin_execution(&self, version: Version) -> Result<PendingWork<T>, BlockError<T::Error>> {
        let idx = version.txn_idx;
        if version.incarnation == 0 && self.dependency_hints {
            if let Some(dep) = self.txns.dependency_hint(idx).filter(|&d| d < idx) {
                // Known before running: wait for `dep` as if this execution had read its
                // ESTIMATE (a resumed transaction runs as incarnation 1, without the hint).
                if self.scheduler.add_dependency(idx, dep)? {
                    self.counters.suspensions.fetch_add(1, Ordering::Relaxed);
                    return Ok(PendingWork::Suspended);
                }
            }
        }
        let mut reads = ReadSet::for_execution();
        let execution = {
            // A read below `t` is the same look-up as a read by `t` (`t <= idx`).
            let resolve = |key: &T::Key, below: Option<TxnIndex>| {
                self.memory.read(key, below.map_or(idx, |t| t.min(idx)))
            };
            let mut view = RecordingView::new(resolve, &mut reads);
            self.txns.execute(idx, &mut view)
        };
        self.counters.executions.fetch_add(1, Ordering::Relaxed);
        Ok(PendingWork::Executed { reads, execution })
    }

    fn begin_validation(
        &self,
        version: Version,
        then: Option<Version>,
    ) -> Result<PendingWork<T>, BlockError<T::Error>> {
        let idx = version.txn_idx;
        let record = crate::sync::lock(&self.records[idx]).clone().ok_or(
            Invariant::ValidatedBeforeExecuted {
                txn: idx,
                incarnation: version.incarnation,
            },
        )?;
        self.counters.validations.fetch_add(1, Ordering::Relaxed);
        // Each link of a delta chain is its own read (key, bound, origin), re-read here
        // below its bound: all links unchanged means the same chain, the same sum
        // (`read_set`).
        let stale = self
            .memory
            .first_stale(idx, &record.reads)
            .map(|read| read.kind());
        Ok(PendingWork::Validated {
            stale,
            record,
            then,
        })
    }

    /// The publishing half: records an execution's writes and tells the scheduler, or
    /// aborts a failed validation's incarnation; returns the follow-up task, if any.
    fn complete(&self, pending: Pending<T>) -> Result<Option<Task>, BlockError<T::Error>> {
        let Pending { version, work } = pending;
        let idx = version.txn_idx;
        match work {
            PendingWork::Suspended => Ok(None),
            PendingWork::Executed { reads, execution } => match execution {
                Execution::Blocked { on } => {
                    self.counters.suspensions.fetch_add(1, Ordering::Relaxed);
                    if self.scheduler.add_dependency(idx, on)? {
                        Ok(None)
                    } else {
                        // The dependency finished meanwhile: execute again at once.
                        Ok(Some(Task::Execute(version)))
                    }
                }
                Execution::Failed { error } => Err(BlockError::Txn { txn: idx, error }),
                Execution::Done { writes, output } => {
                    // The last recorded write set, which this one replaces in the memory:
                    // the slot still holds the record of the transaction's previous
                    // recorded incarnation (if any), as only the worker holding the
                    // transaction replaces it.
                    let previous = crate::sync::lock(&self.records[idx]).clone();
                    let previous = previous.as_ref().map_or(&[][..], |r| &r.writes[..]);
                    let wrote_new_key = self.memory.record(version, &writes, previous);
                    // Published before `finish_execution` marks the version executed (the
                    // status mutex orders the two), so a validator of this version finds
                    // this record or a newer one.
                    *crate::sync::lock(&self.records[idx]) = Some(Arc::new(Record {
                        reads,
                        writes,
                        output,
                    }));
                    Ok(self.scheduler.finish_execution(version, wrote_new_key)?)
                }
            },
            PendingWork::Validated {
                stale,
                record,
                then,
            } => {
                let aborted = stale.is_some() && self.scheduler.try_validation_abort(version);
                if let (true, Some(kind)) = (aborted, stale) {
                    self.counters.aborts.fetch_add(1, Ordering::Relaxed);
                    // The failure path only: a lock taken once per abort.
                    *(self.counters.aborts_by_kind.lock())
                        .unwrap_or_else(|e| e.into_inner())
                        .entry(kind)
                        .or_default() += 1;
                    // The abort succeeded, so `version` was still the last executed
                    // incarnation, and `record` (in the slot when the validation began,
                    // after `version` executed) is its record: no later one can exist
                    // before this abort.
                    self.memory.mark_estimates(idx, &record.writes);
                }
                Ok(self.scheduler.finish_validation(version, aborted, then)?)
            }
        }
    }

    /// The thread driver: both halves of every task back to back, until the block is done.
    fn run(&self, failed: &AtomicBool) -> Result<(), BlockError<T::Error>> {
        let mut carried = None;
        // Acquire pairs with the Release store of a failing worker, so that a worker
        // which sees the flag stops (the error itself travels through `join`).
        while !failed.load(Ordering::Acquire) {
            if crate::perturb::cancelled() {
                // The stress watchdog saw no progress: say where the scheduler stands.
                crate::perturb::note_state(|| self.scheduler.describe());
                failed.store(true, Ordering::Release);
                return Err(Invariant::StressCancelled.into());
            }
            let step = self.begin(carried.take()).and_then(|step| match step {
                Step::Working(pending) => self.complete(pending).map(Some),
                Step::Idle => {
                    // Nothing to do until another worker finishes something. (A task
                    // that merely ends without a follow-up goes straight back to
                    // `next_task`: yielding there cost a system call per task.)
                    crate::sync::spin_hint();
                    Ok(Some(None))
                }
                Step::Done => Ok(None),
            });
            match step {
                Ok(Some(next)) => carried = next,
                Ok(None) => return Ok(()),
                Err(e) => {
                    failed.store(true, Ordering::Release);
                    return Err(e);
                }
            }
        }
        Ok(())
    }
}

/// Sets the failure flag if its worker unwinds, so the other workers stop (the pool turns
/// the panic into an error). A worker unwinding because the stress watchdog cancelled the
/// run notes the scheduler's state for its report.
struct FailOnPanic<'a> {
    failed: &'a AtomicBool,
    scheduler: &'a Scheduler,
}

impl Drop for FailOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // Release: pairs with the workers' Acquire load of the flag, as for an error.
            self.failed.store(true, Ordering::Release);
            if crate::perturb::cancelled() {
                crate::perturb::note_state(|| self.scheduler.describe());
            }
        }
    }
}

impl<T, M> BlockStm<T, M>
where
    T: TxnExecutor,
    M: MvMemory<T::Key, T::Value>,
{
    pub fn new(num_txns: usize) -> Self {
        Self::with_memory(num_txns, M::new(num_txns))
    }

    /// The run of `txns`, its memory sized by their hint (`TxnExecutor::expected_keys`).
    pub fn for_txns(txns: &T) -> Self {
        let n = txns.num_txns();
        Self::with_memory(n, M::for_block(n, txns.expected_keys()))
    }

    fn with_memory(num_txns: usize, memory: M) -> Self {
        Self {
            memory,
            scheduler: Scheduler::new(num_txns),
            records: (0..num_txns)
                .map(|_| CachePadded::new(Mutex::new(None)))
                .collect(),
            counters: Counters::default(),
            failed: AtomicBool::new(false),
            dependency_hints: true,
        }
    }

    /// The same run with the transactions' dependency hints ignored (every first
    /// incarnation runs): for measuring what the hints buy, in the simulator too.
    pub fn without_dependency_hints(mut self) -> Self {
        self.dependency_hints = false;
        self
    }

    fn worker<'a>(&'a self, txns: &'a T) -> Worker<'a, T, M> {
        Worker {
            txns,
            memory: &self.memory,
            scheduler: &self.scheduler,
            records: &self.records,
            counters: &self.counters,
            dependency_hints: self.dependency_hints,
        }
    }

    /// A worker's next move (see [`Step`]), for a driver other than [`work`]'s threads:
    /// the reading half of the carried task, or of the scheduler's next one.
    ///
    /// [`work`]: BlockStm::work
    pub fn begin(&self, txns: &T, carried: Option<Task>) -> Result<Step<T>, BlockError<T::Error>> {
        self.worker(txns).begin(carried)
    }

    /// The publishing half of a task [`begin`](BlockStm::begin) returned; the follow-up
    /// task, if any, is the worker's to carry into its next `begin`.
    pub fn complete(
        &self,
        txns: &T,
        pending: Pending<T>,
    ) -> Result<Option<Task>, BlockError<T::Error>> {
        self.worker(txns).complete(pending)
    }

    /// One worker's loop, until the block is done (or some worker failed).
    pub fn work(&self, txns: &T) -> Result<(), BlockError<T::Error>> {
        // A worker that unwinds (a panicking transaction or state source) must stop the
        // others too: they would wait for a `done` that never comes.
        let _stop_others = FailOnPanic {
            failed: &self.failed,
            scheduler: &self.scheduler,
        };
        self.worker(txns).run(&self.failed)
    }

    /// The last recorded execution of every transaction (call once every worker
    /// returned); the multi-version memory is freed here.
    pub fn finish(self, metrics: &mut Metrics) -> Result<BlockResults<T>, BlockError<T::Error>> {
        let (results, memory) = self.finish_unreleased(metrics)?;
        let start = Instant::now();
        drop(memory);
        metrics.phase(Phase::FreeMemory, start.elapsed());
        Ok(results)
    }

    /// `finish`, handing the multi-version memory back unfreed, for the caller to free
    /// when it suits it (the engine frees a small block's memory on a second worker while
    /// it assembles the block's output on one; a large block's goes through
    /// `finish_freeing_beside`).
    pub fn finish_unreleased(
        self,
        metrics: &mut Metrics,
    ) -> Result<(BlockResults<T>, M), BlockError<T::Error>> {
        let (memory, records) = self.into_parts(metrics)?;
        let start = Instant::now();
        let results = collect(records)?;
        metrics.phase(Phase::Collect, start.elapsed());
        Ok((results, memory))
    }

    /// `finish` on two threads: the multi-version memory is freed on a second worker
    /// while this thread collects the results, so freeing costs the block only what it
    /// takes beyond the collection (on 10,000 transfers at 2 threads, collecting took
    /// about 1.3 ms and freeing 1.8 ms, one after the other). The phase is timed as
    /// `Collect`, its wall time; no `FreeMemory` phase is recorded for such a block.
    pub fn finish_freeing_beside(
        self,
        metrics: &mut Metrics,
    ) -> Result<BlockResults<T>, BlockError<T::Error>> {
        let (memory, records) = self.into_parts(metrics)?;
        let start = Instant::now();
        // Each part is taken by the one worker that needs it (uncontended locks).
        let records = std::sync::Mutex::new(Some(records));
        let memory = std::sync::Mutex::new(Some(memory));
        fn take<X>(m: &std::sync::Mutex<Option<X>>) -> Option<X> {
            m.lock().unwrap_or_else(|e| e.into_inner()).take()
        }
        let ran = run_workers(2, |worker| {
            if worker == 0 {
                take(&records).map(collect::<T>)
            } else {
                drop(take(&memory));
                None
            }
        });
        let mut parts = match ran {
            Ok(parts) => parts,
            // No worker ran (a second thread could not be started): the block is done,
            // so it is finished here, on this thread alone, rather than lost.
            Err(_) if records.lock().is_ok_and(|r| r.is_some()) => {
                drop(take(&memory));
                vec![take(&records).map(collect::<T>)]
            }
            Err(e) => return Err(e.into()),
        };
        metrics.phase(Phase::Collect, start.elapsed());
        // Worker 0 is this thread (`run_workers`), which took the records.
        let collected = parts.swap_remove(0).ok_or(Invariant::CollectionNeverRan)?;
        Ok(collected?)
    }

    /// The memory and the records, once the scheduler is done, with the run's counters
    /// added to `metrics`.
    fn into_parts(self, metrics: &mut Metrics) -> Result<(M, Vec<Slot<T>>), Invariant> {
        if !self.scheduler.done() {
            return Err(Invariant::FinishedBeforeDone);
        }
        let counters = &self.counters;
        metrics.executions += counters.executions.load(Ordering::Relaxed);
        metrics.validations += counters.validations.load(Ordering::Relaxed);
        metrics.aborts += counters.aborts.load(Ordering::Relaxed);
        metrics.suspensions += counters.suspensions.load(Ordering::Relaxed);
        let by_kind = counters.aborts_by_kind.lock();
        for (kind, count) in by_kind.unwrap_or_else(|e| e.into_inner()).iter() {
            *metrics.aborts_by_kind.entry(kind).or_default() += count;
        }
        let Self {
            memory,
            scheduler,
            records,
            ..
        } = self;
        drop(scheduler);
        Ok((memory, records))
    }
}

/// The last recorded execution of every transaction, from their records.
fn collect<T: TxnExecutor>(records: Vec<Slot<T>>) -> Result<BlockResults<T>, Invariant> {
    records
        .into_iter()
        .enumerate()
        .map(|(i, slot)| {
            let record = slot
                .into_inner()
                .into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .ok_or(Invariant::NeverExecuted { txn: i })?;
            let record =
                Arc::try_unwrap(record).map_err(|_| Invariant::RecordStillShared { txn: i })?;
            Ok(TxnResult {
                writes: record.writes,
                output: record.output,
            })
        })
        .collect()
}

/// Runs the block on `threads` workers, and frees the multi-version memory.
pub fn execute<T, M>(
    txns: &T,
    threads: usize,
    metrics: &mut Metrics,
) -> Result<BlockResults<T>, BlockError<T::Error>>
where
    T: TxnExecutor,
    M: MvMemory<T::Key, T::Value>,
{
    run_block::<T, M>(txns, threads, metrics)?.finish(metrics)
}

/// `execute`, handing the multi-version memory back unfreed (see `finish_unreleased`).
pub fn execute_unreleased<T, M>(
    txns: &T,
    threads: usize,
    metrics: &mut Metrics,
) -> Result<(BlockResults<T>, M), BlockError<T::Error>>
where
    T: TxnExecutor,
    M: MvMemory<T::Key, T::Value>,
{
    run_block::<T, M>(txns, threads, metrics)?.finish_unreleased(metrics)
}

/// Sets the block up and runs every worker's loop to its end: the run, not yet finished
/// (`execute` finishes it; a caller may finish it its own way, as the engine does with
/// `BlockStm::finish_freeing_beside`).
pub fn run_block<T, M>(
    txns: &T,
    threads: usize,
    metrics: &mut Metrics,
) -> Result<BlockStm<T, M>, BlockError<T::Error>>
where
    T: TxnExecutor,
    M: MvMemory<T::Key, T::Value>,
{
    let start = Instant::now();
    let run = BlockStm::<T, M>::for_txns(txns);
    metrics.phase(Phase::Setup, start.elapsed());
    let start = Instant::now();
    for outcome in run_workers(threads, |_| run.work(txns))? {
        outcome?;
    }
    metrics.phase(Phase::ExecuteValidate, start.elapsed());
    Ok(run)
}
