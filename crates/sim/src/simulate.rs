//! The simulator: a recorded block replayed through each strategy's production scheduling
//! code with `N` virtual workers on a virtual clock. Deterministic and single-threaded:
//! the same record gives the same prediction.
//!
//! # Events
//! Each virtual worker has a clock; the worker with the earliest clock acts next (ties:
//! the lowest worker). A task *reads at its start and publishes at its end*: an execution
//! reads through the strategy's view when it starts (so it sees every write published
//! before that instant) and its write set is recorded, and the scheduler told, when it
//! ends, `cost` later; a validation checks the read set when it starts, and the abort (if
//! any) happens when it ends. Every call the production code would make is made, in event
//! order, on the production structures.
//!
//! - **block-stm**: [`Scheduler`] (`next_task`, `finish_execution`, `add_dependency`,
//!   `try_validation_abort`, `finish_validation`) and a [`LockedMvMemory`], the loop of
//!   `strategies::block_stm` event by event. A worker whose `next_task` finds nothing polls
//!   again `poll_ns` later, as the production worker spins (and yields). An execution that
//!   meets an ESTIMATE costs the fraction of its execution up to that read.
//! - **sv**: the first round is the production pool's list scheduling (the next index to
//!   the first free worker), then the validation pass in block order is serial, with the
//!   re-executions it finds (the same ones production finds: `sv` does not depend on the
//!   timing).
//! - **dag**: the first round as `sv`; the graph phase; the commit loop on the production
//!   [`DepGraph`] (`next`, `commit`, in event order; a worker with nothing ready waits
//!   until a commit releases something and wakes `wake_ns` later); a re-execution reads
//!   the committed store when it starts; then the serial repair pass.
//! - **sequential** is not simulated: its wall time is the measured one, at every `N`.
//!
//! # Costs
//! An execution costs its recorded cost through the strategy's kind of view (the
//! pre-block state for a first round, the multi-version memory for Block-STM and `dag`'s
//! re-executions, a map for `sv`'s) plus the strategy's measured per-task overhead; a wrong
//! execution costs the pre-state execution's cost, scaled by the view's overhead. Pools
//! start their workers `spawn_ns` apart. Memory contention, cache misses that more cores
//! would add or remove, and the cost of the atomic counters under contention are not
//! modelled: every worker runs as fast as one core running alone.
//!
//! At the end every strategy's final executions must be the sequential ones (the replay
//! knows): a simulation that ends otherwise is an error, not a prediction.
//!
//! [`Scheduler`]: stmlab::core::scheduler::Scheduler
//! [`LockedMvMemory`]: stmlab::core::mvmemory::locked::LockedMvMemory
//! [`DepGraph`]: stmlab::core::dep_graph::DepGraph

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt::Debug;

use serde::Serialize;

use super::record::{BlockRecord, CostModel};
use super::replay::{ReplayTxns, TxnCost};
use stmlab::core::metrics::Metrics;
use stmlab::core::mvmemory::lockfree::LockFreeMvMemory;
use stmlab::core::phase::Phase;
use stmlab::core::scheduler::Task;
use stmlab::core::txn::{Key, TxnExecutor, TxnIndex};
use stmlab::error::{EngineError, Invariant};
use stmlab::strategies::block_stm::{BlockStm, Pending, PendingKind, Step};
use stmlab::strategies::dag::{CommitWork, Dag};
use stmlab::strategies::sv::Sv;
use stmlab::Strategy;

/// What the simulator predicts for one (block, strategy, thread count).
#[derive(Clone, Debug, Serialize)]
pub struct Prediction {
    pub block: String,
    pub strategy: Strategy,
    pub threads: usize,
    pub txs: usize,
    pub predicted_wall_ns: u64,
    /// The measured sequential wall time over the predicted one.
    pub predicted_speedup: f64,
    pub predicted_executions: u64,
    pub predicted_validations: u64,
    pub predicted_aborts: u64,
    /// Block-STM: executions stopped at an ESTIMATE.
    pub predicted_suspensions: u64,
    /// `dag`: re-executions of the repair pass.
    pub predicted_repairs: u64,
    /// Virtual time per phase, in order (nanoseconds).
    pub phases: Vec<(Phase, u64)>,
}

#[derive(Default)]
struct Outcome {
    wall_ns: u64,
    executions: u64,
    validations: u64,
    aborts: u64,
    suspensions: u64,
    repairs: u64,
    phases: Vec<(Phase, u64)>,
}

/// The key bounds the simulator needs (those of `TxnExecutor::Key`, plus `'static`).
pub trait SimKey: Key + 'static {}
impl<K: Key + 'static> SimKey for K {}

/// Predicts `strategy` on `threads` virtual workers for a recorded block (recorded with
/// `strategy_costs`), with the model's per-phase calibration.
pub fn simulate<K: SimKey>(
    rec: &BlockRecord<K>,
    strategy: Strategy,
    threads: usize,
) -> Result<Prediction, EngineError> {
    simulate_with(rec, strategy, threads, true, Tuning::default())
}

/// [`simulate`] with the bottom-up model alone (every calibration factor 1).
pub fn simulate_uncalibrated<K: SimKey>(
    rec: &BlockRecord<K>,
    strategy: Strategy,
    threads: usize,
) -> Result<Prediction, EngineError> {
    simulate_with(rec, strategy, threads, false, Tuning::default())
}

/// Multiplies the costs of one phase by its calibration factor.
#[derive(Clone, Copy)]
struct Scale(f64);

impl Scale {
    fn of(m: &CostModel, strategy: Strategy, phase: Phase, calibrated: bool) -> Self {
        Scale(if calibrated {
            m.factor(strategy, phase)
        } else {
            1.0
        })
    }
    fn ns(self, cost: u64) -> u64 {
        (cost as f64 * self.0).round() as u64
    }
}

/// Scheduling choices of the strategies that a simulation can switch, to see what each
/// buys (the defaults are production's).
#[derive(Clone, Copy, Debug)]
pub struct Tuning {
    /// Block-STM suspends a first incarnation on its transaction's dependency hint.
    pub dependency_hints: bool,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            dependency_hints: true,
        }
    }
}

/// [`simulate`] with some of the strategies' scheduling choices switched.
pub fn simulate_tuned<K: SimKey>(
    rec: &BlockRecord<K>,
    strategy: Strategy,
    threads: usize,
    tuning: Tuning,
) -> Result<Prediction, EngineError> {
    simulate_with(rec, strategy, threads, true, tuning)
}

fn simulate_with<K: SimKey>(
    rec: &BlockRecord<K>,
    strategy: Strategy,
    threads: usize,
    calibrated: bool,
    tuning: Tuning,
) -> Result<Prediction, EngineError> {
    if threads == 0 {
        return Err(EngineError::ZeroThreads);
    }
    let n = rec.txns.len();
    if n > 0 && strategy != Strategy::Sequential && rec.dag_deps.len() != n {
        return Err(Invariant::RecordedWithoutCosts.into());
    }
    let out = match strategy {
        Strategy::Sequential => Outcome {
            wall_ns: rec.model.sequential_ns,
            executions: n as u64,
            phases: vec![(Phase::Execute, rec.model.sequential_ns)],
            ..Outcome::default()
        },
        Strategy::Sv => simulate_sv(rec, threads, calibrated)?,
        Strategy::Dag => simulate_dag(rec, threads, calibrated)?,
        Strategy::BlockStm => simulate_block_stm(rec, threads, calibrated, tuning)?,
    };
    Ok(Prediction {
        block: rec.label.clone(),
        strategy,
        threads,
        txs: n,
        predicted_wall_ns: out.wall_ns,
        predicted_speedup: rec.model.sequential_ns as f64 / out.wall_ns.max(1) as f64,
        predicted_executions: out.executions,
        predicted_validations: out.validations,
        predicted_aborts: out.aborts,
        predicted_suspensions: out.suspensions,
        predicted_repairs: out.repairs,
        phases: out.phases,
    })
}

/// A wrong execution's cost: the pre-state execution's, scaled by how much more the
/// multi-version view costs than a map for this transaction.
fn wrong_cost(c: &TxnCost) -> u64 {
    if c.exec_ns == 0 {
        return c.base_exec_ns;
    }
    (c.base_exec_ns as u128 * c.mv_exec_ns as u128 / c.exec_ns as u128) as u64
}

/// When worker `w` of a pool of `threads` starts working, after the pool started.
fn worker_start(m: &CostModel, w: usize, threads: usize) -> u64 {
    if threads > 1 {
        (w as u64 + 1) * m.spawn_ns
    } else {
        0
    }
}

/// The production pool handing out indices in order to whichever worker is free first
/// (`stmlab::core::pool::map_indices`): when the pool, started at `t0`, has joined.
fn list_schedule(m: &CostModel, t0: u64, threads: usize, costs: impl Iterator<Item = u64>) -> u64 {
    let mut free: BinaryHeap<Reverse<(u64, usize)>> = (0..threads)
        .map(|w| Reverse((t0 + worker_start(m, w, threads), w)))
        .collect();
    for c in costs {
        let Reverse((t, w)) = free.pop().expect("at least one worker");
        free.push(Reverse((t + c, w)));
    }
    free.into_iter()
        .map(|Reverse((t, _))| t)
        .max()
        .unwrap_or(t0)
}

fn wrong_at_end(strategy: &'static str, j: TxnIndex) -> EngineError {
    Invariant::SimulatedNotSequential { strategy, txn: j }.into()
}

/// `sv` on `threads` virtual workers: the production steps (`Sv::execute_once`,
/// `Sv::commit_in_order`), round 1 list-scheduled on the workers, the pass in block order
/// on one.
fn simulate_sv<K: SimKey>(
    rec: &BlockRecord<K>,
    threads: usize,
    calibrated: bool,
) -> Result<Outcome, EngineError> {
    let n = rec.txns.len();
    let m = &rec.model;
    let scale = |phase| Scale::of(m, Strategy::Sv, phase, calibrated);
    let (f_exec, f_val, f_asm) = (
        scale(Phase::Execute),
        scale(Phase::Validate),
        scale(Phase::Assemble),
    );
    let replay = ReplayTxns::new(&rec.txns);
    let run = Sv::<ReplayTxns<'_, K>>::default();
    let round1: Vec<_> = (0..n).map(|j| run.execute_once(&replay, j)).collect();
    let phase1 = list_schedule(
        m,
        0,
        threads,
        rec.txns
            .iter()
            .map(|t| f_exec.ns(t.cost.base_exec_ns + m.sv_round1_task_ns)),
    );
    let mut metrics = Metrics {
        executions: n as u64,
        ..Metrics::default()
    };
    let mut t = phase1 + f_val.ns(m.sv_phase2_ns);
    for (j, attempt) in round1.into_iter().enumerate() {
        let (result, reexecuted) = run.commit_in_order(&replay, j, attempt, &mut metrics)?;
        if reexecuted {
            t += f_val.ns(rec.txns[j].cost.exec_ns);
        }
        if !result.output {
            return Err(wrong_at_end("sv", j));
        }
    }
    let assemble = f_asm.ns(m.assemble_ns);
    Ok(Outcome {
        wall_ns: t + assemble,
        executions: metrics.executions,
        validations: metrics.validations,
        aborts: metrics.aborts,
        phases: vec![
            (Phase::Execute, phase1),
            (Phase::Validate, t - phase1),
            (Phase::Assemble, assemble),
        ],
        ..Outcome::default()
    })
}

/// `dag` on `threads` virtual workers: the production steps (`Dag::execute_round_one`,
/// `Dag::begin_commit` and `Dag::complete_commit`, `Dag::repair`) over the graph the
/// production strategy found while recording. Round 1 and the graph's edges are
/// list-scheduled; in the commit loop a worker takes a ready transaction from the graph,
/// runs the first half of its commit and publishes it when its cost has passed, and a
/// worker finding nothing ready waits to be woken by a commit, as production's do.
fn simulate_dag<K: SimKey>(
    rec: &BlockRecord<K>,
    threads: usize,
    calibrated: bool,
) -> Result<Outcome, EngineError> {
    let n = rec.txns.len();
    let m = &rec.model;
    let scale = |phase| Scale::of(m, Strategy::Dag, phase, calibrated);
    let (f_exec, f_graph, f_commit, f_repair, f_asm) = (
        scale(Phase::Execute),
        scale(Phase::Graph),
        scale(Phase::Commit),
        scale(Phase::Repair),
        scale(Phase::Assemble),
    );
    // As production: more workers than transactions would only wait.
    let threads = threads.min(n.max(1));
    let replay = ReplayTxns::new(&rec.txns);
    let mut out = Outcome {
        executions: n as u64,
        ..Outcome::default()
    };

    // 1. Round 1.
    let round1 = (0..n)
        .map(|j| Dag::execute_round_one(&replay, j))
        .collect::<Result<Vec<_>, _>>()?;
    let round1_end = list_schedule(
        m,
        0,
        threads,
        rec.txns
            .iter()
            .map(|t| f_exec.ns(t.cost.base_exec_ns + m.dag_round1_task_ns)),
    );

    // 2. The graph: the serial index and graph, the edges in parallel.
    let chunk = f_graph.ns(m.dag_graph_parallel_ns) / n.max(1) as u64;
    let graph_end = list_schedule(
        m,
        round1_end + f_graph.ns(m.dag_graph_serial_ns),
        threads,
        (0..n).map(|_| chunk),
    );
    let mut run = Dag::new(round1, rec.dag_deps.clone())?;

    // 3. The commit loop.
    enum Ev<T: TxnExecutor> {
        Free,
        Waiting,
        Commit { j: TxnIndex, work: CommitWork<T> },
    }
    let graph = run.graph();
    let mut ready = (0..n).filter(|&j| graph.is_independent(j)).count();
    let mut committed = 0usize;
    let mut reexecuted = Vec::new();
    let mut state: Vec<Ev<ReplayTxns<'_, K>>> = (0..threads).map(|_| Ev::Free).collect();
    let mut heap: BinaryHeap<Reverse<(u64, usize)>> = (0..threads)
        .map(|w| Reverse((graph_end + worker_start(m, w, threads), w)))
        .collect();
    let mut end = graph_end;
    while let Some(Reverse((t, w))) = heap.pop() {
        end = end.max(t);
        match std::mem::replace(&mut state[w], Ev::Free) {
            Ev::Waiting => unreachable!("waiting workers are not in the heap"),
            Ev::Free => {
                if ready == 0 {
                    if committed < n {
                        state[w] = Ev::Waiting;
                    }
                    continue;
                }
                // `ready` counts exactly what `next` can hand out: it never waits here.
                let j = graph.next().ok_or(Invariant::SimulatedNoReadyTransaction)?;
                ready -= 1;
                let work = run.begin_commit(&replay, j)?;
                let c = &rec.txns[j].cost;
                let cost = if work.reexecuted() {
                    out.executions += 1;
                    out.aborts += 1;
                    let exec = if replay.last_trace(j).diverged {
                        wrong_cost(c)
                    } else {
                        c.mv_exec_ns
                    };
                    exec + c.mv_record_ns
                } else {
                    c.mv_record_ns
                };
                state[w] = Ev::Commit { j, work };
                heap.push(Reverse((t + f_commit.ns(m.dag_commit_task_ns + cost), w)));
            }
            Ev::Commit { j, work } => {
                let (released, rerun) = run.complete_commit(j, work);
                if let Some(rerun) = rerun {
                    reexecuted.push((j, rerun));
                }
                ready += released;
                committed += 1;
                // Production: one release wakes one waiter, several (or the last commit)
                // wake them all; the committing worker looks for work at once.
                let wake = if committed == n || released > 1 {
                    usize::MAX
                } else {
                    released
                };
                let mut woken = 0;
                for (v, st) in state.iter_mut().enumerate() {
                    if woken == wake {
                        break;
                    }
                    if matches!(st, Ev::Waiting) {
                        *st = Ev::Free;
                        heap.push(Reverse((t + m.wake_ns, v)));
                        woken += 1;
                    }
                }
                heap.push(Reverse((t, w)));
            }
        }
    }
    if !graph.is_done() {
        return Err(Invariant::SimulatedCommitLoopUnfinished.into());
    }

    // 4. The repair pass, in block order.
    let mut t = end + f_repair.ns(m.dag_repair_ns);
    let mut finals = run.finals(reexecuted);
    for (j, fin) in finals.iter_mut().enumerate() {
        out.validations += 1;
        if run.repair(&replay, j, fin)?.is_some() {
            let c = &rec.txns[j].cost;
            t += f_repair.ns(c.mv_exec_ns + c.mv_record_ns);
            out.executions += 1;
            out.aborts += 1;
            out.repairs += 1;
        }
        if !*fin.run.output() {
            return Err(wrong_at_end("dag", j));
        }
    }
    let assemble = f_asm.ns(m.assemble_ns);
    out.phases = vec![
        (Phase::Execute, round1_end),
        (Phase::Graph, graph_end - round1_end),
        (Phase::Commit, end - graph_end),
        (Phase::Repair, t - end),
        (Phase::Assemble, assemble),
    ];
    out.wall_ns = t + assemble;
    Ok(out)
}

/// What a virtual Block-STM worker holds between events: the task it carries into its
/// next `begin`, or a task whose effects land when its clock comes up.
enum WorkerState<'a, K: SimKey> {
    Ready(Option<Task>),
    InFlight(Pending<ReplayTxns<'a, K>>),
}

/// The shortest poll the simulator allows (a model without measured overheads would
/// otherwise spin in place).
const MIN_POLL_NS: u64 = 20;

/// Block-STM on `threads` virtual workers: the production worker (`BlockStm::begin` and
/// `BlockStm::complete`, with its scheduler, multi-version memory and dependency hints)
/// driven by a virtual clock instead of threads. A task's reading half runs when a worker
/// takes it, its effects land when the task's modelled cost has passed.
fn simulate_block_stm<K: SimKey>(
    rec: &BlockRecord<K>,
    threads: usize,
    calibrated: bool,
    tuning: Tuning,
) -> Result<Outcome, EngineError> {
    let n = rec.txns.len();
    let m = &rec.model;
    let scale = |phase| Scale::of(m, Strategy::BlockStm, phase, calibrated);
    let (f_task, f_asm) = (scale(Phase::ExecuteValidate), scale(Phase::Assemble));
    let poll = m.poll_ns.max(MIN_POLL_NS);
    let replay = ReplayTxns::new(&rec.txns);
    let mut run = BlockStm::<ReplayTxns<'_, K>, LockFreeMvMemory<K, bool>>::new(n);
    if !tuning.dependency_hints {
        run = run.without_dependency_hints();
    }
    // The cost of a task whose reading half just ran (the replayed execution's trace says
    // how far it got and whether it read the sequential values).
    let cost = |pending: &Pending<ReplayTxns<'_, K>>| {
        let j = pending.version().txn_idx;
        let c = &rec.txns[j].cost;
        let work = match pending.kind() {
            PendingKind::Suspended => 0,
            PendingKind::Validated => c.mv_validate_ns,
            kind => {
                let trace = replay.last_trace(j);
                let full = if trace.diverged {
                    wrong_cost(c)
                } else {
                    c.mv_exec_ns
                };
                if kind == PendingKind::Executed {
                    full + c.mv_record_ns
                } else {
                    (full as u128 * trace.reads as u128 / trace.planned.max(1) as u128) as u64
                }
            }
        };
        f_task.ns(work + m.block_stm_task_ns)
    };
    let mut state: Vec<WorkerState<'_, K>> =
        (0..threads).map(|_| WorkerState::Ready(None)).collect();
    let mut heap: BinaryHeap<Reverse<(u64, usize)>> = (0..threads)
        .map(|w| Reverse((worker_start(m, w, threads), w)))
        .collect();
    let mut end = 0u64;
    let mut in_flight = 0usize;
    // Polls in a row while no task is in flight: past every index twice, nothing changes.
    let mut idle_polls = 0usize;
    let stuck_after = 2 * n + 4 * threads + 16;
    while let Some(Reverse((t, w))) = heap.pop() {
        end = end.max(t);
        match std::mem::replace(&mut state[w], WorkerState::Ready(None)) {
            WorkerState::InFlight(pending) => {
                in_flight -= 1;
                state[w] = WorkerState::Ready(run.complete(&replay, pending)?);
                // The follow-up (or the scheduler) at once.
                heap.push(Reverse((t, w)));
            }
            WorkerState::Ready(carried) => match run.begin(&replay, carried)? {
                Step::Working(pending) => {
                    idle_polls = 0;
                    in_flight += 1;
                    let c = cost(&pending);
                    state[w] = WorkerState::InFlight(pending);
                    heap.push(Reverse((t + c, w)));
                }
                Step::Idle => {
                    if in_flight == 0 {
                        idle_polls += 1;
                        if idle_polls > stuck_after {
                            return Err(Invariant::SimulatedStuck.into());
                        }
                    }
                    heap.push(Reverse((t + poll, w)));
                }
                // The worker leaves its loop.
                Step::Done => {}
            },
        }
    }
    let mut metrics = Metrics::default();
    let results = run.finish(&mut metrics)?;
    if let Some(j) = results.iter().position(|r| !r.output) {
        return Err(wrong_at_end("block-stm", j));
    }
    let assemble = f_asm.ns(m.assemble_ns);
    Ok(Outcome {
        wall_ns: end + assemble,
        executions: metrics.executions,
        validations: metrics.validations,
        aborts: metrics.aborts,
        suspensions: metrics.suspensions,
        phases: vec![(Phase::ExecuteValidate, end), (Phase::Assemble, assemble)],
        ..Outcome::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    use crate::analysis::analyze;
    use crate::replay::TxnRecord;

    const NS: u64 = 1000;

    /// Transaction `j` reads `spec[j].0` and writes `spec[j].1`, the same against the
    /// pre-block state; every execution costs `NS`, nothing else costs anything.
    fn block(spec: &[(Vec<u64>, Vec<u64>)]) -> BlockRecord<u64> {
        let mut last: HashMap<u64, usize> = HashMap::new();
        let txns: Vec<TxnRecord<u64>> = spec
            .iter()
            .enumerate()
            .map(|(j, (reads, writes))| {
                let r = reads.iter().map(|k| (*k, last.get(k).copied())).collect();
                for k in writes {
                    last.insert(*k, j);
                }
                TxnRecord {
                    reads: r,
                    below: Vec::new(),
                    writes: writes.clone(),
                    base_reads: reads.clone(),
                    base_writes: writes.clone(),
                    hint: None,
                    cost: TxnCost {
                        exec_ns: NS,
                        base_exec_ns: NS,
                        mv_exec_ns: NS,
                        mv_record_ns: 0,
                        mv_validate_ns: 0,
                    },
                }
            })
            .collect();
        let model = CostModel {
            sequential_ns: NS * spec.len() as u64,
            ..CostModel::default()
        };
        BlockRecord::synthetic("synthetic", txns, model).unwrap()
    }

    const PARALLEL: [Strategy; 3] = [Strategy::Sv, Strategy::Dag, Strategy::BlockStm];

    #[test]
    fn independent_transactions_scale_linearly() {
        let rec = block(
            &(0..64u64)
                .map(|j| (vec![j], vec![1000 + j]))
                .collect::<Vec<_>>(),
        );
        for s in PARALLEL {
            let one = simulate(&rec, s, 1).unwrap();
            // Block-STM's worker makes one last (futile) poll before it sees the end.
            let last_poll = if s == Strategy::BlockStm {
                MIN_POLL_NS
            } else {
                0
            };
            assert_eq!(one.predicted_wall_ns, 64 * NS + last_poll, "{s} at 1");
            assert_eq!(one.predicted_executions, 64, "{s}");
            let four = simulate(&rec, s, 4).unwrap();
            // Block-STM's workers also poll: a validation index claimed while its
            // transaction still executes hands out nothing.
            assert!(
                four.predicted_wall_ns >= 16 * NS,
                "{s}: {}",
                four.predicted_wall_ns
            );
            assert!(
                four.predicted_wall_ns <= 16 * NS * 11 / 10,
                "{s}: {}",
                four.predicted_wall_ns
            );
            assert_eq!(four.predicted_aborts, 0, "{s}");
        }
    }

    #[test]
    fn a_chain_never_beats_its_length() {
        // Every transaction reads and writes key 0: each depends on the one before.
        let rec = block(&(0..40).map(|_| (vec![0], vec![0])).collect::<Vec<_>>());
        for s in PARALLEL {
            for t in [1, 2, 8, 64] {
                let p = simulate(&rec, s, t).unwrap();
                assert!(
                    p.predicted_wall_ns >= 40 * NS,
                    "{s} at {t}: {}",
                    p.predicted_wall_ns
                );
            }
        }
        // sv and dag execute every dependent twice, whatever the thread count.
        for s in [Strategy::Sv, Strategy::Dag] {
            assert_eq!(
                simulate(&rec, s, 8).unwrap().predicted_executions,
                79,
                "{s}"
            );
        }
    }

    #[test]
    fn random_blocks_respect_the_critical_path_and_repeat_exactly() {
        let mut seed = 7u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..20 {
            let keys = 4 + round * 3;
            let spec: Vec<(Vec<u64>, Vec<u64>)> = (0..80)
                .map(|_| {
                    let reads = (0..1 + next() % 3).map(|_| next() % keys).collect();
                    let writes = (0..next() % 3).map(|_| next() % keys).collect();
                    (reads, writes)
                })
                .collect();
            let rec = block(&spec);
            let a = analyze("r", &rec.txns);
            for s in PARALLEL {
                for t in crate::DEFAULT_THREADS {
                    let p = simulate(&rec, s, *t).unwrap();
                    assert!(
                        p.predicted_wall_ns >= a.critical_path_ns,
                        "{s} at {t}: {} < {}",
                        p.predicted_wall_ns,
                        a.critical_path_ns
                    );
                    let q = simulate(&rec, s, *t).unwrap();
                    assert_eq!(p.predicted_wall_ns, q.predicted_wall_ns);
                    assert_eq!(p.predicted_executions, q.predicted_executions);
                    assert_eq!(p.phases, q.phases);
                }
            }
        }
    }

    #[test]
    fn pools_pay_for_their_threads() {
        let rec = block(
            &(0..8u64)
                .map(|j| (vec![j], vec![100 + j]))
                .collect::<Vec<_>>(),
        );
        let mut rec = rec;
        rec.model.spawn_ns = 10 * NS;
        // sv: one pool of 4 threads, started 10 NS apart: the first does all 8 tasks
        // (10..18 NS) before the others start; the pool joins when the last has started.
        assert_eq!(
            simulate(&rec, Strategy::Sv, 4).unwrap().predicted_wall_ns,
            40 * NS
        );
        rec.model.spawn_ns = NS / 2;
        // Workers start at 0.5, 1, 1.5, 2 NS: 8 tasks end by 3.5 NS.
        assert_eq!(
            simulate(&rec, Strategy::Sv, 4).unwrap().predicted_wall_ns,
            3 * NS + NS / 2
        );
        // One thread spawns nothing.
        assert_eq!(
            simulate(&rec, Strategy::Sv, 1).unwrap().predicted_wall_ns,
            8 * NS
        );
    }
}
