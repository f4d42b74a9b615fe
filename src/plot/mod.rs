//! `stmlab plot`: PNG charts of a `stmlab sweep` result file, drawn with plotters.
//!
//! - `threads-<input>.png`: throughput and speedup over sequential versus worker threads,
//!   one line per strategy, for each workload input and for the mainnet blocks in total
//!   (`threads`);
//! - `contention-<series>.png`: speedup versus the contention knob (hot fraction or
//!   number of accounts), one line per strategy, one panel per thread count; and
//!   `wasted-<series>.png`: executions per transaction versus the same knob
//!   (`contention`);
//! - `mainnet-blocks.png`: speedup per mainnet block and strategy at one thread count
//!   (`mainnet_blocks`);
//! - `mainnet-distribution.png`: the distribution of per-block speedups, per strategy,
//!   one panel per thread count (`mainnet_distribution`).
//!
//! Beside them, the simulator's scaling chart (`scaling`, for `stmlab simulate --plots`).
//! Below the figures: what is read of the file (`schema`, `mainnet`), panels of lines
//! (`panel`), the legend row (`legend`), axes (`axes`), printed words and numbers
//! (`text`), and the one plot style every figure and the scaling chart draw with
//! (`style`: fonts, colours, markers, grid, legends, the frame of a figure).

mod axes;
mod contention;
mod legend;
mod mainnet;
mod mainnet_blocks;
mod mainnet_distribution;
mod panel;
pub mod scaling;
mod schema;
pub mod style;
mod text;
mod threads;

use std::path::{Path, PathBuf};

use clap::Args;

use mainnet::Mainnet;
use schema::Sweep;
use style::register_fonts;

#[derive(Args, Debug)]
pub struct PlotArgs {
    /// A result file written by `stmlab sweep`.
    #[arg(long, default_value = "results/sweep.json")]
    pub input: PathBuf,
    /// The folder the PNG files go to.
    #[arg(long, default_value = "results/plots")]
    pub out: PathBuf,
}

/// Draws every plot of `input` into `out`; returns the files written.
pub fn plot_file(input: &Path, out: &Path) -> Result<Vec<PathBuf>, String> {
    register_fonts()?;
    let sweep = Sweep::read(input)?;
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mainnet = Mainnet::of(&sweep);
    let mut written = threads::per_input(&sweep, out)?;
    written.extend(threads::mainnet_total(&sweep, &mainnet, out)?);
    written.extend(contention::per_series(&sweep, out)?);
    written.extend(mainnet_blocks::draw(&sweep, &mainnet, out)?);
    written.extend(mainnet_distribution::draw(&sweep, &mainnet, out)?);
    Ok(written)
}

pub fn run(args: &PlotArgs) -> Result<bool, String> {
    let files = plot_file(&args.input, &args.out)?;
    for f in &files {
        println!("wrote {}", f.display());
    }
    Ok(true)
}
