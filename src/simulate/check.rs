//! `stmlab simulate --check`: the measured points of an input against their predictions
//! (the calibrated model's and the uncalibrated one's), and per group the error summary
//! and the measured speedup curves the scaling chart shows.

use std::collections::BTreeMap;

use super::real_runs::Measured;
use super::rows::{CheckRow, CheckSummary, SimRow};
use crate::inputs::Input;
use crate::measure::Spread;
use stmlab::evm::location::Location;
use stmlab::Strategy;
use stmlab_sim::{simulate, simulate_uncalibrated, BlockRecord};

/// The check rows of `input`: sequential's (the recorded time against the measured one),
/// then each measured point against its prediction (from `predicted` when it holds the
/// point, else simulated here).
pub fn input_rows(
    input: &Input,
    rec: &BlockRecord<Location>,
    predicted: &[SimRow],
    seq: Spread,
    measured: Vec<Measured>,
) -> Result<Vec<CheckRow>, String> {
    let err = |e: stmlab::EngineError| format!("{}: {e}", input.label);
    let mut rows = vec![CheckRow::sequential(input, rec.model.sequential_ns, seq)];
    for point in measured {
        let (s, t) = (point.strategy, point.threads);
        let unc = simulate_uncalibrated(rec, s, t).map_err(err)?;
        let p = match predicted
            .iter()
            .find(|r| r.prediction.strategy == s && r.prediction.threads == t)
        {
            Some(r) => r.prediction.clone(),
            None => simulate(rec, s, t).map_err(err)?,
        };
        rows.push(CheckRow::measured(input, &p, &unc, point, seq.median));
    }
    Ok(rows)
}

/// The measured speedup of a group per strategy: (threads, total sequential time over
/// total wall time).
pub type Curves = BTreeMap<Strategy, Vec<(usize, f64)>>;

/// The summary per (strategy, threads) of a group's check rows, and the group's measured
/// curves.
pub fn group_summary(group: &str, checks: &[CheckRow]) -> (Vec<CheckSummary>, Curves) {
    let mut summary = Vec::new();
    let mut curves = Curves::new();
    let mut keys: Vec<(Strategy, usize)> = checks.iter().map(|c| (c.strategy, c.threads)).collect();
    keys.sort();
    keys.dedup();
    for (s, t) in keys {
        let list: Vec<&CheckRow> = checks
            .iter()
            .filter(|c| c.strategy == s && c.threads == t)
            .collect();
        summary.push(CheckSummary::of(group, &list));
        if s != Strategy::Sequential {
            // Measured speedup of the group: total sequential over total wall.
            let seq: u64 = checks
                .iter()
                .filter(|c| c.strategy == Strategy::Sequential)
                .map(|c| c.measured_wall_ns)
                .sum();
            let wall: u64 = list.iter().map(|c| c.measured_wall_ns).sum();
            curves
                .entry(s)
                .or_default()
                .push((t, seq as f64 / wall.max(1) as f64));
        }
    }
    (summary, curves)
}
