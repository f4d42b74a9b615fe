//! `stmlab sweep`: every strategy at several thread counts on a grid of workloads (with a
//! contention knob swept) and on the bundled mainnet blocks, written to one JSON file that
//! `stmlab plot` draws.
//!
//! Each (input, thread count) is one [`compare`] call: sequential and every strategy run
//! interleaved, `repeat` times, medians reported, every output checked against sequential.
//! The file records the machine, the commit, the grid, and one point per (input, strategy,
//! threads): a [`Row`] (wall time median, min and max, speedup over sequential of the same
//! run, transactions and gas per second, executions per transaction, validations, aborts,
//! suspensions, peak memory) with where it came from.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use serde::Serialize;

use super::compare::{compare, print_mismatches, Mismatch, Row};
use super::conflicts::model_arg;
use super::inputs::{self, Input};
use super::inputs::{bundled_blocks, parse_threads};
use super::machine::{tree_dirty, Machine};
use super::memory;
use stmlab::evm::mainnet::find_block_dirs;
use stmlab::{ConflictModel, Strategy};

#[derive(Args, Debug)]
pub struct SweepArgs {
    /// The grid: `default` (a few minutes on 2 cores) or `quick` (seconds, for CI); or
    /// `goals`: the speed-goal table of issue 8 (Block-STM against sequential).
    #[arg(long, default_value = "default")]
    pub preset: String,
    /// Runs per point (default: the preset's, 5 for default, 3 for quick, 15 for goals).
    #[arg(long)]
    pub repeat: Option<usize>,
    /// Worker threads, a comma-separated list (default: the preset's; not with goals,
    /// whose rows fix their thread counts).
    #[arg(long)]
    pub threads: Option<String>,
    /// One strategy, a comma-separated list, or all (goals: block-stm only).
    #[arg(long, default_value = "all")]
    pub strategy: String,
    /// A folder of block folders (default: the bundled `data/mainnet`).
    #[arg(long, conflicts_with = "no_blocks")]
    pub blocks: Option<PathBuf>,
    /// The conflict model every strategy runs under (coarse, fields or deltas; one, so
    /// that the plots have one line per strategy; `stmlab ablation` compares them).
    #[arg(long, default_value_t = ConflictModel::default(), value_parser = model_arg)]
    pub conflicts: ConflictModel,
    /// Workloads only, no mainnet blocks.
    #[arg(long)]
    pub no_blocks: bool,
    /// Skip the extra untimed run per point that measures peak memory.
    #[arg(long)]
    pub no_memory: bool,
    /// Run every strategy as asked, never the adaptive choice of sequential execution
    /// for a block too small or too dependent to gain (the goals preset measures both,
    /// each row judged as its goal says).
    #[arg(long)]
    pub raw: bool,
    /// Where the JSON result goes (default: results/sweep.json, or results/goals.json
    /// for the goals preset).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// With `--preset goals`: print the table of a goals result file; measure nothing.
    #[arg(long)]
    pub from: Option<PathBuf>,
    /// With `--preset goals`: skip the callgrind instruction counts (about a minute).
    #[arg(long)]
    pub no_instructions: bool,
    /// With `--preset goals`: cap every workload at N transactions (for tests: the goals
    /// are defined at the full sizes).
    #[arg(long, hide = true)]
    pub max_txs: Option<usize>,
}

/// Where a non-goals sweep writes unless `--out` says otherwise.
pub const SWEEP_OUT: &str = "results/sweep.json";

/// One line of the workload grid: a workload, its fixed knobs, and optionally one knob
/// swept over values (the contention axis of the plots). `txs` sizes the default preset,
/// `quick_txs` the quick one.
pub struct GridLine {
    pub workload: &'static str,
    pub knobs: &'static [(&'static str, &'static str)],
    pub txs: usize,
    pub quick_txs: usize,
    pub sweep: Option<Sweep>,
}

/// A knob swept over values, and how the plots label it.
pub struct Sweep {
    pub knob: &'static str,
    pub values: &'static [&'static str],
    /// The x-axis title of the contention plots.
    pub meaning: &'static str,
    /// Plot the values on a log scale (e.g. numbers of accounts).
    pub log: bool,
}

const HOT: &[&str] = &["0", "0.1", "0.3", "0.6"];

const fn hot(meaning: &'static str) -> Option<Sweep> {
    Some(Sweep {
        knob: "hot",
        values: HOT,
        meaning,
        log: false,
    })
}

/// The workloads every preset sweeps. A new workload is one more line here, once
/// `workloads::from_spec` knows its name.
pub const WORKLOAD_GRID: &[GridLine] = &[
    GridLine {
        workload: "transfers",
        knobs: &[("accounts", "100000")],
        txs: 10_000,
        quick_txs: 400,
        sweep: hot("hot fraction (share of transfers to 4 hot accounts)"),
    },
    GridLine {
        workload: "transfers",
        knobs: &[("hot", "0")],
        txs: 10_000,
        quick_txs: 400,
        sweep: Some(Sweep {
            knob: "accounts",
            values: &["100", "1000", "10000", "100000"],
            meaning: "accounts (fewer = more conflicts; log scale)",
            log: true,
        }),
    },
    GridLine {
        workload: "erc20",
        knobs: &[("accounts", "50000")],
        txs: 5_000,
        quick_txs: 300,
        sweep: hot("hot fraction (share of token transfers to 4 hot accounts)"),
    },
    GridLine {
        workload: "amm",
        knobs: &[],
        txs: 1_500,
        quick_txs: 150,
        sweep: hot(
            "hot fraction (share of swaps sent to one pool; the others each have their own)",
        ),
    },
    GridLine {
        workload: "compute",
        knobs: &[("iters", "200")],
        txs: 300,
        quick_txs: 40,
        sweep: Some(Sweep {
            knob: "shared",
            values: HOT,
            meaning: "shared fraction (share of transactions also incrementing one shared counter)",
            log: false,
        }),
    },
    GridLine {
        workload: "mixed",
        knobs: &[("accounts", "20000")],
        txs: 3_000,
        quick_txs: 300,
        sweep: hot("hot fraction (transfers to 4 hot accounts, swaps to one pool)"),
    },
    GridLine {
        workload: "chain",
        knobs: &[],
        txs: 2_000,
        quick_txs: 200,
        sweep: None,
    },
];

/// A named grid size.
pub struct Preset {
    pub name: &'static str,
    pub threads: &'static [usize],
    pub repeat: usize,
    pub quick: bool,
    /// How many of the bundled blocks (in block order, spread evenly); `None`: all.
    pub max_blocks: Option<usize>,
}

pub const PRESETS: &[Preset] = &[
    Preset {
        name: "default",
        threads: &[1, 2, 4, 8],
        repeat: 5,
        quick: false,
        max_blocks: None,
    },
    Preset {
        name: "quick",
        threads: &[1, 2],
        repeat: 3,
        quick: true,
        max_blocks: Some(4),
    },
];

/// A grid line as run, for the plots: which inputs make up its contention series.
#[derive(Clone, Debug, Serialize)]
pub struct SeriesOut {
    /// e.g. `transfers-hot`; the plots' file names.
    pub id: String,
    pub workload: String,
    /// The swept knob (`None`: a single input).
    pub knob: Option<String>,
    /// What the knob means: the plots' x-axis title.
    pub knob_meaning: Option<String>,
    /// Whether the plots put the knob on a log scale.
    pub log_scale: bool,
    /// The knob's values, and the input label each gave, in the same order.
    pub values: Vec<f64>,
    pub labels: Vec<String>,
}

/// One (input, strategy, threads) result.
#[derive(Clone, Debug, Serialize)]
pub struct Point {
    /// `workload` or `mainnet`.
    pub source: &'static str,
    /// The workload's name, or `mainnet`.
    pub workload: String,
    #[serde(flatten)]
    pub row: Row,
}

#[derive(Serialize)]
pub struct SweepFile<'a> {
    pub machine: Machine,
    /// True when the work tree had uncommitted changes (the commit is then approximate).
    pub commit_dirty: bool,
    pub command: String,
    pub preset: String,
    pub repeat: usize,
    pub threads: Vec<usize>,
    pub strategies: Vec<Strategy>,
    /// The conflict model of every point (each point's `conflicts` says it too).
    pub conflicts: ConflictModel,
    pub elapsed_s: f64,
    /// Whether `peak_mem_bytes` was measured (the binary's counting allocator).
    pub peak_memory_counted: bool,
    pub series: &'a [SeriesOut],
    pub points: &'a [Point],
    pub mismatches: &'a [Mismatch],
}

/// What to run, before anything is loaded.
enum Job {
    Workload { workload: String, spec: String },
    Block(PathBuf),
}

/// The spec of one grid input: `name:txs=N,k=v,...` with the knobs sorted, so the same
/// input reached from two grid lines has one label and runs once.
fn spec_of(line: &GridLine, txs: usize, swept: Option<(&str, &str)>) -> String {
    let mut knobs: Vec<(&str, &str)> = line.knobs.to_vec();
    if let Some((k, v)) = swept {
        knobs.retain(|(name, _)| *name != k);
        knobs.push((k, v));
    }
    knobs.sort();
    let mut spec = format!("{}:txs={txs}", line.workload);
    for (k, v) in knobs {
        spec.push_str(&format!(",{k}={v}"));
    }
    spec
}

/// The grid's series and the distinct workload specs, in grid order.
fn workload_jobs(preset: &Preset) -> Result<(Vec<SeriesOut>, Vec<Job>), String> {
    let mut series = Vec::new();
    let mut specs: Vec<(String, String)> = Vec::new();
    for line in WORKLOAD_GRID {
        let txs = if preset.quick {
            line.quick_txs
        } else {
            line.txs
        };
        let knob = line.sweep.as_ref().map(|s| s.knob);
        let points: Vec<Option<&str>> = match &line.sweep {
            Some(sweep) => sweep.values.iter().map(|v| Some(*v)).collect(),
            None => vec![None],
        };
        let mut out = SeriesOut {
            id: match knob {
                Some(k) => format!("{}-{k}", line.workload),
                None => line.workload.to_string(),
            },
            workload: line.workload.to_string(),
            knob: knob.map(str::to_string),
            knob_meaning: line.sweep.as_ref().map(|s| s.meaning.to_string()),
            log_scale: line.sweep.as_ref().is_some_and(|s| s.log),
            values: Vec::new(),
            labels: Vec::new(),
        };
        for value in points {
            let spec = spec_of(line, txs, knob.zip(value));
            if let Some(v) = value {
                out.values.push(
                    v.parse()
                        .map_err(|_| format!("grid: {spec}: knob value {v:?} is not a number"))?,
                );
            }
            out.labels.push(spec.clone());
            if !specs.iter().any(|(_, s)| *s == spec) {
                specs.push((line.workload.to_string(), spec));
            }
        }
        series.push(out);
    }
    let jobs = specs
        .into_iter()
        .map(|(workload, spec)| Job::Workload { workload, spec })
        .collect();
    Ok((series, jobs))
}

/// `n` of `dirs`, spread evenly over the list (which is in block order).
fn spread<T: Clone>(dirs: &[T], n: usize) -> Vec<T> {
    if n >= dirs.len() || n == 0 {
        return dirs.to_vec();
    }
    (0..n)
        .map(|i| dirs[i * (dirs.len() - 1) / (n - 1).max(1)].clone())
        .collect()
}

pub fn run(args: &SweepArgs) -> Result<bool, String> {
    if args.preset == "goals" {
        return Err("the goals preset is run by `goals::run`".into());
    }
    if args.from.is_some() || args.max_txs.is_some() {
        return Err("--from and --max-txs go with --preset goals".into());
    }
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from(SWEEP_OUT));
    let preset = PRESETS
        .iter()
        .find(|p| p.name == args.preset)
        .ok_or_else(|| {
            let names: Vec<_> = PRESETS.iter().map(|p| p.name).chain(["goals"]).collect();
            format!(
                "unknown preset {:?} (known: {})",
                args.preset,
                names.join(", ")
            )
        })?;
    let strategies = Strategy::parse_list(&args.strategy)?;
    let threads = match &args.threads {
        Some(t) => parse_threads(t)?,
        None => preset.threads.to_vec(),
    };
    let repeat = args.repeat.unwrap_or(preset.repeat);
    if repeat == 0 {
        return Err("--repeat must be at least 1".into());
    }

    let (series, mut jobs) = workload_jobs(preset)?;
    if !args.no_blocks {
        let path = args.blocks.clone().unwrap_or_else(bundled_blocks);
        let dirs = find_block_dirs(&path).map_err(|e| e.to_string())?;
        let dirs = match preset.max_blocks {
            Some(n) if args.blocks.is_none() => spread(&dirs, n),
            _ => dirs,
        };
        jobs.extend(dirs.into_iter().map(Job::Block));
    }

    memory::set_wanted(!args.no_memory);
    let started = Instant::now();
    let bar = indicatif::ProgressBar::new((jobs.len() * threads.len()) as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {pos}/{len} (eta {eta}) {msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let mut points = Vec::new();
    let mut mismatches = Vec::new();
    for job in &jobs {
        let (source, workload, input): (&'static str, String, Input) = match job {
            Job::Workload { workload, spec } => {
                bar.set_message(format!("generating {spec}"));
                ("workload", workload.clone(), inputs::from_workload(spec)?)
            }
            Job::Block(dir) => {
                bar.set_message(format!("loading {}", dir.display()));
                let mut loaded = inputs::from_blocks(dir)?;
                if loaded.len() != 1 {
                    return Err(format!("{}: expected one block", dir.display()));
                }
                ("mainnet", "mainnet".into(), loaded.remove(0))
            }
        };
        for &t in &threads {
            bar.set_message(format!("{} at {t} threads", input.label));
            let (rows, m) = compare(
                &input,
                &strategies,
                &[t],
                repeat,
                stmlab::Options {
                    adaptive: !args.raw,
                    conflicts: args.conflicts,
                },
            )?;
            print_mismatches(&m, &bar);
            mismatches.extend(m);
            points.extend(rows.into_iter().map(|row| Point {
                source,
                workload: workload.clone(),
                row,
            }));
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    let elapsed = started.elapsed();
    let counted = memory::wanted();
    memory::set_wanted(false);

    let bad_headers: Vec<_> = points
        .iter()
        .filter(|p| p.row.header_ok == Some(false) || p.row.post_state_ok == Some(false))
        .map(|p| p.row.block.clone())
        .collect();
    for b in bad_headers.iter().take(1) {
        eprintln!("HEADER CHECK FAILED: block {b}");
    }
    let file = SweepFile {
        machine: Machine::detect(),
        commit_dirty: tree_dirty(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        preset: preset.name.into(),
        repeat,
        threads,
        strategies,
        conflicts: args.conflicts,
        elapsed_s: elapsed.as_secs_f64(),
        peak_memory_counted: counted,
        series: &series,
        points: &points,
        mismatches: &mismatches,
    };
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let json = serde_json::to_string_pretty(&file).map_err(|e| e.to_string())?;
    std::fs::write(&out, json).map_err(|e| format!("{}: {e}", out.display()))?;
    println!(
        "sweep ({} preset): {} inputs, {} points in {:.1} s; wrote {}",
        preset.name,
        jobs.len(),
        points.len(),
        elapsed.as_secs_f64(),
        out.display()
    );
    Ok(mismatches.is_empty() && bad_headers.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_are_canonical_and_parse() {
        for preset in PRESETS {
            let (series, jobs) = workload_jobs(preset).unwrap();
            assert_eq!(series.len(), WORKLOAD_GRID.len());
            for job in &jobs {
                let Job::Workload { spec, .. } = job else {
                    unreachable!()
                };
                stmlab_workloads::WorkloadSpec::parse(spec).unwrap();
            }
            // transfers at hot=0 and accounts=100000 is one input in two series.
            let labels: Vec<&String> = series.iter().flat_map(|s| &s.labels).collect();
            assert!(labels.len() > jobs.len());
        }
    }

    #[test]
    fn spread_keeps_the_ends() {
        assert_eq!(spread(&[1, 2, 3, 4, 5, 6, 7], 3), vec![1, 4, 7]);
        assert_eq!(spread(&[1, 2], 4), vec![1, 2]);
    }
}
