//! `stmlab simulate`'s two result files: the predictions (`--out`) and the check
//! (`--check-out`), each with the machine, the command and notes on what the numbers mean.

use serde::Serialize;

use super::probes::{EvmProbe, MachineProbe};
use super::rows::{CheckRow, CheckSummary, InputInfo, SimRow};
use crate::machine::Machine;
use stmlab_sim::Analysis;

/// The predictions' file.
#[derive(Serialize)]
pub struct SimulateFile<'a> {
    pub machine: Machine,
    pub tree_dirty: bool,
    pub command: String,
    /// The conflict model every block was recorded and calibrated under.
    pub conflicts: stmlab::ConflictModel,
    pub passes: usize,
    pub threads: &'a [usize],
    pub notes: &'static str,
    pub inputs: &'a [InputInfo],
    /// Group aggregates' analyses.
    pub aggregates: &'a [Analysis],
    pub rows: &'a [SimRow],
}

/// The check's file.
#[derive(Serialize)]
pub struct CheckFile<'a> {
    pub machine: Machine,
    pub tree_dirty: bool,
    pub command: String,
    /// The conflict model of the predictions and of the measured runs.
    pub conflicts: stmlab::ConflictModel,
    pub passes: usize,
    pub repeat: usize,
    pub threads: &'a [usize],
    pub notes: &'static str,
    /// `/proc/loadavg` before and after (other work on the machine skews 2-thread runs).
    pub load_before: String,
    pub load_after: String,
    /// What two threads get on this machine, before the check: see [`MachineProbe`].
    pub machine_probe: MachineProbe,
    /// Per input: the EVM alone on two threads.
    pub evm_probes: &'a [EvmProbe],
    pub summary: &'a [CheckSummary],
    pub rows: &'a [CheckRow],
}

pub const NOTES: &str = "Predictions of the discrete-event simulator (crates/sim/src/simulate.rs) from costs \
recorded on this machine (crates/sim/src/record.rs): executions cost their measured single-threaded \
cost through the strategy's kind of view plus measured per-task overheads; serial phases cost \
what the production code spends on them at one thread; memory contention is not modelled. \
predicted_speedup = measured sequential wall time / predicted wall time. See papers/report.md, section 7.";

pub const CHECK_NOTES: &str = "error = predicted / measured - 1, per (block, strategy, threads). \
Measured: execute_block, `repeat` interleaved runs (sequential, then every strategy at every \
check thread count, per round), median. The sequential row compares the sequential time \
recorded with the costs to the one measured in the check: the machine's own drift. \
Nothing is fitted to these measurements: the cost model's constants are all measured before, \
single-threaded, on the same block (see papers/report.md, section 7).";
