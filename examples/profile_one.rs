//! Runs one strategy on one workload or block folder a number of times, nothing else: the
//! target for `perf record` or `valgrind --tool=callgrind` when profiling a strategy.
//!
//! `cargo run --release --example profile_one -- <workload-spec|block-dir> <strategy> <threads> <runs>`

use std::time::Instant;

use stmlab::evm::mainnet::load_block_dir;
use stmlab::{execute_block, workloads, Strategy};

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, strategy, threads, runs] = args.as_slice() else {
        return Err(
            "usage: profile_one <workload-spec|block-dir> <strategy> <threads> <runs>".into(),
        );
    };
    let (block, state) = if std::path::Path::new(input).is_dir() {
        load_block_dir(std::path::Path::new(input)).map_err(|e| e.to_string())?
    } else {
        workloads::from_spec(input).map_err(|e| e.to_string())?
    };
    let strategy: Strategy = strategy.parse()?;
    let threads: usize = threads.parse().map_err(|e| format!("threads: {e}"))?;
    let runs: usize = runs.parse().map_err(|e| format!("runs: {e}"))?;
    for _ in 0..runs {
        let start = Instant::now();
        let run = execute_block(&block, &state, strategy, threads).map_err(|e| e.to_string())?;
        let total = start.elapsed();
        let phases: Vec<String> = run
            .metrics
            .phases
            .iter()
            .map(|(name, d)| format!("{name} {:.1}", d.as_secs_f64() * 1e3))
            .collect();
        let dropped = Instant::now();
        drop(run);
        eprintln!(
            "{strategy} x{threads}: {:.3} ms ({}; output dropped in {:.1})",
            total.as_secs_f64() * 1e3,
            phases.join(", "),
            dropped.elapsed().as_secs_f64() * 1e3
        );
    }
    Ok(())
}
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
