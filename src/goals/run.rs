//! A goals run from start to end: the arguments checked, the mainnet blocks, the
//! workloads, the instruction counts and the baseline measured in that order, then the
//! result file written and the report printed.

use std::path::PathBuf;
use std::time::Instant;

use super::callgrind::instruction_row;
use super::goal::{GOALS_OUT, GOALS_REPEAT, WORKLOAD_GOALS};
use super::progress::Progress;
use super::result_file::{print_from, GoalsFile};
use super::rows::{baseline_row, mainnet_rows, GoalRow};
use super::table::report;
use super::{mainnet, workloads};
use crate::inputs::{bundled_blocks, BUNDLED_BLOCKS};
use crate::machine::utc_date;
use crate::machine::{tree_dirty, Machine};
use crate::sweep::SweepArgs;
use stmlab::evm::mainnet::find_block_dirs;
use stmlab::Strategy;

/// `stmlab sweep --preset goals` (or `--from FILE`: the report of a goals file); `Ok(false)`
/// when an output differed from sequential's or a header check failed.
pub fn run(args: &SweepArgs) -> Result<bool, String> {
    if let Some(path) = &args.from {
        return print_from(path);
    }
    if args.conflicts != stmlab::ConflictModel::default() {
        return Err(
            "--conflicts: the goals preset measures the default model (`stmlab run --conflicts all` compares the models)"
                .into(),
        );
    }
    if args.threads.is_some() {
        return Err(
            "--threads: the goals preset fixes each row's thread count (2, and 1 for the overhead row)"
                .into(),
        );
    }
    let strategy = args.strategy.trim();
    if !(strategy.eq_ignore_ascii_case("all") || strategy == Strategy::BlockStm.name()) {
        return Err("--strategy: the goals preset measures block-stm only".into());
    }
    let repeat = args.repeat.unwrap_or(GOALS_REPEAT);
    if repeat == 0 {
        return Err("--repeat must be at least 1".into());
    }
    let (blocks_path, dirs) = if args.no_blocks {
        (None, Vec::new())
    } else {
        let path = args.blocks.clone().unwrap_or_else(bundled_blocks);
        let shown = match &args.blocks {
            Some(p) => p.display().to_string(),
            None => BUNDLED_BLOCKS.to_string(),
        };
        let dirs: Vec<PathBuf> = find_block_dirs(&path).map_err(|e| e.to_string())?;
        (Some(shown), dirs)
    };

    let started = Instant::now();
    let mut progress = Progress::new(dirs.len() + WORKLOAD_GOALS.len());
    let mainnet = mainnet::measure(&dirs, repeat, &mut progress)?;
    let why_no_blocks = if blocks_path.is_none() {
        "--no-blocks"
    } else {
        "no block has transactions"
    };
    let mut table: Vec<GoalRow> = mainnet_rows(
        &mainnet.blocks,
        blocks_path.as_deref().unwrap_or("mainnet"),
        mainnet.skipped.len(),
        why_no_blocks,
    )
    .into();
    let workloads = workloads::measure(repeat, args.max_txs, args.no_memory, &mut progress)?;
    table.extend(workloads.rows);
    let peak_memory_counted = workloads.memory.measured.is_some();
    table.push(workloads.memory);
    table.push(instruction_row(
        args.no_instructions,
        args.max_txs,
        &progress,
    ));
    if !mainnet.blocks.is_empty() {
        table.push(baseline_row(
            &format!(
                "{}: every block with transactions",
                blocks_path.as_deref().unwrap_or("mainnet")
            ),
            mainnet.baseline.0,
            mainnet.baseline.1,
        ));
    }
    progress.bar.finish_and_clear();
    let elapsed = started.elapsed();

    let machine = Machine::detect();
    let date = utc_date(machine.date_unix);
    let text = report(
        &date,
        &machine.cpu_model,
        machine.cores as u64,
        &machine.commit,
        repeat,
        &table,
    );
    let file = GoalsFile {
        date,
        commit_dirty: tree_dirty(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        preset: "goals",
        strategy: Strategy::BlockStm,
        repeat,
        max_txs: args.max_txs,
        blocks: blocks_path,
        peak_memory_counted,
        elapsed_s: elapsed.as_secs_f64(),
        goals_met: table.iter().filter(|r| r.met == Some(true)).count(),
        goals_measured: table.iter().filter(|r| r.met.is_some()).count(),
        rows: &table,
        mainnet_blocks: &mainnet.blocks,
        skipped_blocks: &mainnet.skipped,
        mismatches: &progress.mismatches,
        machine,
    };
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from(GOALS_OUT));
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let json = serde_json::to_string_pretty(&file).map_err(|e| e.to_string())?;
    std::fs::write(&out, json).map_err(|e| format!("{}: {e}", out.display()))?;
    print!("{text}");
    if let Some(cap) = args.max_txs {
        println!("(workloads capped at {cap} transactions: not the goals' sizes)");
    }
    println!(
        "goals: {} mainnet blocks, {} workload runs in {:.1} s; wrote {}",
        mainnet.blocks.len(),
        WORKLOAD_GOALS.len(),
        elapsed.as_secs_f64(),
        out.display()
    );
    Ok(progress.all_well())
}
