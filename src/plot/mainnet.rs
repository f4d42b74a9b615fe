//! The sweep's mainnet points as the figures of the bundled blocks see them: every block
//! in block order, and the parallel strategies' points on the blocks with transactions.

use std::collections::BTreeSet;

use super::schema::{Point, Sweep};

/// The mainnet points of a sweep.
pub struct Mainnet<'a> {
    /// Every mainnet point, sequential's included.
    pub points: Vec<&'a Point>,
    /// Every block (number, label), in block order.
    pub blocks: BTreeSet<(u64, &'a str)>,
    /// The parallel strategies' points on blocks with transactions. Sequential's own rows
    /// (sequential timed against itself) are noise around 1x: a dashed line stands for
    /// them. A block without transactions has nothing to run in parallel; its "speedup"
    /// is a ratio of microseconds of fixed costs, so it is left out (and the title says
    /// so: `left_out`).
    pub parallel: Vec<&'a Point>,
    /// The blocks of `parallel`, in block order.
    pub order: Vec<&'a str>,
    /// ` (N blocks without transactions left out)`, or nothing.
    pub left_out: String,
}

impl<'a> Mainnet<'a> {
    /// The mainnet points of `sweep`.
    pub fn of(sweep: &'a Sweep) -> Self {
        let mainnet: Vec<&Point> = sweep
            .points
            .iter()
            .filter(|p| p.source == "mainnet")
            .collect();
        let blocks: BTreeSet<(u64, &str)> = mainnet
            .iter()
            .map(|p| (p.block.parse().unwrap_or(u64::MAX), p.block.as_str()))
            .collect();
        let parallel: Vec<&Point> = mainnet
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
        let kept: BTreeSet<&str> = parallel.iter().map(|p| p.block.as_str()).collect();
        let order: Vec<&str> = blocks
            .iter()
            .map(|b| b.1)
            .filter(|b| kept.contains(b))
            .collect();
        Self {
            points: mainnet,
            blocks,
            parallel,
            order,
            left_out,
        }
    }
}
