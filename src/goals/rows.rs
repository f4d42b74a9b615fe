//! The lines of the goals table: what each measured (the medians of one interleaved run,
//! or summed over the mainnet blocks), the ratio held against its goal, and whether it is
//! met; built from `compare`'s rows and the per-block medians.

use serde::{Deserialize, Serialize};

use super::goal::{
    Goal, BASELINE_GOAL, GOALS_THREADS, INSTRUCTIONS_GOAL, MAINNET_TOTAL_1_THREAD_GOAL,
    MAINNET_TOTAL_GOAL, MAINNET_WORST_GOAL, PEAK_MEMORY_GOAL,
};
use crate::compare::Row;
use stmlab::Strategy;

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
    pub fn new(
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
    pub fn set_speedups(&mut self, adaptive: &Row, raw: &Row, judged_raw: bool) {
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

/// The one Block-STM row of a `compare` call.
pub fn block_stm_row(rows: &[Row]) -> Result<&Row, String> {
    rows.iter()
        .find(|r| r.strategy == Strategy::BlockStm)
        .ok_or_else(|| "compare returned no block-stm row".to_string())
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A block whose adaptive and raw runs (at 2 threads and at 1) took these times.
    pub fn block(name: &str, seq: u64, stm: u64) -> BlockRatio {
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
    fn peak_memory_is_block_stm_over_sequential() {
        let r = memory_row("x", Some(100), Some(140), "");
        assert_eq!((r.measured, r.met), (Some(1.4), Some(true)));
        let r = memory_row("x", Some(100), Some(160), "");
        assert_eq!(r.met, Some(false));
        let r = memory_row("x", None, Some(160), "--no-memory");
        assert_eq!((r.measured, r.met), (None, None));
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
}
