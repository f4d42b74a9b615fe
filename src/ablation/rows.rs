//! A row of the table: one (input, conflict model). What comes from recordings is filled
//! here: the dependency statistics and bounds (`sim::analysis`) and the simulator's
//! predictions (`sim::simulate`); the timed runs fill the rest (`measure`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::inputs::Item;
use crate::analyze::location_kind;
use stmlab::{ConflictModel, Strategy};
use stmlab_sim::record::RecordOptions;
use stmlab_sim::{analyze_with, record_block, simulate, Analysis};

/// The kinds of dependency edge, in the table's order (`Location::kind`, and "delta": a
/// balance read that had to resolve commutative credits).
pub const EDGE_KINDS: &[&str] = &[
    "balance", "nonce", "code", "account", "storage", "fee", "delta",
];

/// The simulator's block-stm prediction at one virtual worker count.
#[derive(Clone, Debug, Serialize)]
pub struct SimulatedPoint {
    pub workers: usize,
    /// Recorded sequential time over the predicted wall time (summed over the blocks).
    pub speedup: f64,
    pub executions_per_tx: f64,
}

/// Block-stm measured at one thread count against sequential execution.
#[derive(Clone, Debug, Serialize)]
pub struct MeasuredPoint {
    pub threads: usize,
    /// Medians over the rounds (summed over the blocks).
    pub sequential_ns: u64,
    pub block_stm_ns: u64,
    /// `sequential_ns / block_stm_ns`.
    pub speedup: f64,
    pub executions_per_tx: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct AblationRow {
    /// The folder of blocks or the workload spec.
    pub input: String,
    /// "blocks" (an aggregate: the blocks run one after the other) or "workload".
    pub kind: String,
    pub conflicts: ConflictModel,
    pub blocks: usize,
    pub txs: usize,
    /// Dependency edges (distinct pairs), and by kind of key read (an edge through two
    /// kinds counts under both), every kind of [`EDGE_KINDS`] present.
    pub edges: usize,
    pub edges_by_kind: BTreeMap<String, usize>,
    pub dependent_txs: usize,
    pub dependent_fraction: f64,
    pub total_cost_ns: u64,
    pub critical_path_ns: u64,
    /// `total_cost_ns / critical_path_ns`.
    pub bound: f64,
    /// Transactions over the longest dependency chain counted in transactions (summed
    /// over the blocks): no timing in it.
    pub unweighted_bound: f64,
    pub two_worker_makespan_ns: u64,
    /// `total_cost_ns / two_worker_makespan_ns`: a greedy list schedule on 2 workers.
    pub two_worker_bound: f64,
    pub simulated: Vec<SimulatedPoint>,
    /// Empty with `--no-measure`.
    pub measured: Vec<MeasuredPoint>,
    /// Block-stm at 2 threads, from the engine's metrics (summed over the blocks).
    pub executions_per_tx: Option<f64>,
    /// Block-stm's aborts at 2 threads by the kind of the first stale read (the location
    /// kind; "delta" for a link of a delta chain), summed over the blocks.
    pub aborts_by_kind: Option<BTreeMap<String, u64>>,
}

impl AblationRow {
    pub fn simulated_at(&self, workers: usize) -> Option<f64> {
        self.simulated
            .iter()
            .find(|p| p.workers == workers)
            .map(|p| p.speedup)
    }

    pub fn measured_at(&self, threads: usize) -> Option<f64> {
        self.measured
            .iter()
            .find(|p| p.threads == threads)
            .map(|p| p.speedup)
    }
}

/// Records every input of `item` under `model` (`passes` passes, with the strategies'
/// costs the simulator needs), and makes the row's analysis and predictions.
pub fn recorded_row(
    item: &Item,
    model: ConflictModel,
    passes: usize,
    workers: &[usize],
) -> Result<AblationRow, String> {
    let opts = RecordOptions {
        passes,
        strategy_costs: true,
    };
    let mut parts = Vec::new();
    // Per worker count: predicted wall time and executions, summed over the blocks.
    let mut wall = vec![0u64; workers.len()];
    let mut executions = vec![0u64; workers.len()];
    let mut sequential = 0u64;
    for input in &item.inputs {
        let rec = record_block(&input.block, &input.state, model, &opts)
            .map_err(|e| format!("{}: recording under {model}: {e}", input.label))?;
        sequential += rec.model.sequential_ns;
        for (k, &w) in workers.iter().enumerate() {
            let p = simulate(&rec, Strategy::BlockStm, w)
                .map_err(|e| format!("{}: simulating block-stm at {w}: {e}", input.label))?;
            wall[k] += p.predicted_wall_ns;
            executions[k] += p.predicted_executions;
        }
        parts.push(analyze_with(&input.label, &rec.txns, location_kind));
    }
    let a = if parts.len() == 1 {
        parts.pop().expect("one part")
    } else {
        Analysis::aggregate(&item.label, &parts)
    };
    let simulated = workers
        .iter()
        .enumerate()
        .map(|(k, &w)| SimulatedPoint {
            workers: w,
            speedup: sequential as f64 / wall[k].max(1) as f64,
            executions_per_tx: executions[k] as f64 / a.txs.max(1) as f64,
        })
        .collect();
    let mut edges_by_kind: BTreeMap<String, usize> =
        EDGE_KINDS.iter().map(|k| (k.to_string(), 0)).collect();
    for (k, v) in &a.edges_by_kind {
        *edges_by_kind.entry(k.to_string()).or_default() += v;
    }
    Ok(AblationRow {
        input: item.label.clone(),
        kind: item.kind.to_string(),
        conflicts: model,
        blocks: item.inputs.len(),
        txs: a.txs,
        edges: a.edges,
        edges_by_kind,
        dependent_txs: a.dependent_txs,
        dependent_fraction: a.dependent_fraction,
        total_cost_ns: a.total_cost_ns,
        critical_path_ns: a.critical_path_ns,
        bound: a.speedup_bound,
        unweighted_bound: a.unweighted_bound,
        two_worker_makespan_ns: a.two_worker_makespan_ns,
        two_worker_bound: a.two_worker_bound,
        simulated,
        measured: Vec::new(),
        executions_per_tx: None,
        aborts_by_kind: None,
    })
}
