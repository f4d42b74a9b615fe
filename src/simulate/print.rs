//! The tables `stmlab simulate` prints: the predicted speedups per block and strategy, and
//! the check's errors per group.

use std::collections::BTreeMap;

use super::rows::{CheckSummary, SimRow};
use stmlab::Strategy;

/// Predicted speedup per (block, strategy), a column per thread count, the bound last.
pub fn print_predictions(rows: &[SimRow], threads: &[usize]) {
    print!("{:<44} {:<11}", "block", "strategy");
    for t in threads {
        print!(" {:>7}", format!("{t}T"));
    }
    println!(" {:>8}", "bound");
    let mut by: BTreeMap<(usize, String, Strategy), Vec<&SimRow>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        let first = rows
            .iter()
            .position(|x| x.prediction.block == r.prediction.block)
            .unwrap_or(i);
        by.entry((first, r.prediction.block.clone(), r.prediction.strategy))
            .or_default()
            .push(r);
    }
    for ((_, block, strategy), list) in by {
        let label = if block.len() > 44 {
            &block[..44]
        } else {
            &block
        };
        print!("{label:<44} {:<11}", strategy.name());
        for t in threads {
            match list.iter().find(|r| r.prediction.threads == *t) {
                Some(r) => print!(" {:>6.2}x", r.prediction.predicted_speedup),
                None => print!(" {:>7}", "-"),
            }
        }
        println!(" {:>7.1}x", list[0].speedup_bound);
    }
}

/// The check's summary per (group, strategy, threads).
pub fn print_check(summary: &[CheckSummary]) {
    println!(
        "{:<44} {:<11} {:>3} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "group",
        "strategy",
        "thr",
        "blocks",
        "err total",
        "med |err|",
        "max |err|",
        "uncal err",
        "vs fastest"
    );
    for s in summary {
        let label = if s.group.len() > 44 {
            &s.group[..44]
        } else {
            &s.group
        };
        println!(
            "{:<44} {:<11} {:>3} {:>6} {:>+8.1}% {:>8.1}% {:>8.1}% {:>+8.1}% {:>+8.1}%",
            label,
            s.strategy.name(),
            s.threads,
            s.blocks,
            s.error_of_total * 100.0,
            s.median_abs_error * 100.0,
            s.max_abs_error * 100.0,
            s.uncalibrated_error_of_total * 100.0,
            s.error_of_total_vs_fastest * 100.0
        );
    }
}
