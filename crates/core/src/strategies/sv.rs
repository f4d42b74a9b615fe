//! Strategy `sv`, sequential validation: the design stmlab started from.
//!
//! 1. Every transaction executes once, in parallel on the worker pool, against the shared
//!    state (the pre-block state plus the committed writes, held in an `scc::HashMap` that
//!    many threads read at once). Each execution logs its read set with the version every
//!    key resolved to and stages its write set; workers never write the shared state.
//! 2. One pass in block order validates: transaction `j`'s read set is checked against
//!    the writes committed by transactions `0..j`. A valid transaction commits its writes
//!    (visible to the validation of the rest). A stale one is executed again against the
//!    updated state - which now holds every earlier transaction's writes, so the new
//!    execution validates - and then commits.
//!
//! Metrics: `rounds` counts the parallel round plus one per stale re-execution.

use std::time::Instant;

use crate::error::BlockError;
use crate::metrics::Metrics;
use crate::phase::Phase;
use crate::pool::map_indices;
use crate::read_set::{ReadSet, RecordingView};
use crate::txn::{BlockResults, Execution, ReadResult, TxnExecutor, TxnIndex, TxnResult, Version};
use crate::FastHash;

type Committed<K, V> = scc::HashMap<K, (Version, V), FastHash>;

/// One transaction's round-1 execution: its read set and outcome, not yet validated.
pub struct Attempt<T: TxnExecutor> {
    reads: ReadSet<T::Key>,
    execution: Execution<T::Key, T::Value, T::Output, T::Error>,
}

/// One `sv` run: the committed writes every execution reads through. Its two steps are
/// what the strategy does per transaction, whoever drives them: [`execute`] runs round 1
/// on the worker pool and the pass in block order on the caller; the simulator runs the
/// same steps on its virtual clock.
pub struct Sv<T: TxnExecutor> {
    committed: Committed<T::Key, T::Value>,
}

impl<T: TxnExecutor> Default for Sv<T> {
    fn default() -> Self {
        Self {
            committed: scc::HashMap::with_hasher(FastHash::default()),
        }
    }
}

impl<T: TxnExecutor> Sv<T> {
    /// Executes `txn_idx` against the pre-block state and the writes committed so far
    /// (none during round 1).
    pub fn execute_once(&self, txns: &T, txn_idx: TxnIndex) -> Attempt<T> {
        let mut reads = ReadSet::default();
        let execution = {
            let resolve = |key: &T::Key| {
                self.committed
                    .read_sync(key, |_, (version, value)| ReadResult::Written {
                        version: *version,
                        value: value.clone(),
                    })
                    .unwrap_or(ReadResult::Base)
            };
            let mut view = RecordingView::new(resolve, &mut reads);
            txns.execute(txn_idx, &mut view)
        };
        Attempt { reads, execution }
    }

    /// The pass in block order, for transaction `j` once `0..j` are committed: validates
    /// its round-1 attempt against the committed writes, executes it again if stale (it
    /// then reads every earlier transaction's final writes, so the new execution is
    /// final), and commits. Returns the committed result and whether it re-executed.
    pub fn commit_in_order(
        &self,
        txns: &T,
        j: TxnIndex,
        attempt: Attempt<T>,
        metrics: &mut Metrics,
    ) -> Result<(TxnResult<T::Key, T::Value, T::Output>, bool), BlockError<T::Error>> {
        let Attempt { reads, execution } = attempt;
        // A transaction that could not run stops the block: its error is the caller's,
        // and running it again would only hide it.
        if let Execution::Failed { error } = execution {
            return Err(BlockError::Txn { txn: j, error });
        }
        metrics.validations += 1;
        let valid = matches!(execution, Execution::Done { .. })
            && reads.is_valid(|key| Ok(self.committed.read_sync(key, |_, (v, _)| *v)));
        let (incarnation, execution) = if valid {
            (0, execution)
        } else {
            metrics.aborts += 1;
            metrics.executions += 1;
            metrics.rounds += 1;
            (1, self.execute_once(txns, j).execution)
        };
        let (writes, output) = execution.into_done(j)?;
        crate::perturb::progress();
        let version = Version::new(j, incarnation);
        for (key, value) in &writes {
            self.committed
                .upsert_sync(key.clone(), (version, value.clone()));
        }
        Ok((TxnResult { writes, output }, incarnation > 0))
    }
}

pub fn execute<T: TxnExecutor>(
    txns: &T,
    threads: usize,
    metrics: &mut Metrics,
) -> Result<BlockResults<T>, BlockError<T::Error>> {
    let n = txns.num_txns();
    let run = Sv::<T>::default();

    // Phase 1: every transaction once, in parallel, against the pre-block state.
    let start = Instant::now();
    let attempts = map_indices(threads, n, |idx| run.execute_once(txns, idx))?;
    metrics.executions += n as u64;
    metrics.rounds = 1;
    metrics.phase(Phase::Execute, start.elapsed());

    // Phase 2: validate and commit in block order.
    let start = Instant::now();
    let mut results = Vec::with_capacity(n);
    for (j, attempt) in attempts.into_iter().enumerate() {
        results.push(run.commit_in_order(txns, j, attempt, metrics)?.0);
    }
    metrics.phase(Phase::Validate, start.elapsed());
    Ok(results)
}
