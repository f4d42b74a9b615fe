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
use crate::pool::map_indices;
use crate::read_set::{ReadSet, RecordingView};
use crate::txn::{BlockResults, Execution, ReadResult, TxnExecutor, TxnIndex, TxnResult, Version};
use crate::FastHash;

type Committed<K, V> = scc::HashMap<K, (Version, V), FastHash>;
type Attempt<T> = (
    ReadSet<<T as TxnExecutor>::Key>,
    Execution<
        <T as TxnExecutor>::Key,
        <T as TxnExecutor>::Value,
        <T as TxnExecutor>::Output,
        <T as TxnExecutor>::Error,
    >,
);

fn execute_against<T: TxnExecutor>(
    txns: &T,
    committed: &Committed<T::Key, T::Value>,
    txn_idx: TxnIndex,
) -> Attempt<T> {
    let mut reads = ReadSet::default();
    let execution = {
        let resolve = |key: &T::Key| {
            committed
                .read_sync(key, |_, (version, value)| ReadResult::Written {
                    version: *version,
                    value: value.clone(),
                })
                .unwrap_or(ReadResult::Base)
        };
        let mut view = RecordingView::new(resolve, &mut reads);
        txns.execute(txn_idx, &mut view)
    };
    (reads, execution)
}

pub fn execute<T: TxnExecutor>(
    txns: &T,
    threads: usize,
    metrics: &mut Metrics,
) -> Result<BlockResults<T>, BlockError<T::Error>> {
    let n = txns.num_txns();
    let committed: Committed<T::Key, T::Value> = scc::HashMap::with_hasher(FastHash::default());

    // Phase 1: every transaction once, in parallel, against the pre-block state.
    let start = Instant::now();
    let attempts = map_indices(threads, n, |idx| execute_against(txns, &committed, idx))?;
    metrics.executions += n as u64;
    metrics.rounds = 1;
    metrics.phase("execute", start.elapsed());

    // Phase 2: validate and commit in block order.
    let start = Instant::now();
    let mut results = Vec::with_capacity(n);
    for (j, attempt) in attempts.into_iter().enumerate() {
        let (reads, execution) = attempt;
        // A transaction that could not run stops the block: its error is the caller's,
        // and running it again would only hide it.
        if let Execution::Failed { error } = execution {
            return Err(BlockError::Txn { txn: j, error });
        }
        metrics.validations += 1;
        let valid = matches!(execution, Execution::Done { .. })
            && reads.is_valid(|key| Ok(committed.read_sync(key, |_, (v, _)| *v)));
        let (incarnation, execution) = if valid {
            (0, execution)
        } else {
            metrics.aborts += 1;
            metrics.executions += 1;
            metrics.rounds += 1;
            (1, execute_against(txns, &committed, j).1)
        };
        let (writes, output) = execution.into_done(j)?;
        crate::perturb::progress();
        let version = Version::new(j, incarnation);
        for (key, value) in &writes {
            committed.upsert_sync(key.clone(), (version, value.clone()));
        }
        results.push(TxnResult { writes, output });
    }
    metrics.phase("validate", start.elapsed());
    Ok(results)
}
