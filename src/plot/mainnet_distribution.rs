//! `mainnet-distribution.png`: the cumulative distribution of the per-block speedups over
//! sequential, one step line per strategy, one panel per thread count.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use plotters::prelude::*;

use super::axes::{nice_ticks, y_range, XAxis};
use super::mainnet::Mainnet;
use super::panel::{figure, grid_of, panel_size, Line, Panel};
use super::schema::Sweep;
use super::style::strategy_rank;
use super::text::fmt_percent;

/// The figure, into `out`; none without parallel points on blocks with transactions.
pub fn draw(sweep: &Sweep, mainnet: &Mainnet, out: &Path) -> Result<Option<PathBuf>, String> {
    if mainnet.parallel.is_empty() {
        return Ok(None);
    }
    let threads = sweep.thread_counts();
    let grid = grid_of(threads.len());
    let (_, x_hi) = y_range(
        mainnet.parallel.iter().map(|p| p.speedup_vs_sequential),
        Some(0.0),
        1.2,
    );
    let panels: Vec<Panel> = threads
        .iter()
        .map(|&t| threads_panel(mainnet, t, x_hi))
        .collect();
    let path = out.join("mainnet-distribution.png");
    figure(
        &path,
        panel_size(grid),
        &format!(
            "Per-block speedup over {} mainnet blocks: cumulative distribution (further right is better)",
            mainnet.order.len()
        ),
        &format!("{}{}", sweep.context().without_whiskers, mainnet.left_out),
        grid,
        &panels,
    )?;
    Ok(Some(path))
}

/// The panel of thread count `t`: per strategy, the share of blocks at or below each
/// speedup, up to `x_hi`.
fn threads_panel(mainnet: &Mainnet, t: usize, x_hi: f64) -> Panel {
    let mut by: BTreeMap<(usize, &str), Vec<f64>> = BTreeMap::new();
    for p in mainnet.parallel.iter().filter(|p| p.threads == t) {
        by.entry((strategy_rank(&p.strategy), &p.strategy))
            .or_default()
            .push(p.speedup_vs_sequential);
    }
    let lines = by
        .into_iter()
        .map(|((_, name), speedups)| step_line(name, speedups, x_hi))
        .collect();
    Panel {
        title: format!("{t} worker thread{}", if t == 1 { "" } else { "s" }),
        x: XAxis {
            title: "speedup over sequential".into(),
            range: (0.0, x_hi),
            ticks: nice_ticks(x_hi)
                .iter()
                .map(|&v| (v, format!("{v}×")))
                .collect(),
        },
        y_title: "share of blocks at or below this speedup".into(),
        y_range: (0.0, 1.02),
        y_format: fmt_percent,
        reference: None,
        x_reference: Some((1.0, "as fast as sequential".into())),
        lines,
        legend: Some(SeriesLabelPosition::LowerRight),
        steps: true,
    }
}

/// One strategy's cumulative distribution of `speedups` as a step line, named with the
/// median (the mean of the two middle ones for an even count) and how many blocks ran
/// faster than sequential.
fn step_line(name: &str, mut speedups: Vec<f64>, x_hi: f64) -> Line {
    let v = &mut speedups;
    v.sort_by(f64::total_cmp);
    let n = v.len() as f64;
    let median = if v.len() % 2 == 1 {
        v[v.len() / 2]
    } else {
        (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
    };
    let faster = v.iter().filter(|s| **s > 1.0).count();
    let mut points = vec![(0.0, 0.0)];
    for (i, s) in v.iter().enumerate() {
        points.push((*s, i as f64 / n));
        points.push((*s, (i + 1) as f64 / n));
    }
    points.push((x_hi, 1.0));
    Line {
        key: name.to_string(),
        name: format!(
            "{name}: median {median:.2}×, faster on {faster} of {}",
            v.len()
        ),
        thin: false,
        points,
        whiskers: Vec::new(),
    }
}
