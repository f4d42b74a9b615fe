//! The result files: `results/ablation.json` (the machine, the command, the settings and
//! every row) and `results/ablation.md` (the printed table).

use std::path::Path;

use serde::Serialize;

use super::rows::AblationRow;
use super::AblationArgs;
use crate::analyze::{command_line, write_json};
use crate::machine::{tree_dirty, utc_date, Machine};
use stmlab::ConflictModel;

#[derive(Clone, Debug, Serialize)]
pub struct AblationFile {
    pub machine: Machine,
    /// `machine.date_unix` as `YYYY-MM-DD HH:MM UTC`.
    pub date_utc: String,
    pub tree_dirty: bool,
    pub command: String,
    pub conflicts: Vec<ConflictModel>,
    pub repeat: usize,
    pub passes: usize,
    /// The simulated virtual worker counts and the measured thread counts (none with
    /// `--no-measure`).
    pub workers: Vec<usize>,
    pub threads: Vec<usize>,
    pub notes: &'static str,
    pub rows: Vec<AblationRow>,
}

const NOTES: &str = "One row per (input, conflict model). Recording: per transaction its \
read and write sets under the model and its execution cost (median of `passes` sequential \
passes); j depends on i when j read a key whose sequential value i wrote. bound = total cost / \
cost-weighted critical path; unweighted_bound = txs / longest chain in transactions; \
two_worker_bound = total cost / makespan of a greedy list schedule (lowest ready transaction \
first) on 2 workers (<= 2 and <= bound). simulated: stmlab-sim's block-stm prediction, \
recorded sequential time over predicted wall time. measured: block-stm in raw mode over \
sequential (plain revm), medians of `repeat` interleaved rounds, each on a warm executor. \
executions_per_tx: block-stm at 2 threads (engine metrics). A folder of blocks is one row, \
its blocks run one after the other: costs, paths, makespans and times add up.";

impl AblationFile {
    pub fn new(
        machine: Machine,
        args: &AblationArgs,
        workers: &[usize],
        threads: &[usize],
        rows: Vec<AblationRow>,
    ) -> Self {
        Self {
            date_utc: utc_date(machine.date_unix),
            machine,
            tree_dirty: tree_dirty(),
            command: command_line(),
            conflicts: args.conflicts.0.clone(),
            repeat: args.repeat,
            passes: args.passes,
            workers: workers.to_vec(),
            threads: if args.no_measure {
                Vec::new()
            } else {
                threads.to_vec()
            },
            notes: NOTES,
            rows,
        }
    }

    /// Writes the JSON file to `json` and `markdown` to `md`, creating their folders.
    pub fn write(&self, json: &Path, md: &Path, markdown: &str) -> Result<(), String> {
        write_json(json, self)?;
        if let Some(dir) = md.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::write(md, markdown).map_err(|e| format!("{}: {e}", md.display()))?;
        eprintln!("wrote {}", md.display());
        Ok(())
    }
}
