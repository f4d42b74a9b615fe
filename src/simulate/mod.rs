//! `stmlab simulate`: predicted wall time, speedup, executions and aborts of each strategy
//! on `N` virtual workers (`sim::simulate`), from a recording of each block (`sim::record`);
//! with `--check`, the same blocks measured for real at 1 and 2 threads and the prediction
//! error reported; with `--plots`, the scaling charts.
//!
//! One concern a file: the predictions (`predict`), the check's real runs (`real_runs`),
//! the machine's probes around them (`probes`), the check's rows and summaries (`check`),
//! the rows themselves (`rows`), the printed tables (`print`), the result files (`files`)
//! and the charts (`chart`); the run that puts them together is here.

mod chart;
mod check;
mod files;
mod predict;
mod print;
mod probes;
mod real_runs;
pub mod rows;

use std::path::PathBuf;

use clap::Args;

use crate::analyze::{command_line, location_kind, write_json};
use crate::conflicts::model_arg;
use crate::inputs::{parse_threads, Group, GroupArgs};
use crate::machine::{tree_dirty, Machine};
use files::{CheckFile, SimulateFile, CHECK_NOTES, NOTES};
use rows::{CheckRow, CheckSummary, InputInfo, SimRow};
use stmlab::{ConflictModel, Strategy};
use stmlab_sim::record::RecordOptions;
use stmlab_sim::{analyze_with, record_block, Analysis};

#[derive(Args, Debug)]
pub struct SimulateArgs {
    #[command(flatten)]
    pub inputs: GroupArgs,
    /// One strategy, a comma-separated list, or all.
    #[arg(long, default_value = "all")]
    pub strategy: String,
    /// The conflict model the blocks are recorded, calibrated and (with --check) run
    /// under (coarse, fields or deltas).
    #[arg(long, default_value_t = ConflictModel::default(), value_parser = model_arg)]
    pub conflicts: ConflictModel,
    /// Virtual worker counts to predict.
    #[arg(long, default_value = "1,2,4,8,16,32,64")]
    pub threads: String,
    /// Passes over each block when recording its costs (per-transaction medians).
    #[arg(long, default_value_t = 5)]
    pub passes: usize,
    /// One JSON object per line per (block, strategy, threads) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also write a result file: machine, command, cost models, analyses, predictions.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Measure every strategy for real at the check thread counts (interleaved runs,
    /// medians) and report the prediction error; written to --check-out.
    #[arg(long)]
    pub check: bool,
    /// The thread counts the check measures.
    #[arg(long, default_value = "1,2")]
    pub check_threads: String,
    /// Measured runs per (strategy, threads) in the check.
    #[arg(long, default_value_t = 5)]
    pub repeat: usize,
    #[arg(long, default_value = "results/simulate_check.json")]
    pub check_out: PathBuf,
    /// Draw scaling charts (scaling_<input>.png) into this folder.
    #[arg(long)]
    pub plots: Option<PathBuf>,
}

pub fn run(args: &SimulateArgs) -> Result<bool, String> {
    let strategies = Strategy::parse_list(&args.strategy)?;
    let threads = parse_threads(&args.threads)?;
    let check_threads = parse_threads(&args.check_threads)?;
    if args.passes == 0 || args.repeat == 0 {
        return Err("--passes and --repeat must be at least 1".into());
    }
    let groups: Vec<Group> = args.inputs.load()?;
    let opts = RecordOptions {
        passes: args.passes,
        strategy_costs: true,
    };
    let parallel: Vec<Strategy> = strategies
        .iter()
        .copied()
        .filter(|s| *s != Strategy::Sequential)
        .collect();
    let machine = Machine::detect();
    // Read before anything is written: the charts and the first result file are tracked
    // files, and the run itself must not make its own tree look modified.
    let dirty = tree_dirty();
    let load_before = probes::load_average();
    let probe = args.check.then(probes::machine_probe);
    let mut evm_probes = Vec::new();

    let mut rows: Vec<SimRow> = Vec::new();
    let mut infos: Vec<InputInfo> = Vec::new();
    let mut aggregates: Vec<Analysis> = Vec::new();
    let mut checks: Vec<CheckRow> = Vec::new();
    let mut summary: Vec<CheckSummary> = Vec::new();
    for group in &groups {
        let mut analyses = Vec::new();
        let mut group_rows: Vec<SimRow> = Vec::new();
        let mut group_checks: Vec<CheckRow> = Vec::new();
        for input in &group.inputs {
            eprintln!("recording {} ({} txs)", input.label, input.block.txs.len());
            let mut rec = record_block(&input.block, &input.state, args.conflicts, &opts)
                .map_err(|e| format!("{}: {e}", input.label))?;
            // The label given on the command line (a generator may spell its spec out).
            rec.label = input.label.clone();
            let analysis = analyze_with(&input.label, &rec.txns, location_kind);
            let mine = predict::predictions(
                &input.label,
                args.conflicts,
                &rec,
                &analysis,
                &strategies,
                &threads,
                args.json,
            )?;
            if args.check {
                let (probe, seq, measured) = real_runs::measure_on_two_cores(
                    input,
                    args.conflicts,
                    &parallel,
                    &check_threads,
                    args.repeat,
                )?;
                evm_probes.push(probe);
                group_checks.extend(check::input_rows(input, &rec, &mine, seq, measured)?);
            }
            infos.push(InputInfo::new(input, &group.label, &rec, &analysis));
            analyses.push(analysis);
            group_rows.extend(mine);
        }

        // Aggregates over a folder of several blocks.
        let several = group.inputs.len() > 1;
        let group_analysis = if several {
            let a = Analysis::aggregate(&group.label, &analyses);
            aggregates.push(a.clone());
            a
        } else {
            analyses[0].clone()
        };
        let curve_rows: Vec<SimRow> = if several {
            predict::aggregate_rows(
                group,
                &group_rows,
                &group_analysis,
                &strategies,
                &threads,
                args.json,
            )
        } else {
            group_rows.clone()
        };
        // The check's summary per (strategy, threads) over the group.
        let checked = args.check.then(|| {
            let (group_summary, curves) = check::group_summary(&group.label, &group_checks);
            summary.extend(group_summary);
            (curves, args.repeat)
        });
        if let Some(dir) = &args.plots {
            chart::draw_group_chart(
                dir,
                group,
                &group_analysis,
                &curve_rows,
                checked,
                &parallel,
                &machine,
            )?;
        }
        rows.extend(group_rows);
        if several {
            rows.extend(curve_rows);
        }
        checks.extend(group_checks);
    }

    if !args.json {
        println!("conflict model: {}", args.conflicts);
        print::print_predictions(&rows, &threads);
    }
    if args.check && !args.json {
        println!();
        print::print_check(&summary);
    }
    if let Some(out) = &args.out {
        let file = SimulateFile {
            machine: machine.clone(),
            tree_dirty: dirty,
            command: command_line(),
            conflicts: args.conflicts,
            passes: args.passes,
            threads: &threads,
            notes: NOTES,
            inputs: &infos,
            aggregates: &aggregates,
            rows: &rows,
        };
        write_json(out, &file)?;
    }
    if args.check {
        let file = CheckFile {
            machine: machine.clone(),
            tree_dirty: dirty,
            command: command_line(),
            conflicts: args.conflicts,
            passes: args.passes,
            repeat: args.repeat,
            threads: &check_threads,
            notes: CHECK_NOTES,
            load_before,
            load_after: probes::load_average(),
            machine_probe: probe.expect("probed when checking"),
            evm_probes: &evm_probes,
            summary: &summary,
            rows: &checks,
        };
        write_json(&args.check_out, &file)?;
    }
    Ok(true)
}
