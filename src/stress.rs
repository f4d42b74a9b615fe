//! `stmlab stress`: every input again and again, under varied thread counts and (in a
//! `--features perturb` build) perturbed schedules, every output compared with
//! sequential's, with a watchdog for runs that stop making progress.
//!
//! Run `i` of a stress run uses seed `seed + i`: it picks the input, the strategy and the
//! thread count from that seed and perturbs the schedule with it, so the command printed
//! for a failure (one input, one strategy, one thread count, `--runs 1 --seed` that seed)
//! runs exactly that case again: the same choices and the same perturbation decisions
//! (the operating system's scheduling around them still varies).
//!
//! The runs happen on a runner thread, watched from the calling one. A run whose progress
//! count (finished tasks, `stmlab::perturb::progress`) stops moving for `--stall-seconds`
//! (without the feature, which counts nothing: a run longer than that) is a hang: the
//! watchdog cancels it (every perturbation point then unwinds, and Block-STM notes its
//! scheduler's state on the way out), reports it with its seed, and goes on; a runner
//! that does not come back even then is abandoned for a fresh one.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use serde::Serialize;

use super::conflicts::{models_arg, Models};
use super::inputs::{self, parse_threads, Input};
use super::machine::Machine;
use stmlab::evm::output::BlockOutput;
use stmlab::{perturb, ConflictModel, EngineError, Executor, Invariant, Options, Strategy};

#[derive(Args, Debug)]
pub struct StressArgs {
    /// A block folder, or a folder of block folders (repeatable).
    #[arg(long)]
    pub block: Vec<PathBuf>,
    /// A workload spec (repeatable).
    #[arg(long)]
    pub workload: Vec<String>,
    /// The parallel strategies to stress: one, a comma-separated list, or all.
    #[arg(long, default_value = "all")]
    pub strategy: String,
    /// Conflict models to draw from: one, a comma-separated list, or all.
    #[arg(long, default_value_t = Models::all(), value_parser = models_arg)]
    pub conflicts: Models,
    /// Thread counts to draw from.
    #[arg(long, default_value = "1,2,3,4,5,6,7,8")]
    pub threads: String,
    /// How many runs (default 1000 unless --seconds is given).
    #[arg(long, conflicts_with = "seconds")]
    pub runs: Option<u64>,
    /// Run for this long instead of a number of runs.
    #[arg(long)]
    pub seconds: Option<f64>,
    /// The first run's seed; run i uses seed + i.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// A run without progress for this long is a hang.
    #[arg(long, default_value_t = 20.0)]
    pub stall_seconds: f64,
    /// Write the summary as JSON here (e.g. results/stress.json).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// One failed run, with what reproduces it.
#[derive(Clone, Debug, Serialize)]
pub struct Failure {
    pub kind: &'static str,
    pub input: String,
    pub strategy: Strategy,
    pub conflicts: ConflictModel,
    pub threads: usize,
    pub seed: u64,
    pub detail: String,
    pub reproduce: String,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub machine: Machine,
    pub command: String,
    pub perturbed: bool,
    pub inputs: Vec<String>,
    pub strategies: Vec<Strategy>,
    pub conflicts: Vec<ConflictModel>,
    pub threads: Vec<usize>,
    pub first_seed: u64,
    pub runs: u64,
    /// Transactions executed to their end over all runs, re-executions included.
    pub executions: u64,
    pub runs_by_strategy: Vec<(Strategy, u64)>,
    pub runs_by_conflicts: Vec<(ConflictModel, u64)>,
    pub mismatches: u64,
    pub hangs: u64,
    pub errors: u64,
    pub seconds: f64,
    pub failures: Vec<Failure>,
}

/// What the runner is asked to do: run `strategy` on input `input` at `threads`.
struct Job {
    input: usize,
    strategy: Strategy,
    conflicts: ConflictModel,
    threads: usize,
    seed: u64,
}

type Outcome = Result<(BlockOutput, u64, Option<String>), EngineError>;

/// A thread that runs jobs on executors it keeps (one per thread count and model).
struct Runner {
    jobs: mpsc::Sender<Job>,
    outcomes: mpsc::Receiver<Outcome>,
}

impl Runner {
    fn start(inputs: Arc<Vec<Input>>) -> Result<Self, String> {
        let (job_tx, job_rx) = mpsc::channel::<Job>();
        let (out_tx, out_rx) = mpsc::channel::<Outcome>();
        std::thread::Builder::new()
            .name("stress-runner".into())
            .spawn(move || {
                let mut executors: HashMap<(usize, ConflictModel), Executor> = HashMap::new();
                for job in job_rx {
                    perturb::configure(perturb::ENABLED.then_some(job.seed));
                    // A cancelled run may unwind outside the pool's own catching (the DAG's
                    // repair pass runs on this thread): caught here, so the runner lives on.
                    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        run_job(&inputs, &mut executors, &job)
                    }))
                    .unwrap_or_else(|payload| {
                        let what = if payload.downcast_ref::<perturb::Cancelled>().is_some() {
                            "cancelled by the watchdog".to_string()
                        } else {
                            payload
                                .downcast_ref::<String>()
                                .cloned()
                                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                                .unwrap_or_else(|| "a panic".into())
                        };
                        Err(EngineError::Invariant(Invariant::RunPanicked { what }))
                    });
                    if out_tx.send(outcome).is_err() {
                        return;
                    }
                }
            })
            .map_err(|e| format!("could not start the stress runner: {e}"))?;
        Ok(Self {
            jobs: job_tx,
            outcomes: out_rx,
        })
    }
}

fn run_job(
    inputs: &[Input],
    executors: &mut HashMap<(usize, ConflictModel), Executor>,
    job: &Job,
) -> Outcome {
    let key = (job.threads, job.conflicts);
    if !executors.contains_key(&key) {
        let options = Options {
            conflicts: job.conflicts,
            ..Options::RAW
        };
        executors.insert(key, Executor::with_options(job.threads, options)?);
    }
    let executor = &executors[&key];
    let input = &inputs[job.input];
    let run = executor.execute(&input.block, &input.state, job.strategy)?;
    let fell_back = run.metrics.fell_back.as_ref().map(|why| why.to_string());
    Ok((run.output, run.metrics.executions, fell_back))
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub fn run(args: &StressArgs) -> Result<bool, String> {
    // The machine and commit as the run starts (a long run may outlast the commit).
    let machine = Machine::detect();
    let strategies: Vec<Strategy> = Strategy::parse_list(&args.strategy)?
        .into_iter()
        .filter(|s| *s != Strategy::Sequential)
        .collect();
    if strategies.is_empty() {
        return Err(
            "--strategy: name at least one parallel strategy (sequential is the reference)".into(),
        );
    }
    let threads = parse_threads(&args.threads)?;
    if !(args.stall_seconds > 0.0 && args.stall_seconds.is_finite()) {
        return Err("--stall-seconds must be a positive number".into());
    }
    if let Some(s) = args.seconds {
        if !(s > 0.0 && s.is_finite()) {
            return Err("--seconds must be a positive number".into());
        }
    }
    if args.runs == Some(0) {
        return Err("--runs must be at least 1".into());
    }
    let mut loaded = Vec::new();
    let mut sources = Vec::new();
    for path in &args.block {
        for input in inputs::from_blocks(path)? {
            if input.block.txs.is_empty() {
                continue;
            }
            sources.push(format!("--block {}", input_path(path, &input)));
            loaded.push(input);
        }
    }
    for spec in &args.workload {
        loaded.push(inputs::from_workload(spec)?);
        sources.push(format!("--workload {spec}"));
    }
    if loaded.is_empty() {
        return Err(
            "give --block PATH or --workload SPEC (blocks without transactions are skipped)".into(),
        );
    }
    // The references, once each, on the calling thread (sequential has no schedule).
    let references: Vec<BlockOutput> = loaded
        .iter()
        .map(|input| {
            stmlab::execute_block(&input.block, &input.state, Strategy::Sequential, 1)
                .map(|e| e.output)
                .map_err(|e| format!("{}: {e}", input.label))
        })
        .collect::<Result<_, _>>()?;
    let labels: Vec<String> = loaded.iter().map(|i| i.label.clone()).collect();
    // A run the watchdog cancels unwinds from its perturbation points: expected, and
    // reported as a hang, so those panics print nothing; any other panic prints as usual.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info
            .payload()
            .downcast_ref::<perturb::Cancelled>()
            .is_none()
        {
            default_hook(info);
        }
    }));
    let inputs = Arc::new(loaded);
    let mut runner = Runner::start(inputs.clone())?;

    let stall = Duration::from_secs_f64(args.stall_seconds);
    let deadline = args.seconds.map(Duration::from_secs_f64);
    let max_runs = args
        .runs
        .unwrap_or(if deadline.is_some() { u64::MAX } else { 1000 });
    let started = Instant::now();
    let mut failures = Vec::new();
    let (mut runs, mut executions, mut mismatches, mut hangs, mut errors) = (0u64, 0, 0, 0, 0);
    let mut by_strategy: HashMap<Strategy, u64> = HashMap::new();
    let mut by_model: HashMap<ConflictModel, u64> = HashMap::new();
    let models = &args.conflicts.0;
    if !perturb::ENABLED {
        eprintln!(
            "note: built without --features perturb: the schedules are the machine's own, \
             and a hang is a run longer than --stall-seconds"
        );
    }
    while runs < max_runs && deadline.is_none_or(|d| started.elapsed() < d) {
        let seed = args.seed.wrapping_add(runs);
        let r = mix(seed);
        let job = Job {
            input: (r % inputs.len() as u64) as usize,
            strategy: strategies[((r >> 16) % strategies.len() as u64) as usize],
            threads: threads[((r >> 32) % threads.len() as u64) as usize],
            // The model from the seed's bits above the others' (a list of one: always it).
            conflicts: models[((r >> 48) % models.len() as u64) as usize],
            seed,
        };
        let (input, strategy, t, model) = (job.input, job.strategy, job.threads, job.conflicts);
        let reproduce = format!(
            "cargo run --release{} -- stress {} --strategy {} --conflicts {} --threads {} --runs 1 --seed {}",
            if perturb::ENABLED {
                " --features perturb"
            } else {
                ""
            },
            sources[input],
            strategy,
            args.conflicts,
            t,
            seed
        );
        let fail = |kind, detail: String| Failure {
            kind,
            input: labels[input].clone(),
            strategy,
            conflicts: model,
            threads: t,
            seed,
            detail,
            reproduce: reproduce.clone(),
        };
        runner
            .jobs
            .send(job)
            .map_err(|_| "the stress runner stopped".to_string())?;
        runs += 1;
        *by_strategy.entry(strategy).or_default() += 1;
        *by_model.entry(model).or_default() += 1;
        match watch(&runner, stall) {
            Watched::Done(Ok((output, done, fell_back))) => {
                executions += done;
                if let Some(why) = fell_back {
                    errors += 1;
                    failures.push(fail("fell back to sequential", why));
                } else if let Some(difference) = output.first_difference(&references[input]) {
                    mismatches += 1;
                    failures.push(fail("mismatch", difference));
                }
            }
            Watched::Done(Err(e)) => {
                errors += 1;
                failures.push(fail("error", e.to_string()));
            }
            Watched::Died => {
                errors += 1;
                failures.push(fail("error", "the stress runner died".into()));
                runner = Runner::start(inputs.clone())?;
            }
            Watched::Hung { state, came_back } => {
                hangs += 1;
                let mut detail = format!("no progress for {:.1} s", stall.as_secs_f64());
                if let Some(state) = state {
                    detail.push_str(&format!("; state: {state}"));
                }
                if !came_back {
                    detail.push_str("; the run did not stop when cancelled (abandoned)");
                    runner = Runner::start(inputs.clone())?;
                }
                failures.push(fail("hang", detail));
            }
        }
        if let Some(f) = failures.last().filter(|f| f.seed == seed) {
            eprintln!(
                "{} at run {}: {} with {} ({} conflicts) at {} threads, seed {}: {}\n  reproduce: {}",
                f.kind.to_uppercase(),
                runs - 1,
                f.input,
                f.strategy,
                f.conflicts,
                f.threads,
                f.seed,
                f.detail,
                f.reproduce
            );
        }
    }
    perturb::configure(None);
    let seconds = started.elapsed().as_secs_f64();
    let mut runs_by_strategy: Vec<(Strategy, u64)> = by_strategy.into_iter().collect();
    runs_by_strategy.sort();
    let mut runs_by_conflicts: Vec<(ConflictModel, u64)> = by_model.into_iter().collect();
    runs_by_conflicts.sort();
    println!(
        "stress: {runs} runs ({executions} transaction executions) of {} inputs x {} strategies x threads {:?}, {} schedules, in {seconds:.1} s",
        labels.len(),
        strategies.len(),
        threads,
        if perturb::ENABLED { "perturbed" } else { "unperturbed" },
    );
    for (s, n) in &runs_by_strategy {
        println!("  {s}: {n} runs");
    }
    for (m, n) in &runs_by_conflicts {
        println!("  {m} conflicts: {n} runs");
    }
    println!("mismatches: {mismatches}, hangs: {hangs}, errors: {errors}");
    let ok = failures.is_empty();
    let summary = Summary {
        machine,
        command: std::env::args().collect::<Vec<_>>().join(" "),
        perturbed: perturb::ENABLED,
        inputs: labels,
        strategies,
        conflicts: models.clone(),
        threads,
        first_seed: args.seed,
        runs,
        executions,
        runs_by_strategy,
        runs_by_conflicts,
        mismatches,
        hangs,
        errors,
        seconds,
        failures,
    };
    if let Some(out) = &args.out {
        if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let json = serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())?;
        std::fs::write(out, json).map_err(|e| format!("{}: {e}", out.display()))?;
        println!("wrote {}", out.display());
    }
    Ok(ok)
}

/// The folder to name for one block of `path` in a reproducing command.
fn input_path(path: &std::path::Path, input: &Input) -> String {
    let own = path.join(&input.label);
    if own.is_dir() {
        own.display().to_string()
    } else {
        path.display().to_string()
    }
}

enum Watched {
    Done(Outcome),
    /// The runner thread is gone (it catches panics, so it should not be; reported and
    /// replaced all the same).
    Died,
    Hung {
        state: Option<String>,
        came_back: bool,
    },
}

/// Waits for the runner's outcome, cancelling the run when it stalls.
fn watch(runner: &Runner, stall: Duration) -> Watched {
    let tick = Duration::from_millis(50).min(stall);
    let mut last = perturb::progress_count();
    let mut since = Instant::now();
    loop {
        match runner.outcomes.recv_timeout(tick) {
            Ok(outcome) => return Watched::Done(outcome),
            Err(mpsc::RecvTimeoutError::Disconnected) => return Watched::Died,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        let now = perturb::progress_count();
        if now != last {
            last = now;
            since = Instant::now();
        } else if since.elapsed() >= stall {
            perturb::cancel();
            // A run that passes a perturbation point stops now; give it a moment.
            let came_back = runner.outcomes.recv_timeout(Duration::from_secs(5)).is_ok();
            return Watched::Hung {
                state: perturb::take_state(),
                came_back,
            };
        }
    }
}
