//! `stmlab simulate --plots`: the scaling chart, predicted speedup over sequential versus
//! worker threads, one line per strategy, the critical-path bound as the ceiling, measured
//! runs as hollow markers. Both axes are logarithmic (base 2), so linear scaling is a
//! diagonal. Drawn in the plots' one style (`style`).

use std::path::Path;

use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::style::{
    draw_series_legend, frame, register_fonts, strategy_color, styled_mesh, BOUND, LINEAR_GUIDE,
};
use super::text::slug;

/// One chart's data.
pub struct ScalingChart {
    pub title: String,
    /// Lines of context under the title (machine, what was measured).
    pub subtitle: Vec<String>,
    /// `total cost / critical path`.
    pub bound: f64,
    /// Per strategy, (threads, predicted speedup).
    pub predicted: Vec<(String, Vec<(usize, f64)>)>,
    /// Per strategy, (threads, measured speedup).
    pub measured: Vec<(String, Vec<(usize, f64)>)>,
}

/// The chart's file name for an input (or folder) name: `scaling_<name>.png`.
pub fn file_name(name: &str) -> String {
    format!("scaling_{}.png", slug(name))
}

fn speedup_label(log2: f64) -> String {
    let v = 2f64.powf(log2);
    if v >= 1.0 {
        format!("{v:.0}×")
    } else {
        let s = format!("{v:.3}");
        format!("{}×", s.trim_end_matches('0'))
    }
}

fn pretty_bound(b: f64) -> String {
    if b >= 100.0 {
        format!("{b:.0}×")
    } else {
        format!("{b:.1}×")
    }
}

/// Draws `chart` to a PNG at `path`.
pub fn draw_scaling(path: &Path, chart: &ScalingChart) -> Result<(), String> {
    register_fonts()?;
    let e = |e: DrawingAreaErrorKind<_>| e.to_string();
    let threads: Vec<usize> = {
        let mut t: Vec<usize> = chart
            .predicted
            .iter()
            .flat_map(|(_, p)| p.iter().map(|x| x.0))
            .collect();
        t.sort_unstable();
        t.dedup();
        t
    };
    let max_threads = threads.last().copied().unwrap_or(1).max(2);
    let x_hi = (max_threads as f64).log2();
    let values = chart
        .predicted
        .iter()
        .chain(&chart.measured)
        .flat_map(|(_, p)| p.iter().map(|x| x.1))
        .filter(|v| v.is_finite() && *v > 0.0);
    let (mut lo, mut hi) = (1.0f64, 1.0f64);
    for v in values {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    // The ceiling is shown when it is within reach of the data (or of linear scaling at
    // the most threads); further up it is only named in the legend.
    let top_of_interest = hi.max(max_threads as f64);
    let bound_shown = chart.bound.is_finite() && chart.bound <= top_of_interest * 2.0;
    if bound_shown {
        hi = hi.max(chart.bound);
    }
    let y_lo = lo.log2().floor().min(-1.0);
    let y_hi = (hi.log2() + 0.35).ceil().max(1.0);

    let subtitle: Vec<&str> = chart.subtitle.iter().map(String::as_str).collect();
    let (root, body) = frame(path, (1100, 720), &chart.title, &subtitle)?;
    let mut c = ChartBuilder::on(&body)
        .margin(14)
        .margin_right(28)
        .x_label_area_size(52)
        .y_label_area_size(84)
        .build_cartesian_2d(-0.25..x_hi + 0.25, y_lo..y_hi)
        .map_err(e)?;
    let x_fmt = |x: &f64| format!("{:.0}", 2f64.powf(*x));
    let y_fmt = |y: &f64| speedup_label(*y);
    styled_mesh(&mut c)
        .x_desc("worker threads (virtual workers; this machine has 2 cores)")
        .y_desc("speedup over sequential")
        .x_labels(x_hi as usize + 1)
        .y_labels((y_hi - y_lo) as usize + 1)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .draw()
        .map_err(e)?;

    // Linear scaling, for reference.
    let grey = LINEAR_GUIDE;
    let linear_top = y_hi.min(x_hi + 0.25);
    c.draw_series(DashedLineSeries::new(
        vec![(0.0, 0.0), (linear_top, linear_top)],
        3,
        4,
        grey.stroke_width(1),
    ))
    .map_err(e)?
    .label("linear (N×)")
    .legend(move |(x, y)| {
        DashedPathElement::new(vec![(x, y), (x + 24, y)], 2, 3, grey.stroke_width(1))
    });

    // The critical-path bound.
    let bound_label = if bound_shown {
        format!("critical-path bound {}", pretty_bound(chart.bound))
    } else {
        format!(
            "critical-path bound {} (off the scale)",
            pretty_bound(chart.bound)
        )
    };
    let red = BOUND;
    let bound_style = red.stroke_width(2);
    if bound_shown {
        let y = chart.bound.log2();
        c.draw_series(DashedLineSeries::new(
            vec![(-0.25, y), (x_hi + 0.25, y)],
            8,
            5,
            bound_style,
        ))
        .map_err(e)?
        .label(bound_label)
        .legend(move |(x, y)| DashedPathElement::new(vec![(x, y), (x + 24, y)], 5, 3, bound_style));
    } else {
        c.draw_series(std::iter::empty::<PathElement<(f64, f64)>>())
            .map_err(e)?
            .label(bound_label)
            .legend(move |(x, y)| {
                DashedPathElement::new(vec![(x, y), (x + 24, y)], 5, 3, bound_style)
            });
    }

    for (name, points) in &chart.predicted {
        let color = strategy_color(name);
        let style = color.stroke_width(3);
        let pts: Vec<(f64, f64)> = points
            .iter()
            .filter(|p| p.1 > 0.0)
            .map(|&(t, s)| ((t as f64).log2(), s.log2()))
            .collect();
        c.draw_series(LineSeries::new(pts.iter().copied(), style))
            .map_err(e)?
            .label(format!("{name} (predicted)"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style));
        c.draw_series(pts.iter().map(|&p| Circle::new(p, 4, color.filled())))
            .map_err(e)?;
    }
    for (name, points) in &chart.measured {
        let color = strategy_color(name);
        let style = color.stroke_width(2);
        let pts: Vec<(f64, f64)> = points
            .iter()
            .filter(|p| p.1 > 0.0)
            .map(|&(t, s)| ((t as f64).log2(), s.log2()))
            .collect();
        if pts.is_empty() {
            continue;
        }
        c.draw_series(pts.iter().map(|&p| Circle::new(p, 9, style)))
            .map_err(e)?
            .label(format!("{name} (measured)"))
            .legend(move |(x, y)| Circle::new((x + 12, y), 6, style));
    }
    draw_series_legend(&mut c, SeriesLabelPosition::UpperLeft)?;
    root.present().map_err(e)?;
    Ok(())
}
