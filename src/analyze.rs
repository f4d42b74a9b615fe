//! `stmlab analyze`: the critical-path bound and the dependency statistics of blocks and
//! workloads (`sim::analysis`), from a recording of each (`sim::record`).

use std::path::{Path, PathBuf};

use clap::Args;
use serde::Serialize;

use super::conflicts::model_arg;
use super::inputs::GroupArgs;
use super::machine::{tree_dirty, Machine};
use stmlab::evm::location::Location;
use stmlab::ConflictModel;
use stmlab_sim::record::RecordOptions;
use stmlab_sim::record_block;
use stmlab_sim::{analyze_with, Analysis};

#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub inputs: GroupArgs,
    /// Passes over each block when timing its transactions (costs are medians).
    #[arg(long, default_value_t = 5)]
    pub passes: usize,
    /// The conflict model the transactions' read and write sets are recorded under
    /// (coarse, fields or deltas).
    #[arg(long, default_value_t = ConflictModel::default(), value_parser = model_arg)]
    pub conflicts: ConflictModel,
    /// One JSON object per line (per block or workload, then any aggregate) instead of a
    /// table.
    #[arg(long)]
    pub json: bool,
    /// Also write a result file (the machine, the command, every object).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// The kind of an EVM key, for the dependency statistics.
pub fn location_kind(key: &Location) -> &'static str {
    key.kind()
}

/// The command line as typed, for result files.
pub fn command_line() -> String {
    let args: Vec<String> = std::env::args().collect();
    let mut parts = vec!["stmlab".to_string()];
    parts.extend(args.into_iter().skip(1).map(|a| {
        if a.contains([' ', ',', ':', '=']) && !a.starts_with("--") {
            format!("'{a}'")
        } else {
            a
        }
    }));
    parts.join(" ")
}

/// Writes `value` as pretty JSON to `path`, creating its folder.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let json = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    std::fs::write(path, json).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

/// A row of output with the conflict model it was recorded under.
#[derive(Serialize)]
pub struct Tagged<'a, T> {
    pub conflicts: ConflictModel,
    #[serde(flatten)]
    pub row: &'a T,
}

#[derive(Serialize)]
struct AnalyzeFile<'a> {
    machine: Machine,
    tree_dirty: bool,
    command: String,
    passes: usize,
    /// The conflict model of every row.
    conflicts: ConflictModel,
    /// What the numbers mean.
    notes: &'static str,
    rows: Vec<Tagged<'a, Analysis>>,
}

const NOTES: &str = "Per transaction, execution cost = median over `passes` sequential passes \
of EvmTxns::execute through a plain map of the committed writes. j depends on i when j read a \
key whose sequential value i wrote (the last writer before j). critical_path_ns = the longest \
dependency chain weighted by execution cost; speedup_bound = total_cost_ns / critical_path_ns: \
no schedule on any number of cores is faster than the critical path. Aggregates: blocks run one \
after the other (costs and paths add up). edges_by_kind: account, code, balance, nonce, storage, fee \
(the kind of the key read); delta: a balance read that had to resolve commutative credits (the deltas model).";

/// The table, under a line naming the conflict model.
pub fn print_table(rows: &[Analysis], conflicts: ConflictModel) {
    println!("conflict model: {conflicts}");
    println!(
        "{:<44} {:>6} {:>10} {:>10} {:>8} {:>6} {:>7} {:>6} {:>7} {:>6}",
        "block",
        "txs",
        "total ms",
        "crit ms",
        "bound",
        "dep %",
        "edges",
        "chain",
        "near d",
        "adj %"
    );
    for a in rows {
        let label = if a.block.len() > 44 {
            &a.block[..44]
        } else {
            &a.block
        };
        let kinds: Vec<String> = a
            .edges_by_kind
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        println!(
            "{:<44} {:>6} {:>10.3} {:>10.3} {:>7.1}x {:>6.1} {:>7} {:>6} {:>7.1} {:>6.1}  {}",
            label,
            a.txs,
            a.total_cost_ns as f64 / 1e6,
            a.critical_path_ns as f64 / 1e6,
            a.speedup_bound,
            a.dependent_fraction * 100.0,
            a.edges,
            a.longest_chain_txs,
            a.nearest_distance_median,
            a.adjacent_fraction * 100.0,
            kinds.join(", "),
        );
    }
}

pub fn run(args: &AnalyzeArgs) -> Result<bool, String> {
    if args.passes == 0 {
        return Err("--passes must be at least 1".into());
    }
    let groups = args.inputs.load()?;
    let opts = RecordOptions {
        passes: args.passes,
        strategy_costs: false,
    };
    let mut rows = Vec::new();
    for group in &groups {
        let mut parts = Vec::new();
        for input in &group.inputs {
            let rec = record_block(&input.block, &input.state, args.conflicts, &opts)
                .map_err(|e| format!("{}: {e}", input.label))?;
            let a = analyze_with(&input.label, &rec.txns, location_kind);
            if args.json {
                let tagged = Tagged {
                    conflicts: args.conflicts,
                    row: &a,
                };
                println!(
                    "{}",
                    serde_json::to_string(&tagged).expect("analysis serializes")
                );
            }
            parts.push(a);
        }
        let aggregate = (parts.len() > 1).then(|| Analysis::aggregate(&group.label, &parts));
        rows.extend(parts);
        if let Some(a) = aggregate {
            if args.json {
                let tagged = Tagged {
                    conflicts: args.conflicts,
                    row: &a,
                };
                println!(
                    "{}",
                    serde_json::to_string(&tagged).expect("analysis serializes")
                );
            }
            rows.push(a);
        }
    }
    if !args.json {
        print_table(&rows, args.conflicts);
    }
    if let Some(out) = &args.out {
        let file = AnalyzeFile {
            machine: Machine::detect(),
            tree_dirty: tree_dirty(),
            command: command_line(),
            passes: args.passes,
            conflicts: args.conflicts,
            notes: NOTES,
            rows: rows
                .iter()
                .map(|row| Tagged {
                    conflicts: args.conflicts,
                    row,
                })
                .collect(),
        };
        write_json(out, &file)?;
    }
    Ok(true)
}
