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
//! Reads below a bound (`StateView::read_below`, a link of a delta chain): the committed
//! map holds only the latest write per key, but a read by `j` below `t < j` must find the
//! latest committed write by a transaction below `t`. So a key written a second time keeps
//! its older committed writes in a second map, `older`, in block order; nothing is
//! allocated for a key written once, and plain reads never look there. Validation of a
//! below-read resolves it the same way, against the writes of `0..j`.
//!
//! Metrics: `rounds` counts the parallel round plus one per stale re-execution;
//! `aborts_by_kind` the stale transactions by their first stale read.

use std::time::Instant;

use crate::error::BlockError;
use crate::metrics::Metrics;
use crate::phase::Phase;
use crate::pool::map_indices;
use crate::read_set::{ReadSet, RecordingView};
use crate::txn::{BlockResults, Execution, ReadResult, TxnExecutor, TxnIndex, TxnResult, Version};
use crate::FastHash;

type Committed<K, V> = scc::HashMap<K, (Version, V), FastHash>;
/// Per key written more than once, its committed writes before the latest, in block order.
type Older<K, V> = scc::HashMap<K, Vec<(Version, V)>, FastHash>;

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
    older: Older<T::Key, T::Value>,
}

impl<T: TxnExecutor> Default for Sv<T> {
    fn default() -> Self {
        Self {
            committed: scc::HashMap::with_hasher(FastHash::default()),
            older: scc::HashMap::with_hasher(FastHash::default()),
        }
    }
}

impl<T: TxnExecutor> Sv<T> {
    /// Applies `on` to the latest committed write of `key` by a transaction below `below`
    /// (`None`: no bound), with its version; `None` for the pre-block state.
    fn committed_below<R>(
        &self,
        key: &T::Key,
        below: Option<TxnIndex>,
        on: impl FnOnce(Version, &T::Value) -> R,
    ) -> Option<R> {
        let mut on = Some(on);
        let latest = self.committed.read_sync(key, |_, (version, value)| {
            match below {
                Some(t) if version.txn_idx >= t => None,
                // `on` is still there: this closure runs at most once.
                _ => on.take().map(|on| on(*version, value)),
            }
        });
        match latest {
            None => None,
            Some(Some(found)) => Some(found),
            // Only a bounded read gets here: the latest write is at or above the bound.
            Some(None) => {
                let t = below?;
                let on = on?;
                self.older
                    .read_sync(key, |_, list| {
                        let at = list.partition_point(|(v, _)| v.txn_idx < t);
                        at.checked_sub(1).map(|i| on(list[i].0, &list[i].1))
                    })
                    .flatten()
            }
        }
    }

    /// Executes `txn_idx` against the pre-block state and the writes committed so far
    /// (none during round 1).
    pub fn execute_once(&self, txns: &T, txn_idx: TxnIndex) -> Attempt<T> {
        let mut reads = ReadSet::for_execution();
        let execution = {
            let resolve = |key: &T::Key, below: Option<TxnIndex>| {
                self.committed_below(key, below, |version, value| ReadResult::Written {
                    version,
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
        let stale = match execution {
            Execution::Done { .. } => reads
                .first_stale(|key, below| Ok(self.committed_below(key, below, |v, _| v)))
                .map(|read| Some(read.kind())),
            _ => Some(None),
        };
        let (incarnation, execution) = if stale.is_none() {
            (0, execution)
        } else {
            if let Some(Some(kind)) = stale {
                metrics.count_abort_kind(kind);
            }
            metrics.aborts += 1;
            metrics.executions += 1;
            metrics.rounds += 1;
            (1, self.execute_once(txns, j).execution)
        };
        let (writes, output) = execution.into_done(j)?;
        crate::perturb::progress();
        let version = Version::new(j, incarnation);
        for (key, value) in &writes {
            let replaced = self
                .committed
                .upsert_sync(key.clone(), (version, value.clone()));
            // An earlier transaction's write, now below the latest: kept for reads below a
            // bound. (A key this transaction wrote twice replaces its own write: nothing
            // below `j + 1` can tell the two apart.)
            if let Some(old) = replaced.filter(|(v, _)| v.txn_idx != j) {
                self.older
                    .entry_sync(key.clone())
                    .or_default()
                    .get_mut()
                    .push(old);
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::{MockBlock, DELTA};

    #[test]
    fn older_committed_writes_answer_reads_below_a_bound() {
        let block = MockBlock::credit_chain();
        let run = Sv::<MockBlock>::default();
        let mut metrics = Metrics::default();
        let attempts: Vec<_> = (0..4).map(|j| run.execute_once(&block, j)).collect();
        let mut results = Vec::new();
        for (j, attempt) in attempts.into_iter().enumerate() {
            results.push(
                run.commit_in_order(&block, j, attempt, &mut metrics)
                    .unwrap(),
            );
        }
        let below = |t| run.committed_below(&1, t, |v, value| (v.txn_idx, *value & DELTA));
        assert_eq!(below(None), Some((2, DELTA)));
        assert_eq!(below(Some(3)), Some((2, DELTA)));
        assert_eq!(below(Some(2)), Some((1, DELTA)));
        assert_eq!(
            below(Some(1)),
            Some((0, 0)),
            "the full value, from the history"
        );
        assert_eq!(below(Some(0)), None);
        // Only key 1 was written twice: the history holds its two older writes only.
        assert_eq!(run.older.len(), 1);
        assert_eq!(run.older.read_sync(&1, |_, l| l.len()), Some(2));
        // 3 read the pre-state in round 1: stale, re-executed, blamed on key 1.
        let reexecuted: Vec<bool> = results.iter().map(|(_, r)| *r).collect();
        assert_eq!(reexecuted, vec![false, false, false, true]);
        assert_eq!(metrics.aborts_by_kind.get("key"), Some(&1));
        let got: Vec<_> = results.into_iter().map(|(r, _)| r).collect();
        assert!(crate::mock::same_results(&got, &block.sequential()));
    }

    #[test]
    fn a_below_read_is_validated_against_the_history() {
        let block = MockBlock::credit_chain();
        let run = Sv::<MockBlock>::default();
        let mut metrics = Metrics::default();
        for j in 0..3 {
            let attempt = run.execute_once(&block, j);
            run.commit_in_order(&block, j, attempt, &mut metrics)
                .unwrap();
        }
        // Executed once 0..3 are committed: the whole chain, three links.
        let attempt = run.execute_once(&block, 3);
        assert_eq!(attempt.reads.len(), 3);
        assert_eq!(attempt.reads.iter_below().count(), 2);
        let (_, reexecuted) = run
            .commit_in_order(&block, 3, attempt, &mut metrics)
            .unwrap();
        assert!(!reexecuted, "every link resolves as it did");
        assert!(metrics.aborts_by_kind.is_empty());
    }
}
