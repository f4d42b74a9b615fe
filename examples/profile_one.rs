//! Runs one strategy on one workload or block folder a number of times, nothing else: the
//! target for `perf record` or `valgrind --tool=callgrind` when profiling a strategy.
//!
//! `cargo run --release --example profile_one -- <workload-spec|block-dir> <strategy> <threads> <runs>`

use std::time::Instant;

use stmlab::evm::code_copies::ThreadCodeCopies;
use stmlab::evm::mainnet::load_block_dir;
use stmlab::{execute_block, Executor, Options, Strategy};
use stmlab_workloads as workloads;

fn main() -> Result<(), String> {
    // As `stmlab` itself does (`src/main.rs`, `keep_freed_memory`): mimalloc keeps freed
    // memory (option 15, `mi_option_purge_delay`, -1: never purge).
    // SAFETY: sets an option value; any value is valid for it.
    unsafe { libmimalloc_sys::mi_option_set(15, -1) };
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
    if strategy == "spawn" {
        for _ in 0..5 {
            let start = Instant::now();
            stmlab::core::pool::run_workers(2, |_| ()).map_err(|e| e.to_string())?;
            eprintln!(
                "spawn+join of 2 workers: {:.1} us",
                start.elapsed().as_secs_f64() * 1e6
            );
        }
        return Ok(());
    }
    if strategy == "pair" {
        // The machine's own ceiling: `threads` long-lived threads each running the block
        // sequentially, `runs` times, started together at every run (warm heaps), against
        // the same runs on one thread alone.
        let n: usize = threads.parse().map_err(|e| format!("threads: {e}"))?;
        let runs: usize = runs.parse::<usize>().map_err(|e| e.to_string())?;
        let copies = ThreadCodeCopies::new(&state);
        let time = || {
            let start = Instant::now();
            execute_block(&block, &copies, Strategy::Sequential, 1).expect("sequential runs");
            start.elapsed().as_secs_f64() * 1e3
        };
        let mut alone: Vec<f64> = (0..runs).map(|_| time()).collect();
        let barrier = std::sync::Barrier::new(n);
        let mut together: Vec<f64> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..n)
                .map(|_| {
                    s.spawn(|| {
                        (0..runs)
                            .map(|_| {
                                barrier.wait();
                                time()
                            })
                            .collect::<Vec<f64>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        alone.sort_by(f64::total_cmp);
        together.sort_by(f64::total_cmp);
        let (a, t) = (alone[alone.len() / 2], together[together.len() / 2]);
        eprintln!(
            "pair x{n}: alone {a:.3} ms, each of {n} at once {t:.3} ms: ceiling {:.2}x",
            n as f64 * a / t
        );
        return Ok(());
    }
    let strategy: Strategy = strategy.parse()?;
    let threads: usize = threads.parse().map_err(|e| format!("threads: {e}"))?;
    let runs: usize = runs.parse().map_err(|e| format!("runs: {e}"))?;
    // Raw: the strategy itself, never the adaptive choice of sequential execution. One
    // executor for every run, as a node keeps one.
    let executor = Executor::with_options(threads, Options::RAW).map_err(|e| e.to_string())?;
    eprintln!(
        "executor started in {:.1} us",
        executor.startup().as_secs_f64() * 1e6
    );
    for _ in 0..runs {
        let start = Instant::now();
        let run = executor
            .execute(&block, &state, strategy)
            .map_err(|e| e.to_string())?;
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
