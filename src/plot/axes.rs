//! The plots' coordinates: an x axis with ticks only where there are data (linear, or
//! log for threads and account counts), a linear coordinate whose ticks are exactly the
//! given points, and the ranges and tick steps of the values.

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::prelude::*;

/// An x axis: data are mapped to plot coordinates (linear, or log for threads and
/// account counts), with ticks only where there are data.
pub struct XAxis {
    pub title: String,
    /// In plot coordinates.
    pub range: (f64, f64),
    /// (position in plot coordinates, label).
    pub ticks: Vec<(f64, String)>,
}

impl XAxis {
    /// Ticks at `values`, mapped through `to_plot`, labelled with `label`.
    pub fn at(
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

    /// The label of the tick nearest to `x`.
    pub fn label_of(&self, x: f64) -> String {
        self.ticks
            .iter()
            .min_by(|a, b| (a.0 - x).abs().total_cmp(&(b.0 - x).abs()))
            .map(|t| t.1.clone())
            .unwrap_or_default()
    }
}

/// A linear f64 coordinate whose ticks (and grid lines) are exactly the given points.
pub struct TickAxis {
    pub lo: f64,
    pub hi: f64,
    pub ticks: Vec<f64>,
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

/// The y range of some values: from `floor` (or below the data) to above the top.
pub fn y_range(values: impl Iterator<Item = f64>, floor: Option<f64>, at_least: f64) -> (f64, f64) {
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

/// Ticks from 0 up to `hi`, at most about 12 of them, at 0.25, 0.5, 1, 2 or 5 steps.
pub fn nice_ticks(hi: f64) -> Vec<f64> {
    let step = [0.25, 0.5, 1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .find(|s| hi / s <= 12.0)
        .unwrap_or(20.0);
    (0..)
        .map(|i| i as f64 * step)
        .take_while(|v| *v <= hi)
        .collect()
}
