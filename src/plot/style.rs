//! The one plot style of the tooling: the font (DejaVu Sans, compiled in through the
//! `dejavu` crate, so no system font is needed), each strategy's colour, drawing order and
//! marker, and the frame of a figure. `stmlab plot`'s figures and the simulator's scaling
//! chart draw with it.

use std::path::Path;
use std::sync::Once;

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
    let mut body = root
        .titled(title, (FONT, 26, FontStyle::Bold).into_font())
        .map_err(e)?;
    for line in context {
        body = body
            .titled(line, (FONT, 15).into_font().color(&RGBColor(90, 90, 90)))
            .map_err(e)?;
    }
    Ok((root, body))
}
