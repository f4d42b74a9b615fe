//! `stmlab exec`: execute one input with one strategy, a number of times, through one kept
//! executor, in raw mode, and nothing else (no reference run, no comparison): what
//! `valgrind --tool=callgrind` counts for the instruction-count goal
//! (`cli::instructions`, `scripts/callgrind_ratio.sh`). Hidden from `--help`.

use std::path::PathBuf;

use clap::Args;

use super::inputs;
use stmlab::{Executor, Options, Strategy};

#[derive(Args, Debug)]
pub struct ExecArgs {
    /// One block folder.
    #[arg(
        long,
        conflicts_with = "workload",
        required_unless_present = "workload"
    )]
    pub block: Option<PathBuf>,
    /// A workload spec.
    #[arg(long)]
    pub workload: Option<String>,
    #[arg(long)]
    pub strategy: String,
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    #[arg(long, default_value_t = 1)]
    pub runs: usize,
}

pub fn run(args: &ExecArgs) -> Result<bool, String> {
    let strategy: Strategy = args.strategy.parse()?;
    let input = match (&args.block, &args.workload) {
        (Some(path), _) => {
            let mut blocks = inputs::from_blocks(path)?;
            if blocks.len() != 1 {
                return Err(format!("{}: expected one block folder", path.display()));
            }
            blocks.remove(0)
        }
        (None, Some(spec)) => inputs::from_workload(spec)?,
        (None, None) => return Err("give --block PATH or --workload SPEC".into()),
    };
    let executor = Executor::with_options(args.threads, Options { adaptive: false })
        .map_err(|e| e.to_string())?;
    for _ in 0..args.runs {
        executor
            .execute(&input.block, &input.state, strategy)
            .map_err(|e| format!("{}: {e}", input.label))?;
    }
    Ok(true)
}
