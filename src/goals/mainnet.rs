//! The goals' mainnet measurements: every block with transactions, Block-STM against
//! sequential at [`GOALS_THREADS`] in adaptive mode and raw at 1 and [`GOALS_THREADS`]
//! threads (one `compare` call each), and revm's bare loop against our sequential
//! reference for the baseline row.

use std::path::PathBuf;

use super::goal::{ADAPTIVE, GOALS_THREADS, RAW};
use super::progress::Progress;
use super::rows::{block_stm_row, BlockRatio};
use crate::compare::compare;
use crate::inputs::{self, Input};
use crate::measure::{interleaved, Order};
use crate::memory;
use stmlab::core::metrics::median;
use stmlab::Strategy;

/// What the blocks gave.
pub struct MainnetRun {
    /// Every block with transactions, in the order of `dirs`.
    pub blocks: Vec<BlockRatio>,
    /// The blocks without transactions, left out.
    pub skipped: Vec<String>,
    /// Medians of revm's bare loop and of our sequential reference, summed over the
    /// blocks.
    pub baseline: (u64, u64),
}

/// Measures the blocks of `dirs` one at a time, `repeat` interleaved runs per point,
/// timing only (no peak memory); a step of `progress` per block.
pub fn measure(
    dirs: &[PathBuf],
    repeat: usize,
    progress: &mut Progress,
) -> Result<MainnetRun, String> {
    memory::set_wanted(false);
    let mut run = MainnetRun {
        blocks: Vec::new(),
        skipped: Vec::new(),
        baseline: (0, 0),
    };
    for dir in dirs {
        progress
            .bar
            .set_message(format!("loading {}", dir.display()));
        let mut loaded = inputs::from_blocks(dir)?;
        if loaded.len() != 1 {
            return Err(format!("{}: expected one block", dir.display()));
        }
        let input = loaded.remove(0);
        if input.block.txs.is_empty() {
            run.skipped.push(input.label.clone());
            progress.bar.inc(1);
            continue;
        }
        progress.bar.set_message(format!("block {}", input.label));
        run.blocks.push(block_ratio(&input, repeat, progress)?);
        let (bare, sequential) = bare_and_sequential(&input, repeat)?;
        run.baseline.0 += bare;
        run.baseline.1 += sequential;
        progress.bar.inc(1);
    }
    Ok(run)
}

/// One block's medians: adaptive at [`GOALS_THREADS`], raw at 1 and [`GOALS_THREADS`].
fn block_ratio(
    input: &Input,
    repeat: usize,
    progress: &mut Progress,
) -> Result<BlockRatio, String> {
    let (rows, m) = compare(
        input,
        &[Strategy::BlockStm],
        &[GOALS_THREADS],
        repeat,
        ADAPTIVE,
    )?;
    progress.check(&rows, m);
    let (raw_rows, m) = compare(
        input,
        &[Strategy::BlockStm],
        &[1, GOALS_THREADS],
        repeat,
        RAW,
    )?;
    progress.check(&raw_rows, m);
    let at = |threads: usize| {
        raw_rows
            .iter()
            .find(|r| r.threads == threads)
            .ok_or_else(|| format!("{}: no raw row at {threads} threads", input.label))
    };
    let row = block_stm_row(&rows)?;
    Ok(BlockRatio::new(
        input.label.clone(),
        row.txs,
        row.sequential_wall_ns,
        row.wall_ns,
    )
    .with_raw(row.chose_sequential, at(GOALS_THREADS)?)
    .with_raw_1_thread(at(1)?))
}

/// Medians of revm's bare loop (`evm::sequential::bare_revm`) and of our sequential
/// reference on `input`, timed interleaved `repeat` times (`measure::interleaved`, the
/// order alternating).
fn bare_and_sequential(input: &Input, repeat: usize) -> Result<(u64, u64), String> {
    let err =
        |e: stmlab::ExecuteError<stmlab::evm::state::NoError>| format!("{}: {e}", input.label);
    // Slot 0 the bare loop, slot 1 the sequential reference.
    let mut samples = interleaved(
        2,
        repeat,
        Order::ROTATING,
        |slot, stopwatch| -> Result<(), String> {
            if slot == 0 {
                stopwatch
                    .time(|| stmlab::evm::sequential::bare_revm(&input.block, &input.state))
                    .map_err(err)?;
                return Ok(());
            }
            let run = stopwatch
                .time(|| stmlab::execute_block(&input.block, &input.state, Strategy::Sequential, 1))
                .map_err(err)?;
            // Its output dropped after the clock stops (bare revm builds none).
            drop(run);
            Ok(())
        },
    )?;
    Ok((median(&mut samples[0]), median(&mut samples[1])))
}
