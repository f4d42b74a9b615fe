//! `mainnet-blocks.png`: a dot plot of the speedup over sequential per mainnet block and
//! strategy, at one thread count (the machine's cores if swept), oldest block at the top.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use plotters::prelude::*;

use super::axes::{nice_ticks, y_range, TickAxis};
use super::legend::{draw_legend_row, Key};
use super::mainnet::Mainnet;
use super::schema::{Point, Sweep};
use super::style::{
    caption_font, draw_marker, frame, reference_line, row_label_font, strategy_color,
    strategy_rank, styled_mesh, whisker_line, REFERENCE_KEY,
};

/// The figure, into `out`; none without parallel points on blocks with transactions.
pub fn draw(sweep: &Sweep, mainnet: &Mainnet, out: &Path) -> Result<Option<PathBuf>, String> {
    if mainnet.parallel.is_empty() {
        return Ok(None);
    }
    let context = sweep.context();
    let m = &sweep.machine;
    let txs_of: BTreeMap<&str, usize> = mainnet
        .points
        .iter()
        .map(|p| (p.block.as_str(), p.txs))
        .collect();
    let t = pick_threads(&sweep.thread_counts(), m.cores);
    let at: Vec<&Point> = mainnet
        .parallel
        .iter()
        .copied()
        .filter(|p| p.threads == t)
        .collect();
    let rows: Vec<String> = mainnet
        .order
        .iter()
        .map(|b| {
            let n = txs_of.get(b).copied().unwrap_or(0);
            format!("{b} ({n} tx{})", if n == 1 { "" } else { "s" })
        })
        .collect();
    let x_hi = y_range(
        at.iter()
            .flat_map(|p| [p.speedup_vs_sequential, p.speedup_range().1]),
        Some(0.0),
        1.2,
    )
    .1;
    let mut by: BTreeMap<(usize, String), Vec<Dot>> = BTreeMap::new();
    for p in &at {
        let row = mainnet
            .order
            .iter()
            .position(|b| *b == p.block)
            .unwrap_or(0);
        let (lo, hi) = p.speedup_range();
        by.entry((strategy_rank(&p.strategy), p.strategy.clone()))
            .or_default()
            .push(Dot {
                row,
                value: p.speedup_vs_sequential,
                lo,
                hi,
            });
    }
    let dots = DotPanel {
        title: format!(
            "{t} worker thread{} (the machine has {} cores)",
            if t == 1 { "" } else { "s" },
            m.cores
        ),
        rows,
        row_title: "mainnet block (transactions)".into(),
        x_title: "speedup over sequential (sequential time / time)".into(),
        x_hi,
        series: by.into_iter().map(|((_, k), v)| (k, v)).collect(),
        whiskers: context.whiskers,
    };
    let path = out.join("mainnet-blocks.png");
    let height = 200 + 26 * dots.rows.len() as u32;
    draw_dot_figure(
        &path,
        (1300, height.max(500)),
        "Speedup over sequential per mainnet block (oldest block at the top)",
        &format!("{}{}", context.with_whiskers, mainnet.left_out),
        &dots,
    )?;
    Ok(Some(path))
}

/// A strategy's value on one row of a dot plot.
struct Dot {
    row: usize,
    value: f64,
    lo: f64,
    hi: f64,
}

/// A dot plot: one row per category (a mainnet block), one dot per strategy on each.
struct DotPanel {
    title: String,
    rows: Vec<String>,
    row_title: String,
    x_title: String,
    x_hi: f64,
    series: Vec<(String, Vec<Dot>)>,
    whiskers: bool,
}

/// Draws the dot plot `p` as a figure of its own, with the legend row above it.
fn draw_dot_figure(
    path: &Path,
    size: (u32, u32),
    title: &str,
    context: &str,
    p: &DotPanel,
) -> Result<(), String> {
    let e = |e: DrawingAreaErrorKind<_>| e.to_string();
    let (root, body) = frame(path, size, title, &[context])?;
    let mut keys: Vec<Key> = p
        .series
        .iter()
        .map(|(name, _)| Key {
            name: name.clone(),
            color: strategy_color(name),
            width: 3,
            dashed: false,
        })
        .collect();
    keys.push(Key {
        name: "as fast as sequential".into(),
        color: REFERENCE_KEY,
        width: 1,
        dashed: true,
    });
    let (strip, body) = body.split_vertically(36);
    draw_legend_row(&strip, &keys)?;

    let n = p.rows.len();
    // Row 0 (the oldest block) at the top.
    let y_of = |row: usize| (n - 1 - row) as f64;
    let x_ticks = nice_ticks(p.x_hi);
    let x_coord = TickAxis {
        lo: 0.0,
        hi: p.x_hi,
        ticks: x_ticks.clone(),
    };
    let y_coord = TickAxis {
        lo: -0.6,
        hi: n as f64 - 0.4,
        ticks: (0..n).map(|r| r as f64).collect(),
    };
    let mut chart = ChartBuilder::on(&body)
        .caption(&p.title, caption_font())
        .margin(12)
        .margin_right(30)
        .x_label_area_size(48)
        .y_label_area_size(200)
        .build_cartesian_2d(x_coord, y_coord)
        .map_err(e)?;
    let label_of_row = |y: &f64| {
        let i = y.round() as usize;
        if i < n {
            p.rows[n - 1 - i].clone()
        } else {
            String::new()
        }
    };
    let x_fmt = |x: &f64| format!("{x}×");
    styled_mesh(&mut chart)
        .x_desc(p.x_title.as_str())
        .y_desc(p.row_title.as_str())
        .y_label_style(row_label_font())
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&label_of_row)
        .draw()
        .map_err(e)?;
    let reference = reference_line();
    chart
        .draw_series(DashedLineSeries::new(
            vec![(1.0, -0.6), (1.0, n as f64 - 0.4)],
            6,
            5,
            reference,
        ))
        .map_err(e)?;
    // Strategies side by side within a row, so equal values stay visible.
    let k = p.series.len().max(1) as f64;
    for (s, (name, dots)) in p.series.iter().enumerate() {
        let color = strategy_color(name);
        let offset = (s as f64 - (k - 1.0) / 2.0) * (0.6 / k);
        for d in dots {
            let y = y_of(d.row) + offset;
            if p.whiskers {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(d.lo, y), (d.hi, y)],
                        whisker_line(color),
                    )))
                    .map_err(e)?;
            }
            let at = (d.value, y);
            draw_marker(name, 5, color, |shape| {
                chart
                    .draw_series(std::iter::once(EmptyElement::at(at) + shape))
                    .map(|_| ())
                    .map_err(e)
            })?;
        }
    }
    root.present().map_err(e)?;
    Ok(())
}

/// The thread count the per-block plot shows: the machine's cores if swept, else the
/// largest swept count below it, else the smallest.
fn pick_threads(threads: &[usize], cores: usize) -> usize {
    threads
        .iter()
        .copied()
        .filter(|&t| t <= cores.max(1))
        .max()
        .or_else(|| threads.iter().copied().min())
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_machines_cores_or_the_nearest_swept_count() {
        assert_eq!(pick_threads(&[1, 2, 4, 8], 2), 2);
        assert_eq!(pick_threads(&[4, 8], 2), 4);
    }
}
