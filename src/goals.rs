//! `stmlab sweep --preset goals`: the speed goals of issue 8, measured and checked.
//!
//! Every ratio is sequential's median wall time over Block-STM's, both from one
//! [`compare`] call (sequential and Block-STM interleaved `repeat` times, medians
//! reported, every output checked against sequential's):
//!
//! - mainnet: every block with transactions under `--blocks` at 2 threads; the total
//!   ratio is the sum of the sequential medians over the sum of the Block-STM medians, and
//!   the worst block is the one with the smallest ratio;
//! - the generated workloads of [`WORKLOAD_GOALS`] at their fixed thread counts;
//! - peak memory: Block-STM's over sequential's on the 2-thread ERC-20 input, both counted
//!   in the untimed run `compare` adds per strategy (sequential is passed to it as a
//!   strategy for this one input, so its peak is counted the same way).
//!
//! Prints a markdown table and "N of M goals met", and writes a JSON file (default
//! `results/goals.json`) that `--from FILE` prints again.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::ceiling::ceiling;
use super::compare::{compare, print_mismatches, Mismatch, Row};
use super::inputs::{self, Input};
use super::instructions;
use super::machine::{tree_dirty, Machine};
use super::sweep::SweepArgs;
use super::{memory, BUNDLED_BLOCKS};
use stmlab::evm::mainnet::find_block_dirs;
use stmlab::evm::state::NoError;
use stmlab::{Options, Strategy};

/// Where the result goes unless `--out` says otherwise.
/// The goals measure the engine as a node runs it: in adaptive mode, where a block with
/// nothing to gain runs sequentially (and the metrics say so).
const ADAPTIVE: Options = Options { adaptive: true };
/// And beside it, Block-STM forced, so the table shows what it does itself.
const RAW: Options = Options { adaptive: false };

pub const GOALS_OUT: &str = "results/goals.json";
/// Runs per point unless `--repeat` says otherwise.
pub const GOALS_REPEAT: usize = 15;
/// The thread count of the mainnet rows and of the peak-memory row.
pub const GOALS_THREADS: usize = 2;

/// How a measured value is held against its goal.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Cmp {
    #[serde(rename = ">=")]
    AtLeast,
    #[serde(rename = "<=")]
    AtMost,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Goal {
    pub cmp: Cmp,
    pub value: f64,
}

const fn at_least(value: f64) -> Goal {
    Goal {
        cmp: Cmp::AtLeast,
        value,
    }
}

const fn at_most(value: f64) -> Goal {
    Goal {
        cmp: Cmp::AtMost,
        value,
    }
}

impl Goal {
    /// Whether `measured` meets the goal (compared unrounded).
    pub fn met(&self, measured: f64) -> bool {
        match self.cmp {
            Cmp::AtLeast => measured >= self.value,
            Cmp::AtMost => measured <= self.value,
        }
    }

    fn text(&self) -> String {
        let op = match self.cmp {
            Cmp::AtLeast => "≥",
            Cmp::AtMost => "≤",
        };
        format!("{op} {}×", self.value)
    }
}

/// What a row's `measured` is.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Metric {
    /// Sequential median wall time over Block-STM's.
    Speedup,
    /// Block-STM's peak heap over sequential's.
    PeakMemoryRatio,
    /// Block-STM's instructions over sequential's (callgrind).
    InstructionRatio,
    /// Our sequential's wall time over revm's bare loop's (`block_stm_wall_ns` holds the
    /// bare loop's).
    BaselineRatio,
}

/// A goal on one generated workload.
pub struct WorkloadGoal {
    pub id: &'static str,
    pub work: &'static str,
    pub spec: &'static str,
    pub threads: usize,
    pub goal: Goal,
    /// Judged on the raw run (Block-STM forced): the overhead row, which adaptive mode
    /// would answer by running sequential revm and measuring nothing.
    pub judged_raw: bool,
}

const ERC20: &str = "erc20:txs=10000,accounts=100000,hot=0";

/// The mainnet totals are judged on the raw runs (Block-STM forced); the worst block on
/// the adaptive run (the library's default), which exists to keep every block near
/// sequential speed.
pub const MAINNET_TOTAL_GOAL: Goal = at_least(1.4);
pub const MAINNET_TOTAL_1_THREAD_GOAL: Goal = at_least(0.95);
pub const MAINNET_WORST_GOAL: Goal = at_least(0.95);
/// On the input and thread count of the first of [`WORKLOAD_GOALS`].
/// Measured on the raw run (Block-STM forced).
pub const PEAK_MEMORY_GOAL: Goal = at_most(1.5);
/// Callgrind's instructions of Block-STM at 1 thread over sequential's, on both inputs of
/// [`INSTRUCTION_INPUTS`] (the larger ratio is judged).
pub const INSTRUCTIONS_GOAL: Goal = at_most(1.08);
/// Our sequential reference (revm plus the canonical output) over revm's bare
/// transact-and-commit loop: what the canonical output costs.
pub const BASELINE_GOAL: Goal = at_most(1.05);

/// The workload rows, in table order; the first one's run also measures peak memory.
/// Every one is judged raw: the goals are the strategy's own speed.
pub const WORKLOAD_GOALS: &[WorkloadGoal] = &[
    WorkloadGoal {
        id: "erc20",
        work: "independent ERC-20",
        spec: ERC20,
        threads: GOALS_THREADS,
        goal: at_least(1.8),
        judged_raw: true,
    },
    WorkloadGoal {
        id: "erc20-1-thread",
        work: "independent ERC-20, 1 thread",
        spec: ERC20,
        threads: 1,
        goal: at_least(0.95),
        judged_raw: true,
    },
    WorkloadGoal {
        id: "transfers",
        work: "independent ETH transfers",
        spec: "transfers:txs=10000,accounts=100000,hot=0",
        threads: GOALS_THREADS,
        goal: at_least(1.5),
        judged_raw: true,
    },
    WorkloadGoal {
        id: "amm",
        work: "independent AMM swaps",
        spec: "amm:txs=5000,pools=5000",
        threads: GOALS_THREADS,
        goal: at_least(1.9),
        judged_raw: true,
    },
    WorkloadGoal {
        id: "chain",
        work: "dependency chain",
        spec: "chain:txs=2000",
        threads: GOALS_THREADS,
        goal: at_least(0.9),
        judged_raw: true,
    },
];

/// The inputs of the instruction-count row (as `stmlab exec` takes them), relative to
/// the project root for the block.
pub const INSTRUCTION_INPUTS: &[(&str, &str)] = &[
    ("--workload", "erc20:txs=2000,accounts=20000,hot=0"),
    ("--block", "data/mainnet/13217637"),
];

/// One line of the goals table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GoalRow {
    pub id: String,
    pub work: String,
    pub input: String,
    pub threads: usize,
    pub metric: Metric,
    /// Median wall times (summed over the blocks for the mainnet total).
    pub sequential_wall_ns: Option<u64>,
    pub block_stm_wall_ns: Option<u64>,
    /// Peak heap of one untimed run each (the peak-memory row only).
    pub sequential_peak_bytes: Option<u64>,
    pub block_stm_peak_bytes: Option<u64>,
    /// `None`: not measured (see `note`).
    pub measured: Option<f64>,
    /// Adaptive mode ran the block (or some mainnet blocks) sequentially.
    #[serde(default)]
    pub chose_sequential: Option<String>,
    /// The same speedup with Block-STM forced (`--raw`), from its own interleaved run.
    #[serde(default)]
    pub raw_sequential_wall_ns: Option<u64>,
    #[serde(default)]
    pub raw_block_stm_wall_ns: Option<u64>,
    #[serde(default)]
    pub raw: Option<f64>,
    /// `measured` is the raw speedup (the overhead row).
    #[serde(default)]
    pub judged_raw: bool,
    /// The machine's ceiling for this input at this thread count (`cli::ceiling`): the
    /// speedup of threads sharing nothing.
    #[serde(default)]
    pub ceiling: Option<f64>,
    pub goal: Goal,
    pub met: Option<bool>,
    pub note: Option<String>,
}

impl GoalRow {
    fn new(
        id: &str,
        work: &str,
        input: String,
        threads: usize,
        metric: Metric,
        goal: Goal,
    ) -> Self {
        Self {
            id: id.into(),
            work: work.into(),
            input,
            threads,
            metric,
            sequential_wall_ns: None,
            block_stm_wall_ns: None,
            sequential_peak_bytes: None,
            block_stm_peak_bytes: None,
            measured: None,
            chose_sequential: None,
            raw_sequential_wall_ns: None,
            raw_block_stm_wall_ns: None,
            raw: None,
            judged_raw: false,
            ceiling: None,
            goal,
            met: None,
            note: None,
        }
    }

    /// Records the measured value (and whether it meets the goal), or why there is none.
    fn set_measured(&mut self, measured: Option<f64>, why_not: &str) {
        self.measured = measured;
        self.met = measured.map(|m| self.goal.met(m));
        if measured.is_none() {
            self.note = Some(why_not.into());
        }
    }

    /// Speedups from the Block-STM rows of two `compare` runs, adaptive and raw;
    /// `measured` is the adaptive one unless the row is judged raw.
    fn set_speedups(&mut self, adaptive: &Row, raw: &Row, judged_raw: bool) {
        self.sequential_wall_ns = Some(adaptive.sequential_wall_ns);
        self.block_stm_wall_ns = Some(adaptive.wall_ns);
        self.chose_sequential = adaptive
            .chose_sequential
            .then(|| "adaptive mode ran it sequentially".to_string());
        self.raw_sequential_wall_ns = Some(raw.sequential_wall_ns);
        self.raw_block_stm_wall_ns = Some(raw.wall_ns);
        let raw_ratio = ratio(raw.sequential_wall_ns, raw.wall_ns);
        self.raw = Some(raw_ratio);
        self.judged_raw = judged_raw;
        let judged = if judged_raw {
            raw_ratio
        } else {
            ratio(adaptive.sequential_wall_ns, adaptive.wall_ns)
        };
        self.set_measured(Some(judged), "");
    }
}

/// One mainnet block's medians at [`GOALS_THREADS`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BlockRatio {
    pub block: String,
    pub txs: usize,
    pub sequential_wall_ns: u64,
    pub block_stm_wall_ns: u64,
    /// `sequential_wall_ns / block_stm_wall_ns`.
    pub speedup: f64,
    /// Adaptive mode ran the block sequentially.
    #[serde(default)]
    pub chose_sequential: bool,
    /// The raw run (Block-STM forced), from its own interleaved run.
    #[serde(default)]
    pub raw_sequential_wall_ns: u64,
    #[serde(default)]
    pub raw_block_stm_wall_ns: u64,
    #[serde(default)]
    pub raw_speedup: f64,
    /// The raw run at 1 thread, from the same interleaved run as the raw one.
    #[serde(default)]
    pub raw_1_thread_sequential_wall_ns: u64,
    #[serde(default)]
    pub raw_1_thread_block_stm_wall_ns: u64,
}

impl BlockRatio {
    pub fn new(block: String, txs: usize, sequential_wall_ns: u64, block_stm_wall_ns: u64) -> Self {
        Self {
            block,
            txs,
            sequential_wall_ns,
            block_stm_wall_ns,
            speedup: ratio(sequential_wall_ns, block_stm_wall_ns),
            chose_sequential: false,
            raw_sequential_wall_ns: 0,
            raw_block_stm_wall_ns: 0,
            raw_speedup: 0.0,
            raw_1_thread_sequential_wall_ns: 0,
            raw_1_thread_block_stm_wall_ns: 0,
        }
    }

    /// Adds the raw run's medians at 1 thread.
    pub fn with_raw_1_thread(mut self, raw: &Row) -> Self {
        self.raw_1_thread_sequential_wall_ns = raw.sequential_wall_ns;
        self.raw_1_thread_block_stm_wall_ns = raw.wall_ns;
        self
    }

    /// Adds the raw run's medians.
    pub fn with_raw(mut self, chose_sequential: bool, raw: &Row) -> Self {
        self.chose_sequential = chose_sequential;
        self.raw_sequential_wall_ns = raw.sequential_wall_ns;
        self.raw_block_stm_wall_ns = raw.wall_ns;
        self.raw_speedup = ratio(raw.sequential_wall_ns, raw.wall_ns);
        self
    }
}

fn ratio(num: u64, den: u64) -> f64 {
    num as f64 / den.max(1) as f64
}

/// The mainnet total: the sum of sequential medians over the sum of Block-STM medians
/// (not the mean of the per-block ratios); `None` without blocks.
pub fn total_speedup(blocks: &[BlockRatio]) -> Option<f64> {
    total_of(blocks, |b| (b.sequential_wall_ns, b.block_stm_wall_ns)).map(|(s, b)| ratio(s, b))
}

/// The sums of a pair of medians over the blocks; `None` without blocks (or when the
/// pair was not measured).
fn total_of(blocks: &[BlockRatio], pair: impl Fn(&BlockRatio) -> (u64, u64)) -> Option<(u64, u64)> {
    let (seq, stm) = blocks
        .iter()
        .map(pair)
        .fold((0, 0), |(s, b), (x, y)| (s + x, b + y));
    (stm > 0).then_some((seq, stm))
}

/// The block with the smallest speedup (the first of equals); `None` without blocks.
pub fn worst_block(blocks: &[BlockRatio]) -> Option<&BlockRatio> {
    blocks
        .iter()
        .reduce(|worst, b| if b.speedup < worst.speedup { b } else { worst })
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The three mainnet rows from the per-block medians (the raw totals at 2 and 1 threads,
/// the adaptive worst block); `input` names where the blocks came from, `skipped` counts
/// those without transactions, `why_not` says why there are no blocks (when there are
/// none).
pub fn mainnet_rows(
    blocks: &[BlockRatio],
    input: &str,
    skipped: usize,
    why_not: &str,
) -> [GoalRow; 3] {
    let mut input_text = format!(
        "{input}: {} with transactions",
        plural(blocks.len(), "block", "blocks")
    );
    if skipped > 0 {
        input_text.push_str(&format!(" ({skipped} without, skipped)"));
    }
    let chosen = blocks.iter().filter(|b| b.chose_sequential).count();
    let mut total = GoalRow::new(
        "mainnet-total",
        "mainnet total",
        input_text.clone(),
        GOALS_THREADS,
        Metric::Speedup,
        MAINNET_TOTAL_GOAL,
    );
    total.judged_raw = true;
    if let Some((seq, stm)) = total_of(blocks, |b| (b.sequential_wall_ns, b.block_stm_wall_ns)) {
        total.sequential_wall_ns = Some(seq);
        total.block_stm_wall_ns = Some(stm);
        if chosen > 0 {
            total.chose_sequential = Some(format!(
                "adaptive mode ran {chosen} of {} blocks sequentially",
                blocks.len()
            ));
        }
    }
    let raw = total_of(blocks, |b| {
        (b.raw_sequential_wall_ns, b.raw_block_stm_wall_ns)
    });
    if let Some((seq, stm)) = raw {
        total.raw_sequential_wall_ns = Some(seq);
        total.raw_block_stm_wall_ns = Some(stm);
        total.raw = Some(ratio(seq, stm));
    }
    total.set_measured(total.raw, why_not);
    let mut one = GoalRow::new(
        "mainnet-total-1-thread",
        "mainnet total, 1 thread",
        input_text,
        1,
        Metric::Speedup,
        MAINNET_TOTAL_1_THREAD_GOAL,
    );
    one.judged_raw = true;
    let raw1 = total_of(blocks, |b| {
        (
            b.raw_1_thread_sequential_wall_ns,
            b.raw_1_thread_block_stm_wall_ns,
        )
    });
    if let Some((seq, stm)) = raw1 {
        one.raw_sequential_wall_ns = Some(seq);
        one.raw_block_stm_wall_ns = Some(stm);
        one.raw = Some(ratio(seq, stm));
    }
    one.set_measured(one.raw, why_not);
    let mut worst = GoalRow::new(
        "mainnet-worst-block",
        "mainnet worst block, adaptive mode",
        input.to_string(),
        GOALS_THREADS,
        Metric::Speedup,
        MAINNET_WORST_GOAL,
    );
    match worst_block(blocks) {
        Some(b) => {
            worst.input = format!("block {} ({})", b.block, plural(b.txs, "tx", "txs"));
            worst.sequential_wall_ns = Some(b.sequential_wall_ns);
            worst.block_stm_wall_ns = Some(b.block_stm_wall_ns);
            if b.raw_block_stm_wall_ns > 0 {
                worst.raw_sequential_wall_ns = Some(b.raw_sequential_wall_ns);
                worst.raw_block_stm_wall_ns = Some(b.raw_block_stm_wall_ns);
                worst.raw = Some(b.raw_speedup);
            }
            worst.chose_sequential = b
                .chose_sequential
                .then(|| "adaptive mode ran it sequentially".to_string());
            worst.set_measured(Some(b.speedup), "");
        }
        None => worst.set_measured(None, why_not),
    }
    [total, one, worst]
}

/// The instruction-count row: Block-STM's instructions at 1 thread over sequential's on
/// each input (`None`: not measured, and `why_not` says why); the larger ratio is judged.
pub fn instructions_row(counts: &[(String, Option<(u64, u64)>)], why_not: &str) -> GoalRow {
    let input = counts
        .iter()
        .map(|(label, c)| match c {
            Some((seq, stm)) => format!("{label}: {:.3}", ratio(*stm, *seq)),
            None => format!("{label}: –"),
        })
        .collect::<Vec<_>>()
        .join("; ");
    let mut row = GoalRow::new(
        "instructions-1-thread",
        "callgrind instructions, 1 thread, block-stm over sequential",
        input,
        1,
        Metric::InstructionRatio,
        INSTRUCTIONS_GOAL,
    );
    row.judged_raw = true;
    let ratios: Option<Vec<f64>> = counts
        .iter()
        .map(|(_, c)| c.map(|(seq, stm)| ratio(stm, seq)))
        .collect();
    let worst = ratios
        .filter(|r| !r.is_empty())
        .map(|r| r.into_iter().fold(f64::MIN, f64::max));
    row.set_measured(worst, why_not);
    row
}

/// The baseline row: our sequential reference's time over revm's bare loop's, both summed
/// over the same inputs of one interleaved run.
pub fn baseline_row(input: &str, bare_ns: u64, sequential_ns: u64) -> GoalRow {
    let mut row = GoalRow::new(
        "baseline",
        "our sequential over bare revm (transact+commit, no output)",
        input.to_string(),
        1,
        Metric::BaselineRatio,
        BASELINE_GOAL,
    );
    row.judged_raw = true;
    row.sequential_wall_ns = Some(sequential_ns);
    row.block_stm_wall_ns = Some(bare_ns);
    row.set_measured(Some(ratio(sequential_ns, bare_ns)), "");
    row
}

/// The peak-memory row from the two peaks of one input.
pub fn memory_row(input: &str, seq: Option<u64>, stm: Option<u64>, why_not: &str) -> GoalRow {
    let mut row = GoalRow::new(
        "peak-memory",
        "peak memory, 10,000-tx block",
        input.to_string(),
        GOALS_THREADS,
        Metric::PeakMemoryRatio,
        PEAK_MEMORY_GOAL,
    );
    row.sequential_peak_bytes = seq;
    row.block_stm_peak_bytes = stm;
    row.judged_raw = true;
    let measured = seq.zip(stm).map(|(s, b)| ratio(b, s));
    row.set_measured(measured, why_not);
    row
}

/// `spec` with its `txs` knob lowered to at most `cap` (for quick tests; the goals are
/// defined at the full sizes).
pub fn cap_txs(spec: &str, cap: usize) -> String {
    let Some((name, knobs)) = spec.split_once(':') else {
        return spec.to_string();
    };
    let knobs: Vec<String> = knobs
        .split(',')
        .map(|kv| match kv.split_once('=') {
            Some(("txs", n)) => match n.parse::<usize>() {
                Ok(n) => format!("txs={}", n.min(cap)),
                Err(_) => kv.to_string(),
            },
            _ => kv.to_string(),
        })
        .collect();
    format!("{name}:{}", knobs.join(","))
}

fn ms(ns: Option<u64>) -> String {
    ns.map_or_else(|| "–".into(), |ns| format!("{:.3}", ns as f64 / 1e6))
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// The markdown table.
pub fn render_table(rows: &[GoalRow]) -> String {
    let mut out = String::from(
        "| work | input | threads | sequential ms | block-stm ms | measured | raw block-stm | ceiling | goal | met |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---|---|\n",
    );
    for r in rows {
        let measured = match (r.measured, r.metric) {
            (None, _) => format!("not measured ({})", r.note.as_deref().unwrap_or("?")),
            (Some(m), Metric::Speedup) if r.judged_raw => format!("{m:.3}× (raw)"),
            (Some(m), Metric::Speedup) => match &r.chose_sequential {
                Some(why) => format!("{m:.3}× ({why})"),
                None => format!("{m:.3}×"),
            },
            (Some(m), Metric::PeakMemoryRatio) => format!(
                "{m:.3}× ({} / {}, raw)",
                mib(r.block_stm_peak_bytes.unwrap_or(0)),
                mib(r.sequential_peak_bytes.unwrap_or(0))
            ),
            (Some(m), Metric::InstructionRatio) => format!("{m:.3}× (the larger)"),
            (Some(m), Metric::BaselineRatio) => {
                format!("{m:.3}× (bare revm {} ms)", ms(r.block_stm_wall_ns))
            }
        };
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "no",
            None => "–",
        };
        let raw = match (r.raw, r.raw_block_stm_wall_ns) {
            (Some(x), Some(ns)) => format!("{x:.3}× ({} ms)", ms(Some(ns))),
            _ => "–".into(),
        };
        let ceiling = r.ceiling.map_or_else(|| "–".into(), |c| format!("{c:.2}×"));
        out.push_str(&format!(
            "| {} | `{}` | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.work,
            r.input,
            r.threads,
            ms(r.sequential_wall_ns),
            ms(r.block_stm_wall_ns),
            measured,
            raw,
            ceiling,
            r.goal.text(),
            met
        ));
    }
    out
}

/// "N of M goals met" (M counts the measured goals; the unmeasured are named after it).
pub fn summary(rows: &[GoalRow]) -> String {
    let met = rows.iter().filter(|r| r.met == Some(true)).count();
    let measured = rows.iter().filter(|r| r.met.is_some()).count();
    let mut line = format!("{met} of {measured} goals met");
    if measured < rows.len() {
        line.push_str(&format!(" ({} not measured)", rows.len() - measured));
    }
    line
}

/// `YYYY-MM-DD HH:MM:SS UTC` of a Unix time.
pub fn utc_date(unix: u64) -> String {
    let (days, secs) = ((unix / 86_400) as i64, unix % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// The report printed after a run and by `--from`: a heading line, the table, the summary.
pub fn report(
    date: &str,
    cpu: &str,
    cores: u64,
    commit: &str,
    repeat: usize,
    rows: &[GoalRow],
) -> String {
    format!(
        "Speed goals (issue 12), Block-STM vs sequential, medians of {repeat} interleaved runs; \
         {date}, {cpu} ({cores} cores), commit {commit}\n\n{}\n{}\n",
        render_table(rows),
        summary(rows)
    )
}

#[derive(Serialize)]
pub struct GoalsFile<'a> {
    pub machine: Machine,
    pub date: String,
    /// True when the work tree had uncommitted changes (the commit is then approximate).
    pub commit_dirty: bool,
    pub command: String,
    pub preset: &'static str,
    pub strategy: Strategy,
    pub repeat: usize,
    /// Set when the workloads were shrunk (`--max-txs`): not the goals' sizes.
    pub max_txs: Option<usize>,
    pub blocks: Option<String>,
    pub peak_memory_counted: bool,
    pub elapsed_s: f64,
    pub goals_met: usize,
    pub goals_measured: usize,
    pub rows: &'a [GoalRow],
    /// Every mainnet block with transactions, in block order.
    pub mainnet_blocks: &'a [BlockRatio],
    /// Blocks without transactions, left out.
    pub skipped_blocks: &'a [String],
    pub mismatches: &'a [Mismatch],
}

/// What `--from` reads back.
#[derive(Deserialize)]
struct SavedMachine {
    cpu_model: String,
    cores: u64,
    commit: String,
}

#[derive(Deserialize)]
struct Saved {
    machine: SavedMachine,
    date: String,
    repeat: usize,
    rows: Vec<GoalRow>,
}

/// Prints the report of a goals file.
fn print_from(path: &Path) -> Result<bool, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let saved: Saved = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a goals result file: {e}", path.display()))?;
    print!(
        "{}",
        report(
            &saved.date,
            &saved.machine.cpu_model,
            saved.machine.cores,
            &saved.machine.commit,
            saved.repeat,
            &saved.rows
        )
    );
    Ok(true)
}

/// Medians of revm's bare loop (`evm::sequential::bare_revm`) and of our sequential
/// reference on `input`, timed interleaved `repeat` times (the order alternating).
fn bare_and_sequential(input: &Input, repeat: usize) -> Result<(u64, u64), String> {
    let err = |e: stmlab::ExecuteError<NoError>| format!("{}: {e}", input.label);
    let (mut bare, mut seq) = (Vec::new(), Vec::new());
    for rep in 0..repeat.max(1) {
        for first in [rep % 2 == 0, rep % 2 == 1] {
            let start = Instant::now();
            if first {
                stmlab::evm::sequential::bare_revm(&input.block, &input.state).map_err(err)?;
                bare.push(start.elapsed().as_nanos() as u64);
            } else {
                let run =
                    stmlab::execute_block(&input.block, &input.state, Strategy::Sequential, 1)
                        .map_err(err)?;
                seq.push(start.elapsed().as_nanos() as u64);
                // Its output dropped after the clock stops (bare revm builds none).
                drop(run);
            }
        }
    }
    let median = |v: &mut Vec<u64>| {
        v.sort_unstable();
        v[v.len() / 2]
    };
    Ok((median(&mut bare), median(&mut seq)))
}

/// The one Block-STM row of a `compare` call.
fn block_stm_row(rows: &[Row]) -> Result<&Row, String> {
    rows.iter()
        .find(|r| r.strategy == Strategy::BlockStm)
        .ok_or_else(|| "compare returned no block-stm row".to_string())
}

pub fn run(args: &SweepArgs) -> Result<bool, String> {
    if let Some(path) = &args.from {
        return print_from(path);
    }
    if args.threads.is_some() {
        return Err(
            "--threads: the goals preset fixes each row's thread count (2, and 1 for the overhead row)"
                .into(),
        );
    }
    let strategy = args.strategy.trim();
    if !(strategy.eq_ignore_ascii_case("all") || strategy == Strategy::BlockStm.name()) {
        return Err("--strategy: the goals preset measures block-stm only".into());
    }
    let repeat = args.repeat.unwrap_or(GOALS_REPEAT);
    if repeat == 0 {
        return Err("--repeat must be at least 1".into());
    }
    let spec_of = |spec: &str| match args.max_txs {
        Some(cap) => cap_txs(spec, cap),
        None => spec.to_string(),
    };
    let (blocks_path, dirs) = if args.no_blocks {
        (None, Vec::new())
    } else {
        let path = args
            .blocks
            .clone()
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(BUNDLED_BLOCKS));
        let shown = match &args.blocks {
            Some(p) => p.display().to_string(),
            None => BUNDLED_BLOCKS.to_string(),
        };
        let dirs: Vec<PathBuf> = find_block_dirs(&path).map_err(|e| e.to_string())?;
        (Some(shown), dirs)
    };

    let started = Instant::now();
    let bar = indicatif::ProgressBar::new((dirs.len() + WORKLOAD_GOALS.len()) as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {pos}/{len} (eta {eta}) {msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let mut mismatches: Vec<Mismatch> = Vec::new();
    let mut bad_headers: Vec<String> = Vec::new();
    let mut check = |rows: &[Row], m: Vec<Mismatch>, bar: &indicatif::ProgressBar| {
        print_mismatches(&m, bar);
        mismatches.extend(m);
        if let Some(r) = rows.iter().find(|r| r.header_ok == Some(false)) {
            bar.suspend(|| eprintln!("HEADER CHECK FAILED: block {}", r.block));
            bad_headers.push(r.block.clone());
        }
    };

    // Mainnet: one block at a time, timing only (no peak memory).
    memory::set_wanted(false);
    let mut blocks = Vec::new();
    // Medians of revm's bare loop and of our sequential reference, summed over the blocks.
    let mut baseline = (0u64, 0u64);
    let mut skipped = Vec::new();
    for dir in &dirs {
        bar.set_message(format!("loading {}", dir.display()));
        let mut loaded = inputs::from_blocks(dir)?;
        if loaded.len() != 1 {
            return Err(format!("{}: expected one block", dir.display()));
        }
        let input = loaded.remove(0);
        if input.block.txs.is_empty() {
            skipped.push(input.label.clone());
            bar.inc(1);
            continue;
        }
        bar.set_message(format!("block {}", input.label));
        let (rows, m) = compare(
            &input,
            &[Strategy::BlockStm],
            &[GOALS_THREADS],
            repeat,
            ADAPTIVE,
        )?;
        check(&rows, m, &bar);
        let (raw_rows, m) = compare(
            &input,
            &[Strategy::BlockStm],
            &[1, GOALS_THREADS],
            repeat,
            RAW,
        )?;
        check(&raw_rows, m, &bar);
        let at = |threads: usize| {
            raw_rows
                .iter()
                .find(|r| r.threads == threads)
                .ok_or_else(|| format!("{}: no raw row at {threads} threads", input.label))
        };
        let row = block_stm_row(&rows)?;
        blocks.push(
            BlockRatio::new(
                input.label.clone(),
                row.txs,
                row.sequential_wall_ns,
                row.wall_ns,
            )
            .with_raw(row.chose_sequential, at(GOALS_THREADS)?)
            .with_raw_1_thread(at(1)?),
        );
        let (bare, sequential) = bare_and_sequential(&input, repeat)?;
        baseline.0 += bare;
        baseline.1 += sequential;
        bar.inc(1);
    }
    let why_no_blocks = if blocks_path.is_none() {
        "--no-blocks"
    } else {
        "no block has transactions"
    };
    let mut table: Vec<GoalRow> = mainnet_rows(
        &blocks,
        blocks_path.as_deref().unwrap_or("mainnet"),
        skipped.len(),
        why_no_blocks,
    )
    .into();

    // The workloads, each input generated once (the ERC-20 one serves three rows).
    let mut memory_measured: Option<GoalRow> = None;
    let mut current: Option<Input> = None;
    for (i, goal) in WORKLOAD_GOALS.iter().enumerate() {
        let spec = spec_of(goal.spec);
        if current.as_ref().is_none_or(|c| c.label != spec) {
            drop(current.take()); // free the previous input before generating the next
            bar.set_message(format!("generating {spec}"));
            current = Some(inputs::from_workload(&spec)?);
        }
        let input = current.as_ref().expect("generated above");
        bar.set_message(format!("{spec} at {} threads", goal.threads));
        let mut row = GoalRow::new(
            goal.id,
            goal.work,
            spec.clone(),
            goal.threads,
            Metric::Speedup,
            goal.goal,
        );
        if i == 0 {
            let (rows, m) = compare(
                input,
                &[Strategy::BlockStm],
                &[goal.threads],
                repeat,
                ADAPTIVE,
            )?;
            check(&rows, m, &bar);
            // Peak memory from the raw run: Block-STM's own, never adaptive mode's choice
            // of sequential revm. Sequential as a strategy too, so the untimed counting
            // run measures its peak as well.
            memory::set_wanted(!args.no_memory);
            let counted = memory::wanted();
            let (raw_rows, m) = compare(
                input,
                &[Strategy::Sequential, Strategy::BlockStm],
                &[goal.threads],
                repeat,
                RAW,
            )?;
            memory::set_wanted(false);
            check(&raw_rows, m, &bar);
            row.set_speedups(
                block_stm_row(&rows)?,
                block_stm_row(&raw_rows)?,
                goal.judged_raw,
            );
            let peak = |s: Strategy| {
                raw_rows
                    .iter()
                    .find(|r| r.strategy == s)
                    .and_then(|r| r.peak_mem_bytes)
            };
            let why_not = if args.no_memory {
                "--no-memory"
            } else if !counted {
                "no counting allocator"
            } else {
                "no peak reported"
            };
            memory_measured = Some(memory_row(
                &spec,
                peak(Strategy::Sequential),
                peak(Strategy::BlockStm),
                why_not,
            ));
        } else {
            let (rows, m) = compare(
                input,
                &[Strategy::BlockStm],
                &[goal.threads],
                repeat,
                ADAPTIVE,
            )?;
            check(&rows, m, &bar);
            let (raw_rows, m) =
                compare(input, &[Strategy::BlockStm], &[goal.threads], repeat, RAW)?;
            check(&raw_rows, m, &bar);
            row.set_speedups(
                block_stm_row(&rows)?,
                block_stm_row(&raw_rows)?,
                goal.judged_raw,
            );
        }
        if goal.threads > 1 {
            bar.set_message(format!("{spec}: the machine's ceiling"));
            row.ceiling = Some(
                ceiling(&input.block, &input.state, goal.threads, repeat)
                    .map_err(|e| format!("{spec}: ceiling: {e}"))?,
            );
        }
        table.push(row);
        bar.inc(1);
    }
    drop(current);
    let memory_row = memory_measured.expect("the first workload goal ran");
    let peak_memory_counted = memory_row.measured.is_some();
    table.push(memory_row);

    // Instructions, counted by callgrind on this very binary.
    bar.set_message("callgrind instruction counts");
    let (counts, why_no_counts) = if args.no_instructions {
        (Vec::new(), "--no-instructions")
    } else if !instructions::valgrind_available() {
        (Vec::new(), "valgrind not installed")
    } else {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut counts = Vec::new();
        let mut failed = "";
        for (flag, value) in INSTRUCTION_INPUTS {
            let value = match *flag {
                "--block" => root.join(value).display().to_string(),
                _ => spec_of(value),
            };
            let input = [*flag, value.as_str()];
            let pair = instructions::count(&input, Strategy::Sequential.name())
                .and_then(|seq| Ok((seq, instructions::count(&input, Strategy::BlockStm.name())?)));
            if let Err(e) = &pair {
                // The rest of the table stands: this row says it was not measured.
                bar.suspend(|| eprintln!("instruction count failed: {e}"));
                failed = "callgrind failed (see stderr)";
            }
            let label = value.rsplit('/').next().unwrap_or(&value).to_string();
            counts.push((label, pair.ok()));
        }
        (counts, failed)
    };
    table.push(instructions_row(&counts, why_no_counts));
    if !blocks.is_empty() {
        table.push(baseline_row(
            &format!(
                "{}: every block with transactions",
                blocks_path.as_deref().unwrap_or("mainnet")
            ),
            baseline.0,
            baseline.1,
        ));
    }
    bar.finish_and_clear();
    let elapsed = started.elapsed();

    let machine = Machine::detect();
    let date = utc_date(machine.date_unix);
    let text = report(
        &date,
        &machine.cpu_model,
        machine.cores as u64,
        &machine.commit,
        repeat,
        &table,
    );
    let file = GoalsFile {
        date,
        commit_dirty: tree_dirty(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        preset: "goals",
        strategy: Strategy::BlockStm,
        repeat,
        max_txs: args.max_txs,
        blocks: blocks_path,
        peak_memory_counted,
        elapsed_s: elapsed.as_secs_f64(),
        goals_met: table.iter().filter(|r| r.met == Some(true)).count(),
        goals_measured: table.iter().filter(|r| r.met.is_some()).count(),
        rows: &table,
        mainnet_blocks: &blocks,
        skipped_blocks: &skipped,
        mismatches: &mismatches,
        machine,
    };
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from(GOALS_OUT));
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let json = serde_json::to_string_pretty(&file).map_err(|e| e.to_string())?;
    std::fs::write(&out, json).map_err(|e| format!("{}: {e}", out.display()))?;
    print!("{text}");
    if let Some(cap) = args.max_txs {
        println!("(workloads capped at {cap} transactions: not the goals' sizes)");
    }
    println!(
        "goals: {} mainnet blocks, {} workload runs in {:.1} s; wrote {}",
        blocks.len(),
        WORKLOAD_GOALS.len(),
        elapsed.as_secs_f64(),
        out.display()
    );
    Ok(mismatches.is_empty() && bad_headers.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A block whose adaptive and raw runs (at 2 threads and at 1) took these times.
    fn block(name: &str, seq: u64, stm: u64) -> BlockRatio {
        let mut b = BlockRatio::new(name.into(), 10, seq, stm);
        b.raw_sequential_wall_ns = seq;
        b.raw_block_stm_wall_ns = stm;
        b.raw_speedup = ratio(seq, stm);
        b.raw_1_thread_sequential_wall_ns = seq;
        b.raw_1_thread_block_stm_wall_ns = 2 * stm;
        b
    }

    #[test]
    fn total_is_sum_over_sum_not_mean_of_ratios() {
        // Ratios 4.0 and 0.5 (mean 2.25); times 400 + 100 over 100 + 200 = 5/3.
        let blocks = [block("a", 400, 100), block("b", 100, 200)];
        let total = total_speedup(&blocks).unwrap();
        assert!((total - 500.0 / 300.0).abs() < 1e-12, "{total}");
        assert_eq!(total_speedup(&[]), None);
    }

    #[test]
    fn worst_block_is_the_smallest_ratio_and_named() {
        let blocks = [
            block("10", 300, 100),
            block("11", 90, 100),
            block("12", 50, 10),
            block("13", 90, 100),
        ];
        assert_eq!(worst_block(&blocks).unwrap().block, "11");
        let [total, one, worst] = mainnet_rows(&blocks, "data/mainnet", 0, "unused");
        assert_eq!(total.raw_sequential_wall_ns, Some(530));
        assert_eq!(total.raw_block_stm_wall_ns, Some(310));
        assert_eq!(total.met, Some(true)); // 530 / 310 = 1.71 >= 1.4
        assert_eq!(one.raw_block_stm_wall_ns, Some(620));
        assert_eq!(one.met, Some(false)); // 530 / 620 = 0.85 < 0.95
        assert!(worst.input.contains("11"), "{}", worst.input);
        assert_eq!(worst.measured, Some(0.9));
        assert_eq!(worst.met, Some(false)); // 0.9 < 0.95
        let [total, one, worst] = mainnet_rows(&[], "data/mainnet", 0, "--no-blocks");
        assert_eq!((total.met, one.met, worst.met), (None, None, None));
        assert_eq!(worst.note.as_deref(), Some("--no-blocks"));
    }

    #[test]
    fn goals_compare_both_ways_inclusively() {
        assert!(at_least(1.5).met(1.5));
        assert!(at_least(1.5).met(1.51));
        assert!(!at_least(1.5).met(1.499));
        assert!(at_most(1.5).met(1.5));
        assert!(at_most(1.5).met(0.7));
        assert!(!at_most(1.5).met(1.501));
        // Peak memory: block-stm over sequential.
        let r = memory_row("x", Some(100), Some(140), "");
        assert_eq!((r.measured, r.met), (Some(1.4), Some(true)));
        let r = memory_row("x", Some(100), Some(160), "");
        assert_eq!(r.met, Some(false));
        let r = memory_row("x", None, Some(160), "--no-memory");
        assert_eq!((r.measured, r.met), (None, None));
    }

    #[test]
    fn table_and_summary() {
        let mut rows: Vec<GoalRow> = mainnet_rows(
            &[block("7", 300, 100), block("8", 100, 200)],
            "data/mainnet",
            1,
            "",
        )
        .into();
        rows.push(memory_row("erc20:txs=10", None, None, "--no-memory"));
        let text = render_table(&rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "| work | input | threads | sequential ms | block-stm ms | measured | raw block-stm | ceiling | goal | met |"
        );
        assert_eq!(lines.len(), 2 + rows.len());
        // 400 / 300 = 1.333 < 1.4: not met (judged raw).
        assert!(
            lines[2].starts_with(
                "| mainnet total | `data/mainnet: 2 blocks with transactions (1 without, skipped)` | 2 | 0.000 | 0.000 |"
            ),
            "{}",
            lines[2]
        );
        assert!(
            lines[2].contains("| 1.333× (raw) | 1.333× (0.000 ms) | – | ≥ 1.4× | no |"),
            "{}",
            lines[2]
        );
        assert!(lines[3].contains("| 0.667× (raw) |"), "{}", lines[3]);
        assert!(lines[4].contains("block 8"), "{}", lines[4]);
        assert!(
            lines[4].contains("| 0.500× | 0.500× (0.000 ms) | – | ≥ 0.95× | no |"),
            "{}",
            lines[4]
        );
        assert!(
            lines[5].contains("not measured (--no-memory)"),
            "{}",
            lines[5]
        );
        assert!(lines[5].ends_with("| ≤ 1.5× | – |"), "{}", lines[5]);
        assert_eq!(summary(&rows), "0 of 3 goals met (1 not measured)");
        rows[0].met = Some(true);
        rows.pop();
        assert_eq!(summary(&rows), "1 of 3 goals met");
    }

    #[test]
    fn instruction_and_baseline_rows() {
        let counts = vec![
            ("erc20".to_string(), Some((100, 105))),
            ("13217637".to_string(), Some((200, 220))),
        ];
        let r = instructions_row(&counts, "");
        assert_eq!(r.measured, Some(1.1)); // the larger of 1.05 and 1.10
        assert_eq!(r.met, Some(false));
        assert!(
            r.input.contains("erc20: 1.050; 13217637: 1.100"),
            "{}",
            r.input
        );
        let r = instructions_row(&[], "valgrind not installed");
        assert_eq!((r.measured, r.met), (None, None));
        let r = baseline_row("data/mainnet", 100, 104);
        assert_eq!((r.measured, r.met), (Some(1.04), Some(true)));
        assert!(render_table(&[r]).contains("1.040× (bare revm 0.000 ms)"));
    }

    #[test]
    fn rows_survive_json() {
        let rows: Vec<GoalRow> =
            mainnet_rows(&[block("7", 300, 100)], "data/mainnet", 0, "").into();
        let json = serde_json::to_string(&rows).unwrap();
        assert!(json.contains("\"cmp\":\">=\""), "{json}");
        let back: Vec<GoalRow> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, rows);
    }

    #[test]
    fn caps_only_the_txs_knob() {
        assert_eq!(
            cap_txs("erc20:txs=10000,accounts=100000,hot=0", 50),
            "erc20:txs=50,accounts=100000,hot=0"
        );
        assert_eq!(cap_txs("chain:txs=20", 50), "chain:txs=20");
        assert_eq!(
            cap_txs("amm:pools=5000,txs=5000", 7),
            "amm:pools=5000,txs=7"
        );
        for g in WORKLOAD_GOALS {
            let capped = cap_txs(g.spec, 10);
            assert!(capped.contains("txs=10"), "{capped}");
            stmlab_workloads::WorkloadSpec::parse(&capped).unwrap();
            stmlab_workloads::WorkloadSpec::parse(g.spec).unwrap();
        }
    }

    #[test]
    fn dates() {
        assert_eq!(utc_date(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_date(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_date(1_700_000_000), "2023-11-14 22:13:20 UTC");
    }
}
