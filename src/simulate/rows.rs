//! The lines `stmlab simulate` prints and writes: a prediction with the block's bound, a
//! measured point of the check against its prediction, the check's error over a group,
//! and what was recorded of each input.

use serde::Serialize;
use stmlab::core::phase::Phase;

use super::real_runs::Measured;
use crate::inputs::Input;
use crate::measure::Spread;
use stmlab::evm::location::Location;
use stmlab::Strategy;
use stmlab_sim::record::CostModel;
use stmlab_sim::{Analysis, BlockRecord, Prediction, TxnCost};

/// One line of output: a prediction with the block's bound beside it.
#[derive(Clone, Debug, Serialize)]
pub struct SimRow {
    #[serde(flatten)]
    pub prediction: Prediction,
    /// The conflict model the block was recorded under.
    pub conflicts: stmlab::ConflictModel,
    /// "block", or "aggregate" (the blocks of a folder one after the other).
    pub kind: &'static str,
    /// The measured sequential wall time the speedup is over (recorded with the costs).
    pub sequential_ns: u64,
    pub total_cost_ns: u64,
    pub critical_path_ns: u64,
    pub speedup_bound: f64,
}

/// One measured point against its prediction.
#[derive(Clone, Debug, Serialize)]
pub struct CheckRow {
    pub block: String,
    pub kind: &'static str,
    pub strategy: Strategy,
    pub threads: usize,
    pub predicted_wall_ns: u64,
    /// Median over the repeats.
    pub measured_wall_ns: u64,
    pub measured_wall_ns_min: u64,
    pub measured_wall_ns_max: u64,
    /// `predicted / measured - 1`.
    pub error: f64,
    /// `predicted / fastest run - 1`: interference from the host or other processes only
    /// ever slows a run down, so the fastest run is the least disturbed one.
    pub error_vs_fastest: f64,
    /// The bottom-up model without its one-thread calibration, and its error.
    pub uncalibrated_wall_ns: u64,
    pub uncalibrated_error: f64,
    /// Minor page faults per measured run (median; Linux only): the simulator models none,
    /// and one costs about 2 µs in this VM.
    pub measured_minor_faults: Option<u64>,
    /// Per phase: predicted, and measured (median over the repeats).
    pub predicted_phases: Vec<(Phase, u64)>,
    pub measured_phases: Vec<(Phase, u64)>,
    pub predicted_speedup: f64,
    /// The check's own sequential median over this strategy's median.
    pub measured_speedup: f64,
    pub predicted_executions: u64,
    pub measured_executions: u64,
    pub predicted_aborts: u64,
    pub measured_aborts: u64,
}

/// The error over a group (one workload, or a folder of blocks).
#[derive(Clone, Debug, Serialize)]
pub struct CheckSummary {
    pub group: String,
    pub strategy: Strategy,
    pub threads: usize,
    pub blocks: usize,
    /// `sum(predicted) / sum(measured) - 1`: the group's total wall time.
    pub error_of_total: f64,
    /// The same against the fastest run of every point.
    pub error_of_total_vs_fastest: f64,
    /// Per block, `predicted / measured - 1`: median, and the median and largest
    /// magnitude.
    pub median_error: f64,
    pub median_abs_error: f64,
    pub max_abs_error: f64,
    /// The same for the uncalibrated model.
    pub uncalibrated_error_of_total: f64,
    pub uncalibrated_median_abs_error: f64,
}

/// What was recorded of one input.
#[derive(Serialize)]
pub struct InputInfo {
    block: String,
    group: String,
    txs: usize,
    model: CostModel,
    /// See `sim::record::BlockRecord::prefix_mismatches`.
    prefix_mismatches: usize,
    /// The per-transaction costs summed over the block.
    cost_sums: TxnCost,
    analysis: Analysis,
}

impl InputInfo {
    /// The recording `rec` of `input` (of the group `group`) and its analysis.
    pub fn new(
        input: &Input,
        group: &str,
        rec: &BlockRecord<Location>,
        analysis: &Analysis,
    ) -> Self {
        Self {
            block: input.label.clone(),
            group: group.to_string(),
            txs: input.block.txs.len(),
            model: rec.model.clone(),
            prefix_mismatches: rec.prefix_mismatches,
            cost_sums: rec.txns.iter().fold(TxnCost::default(), |a, t| TxnCost {
                exec_ns: a.exec_ns + t.cost.exec_ns,
                base_exec_ns: a.base_exec_ns + t.cost.base_exec_ns,
                mv_exec_ns: a.mv_exec_ns + t.cost.mv_exec_ns,
                mv_record_ns: a.mv_record_ns + t.cost.mv_record_ns,
                mv_validate_ns: a.mv_validate_ns + t.cost.mv_validate_ns,
            }),
            analysis: analysis.clone(),
        }
    }
}

impl CheckRow {
    /// The sequential row of `input`: the sequential time recorded with the costs
    /// (`recorded_ns`) against the one measured in the check (`seq`): the machine's own
    /// drift.
    pub fn sequential(input: &Input, recorded_ns: u64, seq: Spread) -> Self {
        Self {
            block: input.label.clone(),
            kind: "block",
            strategy: Strategy::Sequential,
            threads: 1,
            predicted_wall_ns: recorded_ns,
            measured_wall_ns: seq.median,
            measured_wall_ns_min: seq.min,
            measured_wall_ns_max: seq.max,
            error: recorded_ns as f64 / seq.median.max(1) as f64 - 1.0,
            error_vs_fastest: recorded_ns as f64 / seq.min.max(1) as f64 - 1.0,
            uncalibrated_wall_ns: recorded_ns,
            uncalibrated_error: recorded_ns as f64 / seq.median.max(1) as f64 - 1.0,
            measured_minor_faults: None,
            predicted_phases: Vec::new(),
            measured_phases: Vec::new(),
            predicted_speedup: 1.0,
            measured_speedup: 1.0,
            predicted_executions: input.block.txs.len() as u64,
            measured_executions: input.block.txs.len() as u64,
            predicted_aborts: 0,
            measured_aborts: 0,
        }
    }

    /// The measured `point` of `input` against its prediction `p` and the uncalibrated
    /// model's `uncalibrated`; `seq_median` is the check's own sequential median.
    pub fn measured(
        input: &Input,
        p: &Prediction,
        uncalibrated: &Prediction,
        point: Measured,
        seq_median: u64,
    ) -> Self {
        let wall = point.wall.median;
        Self {
            block: input.label.clone(),
            kind: "block",
            strategy: point.strategy,
            threads: point.threads,
            predicted_wall_ns: p.predicted_wall_ns,
            measured_wall_ns: wall,
            measured_wall_ns_min: point.wall.min,
            measured_wall_ns_max: point.wall.max,
            error: p.predicted_wall_ns as f64 / wall.max(1) as f64 - 1.0,
            error_vs_fastest: p.predicted_wall_ns as f64 / point.wall.min.max(1) as f64 - 1.0,
            uncalibrated_wall_ns: uncalibrated.predicted_wall_ns,
            uncalibrated_error: uncalibrated.predicted_wall_ns as f64 / wall.max(1) as f64 - 1.0,
            measured_minor_faults: point.faults,
            predicted_phases: p.phases.clone(),
            measured_phases: point.phases,
            predicted_speedup: p.predicted_speedup,
            measured_speedup: seq_median as f64 / wall.max(1) as f64,
            predicted_executions: p.predicted_executions,
            measured_executions: point.executions,
            predicted_aborts: p.predicted_aborts,
            measured_aborts: point.aborts,
        }
    }
}

impl CheckSummary {
    /// The summary of `rows` (one strategy and thread count) over the group `group`.
    pub fn of(group: &str, rows: &[&CheckRow]) -> Self {
        let first = rows[0];
        let pred: u64 = rows.iter().map(|r| r.predicted_wall_ns).sum();
        let meas: u64 = rows.iter().map(|r| r.measured_wall_ns).sum();
        let mut errors: Vec<f64> = rows.iter().map(|r| r.error).collect();
        errors.sort_by(f64::total_cmp);
        let mut abs: Vec<f64> = errors.iter().map(|e| e.abs()).collect();
        abs.sort_by(f64::total_cmp);
        let fastest: u64 = rows.iter().map(|r| r.measured_wall_ns_min).sum();
        let unc: u64 = rows.iter().map(|r| r.uncalibrated_wall_ns).sum();
        let mut unc_abs: Vec<f64> = rows.iter().map(|r| r.uncalibrated_error.abs()).collect();
        unc_abs.sort_by(f64::total_cmp);
        Self {
            group: group.to_string(),
            strategy: first.strategy,
            threads: first.threads,
            blocks: rows.len(),
            error_of_total: pred as f64 / meas.max(1) as f64 - 1.0,
            error_of_total_vs_fastest: pred as f64 / fastest.max(1) as f64 - 1.0,
            median_error: errors[errors.len() / 2],
            median_abs_error: abs[abs.len() / 2],
            max_abs_error: abs[abs.len() - 1],
            uncalibrated_error_of_total: unc as f64 / meas.max(1) as f64 - 1.0,
            uncalibrated_median_abs_error: unc_abs[unc_abs.len() / 2],
        }
    }
}
