//! `stmlab-cli`: the `stmlab` command line, the plots and the measurement tooling, above
//! every other crate of the workspace (the engine `stmlab`, its core `stmlab-core`, the
//! simulator `stmlab-sim` and the generated workloads `stmlab-workloads`). Nothing here is
//! part of the engine a node embeds.

pub mod ablation;
pub mod analyze;
pub mod ceiling;
pub mod compare;
pub mod conflicts;
pub mod exec;
pub mod fuzz;
pub mod goals;
pub mod inputs;
pub mod instructions;
pub mod machine;
pub mod measure;
pub mod memory;
pub mod plot;
pub mod run;
pub mod simulate;
pub mod stress;
pub mod summary;
pub mod sweep;
pub mod table;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "stmlab",
    version,
    about = "Parallel EVM execution strategies, side by side"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run strategies on blocks or a workload, compared with sequential execution.
    Run(run::RunArgs),
    /// Run a grid (strategies x threads x workload knobs, and the mainnet blocks) and
    /// write machine-readable results (default results/sweep.json); `--preset goals`:
    /// the speed-goal table (default results/goals.json).
    Sweep(sweep::SweepArgs),
    /// Draw PNG charts of a sweep's results (default into results/plots).
    Plot(plot::PlotArgs),
    /// The ablation table of the conflict models: edges by kind, bounds, simulated and
    /// measured block-stm speedups per model and input (results/ablation.json, .md and
    /// results/plots/ablation.png).
    Ablation(ablation::AblationArgs),
    /// The critical-path bound and dependency statistics of blocks or workloads.
    Analyze(analyze::AnalyzeArgs),
    /// Predict each strategy on 1 to 64 virtual workers from a recording of the block
    /// (`--check`: against measured runs at 1 and 2 threads).
    Simulate(simulate::SimulateArgs),
    /// Run inputs again and again under varied thread counts and (built with
    /// `--features perturb`) perturbed schedules, every output checked against
    /// sequential's, with a watchdog for hangs; exit status 1 on any failure.
    Stress(stress::StressArgs),
    /// Mutated copies of block folders through the loader: every case a clear error or
    /// a block every strategy executes as sequential does; exit status 1 otherwise.
    Fuzz(fuzz::FuzzArgs),
    /// Execute one input with one strategy, nothing else (what callgrind counts).
    #[command(hide = true)]
    Exec(exec::ExecArgs),
}

/// Runs the command; `Ok(false)` when some strategy differed from sequential or a header
/// check failed (the caller exits non-zero).
pub fn run(cli: Cli) -> Result<bool, String> {
    match cli.command {
        Some(Command::Run(args)) => run::run(&args),
        // The goals preset is its own job (`goals`), on the sweep's options.
        Some(Command::Sweep(args)) if args.preset == "goals" => goals::run(&args),
        Some(Command::Sweep(args)) => sweep::run(&args),
        Some(Command::Plot(args)) => plot::run(&args),
        Some(Command::Ablation(args)) => ablation::run(&args),
        Some(Command::Analyze(args)) => analyze::run(&args),
        Some(Command::Simulate(args)) => simulate::run(&args),
        Some(Command::Stress(args)) => stress::run(&args),
        Some(Command::Fuzz(args)) => fuzz::run(&args),
        Some(Command::Exec(args)) => exec::run(&args),
        None => run::default_job(),
    }
}
