//! A panel: one line per strategy over an x axis, with whiskers for the spread over the
//! repeats, reference lines and an optional legend inside; and a figure of panels in a
//! grid, with the legend of the strategies above them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::axes::{TickAxis, XAxis};
use super::legend::{draw_legend_row, Key};
use super::schema::Point;
use super::style::{
    caption_font, draw_marker, draw_series_legend, frame, reference_line, strategy_color,
    strategy_rank, styled_mesh, whisker_line, Area, REFERENCE_KEY,
};

/// One strategy's line in a panel.
pub struct Line {
    /// The strategy: picks the colour.
    pub key: String,
    /// The legend text.
    pub name: String,
    /// Drawn thinner (the sequential reference).
    pub thin: bool,
    pub points: Vec<(f64, f64)>,
    /// (x, low, high): the spread over the repeats.
    pub whiskers: Vec<(f64, f64, f64)>,
}

/// A panel of a figure: its axes, its lines, and what else it draws.
pub struct Panel {
    pub title: String,
    pub x: XAxis,
    pub y_title: String,
    pub y_range: (f64, f64),
    pub y_format: fn(f64) -> String,
    /// A dashed horizontal line (e.g. speedup 1 = as fast as sequential).
    pub reference: Option<(f64, String)>,
    /// A dashed vertical line.
    pub x_reference: Option<(f64, String)>,
    pub lines: Vec<Line>,
    /// A legend inside the panel (when its entries differ per panel); otherwise the
    /// figure's legend above the panels names the strategies.
    pub legend: Option<SeriesLabelPosition>,
    /// Plain lines with no markers, for step curves.
    pub steps: bool,
}

/// Draws `p` into `area`.
fn draw_panel(area: &Area<'_>, p: &Panel) -> Result<(), String> {
    let e = |e: DrawingAreaErrorKind<_>| e.to_string();
    let x_coord = TickAxis {
        lo: p.x.range.0,
        hi: p.x.range.1,
        ticks: p.x.ticks.iter().map(|t| t.0).collect(),
    };

    let mut chart = ChartBuilder::on(area)
        .caption(&p.title, caption_font())
        .margin(12)
        .margin_right(24)
        .x_label_area_size(48)
        .y_label_area_size(78)
        .build_cartesian_2d(x_coord, p.y_range.0..p.y_range.1)
        .map_err(e)?;
    let x_fmt = |x: &f64| p.x.label_of(*x);
    let y_fmt = |y: &f64| (p.y_format)(*y);
    styled_mesh(&mut chart)
        .x_desc(p.x.title.as_str())
        .y_desc(p.y_title.as_str())
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .y_labels(8)
        .draw()
        .map_err(e)?;

    if let Some((y, label)) = &p.reference {
        draw_reference(&mut chart, [(p.x.range.0, *y), (p.x.range.1, *y)], label)?;
    }
    if let Some((x, label)) = &p.x_reference {
        draw_reference(&mut chart, [(*x, p.y_range.0), (*x, p.y_range.1)], label)?;
    }
    // Strategies are dodged sideways a little, so equal values stay visible.
    let span = p.x.range.1 - p.x.range.0;
    let n = p.lines.len() as f64;
    for (i, line) in p.lines.iter().enumerate() {
        let color = strategy_color(&line.key);
        let width = if line.thin { 1 } else { 2 };
        let style = color.stroke_width(width);
        let dx = if p.steps {
            0.0
        } else {
            (i as f64 - (n - 1.0) / 2.0) * span * 0.012
        };
        for &(x, lo, hi) in &line.whiskers {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(x + dx, lo), (x + dx, hi)],
                    whisker_line(color),
                )))
                .map_err(e)?;
        }
        chart
            .draw_series(LineSeries::new(
                line.points.iter().map(|&(x, y)| (x + dx, y)),
                style,
            ))
            .map_err(e)?
            .label(line.name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style));
        if !p.steps {
            for &(x, y) in &line.points {
                let at = (x + dx, y);
                let size = if line.thin { 3 } else { 5 };
                draw_marker(&line.key, size, color, |shape| {
                    chart
                        .draw_series(std::iter::once(EmptyElement::at(at) + shape))
                        .map(|_| ())
                        .map_err(e)
                })?;
            }
        }
    }
    if let Some(position) = &p.legend {
        draw_series_legend(&mut chart, position.clone())?;
    }
    Ok(())
}

/// The chart of a panel.
type PanelChart<'a> = ChartContext<'a, BitMapBackend<'a>, Cartesian2d<TickAxis, RangedCoordf64>>;

/// A dashed reference line from one end to the other, named in the legend as `label`.
fn draw_reference(
    chart: &mut PanelChart<'_>,
    ends: [(f64, f64); 2],
    label: &str,
) -> Result<(), String> {
    let style = reference_line();
    chart
        .draw_series(DashedLineSeries::new(ends, 6, 5, style))
        .map_err(|e| e.to_string())?
        .label(label)
        .legend(move |(x, y)| DashedPathElement::new(vec![(x, y), (x + 24, y)], 4, 3, style));
    Ok(())
}

/// The legend of the panels that have none of their own: each strategy drawn, and the
/// reference line.
fn figure_legend(panels: &[Panel]) -> Vec<Key> {
    let mut keys: Vec<Key> = Vec::new();
    let mut names: BTreeSet<(usize, String)> = BTreeSet::new();
    let mut reference = None;
    for p in panels.iter().filter(|p| p.legend.is_none()) {
        for l in &p.lines {
            names.insert((strategy_rank(&l.key), l.key.clone()));
        }
        if let Some((_, label)) = &p.reference {
            reference = Some(label.clone());
        }
    }
    for (_, name) in names {
        keys.push(Key {
            color: strategy_color(&name),
            width: if name == "sequential" { 1 } else { 3 },
            dashed: false,
            name,
        });
    }
    if let Some(name) = reference {
        keys.push(Key {
            name,
            color: REFERENCE_KEY,
            width: 1,
            dashed: true,
        });
    }
    keys
}

/// A figure: a title, a line of context (machine, commit, repeats), then panels in a grid.
pub fn figure(
    path: &Path,
    size: (u32, u32),
    title: &str,
    context: &str,
    grid: (usize, usize),
    panels: &[Panel],
) -> Result<(), String> {
    let e = |e: DrawingAreaErrorKind<_>| e.to_string();
    let (root, body) = frame(path, size, title, &[context])?;
    let keys = figure_legend(panels);
    let body = if keys.is_empty() {
        body
    } else {
        let (strip, rest) = body.split_vertically(36);
        draw_legend_row(&strip, &keys)?;
        rest
    };
    for (area, panel) in body.split_evenly(grid).iter().zip(panels) {
        draw_panel(area, panel)?;
    }
    root.present().map_err(e)?;
    Ok(())
}

/// The spread (low, high) of a point's value over its repeats.
pub type Whisker = dyn Fn(&Point) -> (f64, f64);

/// Lines per strategy from `points`, with `x` and `y` (and optional whiskers) of each.
pub fn lines_by_strategy<'a>(
    points: impl Iterator<Item = &'a Point>,
    x: impl Fn(&Point) -> f64,
    y: impl Fn(&Point) -> f64,
    whisker: Option<&Whisker>,
) -> Vec<Line> {
    let mut by: BTreeMap<(usize, String), Vec<&Point>> = BTreeMap::new();
    for p in points {
        by.entry((strategy_rank(&p.strategy), p.strategy.clone()))
            .or_default()
            .push(p);
    }
    by.into_iter()
        .map(|((_, name), mut pts)| {
            pts.sort_by(|a, b| x(a).total_cmp(&x(b)));
            Line {
                thin: name == "sequential",
                key: name.clone(),
                points: pts.iter().map(|p| (x(p), y(p))).collect(),
                whiskers: whisker
                    .map(|w| {
                        pts.iter()
                            .map(|p| {
                                let (lo, hi) = w(p);
                                (x(p), lo, hi)
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                name,
            }
        })
        .collect()
}

/// The rows and columns of a grid of `n` panels: side by side up to two, then two columns.
pub fn grid_of(n: usize) -> (usize, usize) {
    if n <= 1 {
        (1, 1)
    } else if n == 2 {
        (1, 2)
    } else {
        (n.div_ceil(2), 2)
    }
}

/// The pixel size of a figure of panels in `grid`.
pub fn panel_size(grid: (usize, usize)) -> (u32, u32) {
    let (rows, cols) = grid;
    (
        (if cols == 1 { 900 } else { 700 * cols as u32 }),
        90 + 470 * rows as u32,
    )
}
