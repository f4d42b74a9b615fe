//! `results/plots/ablation.png`: on the left, the simulated block-stm speedup against
//! virtual workers for the first input (the mainnet blocks by default), one line per
//! conflict model, with the measured speedups as hollow markers; on the right, per input
//! and model, the critical-path bound (filled) and the bound counted in transactions
//! (hollow), on a logarithmic axis. The title's context names the commit, the machine
//! and the date of the data.

use std::path::Path;

use plotters::prelude::*;

use super::file::AblationFile;
use super::rows::AblationRow;
use crate::plot::style::{
    caption_font, draw_series_legend, frame, label_font, register_fonts, styled_mesh, LINEAR_GUIDE,
};
use stmlab::ConflictModel;

/// Each model's colour.
pub fn model_color(m: ConflictModel) -> RGBColor {
    match m {
        ConflictModel::Coarse => RGBColor(214, 39, 40),
        ConflictModel::Fields => RGBColor(31, 119, 180),
        ConflictModel::Deltas => RGBColor(44, 160, 44),
    }
}

/// A row label without the knobs every default workload shares.
fn short_label(r: &AblationRow) -> String {
    if r.kind == "blocks" {
        return format!("{} ({} blocks)", r.input, r.blocks);
    }
    let (name, knobs) = r.input.split_once(':').unwrap_or((&r.input, ""));
    let kept: Vec<&str> = knobs
        .split(',')
        .filter(|k| !k.starts_with("txs=") && !k.starts_with("accounts=") && !k.is_empty())
        .collect();
    if kept.is_empty() {
        name.to_string()
    } else {
        format!("{name} {}", kept.join(","))
    }
}

fn log2_label(v: f64) -> String {
    let x = 2f64.powf(v);
    if x >= 1.0 {
        format!("{x:.0}×")
    } else {
        format!("{x:.2}×")
    }
}

/// Draws the figure of `file` at `path`, creating its folder.
pub fn draw(path: &Path, file: &AblationFile) -> Result<(), String> {
    register_fonts()?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let e = |e: DrawingAreaErrorKind<_>| e.to_string();
    let m = &file.machine;
    let context = [
        format!(
            "commit {}{}, {} ({} cores), {}",
            m.commit,
            if file.tree_dirty { " (dirty tree)" } else { "" },
            m.cpu_model,
            m.cores,
            file.date_utc
        ),
        format!(
            "simulated from costs recorded on this machine; measured: raw mode, medians of {} interleaved rounds",
            file.repeat
        ),
    ];
    let context: Vec<&str> = context.iter().map(String::as_str).collect();
    let (root, body) = frame(
        path,
        (1600, 760),
        "Conflict models: what each removes",
        &context,
    )?;
    let (left, right) = body.split_horizontally(760);
    let first = file
        .rows
        .first()
        .map(|r| r.input.clone())
        .unwrap_or_default();
    let mine: Vec<&AblationRow> = file.rows.iter().filter(|r| r.input == first).collect();

    // Left: simulated (and measured) speedup against workers.
    let max_w = file.workers.iter().copied().max().unwrap_or(2).max(2);
    let x_hi = (max_w as f64).log2();
    let values = mine.iter().flat_map(|r| {
        r.simulated
            .iter()
            .map(|p| p.speedup)
            .chain(r.measured.iter().map(|p| p.speedup))
    });
    let (mut lo, mut hi) = (1.0f64, 2.0f64);
    for v in values.filter(|v| v.is_finite() && *v > 0.0) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    let (y_lo, y_hi) = (
        (lo.log2() - 0.15).floor().min(-1.0),
        (hi.log2() + 0.3).ceil(),
    );
    let title = mine.first().map_or_else(String::new, |r| short_label(r));
    let mut c = ChartBuilder::on(&left)
        .caption(format!("block-stm speedup: {title}"), caption_font())
        .margin(14)
        .x_label_area_size(52)
        .y_label_area_size(72)
        .build_cartesian_2d(-0.25..x_hi + 0.25, y_lo..y_hi)
        .map_err(e)?;
    let x_fmt = |x: &f64| format!("{:.0}", 2f64.powf(*x));
    let y_fmt = |y: &f64| log2_label(*y);
    styled_mesh(&mut c)
        .x_desc("workers (simulated: virtual; hollow: measured threads)")
        .y_desc("speedup over sequential")
        .x_labels(x_hi as usize + 2)
        .y_labels((y_hi - y_lo) as usize + 1)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .draw()
        .map_err(e)?;
    let top = y_hi.min(x_hi + 0.25);
    c.draw_series(DashedLineSeries::new(
        vec![(0.0, 0.0), (top, top)],
        3,
        4,
        LINEAR_GUIDE.stroke_width(1),
    ))
    .map_err(e)?;
    for r in &mine {
        let color = model_color(r.conflicts);
        let style = color.stroke_width(3);
        let pts: Vec<(f64, f64)> = r
            .simulated
            .iter()
            .filter(|p| p.speedup > 0.0)
            .map(|p| ((p.workers as f64).log2(), p.speedup.log2()))
            .collect();
        c.draw_series(LineSeries::new(pts.iter().copied(), style))
            .map_err(e)?
            .label(format!("{} (bound {:.1}×)", r.conflicts, r.bound))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style));
        c.draw_series(pts.iter().map(|&p| Circle::new(p, 4, color.filled())))
            .map_err(e)?;
        c.draw_series(r.measured.iter().filter(|p| p.speedup > 0.0).map(|p| {
            Circle::new(
                ((p.threads as f64).log2(), p.speedup.log2()),
                9,
                color.stroke_width(2),
            )
        }))
        .map_err(e)?;
    }
    draw_series_legend(&mut c, SeriesLabelPosition::UpperLeft)?;

    // Right: the bounds per input and model.
    let mut inputs: Vec<&AblationRow> = Vec::new();
    for r in &file.rows {
        if !inputs.iter().any(|i| i.input == r.input) {
            inputs.push(r);
        }
    }
    let n = inputs.len();
    let labels: Vec<String> = inputs.iter().map(|r| short_label(r)).collect();
    let row_of = |input: &str| {
        let i = inputs.iter().position(|r| r.input == input).unwrap_or(0);
        (n - 1 - i) as f64
    };
    let (mut b_lo, mut b_hi) = (1.0f64, 2.0f64);
    for r in &file.rows {
        for v in [r.bound, r.unweighted_bound] {
            if v.is_finite() && v > 0.0 {
                b_lo = b_lo.min(v);
                b_hi = b_hi.max(v);
            }
        }
    }
    let (x_lo, x_top) = (b_lo.log2().floor().min(0.0), (b_hi.log2() + 0.2).ceil());
    let mut d = ChartBuilder::on(&right)
        .caption(
            "bound per input (filled: cost-weighted; hollow: in transactions)",
            caption_font(),
        )
        .margin(14)
        .margin_right(28)
        .x_label_area_size(52)
        .y_label_area_size(250)
        .build_cartesian_2d(x_lo..x_top, -0.6..n as f64 - 0.4)
        .map_err(e)?;
    let row_fmt = |y: &f64| {
        let i = y.round() as i64;
        if i >= 0 && (i as usize) < n && (y - i as f64).abs() < 1e-6 {
            labels[n - 1 - i as usize].clone()
        } else {
            String::new()
        }
    };
    // Every power of two up to 16x, then every fourth (the labels of a wide axis would
    // run into each other), thousands as k.
    let span = x_top - x_lo;
    let bound_fmt = |v: &f64| {
        let e = v.round() as i64;
        if span > 10.0 && e > 4 && e % 4 != 0 {
            return String::new();
        }
        let x = 2f64.powi(e as i32);
        if x >= 1024.0 {
            format!("{:.0}k×", x / 1024.0)
        } else {
            log2_label(*v)
        }
    };
    styled_mesh(&mut d)
        .x_desc("speedup bound")
        .x_labels((x_top - x_lo) as usize + 1)
        .x_label_formatter(&bound_fmt)
        // Integer ticks: one a row (a span of n + 0.2 asks for steps of 1).
        .y_labels(n + 1)
        .y_label_formatter(&row_fmt)
        .y_label_style(label_font())
        .draw()
        .map_err(e)?;
    let models: Vec<ConflictModel> = file.conflicts.clone();
    let k = models.len().max(1) as f64;
    for (mi, &model) in models.iter().enumerate() {
        let color = model_color(model);
        let offset = (mi as f64 - (k - 1.0) / 2.0) * 0.2;
        let mine: Vec<&AblationRow> = file.rows.iter().filter(|r| r.conflicts == model).collect();
        d.draw_series(mine.iter().filter(|r| r.bound > 0.0).map(|r| {
            Circle::new(
                (r.bound.log2(), row_of(&r.input) + offset),
                6,
                color.filled(),
            )
        }))
        .map_err(e)?
        .label(model.to_string())
        .legend(move |(x, y)| Circle::new((x + 12, y), 6, color.filled()));
        d.draw_series(mine.iter().filter(|r| r.unweighted_bound > 0.0).map(|r| {
            Circle::new(
                (r.unweighted_bound.log2(), row_of(&r.input) + offset),
                8,
                color.stroke_width(2),
            )
        }))
        .map_err(e)?;
    }
    draw_series_legend(&mut d, SeriesLabelPosition::LowerRight)?;
    root.present().map_err(e)?;
    Ok(())
}
