//! Replayed transactions: a recorded block as a [`TxnExecutor`] that does no work but read
//! and write its recorded keys, so the production strategies (and the simulator) can run
//! it and see the conflicts the real block has.
//!
//! A replayed execution reads the keys the sequential execution read, in the same order,
//! through whatever view it is given, and checks each read against the recording: the
//! value must come from the transaction the sequential execution read it from (or the
//! pre-block state), and that value must itself be *correct*, i.e. written by an
//! execution that read only correct values. Values are that one bit. While every read is
//! correct the execution is the sequential one (the real `execute` is a pure function of
//! what it reads) and writes the sequential write set, marked correct. At the first read
//! that is not, the execution is a wrong one; from there it behaves as the transaction's
//! execution against the pre-block state did (the first round of `sv` and `dag`): it reads
//! the rest of that execution's keys and writes that execution's write set, marked wrong.
//! Both executions read the same keys up to the first read whose origin differs (they saw
//! the same values until then), which the recording checks (`prefix_mismatches`).
//!
//! That is exact for the first round of `sv` and `dag` (every read resolves to the
//! pre-block state) and for every correct execution. For a Block-STM execution that read a
//! stale value from some earlier transaction's write, the pre-block-state execution is the
//! stand-in for "what the transaction does when it sees something other than the
//! sequential values" (a stale nonce rejects it, a stale balance usually changes nothing).
//! Whatever a wrong execution writes, it is eventually invalidated: its readers read a
//! version that is superseded before the block ends.

use std::convert::Infallible;
use std::fmt::Debug;
use std::sync::Mutex;

use serde::Serialize;

use stmlab::core::txn::{Execution, Key, ReadResult, StateView, TxnExecutor, TxnIndex};

/// The measured costs of one transaction, in nanoseconds (medians over the recording
/// passes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TxnCost {
    /// `execute` through a plain map of the committed writes, reading the sequential
    /// values: the transaction's own cost, the weight of the critical path.
    pub exec_ns: u64,
    /// `execute` against the pre-block state alone (every read `Base`): the first round of
    /// `sv` and `dag`.
    pub base_exec_ns: u64,
    /// `execute` through a multi-version memory holding the block's writes (what a
    /// successful Block-STM incarnation, or a `dag` re-execution, reads through).
    pub mv_exec_ns: u64,
    /// Recording the write set in the multi-version memory.
    pub mv_record_ns: u64,
    /// Validating the read set against the multi-version memory.
    pub mv_validate_ns: u64,
}

/// What the recording knows of one transaction.
#[derive(Clone, Debug)]
pub struct TxnRecord<K> {
    /// The sequential execution's reads, in order, each with the transaction whose write
    /// it read (`None`: the pre-block state).
    pub reads: Vec<(K, Option<TxnIndex>)>,
    /// The reads of `reads` made below a bound (a delta chain's links,
    /// `StateView::read_below`): `(position in reads, bound)`, ascending; empty for most
    /// transactions. Each still gives a dependency edge through its origin, like any read,
    /// and is replayed as a read below the same bound.
    pub below: Vec<(usize, TxnIndex)>,
    /// The keys the sequential execution wrote.
    pub writes: Vec<K>,
    /// The keys the execution against the pre-block state read, in order.
    pub base_reads: Vec<K>,
    /// The keys the execution against the pre-block state wrote.
    pub base_writes: Vec<K>,
    /// The transaction's dependency hint (`TxnExecutor::dependency_hint`: for an EVM
    /// transaction, the sender's previous one in the block), which Block-STM acts on.
    pub hint: Option<TxnIndex>,
    pub cost: TxnCost,
}

impl<K> TxnRecord<K> {
    /// The transactions this one truly depends on: the writers of what it read, distinct,
    /// ascending.
    pub fn dependencies(&self) -> Vec<TxnIndex> {
        let mut deps: Vec<TxnIndex> = self.reads.iter().filter_map(|(_, o)| *o).collect();
        deps.sort_unstable();
        deps.dedup();
        deps
    }

    /// True when the execution against the pre-block state is the sequential one (it
    /// read nothing another transaction of the block wrote).
    pub fn independent(&self) -> bool {
        self.reads.iter().all(|(_, o)| o.is_none())
    }
}

/// How far a replayed execution got.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    /// Reads made (including the one that met an ESTIMATE, if any).
    pub reads: usize,
    /// The reads the execution would have made had it run to its end.
    pub planned: usize,
    /// Some read was not the sequential one: the execution is a wrong one.
    pub diverged: bool,
}

/// A recorded block as a [`TxnExecutor`]: keys are the recorded ones, values and outputs
/// say whether the execution that produced them was the sequential one.
pub struct ReplayTxns<'a, K> {
    txns: &'a [TxnRecord<K>],
    /// Per transaction, the trace of its latest execution through `TxnExecutor::execute`
    /// (what a driver that runs the production strategies reads to cost an execution).
    last: Vec<Mutex<Trace>>,
    /// The keys the recorded executions wrote, counted once per transaction that wrote
    /// each: what the multi-version memory is sized for (`expected_keys`), as the
    /// recorded block's own hint sized the memory it ran on.
    writes: usize,
}

impl<'a, K> ReplayTxns<'a, K> {
    pub fn new(txns: &'a [TxnRecord<K>]) -> Self {
        Self {
            txns,
            last: txns.iter().map(|_| Mutex::new(Trace::default())).collect(),
            writes: txns.iter().map(|t| t.base_writes.len()).sum(),
        }
    }

    /// The trace of the latest execution of `txn_idx`.
    pub fn last_trace(&self, txn_idx: TxnIndex) -> Trace {
        *self.last[txn_idx].lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<K> ReplayTxns<'_, K>
where
    K: Key,
{
    /// Executes `txn_idx` through `view` and says how far it got (see the module docs).
    pub fn execute_traced<S: StateView<K, bool>>(
        &self,
        txn_idx: TxnIndex,
        view: &mut S,
    ) -> (Execution<K, bool, bool, Infallible>, Trace) {
        let rec = &self.txns[txn_idx];
        let mut below = rec.below.iter().peekable();
        for (pos, (key, origin)) in rec.reads.iter().enumerate() {
            let found = match below.next_if(|(at, _)| *at == pos) {
                Some(&(_, t)) => view.read_below(key, t),
                None => view.read(key),
            };
            let correct = match found {
                ReadResult::Estimate(on) => {
                    let trace = Trace {
                        reads: pos + 1,
                        planned: rec.reads.len(),
                        diverged: false,
                    };
                    return (Execution::Blocked { on }, trace);
                }
                ReadResult::Written { version, value } => value && Some(version.txn_idx) == *origin,
                ReadResult::Base => origin.is_none(),
            };
            if !correct {
                return self.diverge(rec, pos, view);
            }
        }
        let writes = rec.writes.iter().map(|k| (k.clone(), true)).collect();
        let trace = Trace {
            reads: rec.reads.len(),
            planned: rec.reads.len(),
            diverged: false,
        };
        (
            Execution::Done {
                writes,
                output: true,
            },
            trace,
        )
    }

    /// The rest of a wrong execution after its read at `pos`: the pre-block-state
    /// execution's remaining reads and its writes.
    fn diverge<S: StateView<K, bool>>(
        &self,
        rec: &TxnRecord<K>,
        pos: usize,
        view: &mut S,
    ) -> (Execution<K, bool, bool, Infallible>, Trace) {
        let rest = rec.base_reads.get(pos + 1..).unwrap_or(&[]);
        let planned = pos + 1 + rest.len();
        for (q, key) in rest.iter().enumerate() {
            if let ReadResult::Estimate(on) = view.read(key) {
                let trace = Trace {
                    reads: pos + 2 + q,
                    planned,
                    diverged: true,
                };
                return (Execution::Blocked { on }, trace);
            }
        }
        let writes = rec.base_writes.iter().map(|k| (k.clone(), false)).collect();
        let trace = Trace {
            reads: planned,
            planned,
            diverged: true,
        };
        (
            Execution::Done {
                writes,
                output: false,
            },
            trace,
        )
    }
}

impl<K> TxnExecutor for ReplayTxns<'_, K>
where
    K: Key,
{
    type Key = K;
    type Value = bool;
    type Output = bool;
    type Error = Infallible;

    fn num_txns(&self) -> usize {
        self.txns.len()
    }

    fn execute<S: StateView<K, bool>>(
        &self,
        txn_idx: TxnIndex,
        view: &mut S,
    ) -> Execution<K, bool, bool, Infallible> {
        let (execution, trace) = self.execute_traced(txn_idx, view);
        *self.last[txn_idx].lock().unwrap_or_else(|e| e.into_inner()) = trace;
        execution
    }

    fn dependency_hint(&self, txn_idx: TxnIndex) -> Option<TxnIndex> {
        self.txns[txn_idx].hint
    }

    fn expected_keys(&self) -> Option<usize> {
        Some(self.writes)
    }
}

/// `n` transactions that read and write nothing: running a production strategy on them
/// measures what the strategy costs beside the transactions' own work.
pub struct NullTxns(pub usize);

impl TxnExecutor for NullTxns {
    type Key = u64;
    type Value = ();
    type Output = ();
    type Error = Infallible;

    fn num_txns(&self) -> usize {
        self.0
    }

    fn execute<S: StateView<u64, ()>>(
        &self,
        _: TxnIndex,
        _: &mut S,
    ) -> Execution<u64, (), (), Infallible> {
        Execution::Done {
            writes: Vec::new(),
            output: (),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stmlab::core::metrics::Metrics;
    use stmlab::core::mvmemory::lockfree::LockFreeMvMemory;
    use stmlab::core::txn::Version;

    /// 0 writes key 1; 1 reads key 1 (from 0) and writes key 2; in the pre-block state 1
    /// reads key 1 then key 3 and writes nothing.
    fn block() -> Vec<TxnRecord<u64>> {
        vec![
            TxnRecord {
                reads: vec![(0, None)],
                below: vec![],
                writes: vec![1],
                base_reads: vec![0],
                base_writes: vec![1],
                hint: None,
                cost: TxnCost::default(),
            },
            TxnRecord {
                reads: vec![(1, Some(0))],
                below: vec![],
                writes: vec![2],
                base_reads: vec![1, 3],
                base_writes: vec![],
                hint: None,
                cost: TxnCost::default(),
            },
        ]
    }

    struct Fixed(Vec<(u64, ReadResult<bool>)>);
    impl StateView<u64, bool> for Fixed {
        fn record(&mut self, _: &u64, _: Option<TxnIndex>, _: Option<Version>) {}
        fn peek(&mut self, key: &u64, _: Option<TxnIndex>) -> ReadResult<bool> {
            self.0
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, r)| r.clone())
                .unwrap_or(ReadResult::Base)
        }
    }

    #[test]
    fn correct_reads_give_the_sequential_writes() {
        let recs = block();
        let replay = ReplayTxns::new(&recs);
        let written = ReadResult::Written {
            version: Version::new(0, 0),
            value: true,
        };
        let (exec, trace) = replay.execute_traced(1, &mut Fixed(vec![(1, written)]));
        assert!(
            matches!(exec, Execution::Done { output: true, ref writes } if writes == &[(2, true)])
        );
        assert!(!trace.diverged);
    }

    #[test]
    fn stale_or_wrong_reads_give_the_pre_state_behaviour() {
        let recs = block();
        let replay = ReplayTxns::new(&recs);
        // The pre-block state instead of 0's write.
        let (exec, trace) = replay.execute_traced(1, &mut Fixed(vec![]));
        assert!(matches!(exec, Execution::Done { output: false, ref writes } if writes.is_empty()));
        assert_eq!((trace.reads, trace.planned, trace.diverged), (2, 2, true));
        // 0's write, but a wrong one.
        let wrong = ReadResult::Written {
            version: Version::new(0, 0),
            value: false,
        };
        let (exec, _) = replay.execute_traced(1, &mut Fixed(vec![(1, wrong)]));
        assert!(matches!(exec, Execution::Done { output: false, .. }));
        // An ESTIMATE after diverging still blocks.
        let (exec, trace) =
            replay.execute_traced(1, &mut Fixed(vec![(3, ReadResult::Estimate(0))]));
        assert!(matches!(exec, Execution::Blocked { on: 0 }));
        assert_eq!((trace.reads, trace.planned), (2, 2));
    }

    /// A delta chain recorded from mock transactions (0 writes key 1 in full, 1 and 2
    /// credit it, 3 resolves it): the resolving transaction's links below 2 and below 1
    /// are kept as below-reads, with their origins as dependencies, replayed as reads
    /// below the same bounds, and every production strategy ends correct on the replay.
    #[test]
    fn below_reads_are_recorded_and_replayed_below_their_bounds() {
        use stmlab::core::mock::MockBlock;
        let block = MockBlock::credit_chain();
        let opts = crate::record::RecordOptions {
            passes: 1,
            strategy_costs: false,
        };
        let (recs, _) = crate::record::record_txns(&block, &opts).unwrap();
        assert_eq!(
            recs[3].reads,
            vec![(1, Some(2)), (1, Some(1)), (1, Some(0))]
        );
        assert_eq!(recs[3].below, vec![(1, 2), (2, 1)]);
        assert_eq!(recs[3].dependencies(), vec![0, 1, 2]);
        let a = crate::analysis::analyze("chain", &recs);
        assert_eq!(a.edges_by_kind.get("delta"), Some(&2));
        assert_eq!(a.edges_by_kind.get("key"), Some(&1));

        /// Answers every read as the recording expects, logging (key, bound).
        struct Log(Vec<Option<TxnIndex>>);
        impl StateView<u64, bool> for Log {
            fn record(&mut self, _: &u64, _: Option<TxnIndex>, _: Option<Version>) {}
            fn peek(&mut self, _: &u64, below: Option<TxnIndex>) -> ReadResult<bool> {
                self.0.push(below);
                let writer = below.map_or(2, |t| t - 1);
                ReadResult::Written {
                    version: Version::new(writer, 0),
                    value: true,
                }
            }
        }
        let replay = ReplayTxns::new(&recs);
        let mut log = Log(Vec::new());
        let (exec, trace) = replay.execute_traced(3, &mut log);
        assert!(matches!(exec, Execution::Done { output: true, .. }));
        assert!(!trace.diverged);
        assert_eq!(log.0, vec![None, Some(2), Some(1)]);
        for threads in [1, 2] {
            let mut m = Metrics::default();
            let out = stmlab::strategies::sv::execute(&replay, threads, &mut m).unwrap();
            assert!(out.iter().all(|r| r.output));
            let out = stmlab::strategies::dag::execute(&replay, threads, &mut m).unwrap();
            assert!(out.iter().all(|r| r.output));
            let out = stmlab::strategies::block_stm::execute::<_, LockFreeMvMemory<_, _>>(
                &replay, threads, &mut m,
            )
            .unwrap();
            assert!(out.iter().all(|r| r.output));
        }
    }

    #[test]
    fn production_strategies_end_with_every_execution_correct() {
        let recs = block();
        let replay = ReplayTxns::new(&recs);
        for threads in [1, 2] {
            let mut m = Metrics::default();
            let out = stmlab::strategies::sv::execute(&replay, threads, &mut m).unwrap();
            assert!(out.iter().all(|r| r.output));
            let out = stmlab::strategies::dag::execute(&replay, threads, &mut m).unwrap();
            assert!(out.iter().all(|r| r.output));
            let out = stmlab::strategies::block_stm::execute::<_, LockFreeMvMemory<_, _>>(
                &replay, threads, &mut m,
            )
            .unwrap();
            assert!(out.iter().all(|r| r.output));
        }
    }
}
