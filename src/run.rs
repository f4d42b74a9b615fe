//! `stmlab run`: strategies on blocks or a workload, compared with sequential execution
//! (`compare`), printed as a table or JSON lines; and the default job of a bare
//! `cargo run --release`, which also writes `results/latest.json`.

use std::path::Path;

use clap::Args;
use serde::Serialize;

use crate::compare::{compare, compare_models, Mismatch, Row};
use crate::conflicts::{models_arg, Models};
use crate::inputs::{self, parse_threads, Input, InputArgs};
use crate::machine::Machine;
use crate::summary::{summarize, Summary};
use crate::table;
use stmlab::Strategy;

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// One strategy, a comma-separated list, or all.
    #[arg(long, default_value = "all")]
    pub strategy: String,
    /// Worker threads: one number or a comma-separated list.
    #[arg(long, default_value = "2")]
    pub threads: String,
    /// Runs per point; sequential and the strategies are interleaved and medians reported.
    #[arg(long, default_value_t = 1)]
    pub repeat: usize,
    /// Conflict models: one (coarse, fields, deltas), a comma-separated list, or all;
    /// several are interleaved in one run, each row naming its model.
    #[arg(long, default_value_t = Models::default_only(), value_parser = models_arg)]
    pub conflicts: Models,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Run every strategy as asked, never the adaptive choice of sequential execution
    /// for a block too small or too dependent to gain.
    #[arg(long)]
    pub raw: bool,
}

/// A result file: the machine, the command, the rows, any mismatch, and the summary of
/// the rows.
#[derive(Serialize)]
pub struct ResultFile<'a> {
    pub machine: Machine,
    pub command: String,
    pub rows: &'a [Row],
    pub mismatches: &'a [Mismatch],
    pub summary: &'a Summary,
}

/// `stmlab run`: `Ok(false)` when some strategy differed from sequential or a header
/// check failed.
pub fn run(args: &RunArgs) -> Result<bool, String> {
    let strategies = Strategy::parse_list(&args.strategy)?;
    let threads = parse_threads(&args.threads)?;
    if args.repeat == 0 {
        return Err("--repeat must be at least 1".into());
    }
    let inputs: Vec<Input> = args.input.load()?;
    let mut all_ok = true;
    let mut all_rows = Vec::new();
    for input in &inputs {
        let (rows, mismatches) = compare_models(
            input,
            &strategies,
            &args.conflicts.0,
            &threads,
            args.repeat,
            !args.raw,
        )?;
        all_ok &= report(&rows, &mismatches, args.json);
        all_rows.extend(rows);
    }
    if !args.json {
        table::print(&all_rows);
        // A conclusion when there is more than one input to draw it over.
        if inputs.len() > 1 {
            let workloads: Vec<String> = args.input.workload.iter().cloned().collect();
            table::print_summary(&summarize(&all_rows, &workloads));
        }
    }
    Ok(all_ok)
}

/// Prints JSON lines (when asked) and every problem to stderr; true when all is well.
fn report(rows: &[Row], mismatches: &[Mismatch], json: bool) -> bool {
    if json {
        for row in rows {
            println!("{}", serde_json::to_string(row).expect("rows serialize"));
        }
    }
    for m in mismatches {
        eprintln!(
            "MISMATCH: {} with {} ({} conflicts) at {} threads differs from sequential: {}",
            m.block, m.strategy, m.conflicts, m.threads, m.difference
        );
    }
    let bad_headers: Vec<_> = rows.iter().filter(|r| r.header_ok == Some(false)).collect();
    if let Some(r) = bad_headers.first() {
        eprintln!("HEADER CHECK FAILED: block {}", r.block);
    }
    // Each failed post-state check was named (with its first difference) by `compare`.
    let bad_post_states = rows.iter().any(|r| r.post_state_ok == Some(false));
    mismatches.is_empty() && bad_headers.is_empty() && !bad_post_states
}

/// The workloads the default job compares the strategies on.
pub const DEFAULT_WORKLOADS: &[&str] = &[
    "transfers:txs=10000,accounts=100000,hot=0",
    "transfers:txs=10000,accounts=100000,hot=0.2",
    "erc20:txs=5000,accounts=50000,hot=0",
    "erc20:txs=5000,accounts=50000,hot=0.2",
    "chain:txs=2000",
];

/// `cargo run --release` with no arguments: every strategy at 1 and 2 threads on the
/// default workloads and the bundled mainnet blocks; prints a table and its summary
/// (`summary`), and writes both to `results/latest.json`.
pub fn default_job() -> Result<bool, String> {
    let strategies = Strategy::ALL.to_vec();
    let threads = [1, 2];
    let repeat = 3;
    let mut inputs = Vec::new();
    for spec in DEFAULT_WORKLOADS {
        inputs.push(inputs::from_workload(spec)?);
    }
    inputs.extend(inputs::from_blocks(&inputs::bundled_blocks())?);
    let bar = indicatif::ProgressBar::new(inputs.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
            .expect("valid template"),
    );
    let mut rows = Vec::new();
    let mut mismatches = Vec::new();
    for input in &inputs {
        bar.set_message(input.label.clone());
        let (r, m) = compare(
            input,
            &strategies,
            &threads,
            repeat,
            // The strategies themselves: the main job compares them, which adaptive
            // mode's sequential choice would hide on most blocks.
            stmlab::Options::RAW,
        )?;
        rows.extend(r);
        mismatches.extend(m);
        bar.inc(1);
    }
    bar.finish_and_clear();
    table::print(&rows);
    let workloads: Vec<String> = DEFAULT_WORKLOADS.iter().map(|w| w.to_string()).collect();
    let summary = summarize(&rows, &workloads);
    table::print_summary(&summary);
    let ok = report(&rows, &mismatches, false);
    let file = ResultFile {
        machine: Machine::detect(),
        command: "cargo run --release".into(),
        rows: &rows,
        mismatches: &mismatches,
        summary: &summary,
    };
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("results/latest.json");
    std::fs::create_dir_all(out.parent().expect("has a parent")).map_err(|e| e.to_string())?;
    let json = serde_json::to_string_pretty(&file).map_err(|e| e.to_string())?;
    std::fs::write(&out, json).map_err(|e| format!("{}: {e}", out.display()))?;
    println!("wrote {}", out.display());
    Ok(ok)
}
