//! The one plot style of the tooling: the font (DejaVu Sans, compiled in through the
//! `dejavu` crate, so no system font is needed), each strategy's colour, drawing order and
//! marker, and the frame of a figure. `stmlab plot`'s figures and the simulator's scaling
//! chart draw with it.

use std::path::Path;
use std::sync::Once;

use plotters::chart::MeshStyle;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::register_font;

/// A drawing area of a PNG file.
pub type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// The family every text is drawn in (DejaVu Sans, registered by [`register_fonts`]).
pub const FONT: &str = "sans-serif";

/// Registers the compiled-in DejaVu Sans as [`FONT`], regular and bold; once per process.
pub fn register_fonts() -> Result<(), String> {
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

/// A figure's title.
pub fn title_font() -> FontDesc<'static> {
    (FONT, 26, FontStyle::Bold).into_font()
}

/// The lines of context under a figure's title (machine, commit, repeats).
pub fn context_style() -> TextStyle<'static> {
    (FONT, 15).into_font().color(&RGBColor(90, 90, 90))
}

/// A panel's title above its chart.
pub fn caption_font() -> FontDesc<'static> {
    (FONT, 20).into_font()
}

/// The axes' titles.
pub fn axis_title_font() -> FontDesc<'static> {
    (FONT, 16).into_font()
}

/// The ticks' labels, and the entries of a legend inside a chart.
pub fn label_font() -> FontDesc<'static> {
    (FONT, 15).into_font()
}

/// The labels of many rows (the blocks of a dot plot).
pub fn row_label_font() -> FontDesc<'static> {
    (FONT, 14).into_font()
}

/// The entries of a figure's legend row.
pub fn legend_row_font() -> FontDesc<'static> {
    (FONT, 17).into_font()
}

/// The grid lines at the ticks.
pub const GRID: RGBColor = RGBColor(220, 220, 220);

/// A dashed reference line across a chart (as fast as sequential)...
pub fn reference_line() -> ShapeStyle {
    ShapeStyle::from(&BLACK.mix(0.55)).stroke_width(1)
}

/// ... and its key in a legend row (the same grey on white).
pub const REFERENCE_KEY: RGBColor = RGBColor(110, 110, 110);

/// The scaling chart's guides: linear scaling, and the critical-path bound.
pub const LINEAR_GUIDE: RGBColor = RGBColor(150, 150, 150);
pub const BOUND: RGBColor = RGBColor(200, 30, 30);

/// The whisker of a point (its spread over the repeats), in the point's colour.
pub fn whisker_line(color: RGBColor) -> ShapeStyle {
    color.mix(0.7).stroke_width(1)
}

/// The colour of each strategy; the sequential reference is grey.
pub fn strategy_color(name: &str) -> RGBColor {
    match name {
        "sequential" => RGBColor(120, 120, 120),
        "sv" => RGBColor(31, 119, 180),
        "dag" => RGBColor(230, 120, 10),
        "block-stm" => RGBColor(44, 160, 44),
        _ => RGBColor(148, 103, 189),
    }
}

/// The drawing and legend order of the strategies (and which marker each has).
pub fn strategy_rank(name: &str) -> usize {
    ["sequential", "sv", "dag", "block-stm"]
        .iter()
        .position(|s| *s == name)
        .unwrap_or(9)
}

/// A marker's shape in pixels around its point: each strategy has its own, so lines that
/// coincide still show every strategy.
pub fn draw_marker(
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

/// A figure's frame: a white PNG of `size` at `path` with `title` and, under it, a line
/// per entry of `context` (machine, commit, repeats). Returns the root, to `present` when
/// done, and the area left for the figure's body.
pub fn frame<'a>(
    path: &'a Path,
    size: (u32, u32),
    title: &str,
    context: &[&str],
) -> Result<(Area<'a>, Area<'a>), String> {
    let e = |e: DrawingAreaErrorKind<_>| e.to_string();
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(e)?;
    let mut body = root.titled(title, title_font()).map_err(e)?;
    for line in context {
        body = body.titled(line, context_style()).map_err(e)?;
    }
    Ok((root, body))
}

/// The mesh of a chart in the one style: axis titles, tick labels, grid lines at the
/// ticks only. The caller adds the titles, the label formatters and the tick counts.
pub fn styled_mesh<'a, 'b, X, Y>(
    chart: &'b mut ChartContext<'a, BitMapBackend<'a>, Cartesian2d<X, Y>>,
) -> MeshStyle<'a, 'b, X, Y, BitMapBackend<'a>>
where
    X: Ranged + ValueFormatter<X::ValueType>,
    Y: Ranged + ValueFormatter<Y::ValueType>,
{
    let mut mesh = chart.configure_mesh();
    mesh.axis_desc_style(axis_title_font())
        .x_label_style(label_font())
        .y_label_style(label_font())
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID);
    mesh
}

/// Draws the legend of a chart's labelled series inside it, at `position`.
pub fn draw_series_legend<'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, BitMapBackend<'a>, CT>,
    position: SeriesLabelPosition,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .position(position)
        .label_font(label_font())
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(180, 180, 180))
        .margin(8)
        .draw()
        .map_err(|e| e.to_string())
}
