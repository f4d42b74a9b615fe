//! `stmlab simulate`: predicted wall time, speedup, executions and aborts of each strategy
//! on `N` virtual workers (`sim::simulate`), from a recording of each block (`sim::record`);
//! with `--check`, the same blocks measured for real at 1 and 2 threads and the prediction
//! error reported; with `--plots`, the scaling charts.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use serde::Serialize;

use super::analyze::{command_line, load_groups, location_kind, write_json, Group};
use super::inputs::Input;
use super::machine::tree_dirty;
use super::machine::Machine;
use super::parse_threads;
use crate::chart::{draw_scaling, ScalingChart};
use stmlab::evm::state::NoError;
use stmlab::{execute_block, execute_block_with, Options, Strategy};
use stmlab_sim::record::{CostModel, RecordOptions};
use stmlab_sim::record_block;
use stmlab_sim::{analyze_with, simulate, simulate_uncalibrated, Analysis, Prediction, TxnCost};

#[derive(Args, Debug)]
pub struct SimulateArgs {
    /// A block folder, or a folder of block folders (repeatable; a folder of several
    /// blocks also gets aggregate lines: the blocks run one after the other).
    #[arg(long, required_unless_present = "workload")]
    pub block: Vec<PathBuf>,
    /// A workload spec, e.g. erc20:txs=5000,hot=0.1 (repeatable).
    #[arg(long)]
    pub workload: Vec<String>,
    /// One strategy, a comma-separated list, or all.
    #[arg(long, default_value = "all")]
    pub strategy: String,
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

/// One line of output: a prediction with the block's bound beside it.
#[derive(Clone, Debug, Serialize)]
pub struct SimRow {
    #[serde(flatten)]
    pub prediction: Prediction,
    /// "block", or "aggregate" (the blocks of a folder one after the other).
    pub kind: &'static str,
    /// The measured sequential wall time the speedup is over (recorded with the costs).
    pub sequential_ns: u64,
    pub total_cost_ns: u64,
    pub critical_path_ns: u64,
    pub speedup_bound: f64,
}

/// One measured point against its prediction.
#[derive(Clone, Debug, Serialize)]
pub struct CheckRow {
    pub block: String,
    pub kind: &'static str,
    pub strategy: Strategy,
    pub threads: usize,
    pub predicted_wall_ns: u64,
    /// Median over the repeats.
    pub measured_wall_ns: u64,
    pub measured_wall_ns_min: u64,
    pub measured_wall_ns_max: u64,
    /// `predicted / measured - 1`.
    pub error: f64,
    /// `predicted / fastest run - 1`: interference from the host or other processes only
    /// ever slows a run down, so the fastest run is the least disturbed one.
    pub error_vs_fastest: f64,
    /// The bottom-up model without its one-thread calibration, and its error.
    pub uncalibrated_wall_ns: u64,
    pub uncalibrated_error: f64,
    /// Minor page faults per measured run (median; Linux only): the simulator models none,
    /// and one costs about 2 µs in this VM.
    pub measured_minor_faults: Option<u64>,
    /// Per phase: predicted, and measured (median over the repeats).
    pub predicted_phases: Vec<(&'static str, u64)>,
    pub measured_phases: Vec<(&'static str, u64)>,
    pub predicted_speedup: f64,
    /// The check's own sequential median over this strategy's median.
    pub measured_speedup: f64,
    pub predicted_executions: u64,
    pub measured_executions: u64,
    pub predicted_aborts: u64,
    pub measured_aborts: u64,
}

/// The error over a group (one workload, or a folder of blocks).
#[derive(Clone, Debug, Serialize)]
pub struct CheckSummary {
    pub group: String,
    pub strategy: Strategy,
    pub threads: usize,
    pub blocks: usize,
    /// `sum(predicted) / sum(measured) - 1`: the group's total wall time.
    pub error_of_total: f64,
    /// The same against the fastest run of every point.
    pub error_of_total_vs_fastest: f64,
    /// Per block, `predicted / measured - 1`: median, and the median and largest
    /// magnitude.
    pub median_error: f64,
    pub median_abs_error: f64,
    pub max_abs_error: f64,
    /// The same for the uncalibrated model.
    pub uncalibrated_error_of_total: f64,
    pub uncalibrated_median_abs_error: f64,
}

#[derive(Serialize)]
struct InputInfo {
    block: String,
    group: String,
    txs: usize,
    model: CostModel,
    /// See `sim::record::BlockRecord::prefix_mismatches`.
    prefix_mismatches: usize,
    /// The per-transaction costs summed over the block.
    cost_sums: TxnCost,
    analysis: Analysis,
}

#[derive(Serialize)]
struct SimulateFile<'a> {
    machine: Machine,
    tree_dirty: bool,
    command: String,
    passes: usize,
    threads: &'a [usize],
    notes: &'static str,
    inputs: &'a [InputInfo],
    /// Group aggregates' analyses.
    aggregates: &'a [Analysis],
    rows: &'a [SimRow],
}

#[derive(Serialize)]
struct CheckFile<'a> {
    machine: Machine,
    tree_dirty: bool,
    command: String,
    passes: usize,
    repeat: usize,
    threads: &'a [usize],
    notes: &'static str,
    /// `/proc/loadavg` before and after (other work on the machine skews 2-thread runs).
    load_before: String,
    load_after: String,
    /// What two threads get on this machine, before the check: see [`MachineProbe`].
    machine_probe: MachineProbe,
    /// Per input: the EVM alone on two threads.
    evm_probes: &'a [EvmProbe],
    summary: &'a [CheckSummary],
    rows: &'a [CheckRow],
}

/// Parallel efficiency on two threads: the time one thread takes for one unit of work
/// over the time two threads take for one unit each (1.0: two cores in full). Median of
/// five tries.
#[derive(Serialize)]
struct MachineProbe {
    /// Arithmetic in registers, 6 ms per thread, right after both cores were busy.
    compute: f64,
    /// The same in 1 ms bursts, each after 10 ms of idling: in this VM an idle virtual
    /// CPU takes up to about a millisecond to be running again, which short parallel
    /// phases (small blocks) pay and the simulator does not model.
    compute_1ms_after_idle: f64,
    /// Building and dropping small hash maps of small vectors (the allocator, caches).
    alloc_hash: f64,
}

#[derive(Serialize)]
struct EvmProbe {
    block: String,
    /// Pure compute on two threads right before and right after this input's measured
    /// runs (see [`MachineProbe`]): below 1 when the host did not give this machine two
    /// full cores at the time.
    compute_two_thread_efficiency: f64,
    compute_two_thread_efficiency_after: f64,
    /// Seconds waited, before measuring, for the machine to give two cores again, and
    /// how many times the input was measured (again when the probe after a measurement
    /// found a core missing).
    waited_s: u64,
    attempts: usize,
    /// The block's transactions executed against the pre-block state (`EvmTxns`), by
    /// one thread, then split between two (even and odd), nothing shared but the
    /// read-only state: the EVM's own two-thread efficiency, `t1 / (2 * t2)`.
    evm_two_thread_efficiency: f64,
}

/// Below this two-thread efficiency of pure compute, the machine is taken not to give two
/// cores.
const TWO_CORES: f64 = 0.8;
/// How long the check waits for two cores before an input, in 2-second steps.
const MAX_WAITS: u64 = 20;
/// Measurements of one input, at most.
const MAX_ATTEMPTS: usize = 3;

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Keeps both cores busy for a moment, so neither is idle when a probe starts.
fn warm_up() {
    let _ = stmlab::core::pool::run_workers(2, |_| {
        let start = Instant::now();
        while start.elapsed().as_millis() < 20 {
            std::hint::spin_loop();
        }
    });
}

/// The two-thread efficiency `t1 / t2` of `work(1)` on one thread against `work(2)` on
/// each of two (`work` takes the number of threads sharing the job and the worker's
/// index), median of `tries`; `idle_ms` of sleep before each timed run.
fn two_thread_efficiency(tries: usize, idle_ms: u64, work: impl Fn(usize, usize) + Sync) -> f64 {
    let mut effs: Vec<f64> = (0..tries)
        .map(|_| {
            let mut t = [0f64; 2];
            for (i, threads) in [1usize, 2].into_iter().enumerate() {
                std::thread::sleep(std::time::Duration::from_millis(idle_ms));
                let start = Instant::now();
                let _ = stmlab::core::pool::run_workers(threads, |w| work(threads, w));
                t[i] = start.elapsed().as_secs_f64();
            }
            t[0] / t[1]
        })
        .collect();
    effs.sort_by(f64::total_cmp);
    effs[effs.len() / 2]
}

/// `iters` multiply-adds, the same on every thread.
fn spin(iters: u64) -> impl Fn(usize, usize) + Sync {
    move |_, _| {
        let mut x = 1u64;
        for i in 0..iters {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(i);
        }
        std::hint::black_box(x);
    }
}

fn compute_probe(tries: usize) -> f64 {
    warm_up();
    two_thread_efficiency(tries, 0, spin(20_000_000))
}

fn machine_probe() -> MachineProbe {
    use std::hint::black_box;
    let compute = compute_probe(5);
    let compute_1ms_after_idle = two_thread_efficiency(5, 10, spin(3_300_000));
    warm_up();
    MachineProbe {
        compute,
        compute_1ms_after_idle,
        alloc_hash: two_thread_efficiency(5, 0, |_, w| {
            let mut total = 0usize;
            for r in 0..150u64 {
                let mut m: std::collections::HashMap<u64, Vec<u8>> = Default::default();
                for i in 0..1000u64 {
                    m.insert(i * 7919 + r * w as u64, vec![i as u8; 64]);
                }
                total += m.len();
            }
            black_box(total);
        }),
    }
}

/// Probes until the machine gives two cores (or `MAX_WAITS` steps have passed): the
/// last probe's efficiency and the seconds waited.
fn wait_for_two_cores() -> (f64, u64) {
    let mut waited = 0;
    loop {
        let e = compute_probe(3);
        if e >= TWO_CORES || waited >= 2 * MAX_WAITS {
            return (e, waited);
        }
        std::thread::sleep(std::time::Duration::from_secs(2));
        waited += 2;
    }
}

fn evm_efficiency(input: &Input) -> f64 {
    use stmlab::core::read_set::{ReadSet, RecordingView};
    use stmlab::core::txn::{ReadResult, TxnExecutor};
    use stmlab::evm::executor::EvmTxns;
    use stmlab::evm::location::Location;
    let txns = EvmTxns::new(&input.block, &input.state);
    warm_up();
    // Two threads share one block's worth of work: efficiency is t1 / (2 * t2).
    0.5 * two_thread_efficiency(3, 0, |threads, w| {
        for j in (w..txns.num_txns()).step_by(threads) {
            let mut reads = ReadSet::default();
            let mut view = RecordingView::new(|_: &Location| ReadResult::Base, &mut reads);
            std::hint::black_box(txns.execute(j, &mut view));
        }
    })
}

/// The check's measurements of one input, taken when the machine gives two cores (see
/// [`EvmProbe`]).
fn measure_on_two_cores(
    input: &Input,
    strategies: &[Strategy],
    threads: &[usize],
    repeat: usize,
) -> Result<(EvmProbe, SeqTimes, Vec<Measured>), String> {
    let mut waited_s = 0;
    let mut attempts = 0;
    loop {
        let (before, waited) = wait_for_two_cores();
        waited_s += waited;
        attempts += 1;
        let evm = evm_efficiency(input);
        let (seq, measured) = measure(input, strategies, threads, repeat)?;
        let after = compute_probe(3);
        let ok = before >= TWO_CORES && after >= TWO_CORES;
        if ok || attempts >= MAX_ATTEMPTS {
            if !ok {
                eprintln!(
                    "warning: {}: two threads of pure compute ran at {:.0}% / {:.0}% efficiency before / after this input's runs: the machine did not give two full cores, so its 2-thread errors say more about the machine than about the simulator",
                    input.label,
                    before * 100.0,
                    after * 100.0
                );
            }
            let probe = EvmProbe {
                block: input.label.clone(),
                compute_two_thread_efficiency: before,
                compute_two_thread_efficiency_after: after,
                waited_s,
                attempts,
                evm_two_thread_efficiency: evm,
            };
            return Ok((probe, seq, measured));
        }
    }
}

const NOTES: &str = "Predictions of the discrete-event simulator (crates/sim/src/simulate.rs) from costs \
recorded on this machine (crates/sim/src/record.rs): executions cost their measured single-threaded \
cost through the strategy's kind of view plus measured per-task overheads; serial phases cost \
what the production code spends on them at one thread; memory contention is not modelled. \
predicted_speedup = measured sequential wall time / predicted wall time. See papers/report.md, section 7.";

const CHECK_NOTES: &str = "error = predicted / measured - 1, per (block, strategy, threads). \
Measured: execute_block, `repeat` interleaved runs (sequential, then every strategy at every \
check thread count, per round), median. The sequential row compares the sequential time \
recorded with the costs to the one measured in the check: the machine's own drift. \
Nothing is fitted to these measurements: the cost model's constants are all measured before, \
single-threaded, on the same block (see papers/report.md, section 7).";

fn aggregate_prediction(label: &str, rows: &[&SimRow]) -> Prediction {
    let first = &rows[0].prediction;
    let wall: u64 = rows.iter().map(|r| r.prediction.predicted_wall_ns).sum();
    let seq: u64 = rows.iter().map(|r| r.sequential_ns).sum();
    let sum = |f: fn(&Prediction) -> u64| rows.iter().map(|r| f(&r.prediction)).sum::<u64>();
    Prediction {
        block: label.to_string(),
        strategy: first.strategy,
        threads: first.threads,
        txs: rows.iter().map(|r| r.prediction.txs).sum(),
        predicted_wall_ns: wall,
        predicted_speedup: seq as f64 / wall.max(1) as f64,
        predicted_executions: sum(|p| p.predicted_executions),
        predicted_validations: sum(|p| p.predicted_validations),
        predicted_aborts: sum(|p| p.predicted_aborts),
        predicted_suspensions: sum(|p| p.predicted_suspensions),
        predicted_repairs: sum(|p| p.predicted_repairs),
        phases: Vec::new(),
    }
}

fn median(v: &mut [u64]) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

/// This process's minor page faults so far (Linux).
fn minor_faults() -> Option<u64> {
    std::fs::read_to_string("/proc/self/stat")
        .ok()?
        .rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(7)?
        .parse()
        .ok()
}

/// The sequential baseline's median, fastest and slowest run.
type SeqTimes = (u64, u64, u64);

/// One measured (strategy, threads) point.
struct Measured {
    strategy: Strategy,
    threads: usize,
    median: u64,
    min: u64,
    max: u64,
    executions: u64,
    aborts: u64,
    faults: Option<u64>,
    phases: Vec<(&'static str, u64)>,
}

/// Real runs of `input`: sequential once per round, then every strategy at every thread
/// count, `repeat` rounds. Returns the sequential median and every point.
fn measure(
    input: &Input,
    strategies: &[Strategy],
    threads: &[usize],
    repeat: usize,
) -> Result<(SeqTimes, Vec<Measured>), String> {
    let err = |e: stmlab::ExecuteError<NoError>| format!("{}: {e}", input.label);
    let mut seq = Vec::new();
    let points: Vec<(Strategy, usize)> = threads
        .iter()
        .flat_map(|&t| strategies.iter().map(move |&s| (s, t)))
        .collect();
    let mut times = vec![Vec::new(); points.len()];
    let mut faults = vec![Vec::new(); points.len()];
    let mut phases: Vec<Vec<(&'static str, Vec<u64>)>> = vec![Vec::new(); points.len()];
    let mut last = vec![(0, 0); points.len()];
    for round in 0..repeat {
        let start = Instant::now();
        let run =
            execute_block(&input.block, &input.state, Strategy::Sequential, 1).map_err(err)?;
        seq.push(start.elapsed().as_nanos() as u64);
        // Dropped after the clock stops, as the points' outputs are.
        drop(run);
        // The order rotates from round to round, so no point always runs right after the
        // sequential baseline (or another point).
        for k in 0..points.len() {
            let i = (k + round) % points.len();
            let (s, t) = points[i];
            let f0 = minor_faults();
            let start = Instant::now();
            let raw = Options { adaptive: false };
            let run = execute_block_with(&input.block, &input.state, s, t, raw).map_err(err)?;
            times[i].push(start.elapsed().as_nanos() as u64);
            if let (Some(a), Some(b)) = (f0, minor_faults()) {
                faults[i].push(b.saturating_sub(a));
            }
            if run.metrics.fell_back.is_some() {
                return Err(format!(
                    "{}: {s} at {t} threads fell back to sequential",
                    input.label
                ));
            }
            last[i] = (run.metrics.executions, run.metrics.aborts);
            for (name, d) in &run.metrics.phases {
                let slot = match phases[i].iter().position(|(p, _)| p == name) {
                    Some(at) => at,
                    None => {
                        phases[i].push((name, Vec::new()));
                        phases[i].len() - 1
                    }
                };
                phases[i][slot].1.push(d.as_nanos() as u64);
            }
        }
    }
    let seq_median = median(&mut seq);
    let seq_range = (seq_median, seq[0], seq[seq.len() - 1]);
    let rows = points
        .iter()
        .enumerate()
        .map(|(i, &(s, t))| {
            let v = &mut times[i];
            let m = median(v);
            Measured {
                strategy: s,
                threads: t,
                median: m,
                min: v[0],
                max: v[v.len() - 1],
                executions: last[i].0,
                aborts: last[i].1,
                faults: (!faults[i].is_empty()).then(|| median(&mut faults[i])),
                phases: phases[i]
                    .iter_mut()
                    .map(|(name, v)| (*name, median(v)))
                    .collect(),
            }
        })
        .collect();
    Ok((seq_range, rows))
}

fn summarize(group: &str, rows: &[&CheckRow]) -> CheckSummary {
    let first = rows[0];
    let pred: u64 = rows.iter().map(|r| r.predicted_wall_ns).sum();
    let meas: u64 = rows.iter().map(|r| r.measured_wall_ns).sum();
    let mut errors: Vec<f64> = rows.iter().map(|r| r.error).collect();
    errors.sort_by(f64::total_cmp);
    let mut abs: Vec<f64> = errors.iter().map(|e| e.abs()).collect();
    abs.sort_by(f64::total_cmp);
    let fastest: u64 = rows.iter().map(|r| r.measured_wall_ns_min).sum();
    let unc: u64 = rows.iter().map(|r| r.uncalibrated_wall_ns).sum();
    let mut unc_abs: Vec<f64> = rows.iter().map(|r| r.uncalibrated_error.abs()).collect();
    unc_abs.sort_by(f64::total_cmp);
    CheckSummary {
        group: group.to_string(),
        strategy: first.strategy,
        threads: first.threads,
        blocks: rows.len(),
        error_of_total: pred as f64 / meas.max(1) as f64 - 1.0,
        error_of_total_vs_fastest: pred as f64 / fastest.max(1) as f64 - 1.0,
        median_error: errors[errors.len() / 2],
        median_abs_error: abs[abs.len() / 2],
        max_abs_error: abs[abs.len() - 1],
        uncalibrated_error_of_total: unc as f64 / meas.max(1) as f64 - 1.0,
        uncalibrated_median_abs_error: unc_abs[unc_abs.len() / 2],
    }
}

fn print_predictions(rows: &[SimRow], threads: &[usize]) {
    print!("{:<44} {:<11}", "block", "strategy");
    for t in threads {
        print!(" {:>7}", format!("{t}T"));
    }
    println!(" {:>8}", "bound");
    let mut by: BTreeMap<(usize, String, Strategy), Vec<&SimRow>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        let first = rows
            .iter()
            .position(|x| x.prediction.block == r.prediction.block)
            .unwrap_or(i);
        by.entry((first, r.prediction.block.clone(), r.prediction.strategy))
            .or_default()
            .push(r);
    }
    for ((_, block, strategy), list) in by {
        let label = if block.len() > 44 {
            &block[..44]
        } else {
            &block
        };
        print!("{label:<44} {:<11}", strategy.name());
        for t in threads {
            match list.iter().find(|r| r.prediction.threads == *t) {
                Some(r) => print!(" {:>6.2}x", r.prediction.predicted_speedup),
                None => print!(" {:>7}", "-"),
            }
        }
        println!(" {:>7.1}x", list[0].speedup_bound);
    }
}

fn print_check(summary: &[CheckSummary]) {
    println!(
        "{:<44} {:<11} {:>3} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "group",
        "strategy",
        "thr",
        "blocks",
        "err total",
        "med |err|",
        "max |err|",
        "uncal err",
        "vs fastest"
    );
    for s in summary {
        let label = if s.group.len() > 44 {
            &s.group[..44]
        } else {
            &s.group
        };
        println!(
            "{:<44} {:<11} {:>3} {:>6} {:>+8.1}% {:>8.1}% {:>8.1}% {:>+8.1}% {:>+8.1}%",
            label,
            s.strategy.name(),
            s.threads,
            s.blocks,
            s.error_of_total * 100.0,
            s.median_abs_error * 100.0,
            s.max_abs_error * 100.0,
            s.uncalibrated_error_of_total * 100.0,
            s.error_of_total_vs_fastest * 100.0
        );
    }
}

/// A file name part from a label: `transfers:txs=10,hot=0.1` → `transfers_txs-10_hot-0.1`.
fn slug(label: &str) -> String {
    label
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' => c,
            '=' => '-',
            _ => '_',
        })
        .collect()
}

pub fn run(args: &SimulateArgs) -> Result<bool, String> {
    let strategies = Strategy::parse_list(&args.strategy)?;
    let threads = parse_threads(&args.threads)?;
    let check_threads = parse_threads(&args.check_threads)?;
    if args.passes == 0 || args.repeat == 0 {
        return Err("--passes and --repeat must be at least 1".into());
    }
    let groups: Vec<Group> = load_groups(&args.block, &args.workload)?;
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
    let load_before = load_average();
    let probe = args.check.then(machine_probe);
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
            let mut rec = record_block(&input.block, &input.state, &opts)
                .map_err(|e| format!("{}: {e}", input.label))?;
            // The label given on the command line (a generator may spell its spec out).
            rec.label = input.label.clone();
            let analysis = analyze_with(&input.label, &rec.txns, location_kind);
            let mut mine = Vec::new();
            for &s in &strategies {
                for &t in &threads {
                    let p = simulate(&rec, s, t)
                        .map_err(|e| format!("{}: {s} at {t}: {e}", input.label))?;
                    let row = SimRow {
                        prediction: p,
                        kind: "block",
                        sequential_ns: rec.model.sequential_ns,
                        total_cost_ns: analysis.total_cost_ns,
                        critical_path_ns: analysis.critical_path_ns,
                        speedup_bound: analysis.speedup_bound,
                    };
                    if args.json {
                        println!("{}", serde_json::to_string(&row).expect("rows serialize"));
                    }
                    mine.push(row);
                }
            }
            if args.check {
                let (probe, (seq, seq_min, seq_max), measured) =
                    measure_on_two_cores(input, &parallel, &check_threads, args.repeat)?;
                evm_probes.push(probe);
                let seq_row = CheckRow {
                    block: input.label.clone(),
                    kind: "block",
                    strategy: Strategy::Sequential,
                    threads: 1,
                    predicted_wall_ns: rec.model.sequential_ns,
                    measured_wall_ns: seq,
                    measured_wall_ns_min: seq_min,
                    measured_wall_ns_max: seq_max,
                    error: rec.model.sequential_ns as f64 / seq.max(1) as f64 - 1.0,
                    error_vs_fastest: rec.model.sequential_ns as f64 / seq_min.max(1) as f64 - 1.0,
                    uncalibrated_wall_ns: rec.model.sequential_ns,
                    uncalibrated_error: rec.model.sequential_ns as f64 / seq.max(1) as f64 - 1.0,
                    measured_minor_faults: None,
                    predicted_phases: Vec::new(),
                    measured_phases: Vec::new(),
                    predicted_speedup: 1.0,
                    measured_speedup: 1.0,
                    predicted_executions: input.block.txs.len() as u64,
                    measured_executions: input.block.txs.len() as u64,
                    predicted_aborts: 0,
                    measured_aborts: 0,
                };
                group_checks.push(seq_row);
                for point in measured {
                    let (s, t, wall) = (point.strategy, point.threads, point.median);
                    let unc = simulate_uncalibrated(&rec, s, t)
                        .map_err(|e| format!("{}: {e}", input.label))?;
                    let p = match mine
                        .iter()
                        .find(|r| r.prediction.strategy == s && r.prediction.threads == t)
                    {
                        Some(r) => r.prediction.clone(),
                        None => {
                            simulate(&rec, s, t).map_err(|e| format!("{}: {e}", input.label))?
                        }
                    };
                    group_checks.push(CheckRow {
                        block: input.label.clone(),
                        kind: "block",
                        strategy: s,
                        threads: t,
                        predicted_wall_ns: p.predicted_wall_ns,
                        measured_wall_ns: wall,
                        measured_wall_ns_min: point.min,
                        measured_wall_ns_max: point.max,
                        error: p.predicted_wall_ns as f64 / wall.max(1) as f64 - 1.0,
                        error_vs_fastest: p.predicted_wall_ns as f64 / point.min.max(1) as f64
                            - 1.0,
                        uncalibrated_wall_ns: unc.predicted_wall_ns,
                        uncalibrated_error: unc.predicted_wall_ns as f64 / wall.max(1) as f64 - 1.0,
                        measured_minor_faults: point.faults,
                        predicted_phases: p.phases.clone(),
                        measured_phases: point.phases,
                        predicted_speedup: p.predicted_speedup,
                        measured_speedup: seq as f64 / wall.max(1) as f64,
                        predicted_executions: p.predicted_executions,
                        measured_executions: point.executions,
                        predicted_aborts: p.predicted_aborts,
                        measured_aborts: point.aborts,
                    });
                }
            }
            infos.push(InputInfo {
                block: input.label.clone(),
                group: group.label.clone(),
                txs: input.block.txs.len(),
                model: rec.model.clone(),
                prefix_mismatches: rec.prefix_mismatches,
                cost_sums: rec.txns.iter().fold(TxnCost::default(), |a, t| TxnCost {
                    exec_ns: a.exec_ns + t.cost.exec_ns,
                    base_exec_ns: a.base_exec_ns + t.cost.base_exec_ns,
                    mv_exec_ns: a.mv_exec_ns + t.cost.mv_exec_ns,
                    mv_record_ns: a.mv_record_ns + t.cost.mv_record_ns,
                    mv_validate_ns: a.mv_validate_ns + t.cost.mv_validate_ns,
                }),
                analysis: analysis.clone(),
            });
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
        let mut curve_rows: Vec<SimRow> = Vec::new();
        if several {
            for &s in &strategies {
                for &t in &threads {
                    let list: Vec<&SimRow> = group_rows
                        .iter()
                        .filter(|r| r.prediction.strategy == s && r.prediction.threads == t)
                        .collect();
                    let row = SimRow {
                        prediction: aggregate_prediction(&group.label, &list),
                        kind: "aggregate",
                        sequential_ns: list.iter().map(|r| r.sequential_ns).sum(),
                        total_cost_ns: group_analysis.total_cost_ns,
                        critical_path_ns: group_analysis.critical_path_ns,
                        speedup_bound: group_analysis.speedup_bound,
                    };
                    if args.json {
                        println!("{}", serde_json::to_string(&row).expect("rows serialize"));
                    }
                    curve_rows.push(row);
                }
            }
        } else {
            curve_rows = group_rows.clone();
        }
        // The check's summary per (strategy, threads) over the group.
        let mut measured_curves: BTreeMap<Strategy, Vec<(usize, f64)>> = BTreeMap::new();
        if args.check {
            let mut keys: Vec<(Strategy, usize)> = group_checks
                .iter()
                .map(|c| (c.strategy, c.threads))
                .collect();
            keys.sort();
            keys.dedup();
            for (s, t) in keys {
                let list: Vec<&CheckRow> = group_checks
                    .iter()
                    .filter(|c| c.strategy == s && c.threads == t)
                    .collect();
                summary.push(summarize(&group.label, &list));
                if s != Strategy::Sequential {
                    // Measured speedup of the group: total sequential over total wall.
                    let seq: u64 = group_checks
                        .iter()
                        .filter(|c| c.strategy == Strategy::Sequential)
                        .map(|c| c.measured_wall_ns)
                        .sum();
                    let wall: u64 = list.iter().map(|c| c.measured_wall_ns).sum();
                    measured_curves
                        .entry(s)
                        .or_default()
                        .push((t, seq as f64 / wall.max(1) as f64));
                }
            }
        }
        if let Some(dir) = &args.plots {
            let predicted = parallel
                .iter()
                .map(|&s| {
                    let pts = curve_rows
                        .iter()
                        .filter(|r| r.prediction.strategy == s)
                        .map(|r| (r.prediction.threads, r.prediction.predicted_speedup))
                        .collect();
                    (s.name().to_string(), pts)
                })
                .collect();
            let measured = measured_curves
                .into_iter()
                .map(|(s, pts)| (s.name().to_string(), pts))
                .collect();
            let (title, name) = if several {
                (
                    format!(
                        "Predicted scaling: {} ({} blocks, {} txs)",
                        group.name,
                        group.inputs.len(),
                        group_analysis.txs
                    ),
                    group.name.clone(),
                )
            } else {
                (
                    format!("Predicted scaling: {}", group.inputs[0].label),
                    group.inputs[0].label.clone(),
                )
            };
            let measured_note = if args.check {
                format!(
                    "; hollow markers: measured here (median of {} runs)",
                    args.repeat
                )
            } else {
                String::new()
            };
            let chart = ScalingChart {
                title,
                subtitle: vec![
                    format!(
                        "simulated from costs recorded on {} ({} cores), commit {}",
                        machine.cpu_model, machine.cores, machine.commit
                    ),
                    format!("speedup over plain sequential revm{measured_note}"),
                ],
                bound: group_analysis.speedup_bound,
                predicted,
                measured,
            };
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let path = dir.join(format!("scaling_{}.png", slug(&name)));
            draw_scaling(&path, &chart)?;
            eprintln!("wrote {}", path.display());
        }
        if several {
            rows.extend(group_rows);
            rows.extend(curve_rows);
        } else {
            rows.extend(group_rows);
        }
        checks.extend(group_checks);
    }

    if !args.json {
        print_predictions(&rows, &threads);
    }
    if args.check && !args.json {
        println!();
        print_check(&summary);
    }
    if let Some(out) = &args.out {
        let file = SimulateFile {
            machine: machine.clone(),
            tree_dirty: tree_dirty(),
            command: command_line(),
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
            tree_dirty: tree_dirty(),
            command: command_line(),
            passes: args.passes,
            repeat: args.repeat,
            threads: &check_threads,
            notes: CHECK_NOTES,
            load_before,
            load_after: load_average(),
            machine_probe: probe.expect("probed when checking"),
            evm_probes: &evm_probes,
            summary: &summary,
            rows: &checks,
        };
        write_json(&args.check_out, &file)?;
    }
    Ok(true)
}
