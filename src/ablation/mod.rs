//! `stmlab ablation`: the ablation table of the conflict models (issue 17). For every
//! conflict model and every input (the bundled mainnet blocks as one aggregate row, and
//! the workloads with their contention knobs): the dependency edges by kind, the share of
//! dependent transactions, three bounds (the critical path weighted by measured costs,
//! the same counted in transactions, and a greedy two-worker schedule), the simulator's
//! predicted block-stm speedup at 2 to 64 workers, block-stm measured against sequential
//! at 1 and 2 threads (raw mode, interleaved rounds, medians) and its executions per
//! transaction.
//!
//! One concern a file: what runs (`inputs`), the recordings, bounds and predictions
//! (`rows`), the timed runs (`measure`), the markdown table (`table`), the result files
//! (`file`) and the figure (`plot`); the run that puts them together is here.

mod file;
mod inputs;
mod measure;
mod plot;
mod rows;
mod table;

use std::path::PathBuf;

use clap::Args;

use crate::conflicts::{models_arg, Models};
use crate::inputs::parse_threads;
use crate::machine::Machine;
pub use file::AblationFile;
pub use inputs::DEFAULT_WORKLOADS;
pub use rows::{AblationRow, MeasuredPoint, SimulatedPoint, EDGE_KINDS};

#[derive(Args, Debug)]
pub struct AblationArgs {
    /// Conflict models: one (coarse, fields, deltas), a comma-separated list, or all.
    #[arg(long, default_value_t = Models::all(), value_parser = models_arg)]
    pub conflicts: Models,
    /// The folder of blocks that makes the aggregate row (default: the bundled mainnet
    /// blocks, data/mainnet); blocks without transactions are left out.
    #[arg(long, conflicts_with = "no_blocks")]
    pub blocks: Option<PathBuf>,
    /// No block row, workloads only.
    #[arg(long)]
    pub no_blocks: bool,
    /// Only the first N blocks with transactions of the folder (in folder order).
    #[arg(long)]
    pub max_blocks: Option<usize>,
    /// A workload spec (repeatable); replaces the default list (transfers and erc20 at
    /// hot=0 and 0.3, transfers with hot senders, mixed).
    #[arg(long, conflicts_with = "no_workloads")]
    pub workload: Vec<String>,
    /// No workload rows, the blocks only.
    #[arg(long)]
    pub no_workloads: bool,
    /// Timed rounds (sequential and block-stm under every model, interleaved); medians.
    #[arg(long, default_value_t = 5)]
    pub repeat: usize,
    /// Passes over each block when recording its costs (per-transaction medians).
    #[arg(long, default_value_t = 3)]
    pub passes: usize,
    /// Virtual worker counts of the simulated speedup.
    #[arg(long, default_value = "2,4,8,16,32,64")]
    pub workers: String,
    /// Thread counts block-stm is measured at.
    #[arg(long, default_value = "1,2")]
    pub threads: String,
    /// Skip the timed runs (bounds, edges and predictions only; executions per
    /// transaction still come from one untimed run at 2 threads).
    #[arg(long)]
    pub no_measure: bool,
    /// The result file (JSON).
    #[arg(long, default_value = "results/ablation.json")]
    pub out: PathBuf,
    /// The table as markdown.
    #[arg(long, default_value = "results/ablation.md")]
    pub md: PathBuf,
    /// The figure (PNG).
    #[arg(long, default_value = "results/plots/ablation.png")]
    pub plot: PathBuf,
    /// Draw no figure.
    #[arg(long)]
    pub no_plot: bool,
}

/// The rows of every (input, model), with the machine and the measurement's settings;
/// `Ok(false)` in the flag when some block-stm run differed from sequential execution.
pub fn ablation(args: &AblationArgs) -> Result<(AblationFile, bool), String> {
    if args.repeat == 0 || args.passes == 0 {
        return Err("--repeat and --passes must be at least 1".into());
    }
    if args.conflicts.0.is_empty() {
        return Err("--conflicts: no model given".into());
    }
    let workers = parse_threads(&args.workers).map_err(|e| e.replace("--threads", "--workers"))?;
    let threads = parse_threads(&args.threads)?;
    let models = &args.conflicts.0;
    let items = inputs::load(args)?;
    if items.is_empty() {
        return Err("nothing to run: --no-blocks and --no-workloads together".into());
    }
    let machine = Machine::detect();
    let mut rows = Vec::new();
    let mut all_identical = true;
    for item in &items {
        let mut item_rows = Vec::new();
        for &model in models {
            eprintln!("{}: recording under {model}", item.label);
            item_rows.push(rows::recorded_row(item, model, args.passes, &workers)?);
        }
        let runs = if args.no_measure {
            measure::executions_only(item, models)?
        } else {
            eprintln!(
                "{}: timing sequential and block-stm ({} rounds)",
                item.label, args.repeat
            );
            measure::measure(item, models, &threads, args.repeat)?
        };
        all_identical &= runs.mismatches == 0;
        for row in &mut item_rows {
            runs.fill(row);
        }
        rows.extend(item_rows);
    }
    let file = AblationFile::new(machine, args, &workers, &threads, rows);
    Ok((file, all_identical))
}

pub fn run(args: &AblationArgs) -> Result<bool, String> {
    let (file, identical) = ablation(args)?;
    let markdown = table::markdown(&file);
    println!("{markdown}");
    file.write(&args.out, &args.md, &markdown)?;
    if !args.no_plot {
        plot::draw(&args.plot, &file)?;
        eprintln!("wrote {}", args.plot.display());
    }
    if !identical {
        eprintln!("some block-stm run differed from sequential execution (MISMATCH above)");
    }
    Ok(identical)
}
