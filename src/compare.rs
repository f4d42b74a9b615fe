//! Runs strategies against sequential execution on the same inputs, interleaved
//! (`measure::interleaved`), and reports medians. Every run's output is compared with
//! sequential execution's.

use serde::Serialize;

use super::inputs::Input;
use super::measure::{interleaved, Order, Spread};
use super::memory;
use stmlab::core::metrics::median;
use stmlab::evm::header::{check_header, HeaderCheck};
use stmlab::evm::post_state::check_post_state;
use stmlab::evm::state::NoError;
use stmlab::{execute_block, ConflictModel, Executor, Options, Strategy};

/// One (block, strategy, threads) point.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub block: String,
    pub strategy: Strategy,
    /// The conflict model the strategy ran under (`--conflicts`). Sequential execution is
    /// plain revm, the same under every model: its rows carry the first model asked for.
    pub conflicts: ConflictModel,
    pub threads: usize,
    pub txs: usize,
    pub gas_used: u64,
    /// Median wall time over the repeats, in nanoseconds.
    pub wall_ns: u64,
    pub wall_ns_min: u64,
    pub wall_ns_max: u64,
    /// How many timed runs the median, min and max are over.
    pub repeats: usize,
    /// Median wall time of sequential execution in the same interleaved run.
    pub sequential_wall_ns: u64,
    /// Median wall time of sequential in the same interleaved run, over this one's.
    pub speedup_vs_sequential: f64,
    /// Transactions and gas per second of median wall time.
    pub txs_per_sec: f64,
    pub gas_per_sec: f64,
    /// Executions (incarnations) per transaction: 1.0 is no wasted work.
    pub executions_per_tx: f64,
    /// The most heap held at once during a run beyond what was live before it, in bytes,
    /// measured in one extra untimed run (see `cli::memory`); `None` unless asked for and
    /// the binary's counting allocator is installed (`stmlab sweep`).
    pub peak_mem_bytes: Option<u64>,
    pub executions: u64,
    pub validations: u64,
    pub aborts: u64,
    /// The aborts by the kind of the first stale read (`Metrics::aborts_by_kind`: the
    /// location kind, or "delta" for a link of a delta chain).
    pub aborts_by_kind: std::collections::BTreeMap<String, u64>,
    pub suspensions: u64,
    /// DAG validation: edges of the dependency graph, its longest chain (in
    /// transactions), the most re-executions one commit released, and the transactions
    /// the repair pass executed again (0 for the other strategies).
    pub dependency_edges: u64,
    pub longest_chain: u64,
    pub max_released: u64,
    pub repairs: u64,
    pub fell_back: bool,
    /// Adaptive mode ran the block sequentially instead (too small, or one sender's
    /// chain); `stmlab run --raw` and `sweep --raw` turn that off.
    pub chose_sequential: bool,
    pub identical_to_sequential: bool,
    pub header_ok: Option<bool>,
    /// The state after the block equals the folder's `post_state.json`; `None` when there
    /// is none.
    pub post_state_ok: Option<bool>,
    /// How long the kept executor of this thread count took to start its threads, once,
    /// before the timed runs (not part of `wall_ns`).
    pub executor_startup_ns: u64,
    /// How long the executor's first run of the block took, untimed otherwise (not part of
    /// `wall_ns`): its worker threads' heaps are faulted in there (on the AMD machine of
    /// 2026-12-02, 10,000 ETH transfers at 2 threads assembled in 36-41 ms in a cold
    /// executor's first three runs, 8-9 ms after).
    #[serde(default)]
    pub executor_first_run_ns: u64,
}

/// The first way a strategy's output differed from sequential execution's.
#[derive(Clone, Debug, Serialize)]
pub struct Mismatch {
    pub block: String,
    pub strategy: Strategy,
    pub conflicts: ConflictModel,
    pub threads: usize,
    pub difference: String,
}

/// Prints each mismatch on stderr, above `bar` (a hidden bar when there is none).
pub fn print_mismatches(mismatches: &[Mismatch], bar: &indicatif::ProgressBar) {
    for mm in mismatches {
        bar.suspend(|| {
            eprintln!(
                "MISMATCH: {} with {} ({} conflicts) at {} threads differs from sequential: {}",
                mm.block, mm.strategy, mm.conflicts, mm.threads, mm.difference
            )
        });
    }
}

/// Runs `strategies` at each of `threads` on `input`, `repeat` times, interleaving
/// sequential and each strategy within every repeat. Every difference from sequential is
/// reported (the first one per strategy and thread count).
pub fn compare(
    input: &Input,
    strategies: &[Strategy],
    threads: &[usize],
    repeat: usize,
    options: Options,
) -> Result<(Vec<Row>, Vec<Mismatch>), String> {
    compare_models(
        input,
        strategies,
        &[options.conflicts],
        threads,
        repeat,
        options.adaptive,
    )
}

/// [`compare`] under each of the conflict models `models`, all interleaved in the same
/// rounds: per round sequential once (the reference, the same under every model), then
/// every (model, strategy) pair, in an order that rotates from round to round. The
/// `sequential` strategy, plain revm whatever the model, runs under the first model only.
///
/// One executor is live at a time (several pools at once would stop their threads from
/// spinning while they wait, `stmlab_core::pool`): with one model it is kept over every
/// round, as a node keeps one; with several, a run of another model than the last one's
/// first builds that model's executor. Either way a new executor first runs the block
/// once, untimed (its time kept as `executor_first_run_ns`), so every timed run is on a
/// warm executor, as the timed sequential runs are on the thread whose reference run
/// warmed it.
pub fn compare_models(
    input: &Input,
    strategies: &[Strategy],
    models: &[ConflictModel],
    threads: &[usize],
    repeat: usize,
    adaptive: bool,
) -> Result<(Vec<Row>, Vec<Mismatch>), String> {
    if models.is_empty() {
        return Err("no conflict model to run".into());
    }
    // The (model, strategy) pairs: model-major, so rotation keeps a model's runs together.
    let pairs: Vec<(ConflictModel, Strategy)> = models
        .iter()
        .enumerate()
        .flat_map(|(i, &m)| {
            strategies
                .iter()
                .filter(move |&&s| i == 0 || s != Strategy::Sequential)
                .map(move |&s| (m, s))
        })
        .collect();
    let options_of = |conflicts| Options {
        adaptive,
        conflicts,
    };
    let mut rows = Vec::new();
    let mut mismatches = Vec::new();
    let err = |e: stmlab::ExecuteError<NoError>| format!("{}: {e}", input.label);
    // The reference output, and the header check on it (outside any timing).
    let reference =
        execute_block(&input.block, &input.state, Strategy::Sequential, 1).map_err(err)?;
    let header_check = check_header(&input.block, &reference.output);
    if header_check.rewards_incomplete() {
        eprintln!("NOTE: block {}: {header_check}", input.label);
    }
    let header_ok = match header_check {
        HeaderCheck::NoHeader => None,
        check => Some(check.is_match()),
    };
    // The post-state check, where the folder has an expected state (`post_state.json`):
    // the first difference is named here, once per input.
    let post_state_ok = input.post_state.as_ref().map(|expected| {
        let difference = check_post_state(
            &input.state,
            &reference.output.state,
            expected,
            input.block.spec,
        );
        if let Some(d) = &difference {
            eprintln!("POST-STATE CHECK FAILED: block {}: {d}", input.label);
        }
        difference.is_none()
    });
    for &t in threads {
        // One executor per thread count (and model), kept over every repeat, as a node
        // keeps one: its threads start untimed (`Executor::startup`).
        let mut current: Option<Executor> = None;
        let mut startup = vec![0u64; pairs.len()];
        let mut first_run: Vec<Option<u64>> = vec![None; pairs.len()];
        // Makes the live executor one of `model`: kept if it is, else built and warmed by
        // one untimed run of `strategy`, whose time and run it returns (the run is checked
        // against the reference like a timed one).
        let executor_for = |model: ConflictModel,
                            strategy: Strategy,
                            current: &mut Option<Executor>|
         -> Result<Option<(u64, stmlab::Executed)>, String> {
            if current
                .as_ref()
                .is_some_and(|e| e.options().conflicts == model)
            {
                return Ok(None);
            }
            // The old pool goes first: one live at a time.
            *current = None;
            let executor =
                Executor::with_options(t, options_of(model)).map_err(|e| err(e.into()))?;
            let start = std::time::Instant::now();
            let run = executor
                .execute(&input.block, &input.state, strategy)
                .map_err(err)?;
            let first = start.elapsed().as_nanos() as u64;
            *current = Some(executor);
            Ok(Some((first, run)))
        };
        let mut last = vec![None; pairs.len()];
        let mut peaks: Vec<Option<u64>> = vec![None; pairs.len()];
        let mut identical = vec![true; pairs.len()];
        // Slot 0 is the sequential baseline, slot s + 1 pair s, all of them rotated
        // from repeat to repeat, so no run is always first (or always after the same one):
        // whatever the position costs (warm caches, allocator state) is spread over all.
        let mut samples = interleaved(
            pairs.len() + 1,
            repeat,
            Order::ROTATING,
            |slot, stopwatch| -> Result<(), String> {
                if slot == 0 {
                    let run = stopwatch
                        .time(|| execute_block(&input.block, &input.state, Strategy::Sequential, 1))
                        .map_err(err)?;
                    // Dropped after the clock stops, as the strategies' outputs are.
                    drop(run);
                    return Ok(());
                }
                let (s, (model, strategy)) = (slot - 1, pairs[slot - 1]);
                // Every run's output, untimed warm-up runs too, against the reference.
                let mut check = |output: &stmlab::evm::output::BlockOutput| {
                    if let Some(difference) = output.first_difference(&reference.output) {
                        if identical[s] {
                            mismatches.push(Mismatch {
                                block: input.label.clone(),
                                strategy,
                                conflicts: model,
                                threads: t,
                                difference,
                            });
                        }
                        identical[s] = false;
                    }
                };
                if let Some((first, run)) = executor_for(model, strategy, &mut current)? {
                    check(&run.output);
                    // The first of this pair's executors (a pair of several models may
                    // build one per round): what a node pays once.
                    first_run[s].get_or_insert(first);
                }
                let executor = current.as_ref().expect("just built");
                startup[s] = executor.startup().as_nanos() as u64;
                let run = stopwatch
                    .time(|| executor.execute(&input.block, &input.state, strategy))
                    .map_err(err)?;
                check(&run.output);
                last[s] = Some(run);
                Ok(())
            },
        )?;
        // Peak memory: one more run of each strategy, untimed, with the allocator counting
        // (counting slows allocation, so it is off during the timed runs above).
        if memory::wanted() {
            for (s, &(model, strategy)) in pairs.iter().enumerate() {
                executor_for(model, strategy, &mut current)?;
                let executor = current.as_ref().expect("just built");
                memory::set_counting(true);
                memory::reset_peak();
                let run = executor.execute(&input.block, &input.state, strategy);
                // Read while the output is still held: it is part of what the run needs.
                peaks[s] = memory::peak_since_reset();
                drop(run);
                memory::set_counting(false);
            }
        }
        let seq_median = median(&mut samples[0]);
        drop(current);
        for (s, &(model, strategy)) in pairs.iter().enumerate() {
            let run = last[s].take().expect("at least one repeat ran");
            let times = Spread::of(&mut samples[s + 1]);
            let wall = times.median;
            let txs = input.block.txs.len();
            let gas_used = run.output.gas_used();
            let secs = wall.max(1) as f64 / 1e9;
            rows.push(Row {
                block: input.label.clone(),
                strategy,
                conflicts: model,
                threads: t,
                txs,
                gas_used,
                wall_ns: wall,
                wall_ns_min: times.min,
                wall_ns_max: times.max,
                repeats: times.runs,
                sequential_wall_ns: seq_median,
                speedup_vs_sequential: seq_median as f64 / wall.max(1) as f64,
                txs_per_sec: txs as f64 / secs,
                gas_per_sec: gas_used as f64 / secs,
                executions_per_tx: run.metrics.executions as f64 / txs.max(1) as f64,
                peak_mem_bytes: peaks[s],
                executions: run.metrics.executions,
                validations: run.metrics.validations,
                aborts: run.metrics.aborts,
                aborts_by_kind: run
                    .metrics
                    .aborts_by_kind
                    .iter()
                    .map(|(k, v)| (k.to_string(), *v))
                    .collect(),
                suspensions: run.metrics.suspensions,
                dependency_edges: run.metrics.dependency_edges,
                longest_chain: run.metrics.longest_chain,
                max_released: run.metrics.max_released,
                repairs: run.metrics.repairs,
                fell_back: run.metrics.fell_back.is_some(),
                chose_sequential: run.metrics.chose_sequential.is_some(),
                identical_to_sequential: identical[s],
                header_ok,
                post_state_ok,
                executor_startup_ns: startup[s],
                // Every pair builds an executor before its first timed run.
                executor_first_run_ns: first_run[s].unwrap_or_default(),
            });
        }
    }
    Ok((rows, mismatches))
}
