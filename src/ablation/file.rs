//! The result files: `results/ablation.json` (the machine, the command, the settings and
//! every row) and `results/ablation.md` (the printed table).

use std::path::Path;

use serde::Serialize;

use super::rows::AblationRow;
use super::AblationArgs;
use crate::analyze::{command_line, write_json};
use crate::machine::{tree_dirty, Machine};
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

/// Seconds since the Unix epoch as `YYYY-MM-DD HH:MM UTC` (the civil calendar).
pub fn utc_date(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let (hh, mm) = ((unix % 86_400) / 3600, (unix % 3600) / 60);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02} UTC")
}

#[cfg(test)]
mod tests {
    use super::utc_date;

    #[test]
    fn dates_are_civil() {
        assert_eq!(utc_date(0), "1970-01-01 00:00 UTC");
        // 2000-02-29 12:34 UTC, a leap day.
        assert_eq!(utc_date(951_827_640), "2000-02-29 12:34 UTC");
        assert_eq!(utc_date(1_700_000_000), "2023-11-14 22:13 UTC");
    }
}
