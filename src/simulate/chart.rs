//! `stmlab simulate --plots`: a group's scaling chart (`plot::scaling`), its predicted
//! curves per parallel strategy and, with `--check`, the measured points.

use std::path::Path;

use super::check::Curves;
use super::rows::SimRow;
use crate::inputs::Group;
use crate::machine::Machine;
use crate::plot::scaling::{self, draw_scaling, ScalingChart};
use stmlab::Strategy;
use stmlab_sim::Analysis;

/// Draws the chart of `group` into `dir`: the predicted speedups of `curve_rows` (the
/// aggregate rows of a folder of several blocks, else the one block's) for each of
/// `parallel`, the group's bound, and with a check its measured curves and the runs per
/// point they are medians of.
pub fn draw_group_chart(
    dir: &Path,
    group: &Group,
    analysis: &Analysis,
    curve_rows: &[SimRow],
    checked: Option<(Curves, usize)>,
    parallel: &[Strategy],
    machine: &Machine,
) -> Result<(), String> {
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
    let (measured, measured_note) = match checked {
        Some((curves, runs)) => (
            curves,
            format!("; hollow markers: measured here (median of {runs} runs)"),
        ),
        None => (Curves::new(), String::new()),
    };
    let measured = measured
        .into_iter()
        .map(|(s, pts)| (s.name().to_string(), pts))
        .collect();
    let (title, name) = if group.inputs.len() > 1 {
        (
            format!(
                "Predicted scaling: {} ({} blocks, {} txs)",
                group.name,
                group.inputs.len(),
                analysis.txs
            ),
            group.name.clone(),
        )
    } else {
        (
            format!("Predicted scaling: {}", group.inputs[0].label),
            group.inputs[0].label.clone(),
        )
    };
    let chart = ScalingChart {
        title,
        subtitle: vec![
            format!(
                "simulated from costs recorded on {} ({} cores), commit {}",
                machine.cpu_model, machine.cores, machine.commit
            ),
            format!(
                "speedup over plain sequential revm{measured_note}; conflict model: {}",
                curve_rows.first().map_or("coarse", |r| r.conflicts.name())
            ),
        ],
        bound: analysis.speedup_bound,
        predicted,
        measured,
    };
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join(scaling::file_name(&name));
    draw_scaling(&path, &chart)?;
    eprintln!("wrote {}", path.display());
    Ok(())
}
