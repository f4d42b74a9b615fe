//! `stmlab exec`: execute one input with one strategy, a number of times, through one kept
//! executor, in raw mode, and nothing else (no reference run, no comparison): what
//! `valgrind --tool=callgrind` counts for the instruction-count goal
//! (`cli::instructions`, `scripts/callgrind_ratio.sh`). Hidden from `--help`.

use clap::Args;

use super::conflicts::model_arg;
use super::inputs::InputArgs;
use stmlab::{ConflictModel, Executor, Options, Strategy};

#[derive(Args, Debug)]
pub struct ExecArgs {
    // One block folder (`--block`), or a workload spec.
    #[command(flatten)]
    pub input: InputArgs,
    #[arg(long)]
    pub strategy: String,
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    #[arg(long, default_value_t = 1)]
    pub runs: usize,
    /// The conflict model (coarse, fields or deltas).
    #[arg(long, default_value_t = ConflictModel::default(), value_parser = model_arg)]
    pub conflicts: ConflictModel,
}

pub fn run(args: &ExecArgs) -> Result<bool, String> {
    let strategy: Strategy = args.strategy.parse()?;
    let mut inputs = args.input.load()?;
    // A workload is one input; a folder holds at least one block.
    if let (Some(path), false) = (&args.input.block, inputs.len() == 1) {
        return Err(format!("{}: expected one block folder", path.display()));
    }
    let input = inputs.remove(0);
    let executor = Executor::with_options(
        args.threads,
        Options {
            conflicts: args.conflicts,
            ..Options::RAW
        },
    )
    .map_err(|e| e.to_string())?;
    for _ in 0..args.runs {
        executor
            .execute(&input.block, &input.state, strategy)
            .map_err(|e| format!("{}: {e}", input.label))?;
    }
    Ok(true)
}
