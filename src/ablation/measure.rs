//! The timed runs: per input, sequential execution and block-stm under every model, in
//! raw mode (`Options { conflicts, ..Options::RAW }`), interleaved over the rounds with
//! sequential as the reference (`compare::compare_models`: one warm executor at a time,
//! every output checked against sequential's), medians summed over a folder's blocks.

use std::collections::BTreeMap;

use super::inputs::Item;
use super::rows::{AblationRow, MeasuredPoint};
use crate::compare::{compare_models, print_mismatches};
use stmlab::{ConflictModel, Executor, Options, Strategy};

/// The thread count whose run gives the executions per transaction.
pub const EXECUTIONS_AT: usize = 2;

/// Sums over an item's blocks of one (model, threads).
#[derive(Clone, Debug, Default)]
struct Sums {
    sequential_ns: u64,
    block_stm_ns: u64,
    executions: u64,
    txs: u64,
    aborts_by_kind: BTreeMap<String, u64>,
}

impl Sums {
    fn add_aborts<'a>(&mut self, kinds: impl IntoIterator<Item = (&'a str, u64)>) {
        for (kind, n) in kinds {
            *self.aborts_by_kind.entry(kind.to_string()).or_default() += n;
        }
    }
}

/// What the timed runs of one item found.
#[derive(Default)]
pub struct Runs {
    timed: BTreeMap<(ConflictModel, usize), Sums>,
    /// Per model: block-stm's executions, transactions and aborts by kind at
    /// [`EXECUTIONS_AT`] threads.
    executions: BTreeMap<ConflictModel, Sums>,
    /// Runs whose output differed from sequential execution's.
    pub mismatches: usize,
}

impl Runs {
    /// Fills the measured columns of `row` (its model's).
    pub fn fill(&self, row: &mut AblationRow) {
        row.measured = self
            .timed
            .iter()
            .filter(|((m, _), _)| *m == row.conflicts)
            .map(|(&(_, threads), s)| MeasuredPoint {
                threads,
                sequential_ns: s.sequential_ns,
                block_stm_ns: s.block_stm_ns,
                speedup: s.sequential_ns as f64 / s.block_stm_ns.max(1) as f64,
                executions_per_tx: s.executions as f64 / s.txs.max(1) as f64,
            })
            .collect();
        let at = self.executions.get(&row.conflicts);
        row.executions_per_tx = at.map(|s| s.executions as f64 / s.txs.max(1) as f64);
        row.aborts_by_kind = at.map(|s| s.aborts_by_kind.clone());
    }
}

/// Sequential and block-stm under each of `models` at each of `threads`, `repeat` rounds
/// per block; the executions per transaction at 2 threads from these runs when 2 is
/// among `threads`, else from one more untimed run.
pub fn measure(
    item: &Item,
    models: &[ConflictModel],
    threads: &[usize],
    repeat: usize,
) -> Result<Runs, String> {
    let mut runs = Runs::default();
    let strategies = [Strategy::Sequential, Strategy::BlockStm];
    let hidden = indicatif::ProgressBar::hidden();
    for input in &item.inputs {
        let (rows, mismatches) =
            compare_models(input, &strategies, models, threads, repeat, false)?;
        print_mismatches(&mismatches, &hidden);
        runs.mismatches += mismatches.len();
        for r in rows.iter().filter(|r| r.strategy == Strategy::BlockStm) {
            let s = runs.timed.entry((r.conflicts, r.threads)).or_default();
            s.sequential_ns += r.sequential_wall_ns;
            s.block_stm_ns += r.wall_ns;
            s.executions += r.executions;
            s.txs += r.txs as u64;
            s.add_aborts(r.aborts_by_kind.iter().map(|(k, v)| (k.as_str(), *v)));
        }
    }
    if threads.contains(&EXECUTIONS_AT) {
        for &m in models {
            let s = runs.timed[&(m, EXECUTIONS_AT)].clone();
            runs.executions.insert(m, s);
        }
    } else {
        runs.executions = executions_only(item, models)?.executions;
    }
    Ok(runs)
}

/// The executions per transaction alone: one untimed block-stm run per block and model
/// at [`EXECUTIONS_AT`] threads (raw mode).
pub fn executions_only(item: &Item, models: &[ConflictModel]) -> Result<Runs, String> {
    let mut runs = Runs::default();
    for &m in models {
        let options = Options {
            conflicts: m,
            ..Options::RAW
        };
        let executor = Executor::with_options(EXECUTIONS_AT, options)
            .map_err(|e| format!("an executor of {EXECUTIONS_AT} threads: {e}"))?;
        let mut s = Sums::default();
        for input in &item.inputs {
            let run = executor
                .execute(&input.block, &input.state, Strategy::BlockStm)
                .map_err(|e| format!("{}: {e}", input.label))?;
            s.executions += run.metrics.executions;
            s.txs += input.block.txs.len() as u64;
            s.add_aborts(run.metrics.aborts_by_kind.iter().map(|(k, v)| (*k, *v)));
        }
        runs.executions.insert(m, s);
    }
    Ok(runs)
}
