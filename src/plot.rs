//! `stmlab plot`: PNG charts of a `stmlab sweep` result file, drawn with plotters.
//!
//! - `threads-<input>.png`: throughput and speedup over sequential versus worker threads,
//!   one line per strategy, for each workload input and for the mainnet blocks in total;
//! - `contention-<series>.png`: speedup versus the contention knob (hot fraction or
//!   number of accounts), one line per strategy, one panel per thread count;
//! - `wasted-<series>.png`: executions per transaction versus the same knob;
//! - `mainnet-blocks.png`: speedup per mainnet block and strategy at one thread count;
//! - `mainnet-distribution.png`: the distribution of per-block speedups, per strategy,
//!   one panel per thread count.
//!
//! Text is drawn with the DejaVu Sans font compiled in (the `dejavu` crate), so no system
//! font is needed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Once;

use clap::Args;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::register_font;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::Deserialize;

#[derive(Args, Debug)]
pub struct PlotArgs {
    /// A result file written by `stmlab sweep`.
    #[arg(long, default_value = "results/sweep.json")]
    pub input: PathBuf,
    /// The folder the PNG files go to.
    #[arg(long, default_value = "results/plots")]
    pub out: PathBuf,
}

#[derive(Deserialize)]
struct SweepIn {
    machine: MachineIn,
    #[serde(default)]
    commit_dirty: bool,
    #[serde(default)]
    preset: String,
    repeat: usize,
    threads: Vec<usize>,
    series: Vec<SeriesIn>,
    points: Vec<PointIn>,
}

#[derive(Deserialize)]
struct MachineIn {
    cpu_model: String,
    cores: usize,
    memory_gib: f64,
    commit: String,
}

#[derive(Deserialize)]
struct SeriesIn {
    id: String,
    workload: String,
    knob: Option<String>,
    #[serde(default)]
    knob_meaning: Option<String>,
    #[serde(default)]
    log_scale: bool,
    values: Vec<f64>,
    labels: Vec<String>,
}

#[derive(Deserialize, Clone)]
struct PointIn {
    source: String,
    block: String,
    strategy: String,
    threads: usize,
    txs: usize,
    wall_ns: u64,
    wall_ns_min: u64,
    wall_ns_max: u64,
    sequential_wall_ns: u64,
    speedup_vs_sequential: f64,
    txs_per_sec: f64,
    executions_per_tx: f64,
}

impl PointIn {
    /// Speedup at the fastest and slowest repeat (the whisker of the median).
    fn speedup_range(&self) -> (f64, f64) {
        let seq = self.sequential_wall_ns as f64;
        (
            seq / self.wall_ns_max.max(1) as f64,
            seq / self.wall_ns_min.max(1) as f64,
        )
    }
    fn throughput_range(&self) -> (f64, f64) {
        let txs = self.txs as f64 * 1e9;
        (
            txs / self.wall_ns_max.max(1) as f64,
            txs / self.wall_ns_min.max(1) as f64,
        )
    }
}

const FONT: &str = "sans-serif";

fn register_fonts() -> Result<(), String> {
    static ONCE: Once = Once::new();
    let mut result = Ok(());
    ONCE.call_once(|| {
        let ok = register_font(FONT, FontStyle::Normal, dejavu::sans::regular()).is_ok()
            && register_font(FONT, FontStyle::Bold, dejavu::sans::bold()).is_ok();
        if !ok {
            result = Err("the bundled DejaVu Sans font did not load".to_string());
        }
    });
    result
}

/// The colour and drawing order of each strategy; the reference is grey.
fn strategy_color(name: &str) -> RGBColor {
    match name {
        "sequential" => RGBColor(120, 120, 120),
        "sv" => RGBColor(31, 119, 180),
        "dag" => RGBColor(230, 120, 10),
        "block-stm" => RGBColor(44, 160, 44),
        _ => RGBColor(148, 103, 189),
    }
}

fn strategy_rank(name: &str) -> usize {
    ["sequential", "sv", "dag", "block-stm"]
        .iter()
        .position(|s| *s == name)
        .unwrap_or(9)
}

/// `1234567` as `1.23M`, `45000` as `45k`.
fn human(v: f64) -> String {
    let a = v.abs();
    let (x, unit) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let s = if x.abs() >= 100.0 || x.fract().abs() < 1e-9 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    };
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    format!("{s}{unit}")
}

/// A file name part from an input label: `transfers:txs=10,hot=0.1` → `transfers_txs-10_hot-0.1`.
fn slug(label: &str) -> String {
    label
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' => c,
            '=' => '-',
            _ => '_',
        })
        .collect()
}

/// An x axis: data are mapped to plot coordinates (linear, or log for threads and
/// account counts), with ticks only where there are data.
struct XAxis {
    title: String,
    range: (f64, f64),
    ticks: Vec<(f64, String)>,
}

impl XAxis {
    /// Ticks at `values`, mapped through `to_plot`, labelled with `label`.
    fn at(
        title: impl Into<String>,
        values: &[f64],
        to_plot: impl Fn(f64) -> f64,
        label: impl Fn(f64) -> String,
    ) -> Self {
        let ticks: Vec<(f64, String)> = values.iter().map(|&v| (to_plot(v), label(v))).collect();
        let lo = ticks.iter().map(|t| t.0).fold(f64::INFINITY, f64::min);
        let hi = ticks.iter().map(|t| t.0).fold(f64::NEG_INFINITY, f64::max);
        let pad = if hi > lo { (hi - lo) * 0.06 } else { 0.5 };
        Self {
            title: title.into(),
            range: (lo - pad, hi + pad),
            ticks,
        }
    }

    fn label_of(&self, x: f64) -> String {
        self.ticks
            .iter()
            .min_by(|a, b| (a.0 - x).abs().total_cmp(&(b.0 - x).abs()))
            .map(|t| t.1.clone())
            .unwrap_or_default()
    }
}

/// A linear f64 coordinate whose ticks (and grid lines) are exactly the given points.
struct TickAxis {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Ranged for TickAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let frac = (value - self.lo) / (self.hi - self.lo).max(f64::MIN_POSITIVE);
        limit.0 + (frac * (limit.1 - limit.0) as f64).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// One strategy's line in a panel.
struct Line {
    /// The strategy: picks the colour.
    key: String,
    /// The legend text.
    name: String,
    /// Drawn thinner (the sequential reference).
    thin: bool,
    points: Vec<(f64, f64)>,
    /// (x, low, high): the spread over the repeats.
    whiskers: Vec<(f64, f64, f64)>,
}

struct Panel {
    title: String,
    x: XAxis,
    y_title: String,
    y_range: (f64, f64),
    y_format: fn(f64) -> String,
    /// A dashed horizontal line (e.g. speedup 1 = as fast as sequential).
    reference: Option<(f64, String)>,
    /// A dashed vertical line.
    x_reference: Option<(f64, String)>,
    lines: Vec<Line>,
    /// A legend inside the panel (when its entries differ per panel); otherwise the
    /// figure's legend above the panels names the strategies.
    legend: Option<SeriesLabelPosition>,
    /// Plain lines with no markers, for step curves.
    steps: bool,
}

/// The y range of some values: from `floor` (or below the data) to above the top.
fn y_range(values: impl Iterator<Item = f64>, floor: Option<f64>, at_least: f64) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !hi.is_finite() {
        return (0.0, at_least.max(1.0));
    }
    let hi = hi.max(at_least);
    let lo = floor.unwrap_or(lo);
    let pad = (hi - lo).max(1e-9) * 0.12;
    let bottom = if floor.is_some() { lo } else { lo - pad };
    (bottom, hi + pad)
}

fn draw_panel(
    area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    p: &Panel,
) -> Result<(), String> {
    let e = |e: DrawingAreaErrorKind<_>| e.to_string();
    let x_coord = TickAxis {
        lo: p.x.range.0,
        hi: p.x.range.1,
        ticks: p.x.ticks.iter().map(|t| t.0).collect(),
    };

    let mut chart = ChartBuilder::on(area)
        .caption(&p.title, (FONT, 20).into_font())
        .margin(12)
        .margin_right(24)
        .x_label_area_size(48)
        .y_label_area_size(78)
        .build_cartesian_2d(x_coord, p.y_range.0..p.y_range.1)
        .map_err(e)?;
    let label_font = (FONT, 15).into_font();
    let x_label_style = TextStyle::from(label_font.clone());
    let x_fmt = |x: &f64| p.x.label_of(*x);
    let y_fmt = |y: &f64| (p.y_format)(*y);
    chart
        .configure_mesh()
        .x_desc(p.x.title.as_str())
        .y_desc(p.y_title.as_str())
        .axis_desc_style((FONT, 16).into_font())
        .x_label_style(x_label_style)
        .y_label_style(label_font)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .y_labels(8)
        .light_line_style(TRANSPARENT)
        .bold_line_style(RGBColor(220, 220, 220))
        .draw()
        .map_err(e)?;

    if let Some((y, label)) = &p.reference {
        let style = ShapeStyle::from(&BLACK.mix(0.55)).stroke_width(1);
        chart
            .draw_series(DashedLineSeries::new(
                vec![(p.x.range.0, *y), (p.x.range.1, *y)],
                6,
                5,
                style,
            ))
            .map_err(e)?
            .label(label.as_str())
            .legend(move |(x, y)| DashedPathElement::new(vec![(x, y), (x + 24, y)], 4, 3, style));
    }
    if let Some((x, label)) = &p.x_reference {
        let style = ShapeStyle::from(&BLACK.mix(0.55)).stroke_width(1);
        chart
            .draw_series(DashedLineSeries::new(
                vec![(*x, p.y_range.0), (*x, p.y_range.1)],
                6,
                5,
                style,
            ))
            .map_err(e)?
            .label(label.as_str())
            .legend(move |(x, y)| DashedPathElement::new(vec![(x, y), (x + 24, y)], 4, 3, style));
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
                    color.mix(0.7).stroke_width(1),
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
        chart
            .configure_series_labels()
            .position(position.clone())
            .label_font((FONT, 15).into_font())
            .background_style(WHITE.mix(0.9))
            .border_style(RGBColor(180, 180, 180))
            .margin(8)
            .draw()
            .map_err(e)?;
    }
    Ok(())
}

/// A marker's shape in pixels around its point: each strategy has its own, so lines that
/// coincide still show every strategy.
fn draw_marker(
    key: &str,
    size: i32,
    color: RGBColor,
    mut draw: impl FnMut(Polygon<(i32, i32)>) -> Result<(), String>,
) -> Result<(), String> {
    let r = size;
    let shape: Vec<(i32, i32)> = match strategy_rank(key) {
        1 => vec![(-r, -r), (r, -r), (r, r), (-r, r)],
        2 => vec![(0, -r - 1), (r + 1, r), (-r - 1, r)],
        3 => vec![(0, -r - 1), (r + 1, 0), (0, r + 1), (-r - 1, 0)],
        _ => (0..12)
            .map(|i| {
                let a = i as f64 * std::f64::consts::PI / 6.0;
                (
                    (a.cos() * r as f64).round() as i32,
                    (a.sin() * r as f64).round() as i32,
                )
            })
            .collect(),
    };
    draw(Polygon::new(shape, color.filled()))
}

/// One entry of a figure's legend.
struct Key {
    name: String,
    color: RGBColor,
    width: u32,
    dashed: bool,
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
            color: RGBColor(110, 110, 110),
            width: 1,
            dashed: true,
        });
    }
    keys
}

/// Draws `keys` in one centred row across `area`.
fn draw_legend_row(
    area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    keys: &[Key],
) -> Result<(), String> {
    let e = |e: DrawingAreaErrorKind<_>| e.to_string();
    let font = TextStyle::from((FONT, 17).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    let (w, h) = area.dim_in_pixel();
    let y = h as i32 / 2;
    const SWATCH: i32 = 34;
    const GAP: i32 = 8;
    const SPACE: i32 = 34;
    let widths: Vec<i32> = keys
        .iter()
        .map(|k| area.estimate_text_size(&k.name, &font).map(|s| s.0 as i32))
        .collect::<Result<_, _>>()
        .map_err(e)?;
    let total: i32 =
        widths.iter().map(|w| SWATCH + GAP + w).sum::<i32>() + SPACE * (keys.len() as i32 - 1);
    let mut x = (w as i32 - total).max(0) / 2;
    for (k, tw) in keys.iter().zip(widths) {
        let style = k.color.stroke_width(k.width);
        if k.dashed {
            area.draw(&DashedPathElement::new(
                vec![(x, y), (x + SWATCH, y)],
                6,
                4,
                style,
            ))
            .map_err(e)?;
        } else {
            area.draw(&PathElement::new(vec![(x, y), (x + SWATCH, y)], style))
                .map_err(e)?;
            let at = (x + SWATCH / 2, y);
            let size = if k.width == 1 { 3 } else { 5 };
            draw_marker(&k.name, size, k.color, |shape| {
                area.draw(&(EmptyElement::at(at) + shape)).map_err(e)
            })?;
        }
        area.draw(&Text::new(
            k.name.clone(),
            (x + SWATCH + GAP, y),
            font.clone(),
        ))
        .map_err(e)?;
        x += SWATCH + GAP + tw + SPACE;
    }
    Ok(())
}

/// A figure: a title, a line of context (machine, commit, repeats), then panels in a grid.
fn figure(
    path: &Path,
    size: (u32, u32),
    title: &str,
    context: &str,
    grid: (usize, usize),
    panels: &[Panel],
) -> Result<(), String> {
    let e = |e: DrawingAreaErrorKind<_>| e.to_string();
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(e)?;
    let body = root
        .titled(title, (FONT, 26, FontStyle::Bold).into_font())
        .map_err(e)?;
    let body = body
        .titled(context, (FONT, 15).into_font().color(&RGBColor(90, 90, 90)))
        .map_err(e)?;
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
type Whisker = dyn Fn(&PointIn) -> (f64, f64);

/// Lines per strategy from `points`, with `x` and `y` (and optional whiskers) of each.
fn lines_by_strategy<'a>(
    points: impl Iterator<Item = &'a PointIn>,
    x: impl Fn(&PointIn) -> f64,
    y: impl Fn(&PointIn) -> f64,
    whisker: Option<&Whisker>,
) -> Vec<Line> {
    let mut by: BTreeMap<(usize, String), Vec<&PointIn>> = BTreeMap::new();
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

fn fmt_speedup(v: f64) -> String {
    format!("{v:.1}×")
}
fn fmt_plain(v: f64) -> String {
    human(v)
}
fn fmt_execs(v: f64) -> String {
    format!("{v:.2}")
}
fn fmt_percent(v: f64) -> String {
    format!("{:.0}%", v * 100.0)
}

fn threads_axis(threads: &[usize]) -> XAxis {
    let values: Vec<f64> = threads.iter().map(|&t| t as f64).collect();
    XAxis::at("worker threads", &values, f64::log2, |v| format!("{v:.0}"))
}

/// The two panels (throughput, speedup) of a threads-plot over `points` of one input.
fn threads_panels(points: &[&PointIn], threads: &[usize], whiskers: bool) -> Vec<Panel> {
    let x = |p: &PointIn| (p.threads as f64).log2();
    let thr_w = |p: &PointIn| p.throughput_range();
    let sp_w = |p: &PointIn| p.speedup_range();
    let thr = lines_by_strategy(
        points.iter().copied(),
        x,
        |p| p.txs_per_sec,
        whiskers.then_some(&thr_w as &Whisker),
    );
    let sp = lines_by_strategy(
        points.iter().copied(),
        x,
        |p| p.speedup_vs_sequential,
        whiskers.then_some(&sp_w as &Whisker),
    );
    let ys = |lines: &[Line]| -> Vec<f64> {
        lines
            .iter()
            .flat_map(|l| {
                l.points
                    .iter()
                    .map(|p| p.1)
                    .chain(l.whiskers.iter().map(|w| w.2))
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    vec![
        Panel {
            title: "Throughput".into(),
            x: threads_axis(threads),
            y_title: "transactions per second".into(),
            y_range: y_range(ys(&thr).into_iter(), Some(0.0), 0.0),
            y_format: fmt_plain,
            reference: None,
            x_reference: None,
            legend: None,
            lines: thr,
            steps: false,
        },
        Panel {
            title: "Speedup over sequential (same run)".into(),
            x: threads_axis(threads),
            y_title: "speedup (sequential time / time)".into(),
            y_range: y_range(ys(&sp).into_iter(), Some(0.0), 1.2),
            y_format: fmt_speedup,
            reference: Some((1.0, "as fast as sequential".into())),
            x_reference: None,
            legend: None,
            lines: sp,
            steps: false,
        },
    ]
}

/// The x axis of a contention series: ticks at the swept values.
fn knob_axis(series: &SeriesIn) -> XAxis {
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

fn grid_of(n: usize) -> (usize, usize) {
    if n <= 1 {
        (1, 1)
    } else if n == 2 {
        (1, 2)
    } else {
        (n.div_ceil(2), 2)
    }
}

fn panel_size(grid: (usize, usize)) -> (u32, u32) {
    let (rows, cols) = grid;
    (
        (if cols == 1 { 900 } else { 700 * cols as u32 }),
        90 + 470 * rows as u32,
    )
}

/// Draws every plot of `input` into `out`; returns the files written.
pub fn plot_file(input: &Path, out: &Path) -> Result<Vec<PathBuf>, String> {
    register_fonts()?;
    let text = std::fs::read_to_string(input).map_err(|e| format!("{}: {e}", input.display()))?;
    let sweep: SweepIn = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a `stmlab sweep` result file: {e}", input.display()))?;
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let m = &sweep.machine;
    let context = format!(
        "{} preset · {} · {} cores · {} GiB · commit {}{} · median of {} run{}{}",
        sweep.preset,
        m.cpu_model,
        m.cores,
        m.memory_gib,
        m.commit,
        if sweep.commit_dirty {
            " (modified)"
        } else {
            ""
        },
        sweep.repeat,
        if sweep.repeat == 1 { "" } else { "s" },
        if sweep.repeat > 1 {
            ", whiskers: fastest to slowest run"
        } else {
            ""
        },
    );
    let context_no_whiskers = context
        .trim_end_matches(", whiskers: fastest to slowest run")
        .to_string();
    let mut written = Vec::new();
    let whiskers = sweep.repeat > 1;
    let threads: Vec<usize> = {
        let set: BTreeSet<usize> = sweep.points.iter().map(|p| p.threads).collect();
        if set.is_empty() {
            sweep.threads.clone()
        } else {
            set.into_iter().collect()
        }
    };

    // 1. Throughput and speedup versus threads, for each workload input.
    let mut labels: Vec<&str> = Vec::new();
    for p in sweep.points.iter().filter(|p| p.source == "workload") {
        if !labels.contains(&p.block.as_str()) {
            labels.push(&p.block);
        }
    }
    for label in &labels {
        let pts: Vec<&PointIn> = sweep.points.iter().filter(|p| p.block == *label).collect();
        let path = out.join(format!("threads-{}.png", slug(label)));
        figure(
            &path,
            (1400, 560),
            &format!("{label}: scaling with threads"),
            &context,
            (1, 2),
            &threads_panels(&pts, &threads, whiskers),
        )?;
        written.push(path);
    }

    // ... and for the mainnet blocks in total (sum of times over all blocks).
    let mainnet: Vec<&PointIn> = sweep
        .points
        .iter()
        .filter(|p| p.source == "mainnet")
        .collect();
    let blocks: BTreeSet<(u64, &str)> = mainnet
        .iter()
        .map(|p| (p.block.parse().unwrap_or(u64::MAX), p.block.as_str()))
        .collect();
    if !mainnet.is_empty() {
        let mut totals: BTreeMap<(String, usize), (usize, u64, u64)> = BTreeMap::new();
        for p in &mainnet {
            let t = totals
                .entry((p.strategy.clone(), p.threads))
                .or_insert((0, 0, 0));
            t.0 += p.txs;
            t.1 += p.wall_ns;
            t.2 += p.sequential_wall_ns;
        }
        let agg: Vec<PointIn> = totals
            .into_iter()
            .map(|((strategy, threads), (txs, wall, seq))| PointIn {
                source: "mainnet".into(),
                block: "all".into(),
                strategy,
                threads,
                txs,
                wall_ns: wall,
                wall_ns_min: wall,
                wall_ns_max: wall,
                sequential_wall_ns: seq,
                speedup_vs_sequential: seq as f64 / wall.max(1) as f64,
                txs_per_sec: txs as f64 * 1e9 / wall.max(1) as f64,
                executions_per_tx: 0.0,
            })
            .collect();
        let refs: Vec<&PointIn> = agg.iter().collect();
        let total_txs = agg.first().map_or(0, |p| p.txs);
        let path = out.join("threads-mainnet-all.png");
        figure(
            &path,
            (1400, 560),
            &format!(
                "All {} mainnet blocks ({total_txs} transactions, times summed): scaling with threads",
                blocks.len()
            ),
            &context_no_whiskers,
            (1, 2),
            &threads_panels(&refs, &threads, false),
        )?;
        written.push(path);
    }

    // 2 and 3. Speedup and executions per transaction versus contention.
    for series in sweep.series.iter().filter(|s| s.knob.is_some()) {
        let knob = series.knob.as_deref().unwrap_or_default();
        let value_of = |label: &str| {
            series
                .labels
                .iter()
                .position(|l| l == label)
                .and_then(|i| series.values.get(i).copied())
        };
        let pts: Vec<&PointIn> = sweep
            .points
            .iter()
            .filter(|p| value_of(&p.block).is_some())
            .collect();
        if pts.is_empty() {
            continue;
        }
        let fixed = fixed_knobs(&series.labels);
        let grid = grid_of(threads.len());
        let x = |p: &PointIn| {
            let v = value_of(&p.block).unwrap_or(0.0);
            if series.log_scale {
                v.max(1e-12).log10()
            } else {
                v
            }
        };
        let sp_w = |p: &PointIn| p.speedup_range();
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
            let at: Vec<&PointIn> = pts.iter().copied().filter(|p| p.threads == t).collect();
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
                    whiskers.then_some(&sp_w as &Whisker),
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
            &context,
            grid,
            &speed_panels,
        )?;
        written.push(path);
        let path = out.join(format!("wasted-{}.png", slug(&series.id)));
        figure(
            &path,
            panel_size(grid),
            &format!(
                "{}: executions per transaction vs {knob}{fixed}",
                series.workload
            ),
            &context_no_whiskers,
            grid,
            &waste_panels,
        )?;
        written.push(path);
    }

    // 4. Per mainnet block, and the distribution over blocks. Sequential's own rows
    // (sequential timed against itself) are noise around 1x: the dashed line stands for it.
    // A block without transactions has nothing to run in parallel; its "speedup" is a
    // ratio of microseconds of fixed costs, so it is left out (and the title says so).
    let parallel: Vec<&PointIn> = mainnet
        .iter()
        .copied()
        .filter(|p| p.strategy != "sequential" && p.txs > 0)
        .collect();
    let empty = blocks.len()
        - parallel
            .iter()
            .map(|p| p.block.as_str())
            .collect::<BTreeSet<_>>()
            .len();
    let left_out = match empty {
        0 => String::new(),
        1 => " (1 block without transactions left out)".into(),
        n => format!(" ({n} blocks without transactions left out)"),
    };
    if !parallel.is_empty() {
        let kept: BTreeSet<&str> = parallel.iter().map(|p| p.block.as_str()).collect();
        let order: Vec<&str> = blocks
            .iter()
            .map(|b| b.1)
            .filter(|b| kept.contains(b))
            .collect();
        let txs_of: BTreeMap<&str, usize> =
            mainnet.iter().map(|p| (p.block.as_str(), p.txs)).collect();
        let t = pick_threads(&threads, m.cores);
        let at: Vec<&PointIn> = parallel
            .iter()
            .copied()
            .filter(|p| p.threads == t)
            .collect();
        let rows: Vec<String> = order
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
            let row = order.iter().position(|b| *b == p.block).unwrap_or(0);
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
            whiskers,
        };
        let path = out.join("mainnet-blocks.png");
        let height = 200 + 26 * dots.rows.len() as u32;
        draw_dot_figure(
            &path,
            (1300, height.max(500)),
            "Speedup over sequential per mainnet block (oldest block at the top)",
            &format!("{context}{left_out}"),
            &dots,
        )?;
        written.push(path);

        let grid = grid_of(threads.len());
        let mut panels = Vec::new();
        let (_, x_hi) = y_range(
            parallel.iter().map(|p| p.speedup_vs_sequential),
            Some(0.0),
            1.2,
        );
        let ticks = nice_ticks(x_hi);
        for &t in &threads {
            let mut lines = Vec::new();
            let mut by: BTreeMap<(usize, &str), Vec<f64>> = BTreeMap::new();
            for p in parallel.iter().filter(|p| p.threads == t) {
                by.entry((strategy_rank(&p.strategy), &p.strategy))
                    .or_default()
                    .push(p.speedup_vs_sequential);
            }
            for ((_, name), mut v) in by {
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
                lines.push(Line {
                    key: name.to_string(),
                    name: format!(
                        "{name}: median {median:.2}×, faster on {faster} of {}",
                        v.len()
                    ),
                    thin: false,
                    points,
                    whiskers: Vec::new(),
                });
            }
            panels.push(Panel {
                title: format!("{t} worker thread{}", if t == 1 { "" } else { "s" }),
                x: XAxis {
                    title: "speedup over sequential".into(),
                    range: (0.0, x_hi),
                    ticks: ticks.iter().map(|&v| (v, format!("{v}×"))).collect(),
                },
                y_title: "share of blocks at or below this speedup".into(),
                y_range: (0.0, 1.02),
                y_format: fmt_percent,
                reference: None,
                x_reference: Some((1.0, "as fast as sequential".into())),
                lines,
                legend: Some(SeriesLabelPosition::LowerRight),
                steps: true,
            });
        }
        let path = out.join("mainnet-distribution.png");
        figure(
            &path,
            panel_size(grid),
            &format!(
                "Per-block speedup over {} mainnet blocks: cumulative distribution (further right is better)",
                order.len()
            ),
            &format!("{context_no_whiskers}{left_out}"),
            grid,
            &panels,
        )?;
        written.push(path);
    }
    Ok(written)
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

fn draw_dot_figure(
    path: &Path,
    size: (u32, u32),
    title: &str,
    context: &str,
    p: &DotPanel,
) -> Result<(), String> {
    let e = |e: DrawingAreaErrorKind<_>| e.to_string();
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(e)?;
    let body = root
        .titled(title, (FONT, 26, FontStyle::Bold).into_font())
        .map_err(e)?;
    let body = body
        .titled(context, (FONT, 15).into_font().color(&RGBColor(90, 90, 90)))
        .map_err(e)?;
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
        color: RGBColor(110, 110, 110),
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
        .caption(&p.title, (FONT, 20).into_font())
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
    chart
        .configure_mesh()
        .x_desc(p.x_title.as_str())
        .y_desc(p.row_title.as_str())
        .axis_desc_style((FONT, 16).into_font())
        .x_label_style((FONT, 15).into_font())
        .y_label_style((FONT, 14).into_font())
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&label_of_row)
        .light_line_style(TRANSPARENT)
        .bold_line_style(RGBColor(225, 225, 225))
        .draw()
        .map_err(e)?;
    let reference = ShapeStyle::from(&BLACK.mix(0.55)).stroke_width(1);
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
                        color.mix(0.7).stroke_width(1),
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

/// The knobs every label of a series shares, for the title: ` (txs=10000, accounts=100000)`.
fn fixed_knobs(labels: &[String]) -> String {
    let sets: Vec<Vec<&str>> = labels
        .iter()
        .map(|l| l.split_once(':').map_or("", |x| x.1).split(',').collect())
        .collect();
    let Some(first) = sets.first() else {
        return String::new();
    };
    let common: Vec<&str> = first
        .iter()
        .copied()
        .filter(|k| !k.is_empty() && sets.iter().all(|s| s.contains(k)))
        .collect();
    if common.is_empty() {
        String::new()
    } else {
        format!(" ({})", common.join(", "))
    }
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

/// Ticks from 0 up to `hi`, at most about 12 of them, at 0.25, 0.5, 1, 2 or 5 steps.
fn nice_ticks(hi: f64) -> Vec<f64> {
    let step = [0.25, 0.5, 1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .find(|s| hi / s <= 12.0)
        .unwrap_or(20.0);
    (0..)
        .map(|i| i as f64 * step)
        .take_while(|v| *v <= hi)
        .collect()
}

pub fn run(args: &PlotArgs) -> Result<bool, String> {
    let files = plot_file(&args.input, &args.out)?;
    for f in &files {
        println!("wrote {}", f.display());
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_numbers() {
        assert_eq!(human(1_234_567.0), "1.23M");
        assert_eq!(human(45_000.0), "45k");
        assert_eq!(human(100.0), "100");
        assert_eq!(human(0.5), "0.5");
    }

    #[test]
    fn slugs_and_knobs() {
        assert_eq!(slug("erc20:txs=5,hot=0.1"), "erc20_txs-5_hot-0.1");
        let labels = vec![
            "t:txs=10,accounts=5,hot=0".to_string(),
            "t:txs=10,accounts=5,hot=0.3".to_string(),
        ];
        assert_eq!(fixed_knobs(&labels), " (txs=10, accounts=5)");
        assert_eq!(pick_threads(&[1, 2, 4, 8], 2), 2);
        assert_eq!(pick_threads(&[4, 8], 2), 4);
    }
}
