//! The goals' result file: what a run writes (default `results/goals.json`), and what
//! `--from FILE` reads back to print the report again.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::rows::{BlockRatio, GoalRow};
use super::table::report;
use crate::compare::Mismatch;
use crate::machine::Machine;
use stmlab::Strategy;

/// The file a run writes.
#[derive(Serialize)]
pub struct GoalsFile<'a> {
    pub machine: Machine,
    pub date: String,
    /// True when the work tree had uncommitted changes (the commit is then approximate).
    pub commit_dirty: bool,
    pub command: String,
    pub preset: &'static str,
    pub strategy: Strategy,
    pub repeat: usize,
    /// Set when the workloads were shrunk (`--max-txs`): not the goals' sizes.
    pub max_txs: Option<usize>,
    pub blocks: Option<String>,
    pub peak_memory_counted: bool,
    pub elapsed_s: f64,
    pub goals_met: usize,
    pub goals_measured: usize,
    pub rows: &'a [GoalRow],
    /// Every mainnet block with transactions, in block order.
    pub mainnet_blocks: &'a [BlockRatio],
    /// Blocks without transactions, left out.
    pub skipped_blocks: &'a [String],
    pub mismatches: &'a [Mismatch],
}

/// What `--from` reads back.
#[derive(Deserialize)]
struct SavedMachine {
    cpu_model: String,
    cores: u64,
    commit: String,
}

#[derive(Deserialize)]
struct Saved {
    machine: SavedMachine,
    date: String,
    repeat: usize,
    rows: Vec<GoalRow>,
}

/// Prints the report of a goals file.
pub fn print_from(path: &Path) -> Result<bool, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let saved: Saved = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a goals result file: {e}", path.display()))?;
    print!(
        "{}",
        report(
            &saved.date,
            &saved.machine.cpu_model,
            saved.machine.cores,
            &saved.machine.commit,
            saved.repeat,
            &saved.rows
        )
    );
    Ok(true)
}
