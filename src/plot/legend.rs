//! A figure's legend: one centred row of keys above its panels, each a strategy's line
//! and marker, or a dashed reference line.

use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{draw_marker, legend_row_font, Area};

/// One entry of a figure's legend.
pub struct Key {
    /// The text; for a strategy, its name (which picks the marker).
    pub name: String,
    pub color: RGBColor,
    /// The line's width in pixels (1: the thin reference, drawn with a small marker).
    pub width: u32,
    /// A dashed reference line, without a marker.
    pub dashed: bool,
}

/// Draws `keys` in one centred row across `area`.
pub fn draw_legend_row(area: &Area<'_>, keys: &[Key]) -> Result<(), String> {
    let e = |e: DrawingAreaErrorKind<_>| e.to_string();
    let font = TextStyle::from(legend_row_font()).pos(Pos::new(HPos::Left, VPos::Center));
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
