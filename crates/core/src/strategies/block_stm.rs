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

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_utils::CachePadded;

use crate::error::{BlockError, Invariant};
use crate::metrics::Metrics;
use crate::mvmemory::MvMemory;
use crate::pool::run_workers;
use crate::read_set::{ReadSet, RecordingView};
use crate::scheduler::{Scheduler, Task};
use crate::sync::Mutex;
use crate::txn::{BlockResults, Execution, TxnExecutor, TxnResult, Version};

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
}

struct Worker<'a, T: TxnExecutor, M> {
    txns: &'a T,
    memory: &'a M,
    scheduler: &'a Scheduler,
    records: &'a [Slot<T>],
    counters: &'a Counters,
}

impl<T: TxnExecutor, M: MvMemory<T::Key, T::Value>> Worker<'_, T, M> {
    fn execute(&self, version: Version) -> Result<Option<Task>, BlockError<T::Error>> {
        let idx = version.txn_idx;
        if version.incarnation == 0 {
            if let Some(dep) = self.txns.dependency_hint(idx).filter(|&d| d < idx) {
                // Known before running: wait for `dep` as if this execution had read its
                // ESTIMATE (a resumed transaction runs as incarnation 1, without the hint).
                if self.scheduler.add_dependency(idx, dep)? {
                    self.counters.suspensions.fetch_add(1, Ordering::Relaxed);
                    return Ok(None);
                }
            }
        }
        loop {
            let mut reads = ReadSet::default();
            let execution = {
                let resolve = |key: &T::Key| self.memory.read(key, idx);
                let mut view = RecordingView::new(resolve, &mut reads);
                self.txns.execute(idx, &mut view)
            };
            self.counters.executions.fetch_add(1, Ordering::Relaxed);
            match execution {
                Execution::Blocked { on } => {
                    self.counters.suspensions.fetch_add(1, Ordering::Relaxed);
                    if self.scheduler.add_dependency(idx, on)? {
                        return Ok(None);
                    }
                    // The dependency finished meanwhile: execute again at once.
                }
                Execution::Failed { error } => return Err(BlockError::Txn { txn: idx, error }),
                Execution::Done { writes, output } => {
                    let wrote_new_key = self.memory.record(version, &writes);
                    // Published before `finish_execution` marks the version executed (the
                    // status mutex orders the two), so a validator of this version finds
                    // this record or a newer one.
                    *crate::sync::lock(&self.records[idx]) = Some(Arc::new(Record {
                        reads,
                        writes,
                        output,
                    }));
                    return Ok(self.scheduler.finish_execution(version, wrote_new_key)?);
                }
            }
        }
    }

    fn validate(&self, version: Version) -> Result<Option<Task>, BlockError<T::Error>> {
        let idx = version.txn_idx;
        let record = crate::sync::lock(&self.records[idx]).clone().ok_or(
            Invariant::ValidatedBeforeExecuted {
                txn: idx,
                incarnation: version.incarnation,
            },
        )?;
        self.counters.validations.fetch_add(1, Ordering::Relaxed);
        let valid = self.memory.validate(idx, &record.reads);
        let aborted = !valid && self.scheduler.try_validation_abort(version);
        if aborted {
            self.counters.aborts.fetch_add(1, Ordering::Relaxed);
            self.memory.mark_estimates(idx);
        }
        Ok(self.scheduler.finish_validation(version, aborted)?)
    }

    fn run(&self, failed: &AtomicBool) -> Result<(), BlockError<T::Error>> {
        let mut task = None;
        // Acquire pairs with the Release store of a failing worker, so that a worker
        // which sees the flag stops (the error itself travels through `join`).
        while !self.scheduler.done() && !failed.load(Ordering::Acquire) {
            if crate::perturb::cancelled() {
                // The stress watchdog saw no progress: say where the scheduler stands.
                crate::perturb::note_state(|| self.scheduler.describe());
                failed.store(true, Ordering::Release);
                return Err(Invariant::StressCancelled.into());
            }
            let result = match task {
                Some(Task::Execute(version)) => self.execute(version),
                Some(Task::Validate(version)) => self.validate(version),
                None => {
                    let next = self.scheduler.next_task();
                    if next.is_none() {
                        // Nothing to do until another worker finishes something. (A task
                        // that merely ends without a follow-up goes straight back to
                        // `next_task`: yielding there cost a system call per task.)
                        crate::sync::spin_hint();
                    }
                    Ok(next)
                }
            };
            task = match result {
                Ok(next) => next,
                Err(e) => {
                    failed.store(true, Ordering::Release);
                    return Err(e);
                }
            };
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
        Self {
            memory: M::new(num_txns),
            scheduler: Scheduler::new(num_txns),
            records: (0..num_txns)
                .map(|_| CachePadded::new(Mutex::new(None)))
                .collect(),
            counters: Counters::default(),
            failed: AtomicBool::new(false),
        }
    }

    /// One worker's loop, until the block is done (or some worker failed).
    pub fn work(&self, txns: &T) -> Result<(), BlockError<T::Error>> {
        // A worker that unwinds (a panicking transaction or state source) must stop the
        // others too: they would wait for a `done` that never comes.
        let _stop_others = FailOnPanic {
            failed: &self.failed,
            scheduler: &self.scheduler,
        };
        Worker {
            txns,
            memory: &self.memory,
            scheduler: &self.scheduler,
            records: &self.records,
            counters: &self.counters,
        }
        .run(&self.failed)
    }

    /// The last recorded execution of every transaction (call once every worker returned).
    /// `threads`: how many threads may free the multi-version memory.
    pub fn finish(
        self,
        metrics: &mut Metrics,
        threads: usize,
    ) -> Result<BlockResults<T>, BlockError<T::Error>> {
        let (results, memory) = self.finish_unreleased(metrics)?;
        let start = Instant::now();
        memory.release(threads);
        metrics.phase("free memory", start.elapsed());
        Ok(results)
    }

    /// `finish`, handing the multi-version memory back unfreed, for the caller to free
    /// when it suits it (the engine frees it on a second worker while it assembles the
    /// block's output).
    pub fn finish_unreleased(
        self,
        metrics: &mut Metrics,
    ) -> Result<(BlockResults<T>, M), BlockError<T::Error>> {
        if !self.scheduler.done() {
            return Err(Invariant::FinishedBeforeDone.into());
        }
        let counters = &self.counters;
        metrics.executions += counters.executions.load(Ordering::Relaxed);
        metrics.validations += counters.validations.load(Ordering::Relaxed);
        metrics.aborts += counters.aborts.load(Ordering::Relaxed);
        metrics.suspensions += counters.suspensions.load(Ordering::Relaxed);
        let Self {
            memory,
            scheduler,
            records,
            ..
        } = self;
        drop(scheduler);
        let start = Instant::now();
        let results = records
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
            .collect::<Result<Vec<_>, Invariant>>()?;
        metrics.phase("collect", start.elapsed());
        Ok((results, memory))
    }
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
    run::<T, M>(txns, threads, metrics)?.finish(metrics, threads)
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
    run::<T, M>(txns, threads, metrics)?.finish_unreleased(metrics)
}

/// Sets the block up and runs every worker's loop to its end.
fn run<T, M>(
    txns: &T,
    threads: usize,
    metrics: &mut Metrics,
) -> Result<BlockStm<T, M>, BlockError<T::Error>>
where
    T: TxnExecutor,
    M: MvMemory<T::Key, T::Value>,
{
    let start = Instant::now();
    let run = BlockStm::<T, M>::new(txns.num_txns());
    metrics.phase("setup", start.elapsed());
    let start = Instant::now();
    for outcome in run_workers(threads, |_| run.work(txns))? {
        outcome?;
    }
    metrics.phase("execute+validate", start.elapsed());
    Ok(run)
}
