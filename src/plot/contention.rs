//! The contention figures of each swept series: speedup over sequential
//! (`contention-<series>.png`) and executions per transaction (`wasted-<series>.png`)
//! versus the contention knob (hot fraction or number of accounts), one line per
//! strategy, one panel per thread count.

use std::path::{Path, PathBuf};

use super::axes::{y_range, XAxis};
use super::panel::{figure, grid_of, lines_by_strategy, panel_size, Panel, Whisker};
use super::schema::{Point, Series, Sweep};
use super::text::{fixed_knobs, fmt_execs, fmt_speedup, human, slug};

/// Both figures of every series of `sweep` with a knob, into `out`.
pub fn per_series(sweep: &Sweep, out: &Path) -> Result<Vec<PathBuf>, String> {
    let mut written = Vec::new();
    for series in sweep.series.iter().filter(|s| s.knob.is_some()) {
        written.extend(series_figures(sweep, series, out)?);
    }
    Ok(written)
}

/// The two figures of one series (none when the sweep has no point of it).
fn series_figures(sweep: &Sweep, series: &Series, out: &Path) -> Result<Vec<PathBuf>, String> {
    let context = sweep.context();
    let threads = sweep.thread_counts();
    let knob = series.knob.as_deref().unwrap_or_default();
    let value_of = |label: &str| {
        series
            .labels
            .iter()
            .position(|l| l == label)
            .and_then(|i| series.values.get(i).copied())
    };
    let pts: Vec<&Point> = sweep
        .points
        .iter()
        .filter(|p| value_of(&p.block).is_some())
        .collect();
    if pts.is_empty() {
        return Ok(Vec::new());
    }
    let fixed = fixed_knobs(&series.labels);
    let grid = grid_of(threads.len());
    let x = |p: &Point| {
        let v = value_of(&p.block).unwrap_or(0.0);
        if series.log_scale {
            v.max(1e-12).log10()
        } else {
            v
        }
    };
    let sp_w = |p: &Point| p.speedup_range();
    let mut speed_panels = Vec::new();
    let mut waste_panels = Vec::new();
    let speed_max = y_range(
        pts.iter()
            .flat_map(|p| [p.speedup_vs_sequential, p.speedup_range().1]),
        Some(0.0),
        1.2,
    );
    let waste_max = y_range(pts.iter().map(|p| p.executions_per_tx), None, 1.1);
    let waste_range = (waste_max.0.min(0.95), waste_max.1);
    for &t in &threads {
        let at: Vec<&Point> = pts.iter().copied().filter(|p| p.threads == t).collect();
        let title = format!("{t} worker thread{}", if t == 1 { "" } else { "s" });
        speed_panels.push(Panel {
            title: title.clone(),
            x: knob_axis(series),
            y_title: "speedup (sequential time / time)".into(),
            y_range: speed_max,
            y_format: fmt_speedup,
            reference: Some((1.0, "as fast as sequential".into())),
            x_reference: None,
            lines: lines_by_strategy(
                at.iter().copied(),
                x,
                |p| p.speedup_vs_sequential,
                context.whiskers.then_some(&sp_w as &Whisker),
            ),
            legend: None,
            steps: false,
        });
        waste_panels.push(Panel {
            title,
            x: knob_axis(series),
            y_title: "executions per transaction (1 = none wasted)".into(),
            y_range: waste_range,
            y_format: fmt_execs,
            reference: None,
            x_reference: None,
            lines: lines_by_strategy(at.iter().copied(), x, |p| p.executions_per_tx, None),
            legend: None,
            steps: false,
        });
    }
    let path = out.join(format!("contention-{}.png", slug(&series.id)));
    figure(
        &path,
        panel_size(grid),
        &format!(
            "{}: speedup over sequential vs {knob}{fixed}",
            series.workload
        ),
        &context.with_whiskers,
        grid,
        &speed_panels,
    )?;
    let speed = path;
    let path = out.join(format!("wasted-{}.png", slug(&series.id)));
    figure(
        &path,
        panel_size(grid),
        &format!(
            "{}: executions per transaction vs {knob}{fixed}",
            series.workload
        ),
        &context.without_whiskers,
        grid,
        &waste_panels,
    )?;
    Ok(vec![speed, path])
}

/// The x axis of a contention series: ticks at the swept values.
fn knob_axis(series: &Series) -> XAxis {
    let title = series
        .knob_meaning
        .clone()
        .or_else(|| series.knob.clone())
        .unwrap_or_default();
    if series.log_scale {
        XAxis::at(title, &series.values, |v| v.max(1e-12).log10(), human)
    } else {
        XAxis::at(title, &series.values, |v| v, |v| format!("{v}"))
    }
}
