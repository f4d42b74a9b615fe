//! The check's real runs of an input: `execute_block` of sequential and of every
//! strategy at every check thread count, interleaved (`measure::interleaved`, sequential
//! first in every round), with minor page faults and phase times per run; taken when the
//! machine gives two cores (`probes`).

use super::probes::{
    compute_probe, evm_efficiency, wait_for_two_cores, EvmProbe, MAX_ATTEMPTS, TWO_CORES,
};
use crate::inputs::Input;
use crate::measure::{interleaved, Order, Spread};
use stmlab::core::metrics::median;
use stmlab::core::phase::Phase;
use stmlab::{execute_block, execute_block_with, ConflictModel, Options, Strategy};

/// The check's measurements of one input, taken when the machine gives two cores (see
/// [`EvmProbe`]).
pub fn measure_on_two_cores(
    input: &Input,
    conflicts: ConflictModel,
    strategies: &[Strategy],
    threads: &[usize],
    repeat: usize,
) -> Result<(EvmProbe, Spread, Vec<Measured>), String> {
    let mut waited_s = 0;
    let mut attempts = 0;
    loop {
        let (before, waited) = wait_for_two_cores();
        waited_s += waited;
        attempts += 1;
        let evm = evm_efficiency(input);
        let (seq, measured) = measure(input, conflicts, strategies, threads, repeat)?;
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

/// One measured (strategy, threads) point.
pub struct Measured {
    pub strategy: Strategy,
    pub threads: usize,
    /// Wall time: median, fastest and slowest run.
    pub wall: Spread,
    /// Of the last run.
    pub executions: u64,
    pub aborts: u64,
    /// Minor page faults per run (median; Linux only).
    pub faults: Option<u64>,
    /// Per phase, the median over the runs.
    pub phases: Vec<(Phase, u64)>,
}

/// Real runs of `input`: sequential first in every round, then every strategy at every
/// thread count, `repeat` rounds (`measure::interleaved`). Returns the sequential
/// baseline's times and every point.
fn measure(
    input: &Input,
    conflicts: ConflictModel,
    strategies: &[Strategy],
    threads: &[usize],
    repeat: usize,
) -> Result<(Spread, Vec<Measured>), String> {
    let err =
        |e: stmlab::ExecuteError<stmlab::evm::state::NoError>| format!("{}: {e}", input.label);
    let points: Vec<(Strategy, usize)> = threads
        .iter()
        .flat_map(|&t| strategies.iter().map(move |&s| (s, t)))
        .collect();
    let mut faults = vec![Vec::new(); points.len()];
    let mut phases: Vec<Vec<(Phase, Vec<u64>)>> = vec![Vec::new(); points.len()];
    let mut last = vec![(0, 0); points.len()];
    // Slot 0 is the sequential baseline, first in every round; slot i + 1 is point i. The
    // points' order rotates from round to round, so no point always runs right after the
    // sequential baseline (or another point).
    let baseline_first = Order { fixed_first: 1 };
    let mut samples = interleaved(
        points.len() + 1,
        repeat,
        baseline_first,
        |slot, stopwatch| {
            if slot == 0 {
                let run = stopwatch
                    .time(|| execute_block(&input.block, &input.state, Strategy::Sequential, 1))
                    .map_err(err)?;
                // Dropped after the clock stops, as the points' outputs are.
                drop(run);
                return Ok(());
            }
            let i = slot - 1;
            let (s, t) = points[i];
            let f0 = minor_faults();
            let raw = Options {
                conflicts,
                ..Options::RAW
            };
            let run = stopwatch
                .time(|| execute_block_with(&input.block, &input.state, s, t, raw))
                .map_err(err)?;
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
                let at = match phases[i].iter().position(|(p, _)| p == name) {
                    Some(at) => at,
                    None => {
                        phases[i].push((*name, Vec::new()));
                        phases[i].len() - 1
                    }
                };
                phases[i][at].1.push(d.as_nanos() as u64);
            }
            Ok(())
        },
    )?;
    let seq = Spread::of(&mut samples[0]);
    let rows = points
        .iter()
        .enumerate()
        .map(|(i, &(s, t))| Measured {
            strategy: s,
            threads: t,
            wall: Spread::of(&mut samples[i + 1]),
            executions: last[i].0,
            aborts: last[i].1,
            faults: (!faults[i].is_empty()).then(|| median(&mut faults[i])),
            phases: phases[i]
                .iter_mut()
                .map(|(name, v)| (*name, median(v)))
                .collect(),
        })
        .collect();
    Ok((seq, rows))
}
