//! Recording a block: per transaction its read and write sets and its measured costs, and
//! per block the overheads of each strategy (the [`CostModel`]).
//!
//! Everything is measured on this machine, single-threaded, by the production code:
//! - per transaction (medians over `passes` passes over the whole block, so every
//!   transaction is timed in the same cache state a block run leaves it in):
//!   `execute` through a plain map of the committed writes (the sequential values), against
//!   the pre-block state alone, and through a [`LockFreeMvMemory`] filled in block order
//!   as a one-thread Block-STM run fills it (so it resolves to the sequential values
//!   too); recording the write set in, and validating the read set against, that memory;
//! - per block: each production strategy at one thread on [`NullTxns`] (the per-task
//!   overhead of its parallel phases: scheduling, result slots, the pool) and on
//!   [`ReplayTxns`] (the cost of its serial phases - `sv`'s validation pass, `dag`'s graph
//!   and repair pass - with the block's real keys but no EVM work);
//! - per machine (once per process): a futile `next_task` plus the worker's `yield`
//!   (a poll), spawning a pool thread, and waking a thread waiting on a condition variable.

use std::collections::HashMap;
use std::fmt::Debug;
use std::hint::black_box;
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Instant;

use serde::Serialize;

use super::replay::{NullTxns, ReplayTxns, TxnCost, TxnRecord};
use stmlab::core::dep_graph::DepGraph;
use stmlab::core::metrics::{median, Metrics};
use stmlab::core::mvmemory::lockfree::LockFreeMvMemory;
use stmlab::core::mvmemory::MvMemory;
use stmlab::core::phase::Phase;
use stmlab::core::read_set::{ReadSet, RecordingView};
use stmlab::core::scheduler::Scheduler;
use stmlab::core::txn::{Key, ReadResult, TxnExecutor, TxnIndex, TxnResult, Version};
use stmlab::error::{BlockError, EngineError, Invariant};
use stmlab::strategies;
use stmlab::Strategy;

/// How much to measure.
#[derive(Clone, Copy, Debug)]
pub struct RecordOptions {
    /// Passes over the block per measurement; per-transaction costs are medians.
    pub passes: usize,
    /// Also measure what the simulator needs beyond the critical path: the pre-state and
    /// multi-version executions and the strategies' overheads. Off for `stmlab analyze`.
    pub strategy_costs: bool,
}

impl Default for RecordOptions {
    fn default() -> Self {
        Self {
            passes: 5,
            strategy_costs: true,
        }
    }
}

/// The constants of the simulator's cost model for one block, in nanoseconds, all
/// measured on this machine (see the module docs). Per-transaction costs are in
/// [`TxnCost`].
#[derive(Clone, Debug, Default, Serialize)]
pub struct CostModel {
    /// The sequential reference (`Strategy::Sequential`, plain revm, with its output
    /// assembly): measured, not simulated - it does not depend on the thread count. For a
    /// non-EVM block, the sum of the execution costs.
    pub sequential_ns: u64,
    /// Assembling the block's output from the committed write sets (serial, after every
    /// parallel strategy).
    pub assemble_ns: u64,
    /// A worker's futile poll: `next_task` finding nothing, then a `yield`.
    pub poll_ns: u64,
    /// Spawning one pool thread (`stmlab::core::pool::run_workers`); worker `w` of a pool
    /// of more than one starts `(w + 1) * spawn_ns` after the pool does.
    pub spawn_ns: u64,
    /// Waking a worker that waits on a condition variable (`dag`'s commit loop).
    pub wake_ns: u64,
    /// Block-STM: per task (execution or validation), beside the transaction's costs.
    pub block_stm_task_ns: u64,
    /// `sv`: per first-round execution, beside the execution.
    pub sv_round1_task_ns: u64,
    /// `sv`: the validation-and-commit pass (serial), without the EVM work of its
    /// re-executions.
    pub sv_phase2_ns: u64,
    /// `dag`: per first-round execution, beside the execution.
    pub dag_round1_task_ns: u64,
    /// `dag`: building the writer index and the graph (serial).
    pub dag_graph_serial_ns: u64,
    /// `dag`: finding the edges (parallel over transactions).
    pub dag_graph_parallel_ns: u64,
    /// `dag`: per commit in the commit loop, beside recording the write set and any
    /// re-execution.
    pub dag_commit_task_ns: u64,
    /// `dag`: the repair pass's validation of every transaction (serial), without the
    /// EVM work of its re-executions.
    pub dag_repair_ns: u64,
    /// Per strategy and phase, the factor the phase's costs are multiplied by: the phase's
    /// time in a one-thread production run (made while recording, median of the passes)
    /// over the uncalibrated model's one-thread prediction. Empty: uncalibrated.
    pub calibration: Vec<PhaseFactor>,
}

/// One phase's calibration (see [`CostModel::calibration`]).
#[derive(Clone, Debug, Serialize)]
pub struct PhaseFactor {
    pub strategy: Strategy,
    pub phase: Phase,
    /// The phase in the one-thread production runs (median).
    pub measured_ns: u64,
    /// The phase in the uncalibrated model at one thread.
    pub model_ns: u64,
    pub factor: f64,
}

impl CostModel {
    /// The factor of `phase` of `strategy` (1 when uncalibrated).
    pub fn factor(&self, strategy: Strategy, phase: Phase) -> f64 {
        self.calibration
            .iter()
            .find(|f| f.strategy == strategy && f.phase == phase)
            .map_or(1.0, |f| f.factor)
    }

    /// The model without its calibration.
    pub fn uncalibrated(&self) -> Self {
        Self {
            calibration: Vec::new(),
            ..self.clone()
        }
    }
}

/// A recorded block: what the analysis and the simulator run on.
#[derive(Clone, Debug)]
pub struct BlockRecord<K> {
    pub label: String,
    pub txns: Vec<TxnRecord<K>>,
    pub model: CostModel,
    /// The dependencies the production `dag` strategy finds from the first round, per
    /// transaction (empty without `strategy_costs`).
    pub dag_deps: Vec<Vec<TxnIndex>>,
    /// Transactions whose execution against the pre-block state did not read the same
    /// keys as the sequential one up to the first read whose origin differs: the replay's
    /// one assumption about the recording (0 when the executor is deterministic).
    pub prefix_mismatches: usize,
}

impl<K> BlockRecord<K> {
    /// The sum of the transactions' execution costs.
    pub fn total_cost_ns(&self) -> u64 {
        self.txns.iter().map(|t| t.cost.exec_ns).sum()
    }
}

impl<K: Key + 'static> BlockRecord<K> {
    /// A record made up rather than measured (tests, what-if questions): the given
    /// transactions and cost model; the `dag` graph is found by the production strategy.
    pub fn synthetic(
        label: &str,
        txns: Vec<TxnRecord<K>>,
        model: CostModel,
    ) -> Result<Self, EngineError> {
        let dag_deps = dag_dependencies(&txns, &mut Metrics::default())?;
        let prefix_mismatches = count_prefix_mismatches(&txns);
        Ok(Self {
            label: label.to_string(),
            txns,
            model,
            dag_deps,
            prefix_mismatches,
        })
    }
}

/// The dependencies the production `dag` strategy finds from the first round of the
/// replayed block (it runs it at one thread).
fn dag_dependencies<K>(
    records: &[TxnRecord<K>],
    metrics: &mut Metrics,
) -> Result<Vec<Vec<TxnIndex>>, EngineError>
where
    K: Key,
{
    let replay = ReplayTxns::new(records);
    let (_, report) = strategies::dag::execute_with_report(&replay, 1, metrics)?;
    Ok((0..records.len())
        .map(|j| report.graph.dependencies(j).to_vec())
        .collect())
}

type Results<T> =
    Vec<TxnResult<<T as TxnExecutor>::Key, <T as TxnExecutor>::Value, <T as TxnExecutor>::Output>>;
/// The records of a block and its sequential results.
type Recorded<T> = (Vec<TxnRecord<<T as TxnExecutor>::Key>>, Results<T>);

pub(crate) fn ns(start: Instant) -> u64 {
    start.elapsed().as_nanos() as u64
}

/// Records a block of any [`TxnExecutor`]: per transaction its read and write sets and
/// costs. Returns the records and the sequential results.
///
/// `passes + 1` passes over the block; the first one is not timed (it grows the heap and
/// fills the caches: in this VM a page fault costs about 2 µs, as much as a small
/// transaction). Each pass runs the three views one after the other, and keeps what each
/// execution returned alive until the end of its view's pass, as the strategies keep their
/// records until the block ends.
pub fn record_txns<T>(txns: &T, opts: &RecordOptions) -> Result<Recorded<T>, BlockError<T::Error>>
where
    T: TxnExecutor,
    T::Key: 'static,
    T::Value: 'static,
{
    let n = txns.num_txns();
    let passes = opts.passes.max(1);
    let mut exec_t = vec![Vec::with_capacity(passes); n];
    let mut base_t = vec![Vec::with_capacity(passes); n];
    let mut mv_t = vec![Vec::with_capacity(passes); n];
    let mut rec_t = vec![Vec::with_capacity(passes); n];
    let mut val_t = vec![Vec::with_capacity(passes); n];
    let mut records: Vec<TxnRecord<T::Key>> = Vec::with_capacity(n);
    let mut results: Results<T> = Vec::with_capacity(n);

    // Executions run untimed before each view's pass: the first execution after the
    // previous pass freed its structures otherwise pays for the heap growing back
    // (a millisecond here, on whichever transaction comes first).
    let prime = || {
        for j in 0..n.min(16) {
            let mut reads = ReadSet::default();
            let mut view = RecordingView::new(
                |_: &T::Key, _: Option<TxnIndex>| ReadResult::Base,
                &mut reads,
            );
            black_box(txns.execute(j, &mut view));
        }
    };
    let mut writes_total = 0;
    for pass in 0..=passes {
        let timed = pass > 0;
        // Sequential: every read resolves to the last earlier writer. Sized for the whole
        // block (known from the first pass), so no transaction pays for the map's growth.
        let mut committed: HashMap<T::Key, (Version, T::Value)> =
            HashMap::with_capacity(writes_total);
        // The writes before the latest of a key written more than once, in block order,
        // for reads below a bound (a delta chain's links); empty for most blocks.
        let mut older: HashMap<T::Key, Vec<(Version, T::Value)>> = HashMap::new();
        prime();
        let mut kept = Vec::with_capacity(n);
        for (j, times) in exec_t.iter_mut().enumerate() {
            let mut reads = ReadSet::default();
            let start = Instant::now();
            let execution = {
                let resolve = |k: &T::Key, below: Option<TxnIndex>| {
                    let found = match (committed.get(k), below) {
                        (Some((v, _)), Some(t)) if v.txn_idx >= t => older
                            .get(k)
                            .and_then(|list| list.iter().rev().find(|(v, _)| v.txn_idx < t)),
                        (latest, _) => latest,
                    };
                    found
                        .map(|(version, value)| ReadResult::Written {
                            version: *version,
                            value: value.clone(),
                        })
                        .unwrap_or(ReadResult::Base)
                };
                let mut view = RecordingView::new(resolve, &mut reads);
                txns.execute(j, &mut view)
            };
            let t = ns(start);
            if timed {
                times.push(t);
            }
            let (writes, output) = execution.into_done(j)?;
            for (k, v) in &writes {
                let replaced = committed.insert(k.clone(), (Version::new(j, 0), v.clone()));
                if let Some(old) = replaced.filter(|(v, _)| v.txn_idx != j) {
                    older.entry(k.clone()).or_default().push(old);
                }
            }
            if pass == 0 {
                writes_total += writes.len();
                records.push(TxnRecord {
                    reads: reads
                        .iter_in_order()
                        .map(|r| (r.key.clone(), r.origin.map(|v| v.txn_idx)))
                        .collect(),
                    below: reads
                        .iter_in_order()
                        .enumerate()
                        .filter_map(|(pos, r)| r.below.map(|t| (pos, t)))
                        .collect(),
                    writes: writes.iter().map(|(k, _)| k.clone()).collect(),
                    base_reads: Vec::new(),
                    base_writes: Vec::new(),
                    hint: txns.dependency_hint(j).filter(|&d| d < j),
                    cost: TxnCost::default(),
                });
                results.push(TxnResult { writes, output });
            } else {
                kept.push((reads, writes, output));
            }
        }
        drop(kept);
        drop(committed);
        if !opts.strategy_costs {
            continue;
        }

        // Against the pre-block state alone.
        let mut kept = Vec::with_capacity(n);
        prime();
        for (j, rec) in records.iter_mut().enumerate() {
            let mut reads = ReadSet::default();
            let start = Instant::now();
            let execution = {
                let mut view = RecordingView::new(
                    |_: &T::Key, _: Option<TxnIndex>| ReadResult::Base,
                    &mut reads,
                );
                txns.execute(j, &mut view)
            };
            let t = ns(start);
            if timed {
                base_t[j].push(t);
            }
            let (writes, output) = execution.into_done(j)?;
            if pass == 0 {
                rec.base_reads = reads.iter_in_order().map(|r| r.key.clone()).collect();
                rec.base_writes = writes.iter().map(|(k, _)| k.clone()).collect();
            }
            kept.push((reads, writes, output));
        }
        drop(kept);

        // Through a multi-version memory filled as a one-thread Block-STM run fills it:
        // transaction `j` executes when `0..j` have recorded their writes (so its reads
        // resolve to the sequential values), then records its own and is validated.
        // Sized by the block's own hint, as the Block-STM run it stands for sizes it.
        let memory = LockFreeMvMemory::<T::Key, T::Value>::for_block(n, txns.expected_keys());
        let mut kept = Vec::with_capacity(n);
        prime();
        for j in 0..n {
            let mut reads = ReadSet::default();
            let start = Instant::now();
            let execution = {
                let mut view = RecordingView::new(
                    |k: &T::Key, below: Option<TxnIndex>| {
                        memory.read(k, below.map_or(j, |t| t.min(j)))
                    },
                    &mut reads,
                );
                txns.execute(j, &mut view)
            };
            let t_exec = ns(start);
            let (writes, output) = execution.into_done(j)?;
            let start = Instant::now();
            black_box(memory.record(Version::new(j, 0), &writes, &[]));
            let t_rec = ns(start);
            let start = Instant::now();
            black_box(memory.validate(j, &reads));
            let t_val = ns(start);
            if timed {
                mv_t[j].push(t_exec);
                rec_t[j].push(t_rec);
                val_t[j].push(t_val);
            }
            kept.push((reads, writes, output));
        }
        drop(kept);
        drop(memory);
    }
    for (j, rec) in records.iter_mut().enumerate() {
        rec.cost.exec_ns = median(&mut exec_t[j]);
        rec.cost.base_exec_ns = median(&mut base_t[j]);
        rec.cost.mv_exec_ns = median(&mut mv_t[j]);
        rec.cost.mv_record_ns = median(&mut rec_t[j]);
        rec.cost.mv_validate_ns = median(&mut val_t[j]);
    }
    Ok((records, results))
}

/// Transactions whose pre-state execution read other keys than the sequential one before
/// the first read whose origin differs (see [`BlockRecord::prefix_mismatches`]).
fn count_prefix_mismatches<K: Eq>(records: &[TxnRecord<K>]) -> usize {
    records
        .iter()
        .filter(|r| {
            let first = r.reads.iter().position(|(_, o)| o.is_some());
            match first {
                // Identical inputs all along: identical key sequences.
                None => {
                    r.reads.len() != r.base_reads.len()
                        || r.reads.iter().zip(&r.base_reads).any(|((a, _), b)| a != b)
                }
                Some(p) => {
                    r.base_reads.len() <= p
                        || r.reads[..=p]
                            .iter()
                            .zip(&r.base_reads[..=p])
                            .any(|((a, _), b)| a != b)
                }
            }
        })
        .count()
}

/// The machine-wide micro-costs: (poll, spawn per thread, condition-variable wake-up).
///
/// A poll and a thread's creation are fixed costs that interference can only inflate:
/// the fastest of many tries. A wake-up's cost includes bringing an idle CPU back (in this
/// VM tens of microseconds), which is part of what the `dag` commit loop pays: the
/// median.
fn machine_costs() -> (u64, u64, u64) {
    static COSTS: OnceLock<(u64, u64, u64)> = OnceLock::new();
    *COSTS.get_or_init(|| {
        // A futile poll, as a Block-STM worker with nothing to do makes it.
        let scheduler = Scheduler::new(0);
        let mut polls = Vec::new();
        for _ in 0..7 {
            let rounds = 20_000u64;
            let start = Instant::now();
            for _ in 0..rounds {
                black_box(scheduler.next_task());
                std::thread::yield_now();
            }
            polls.push(ns(start) / rounds);
        }
        // Spawning and joining a pool of 8 threads, per thread.
        let mut spawns = Vec::new();
        for _ in 0..40 {
            let start = Instant::now();
            let _ = stmlab::core::pool::run_workers(8, black_box);
            spawns.push(ns(start) / 8);
        }
        // Half a round trip of two threads waking each other through a condition variable.
        let mut wakes = Vec::new();
        for _ in 0..5 {
            let rounds = 200u64;
            let turn = Mutex::new(0u64);
            let cv = Condvar::new();
            let start = Instant::now();
            std::thread::scope(|s| {
                for me in 0..2u64 {
                    let (turn, cv) = (&turn, &cv);
                    s.spawn(move || {
                        for r in 0..rounds {
                            let mut t = turn.lock().unwrap_or_else(|e| e.into_inner());
                            while *t != 2 * r + me {
                                t = cv.wait(t).unwrap_or_else(|e| e.into_inner());
                            }
                            *t += 1;
                            cv.notify_all();
                        }
                    });
                }
            });
            wakes.push(ns(start) / (2 * rounds));
        }
        let min = |v: &[u64]| v.iter().copied().min().unwrap_or(0);
        (min(&polls), min(&spawns), median(&mut wakes))
    })
}

fn phase(metrics: &Metrics, name: Phase) -> u64 {
    metrics
        .phases
        .iter()
        .filter(|(p, _)| *p == name)
        .map(|(_, d)| d.as_nanos() as u64)
        .sum()
}

/// Runs `f` `passes` times and returns the per-pass medians of the phases named.
fn phases_median<const P: usize>(
    passes: usize,
    names: [Phase; P],
    mut f: impl FnMut(&mut Metrics) -> Result<u64, EngineError>,
) -> Result<([u64; P], u64), EngineError> {
    let mut samples: Vec<Vec<u64>> = vec![Vec::new(); P];
    let mut totals = Vec::new();
    for _ in 0..passes {
        let mut m = Metrics::default();
        totals.push(f(&mut m)?);
        for (i, name) in names.iter().enumerate() {
            samples[i].push(phase(&m, *name));
        }
    }
    let mut out = [0u64; P];
    for (i, s) in samples.iter_mut().enumerate() {
        out[i] = median(s);
    }
    Ok((out, median(&mut totals)))
}

/// Measures the strategies' overheads on this block (see the module docs) and finds the
/// `dag` strategy's graph. Fills everything of `model` but the sequential reference and
/// the assembly.
fn calibrate<K>(
    records: &[TxnRecord<K>],
    passes: usize,
    model: &mut CostModel,
) -> Result<Vec<Vec<TxnIndex>>, EngineError>
where
    K: Key + 'static,
{
    let n = records.len();
    let per = |total: u64, count: usize| total / count.max(1) as u64;
    let passes = passes.max(3);
    let (poll, spawn, wake) = machine_costs();
    model.poll_ns = poll;
    model.spawn_ns = spawn;
    model.wake_ns = wake;

    let null = NullTxns(n);
    let (_, total) = phases_median(passes, [], |m| {
        let start = Instant::now();
        strategies::block_stm::execute::<_, LockFreeMvMemory<u64, ()>>(&null, 1, m)?;
        Ok(ns(start))
    })?;
    model.block_stm_task_ns = per(total, 2 * n);
    let ([execute], _) = phases_median(passes, [Phase::Execute], |m| {
        strategies::sv::execute(&null, 1, m)?;
        Ok(0)
    })?;
    model.sv_round1_task_ns = per(execute, n);
    let ([execute, commit], _) = phases_median(passes, [Phase::Execute, Phase::Commit], |m| {
        strategies::dag::execute(&null, 1, m)?;
        Ok(0)
    })?;
    model.dag_round1_task_ns = per(execute, n);
    model.dag_commit_task_ns = per(commit, n);

    let replay = ReplayTxns::new(records);
    let ([validate], _) = phases_median(passes, [Phase::Validate], |m| {
        strategies::sv::execute(&replay, 1, m)?;
        Ok(0)
    })?;
    model.sv_phase2_ns = validate;
    let mut deps = Vec::new();
    let ([graph, repair], _) = phases_median(passes, [Phase::Graph, Phase::Repair], |m| {
        deps = dag_dependencies(records, m)?;
        Ok(0)
    })?;
    model.dag_repair_ns = repair;
    // The serial part of the graph phase: the writer index and building the graph.
    let mut serial = Vec::new();
    for _ in 0..passes {
        let start = Instant::now();
        let mut writers: HashMap<&K, Vec<TxnIndex>> = HashMap::new();
        for (j, r) in records.iter().enumerate() {
            for k in &r.base_writes {
                let list = writers.entry(k).or_default();
                if list.last() != Some(&j) {
                    list.push(j);
                }
            }
        }
        black_box(&writers);
        let d = deps.clone();
        let index = ns(start);
        let start = Instant::now();
        let g = DepGraph::new(d).map_err(Invariant::from)?;
        serial.push(index + ns(start));
        drop(black_box(g));
    }
    model.dag_graph_serial_ns = median(&mut serial).min(graph);
    model.dag_graph_parallel_ns = graph - model.dag_graph_serial_ns;
    Ok(deps)
}

pub(crate) fn finish_record<K>(
    label: String,
    txns: Vec<TxnRecord<K>>,
    mut model: CostModel,
    opts: &RecordOptions,
) -> Result<BlockRecord<K>, EngineError>
where
    K: Key + 'static,
{
    let (dag_deps, prefix_mismatches) = if opts.strategy_costs {
        let deps = calibrate(&txns, opts.passes, &mut model)?;
        (deps, count_prefix_mismatches(&txns))
    } else {
        (Vec::new(), 0)
    };
    Ok(BlockRecord {
        label,
        txns,
        model,
        dag_deps,
        prefix_mismatches,
    })
}

/// Records a block of any [`TxnExecutor`] (mock transactions in tests). The sequential
/// reference is the sum of the execution costs and nothing is assembled.
pub fn record_generic<T>(
    label: &str,
    txns: &T,
    opts: &RecordOptions,
) -> Result<BlockRecord<T::Key>, BlockError<T::Error>>
where
    T: TxnExecutor,
    T::Key: 'static,
    T::Value: 'static,
{
    let (records, _) = record_txns(txns, opts)?;
    let model = CostModel {
        sequential_ns: records.iter().map(|r| r.cost.exec_ns).sum(),
        ..CostModel::default()
    };
    Ok(finish_record(label.to_string(), records, model, opts)?)
}
