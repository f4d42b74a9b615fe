//! The readable table `stmlab run` prints. A strategy marked `*` ran the block
//! sequentially by the adaptive choice (`--raw` turns it off); `hdr` is the header check,
//! `post` the post-state check (`post_state.json`); and the summary under it.

use super::compare::Row;
use super::summary::Summary;

pub fn print(rows: &[Row]) {
    println!(
        "{:<44} {:<11} {:<6} {:>3} {:>6} {:>11} {:>10} {:>8} {:>7} {:>7} {:>6} {:>5} {:>5}",
        "block",
        "strategy",
        "model",
        "thr",
        "txs",
        "gas",
        "wall ms",
        "vs seq",
        "execs",
        "aborts",
        "same",
        "hdr",
        "post"
    );
    for r in rows {
        let label = if r.block.len() > 44 {
            &r.block[..44]
        } else {
            &r.block
        };
        println!(
            "{:<44} {:<11} {:<6} {:>3} {:>6} {:>11} {:>10.3} {:>7.2}x {:>7} {:>7} {:>6} {:>5} {:>5}",
            label,
            if r.chose_sequential {
                format!("{}*", r.strategy.name())
            } else {
                r.strategy.name().to_string()
            },
            model_cell(r.strategy, r.conflicts),
            r.threads,
            r.txs,
            r.gas_used,
            r.wall_ns as f64 / 1e6,
            r.speedup_vs_sequential,
            r.executions,
            r.aborts,
            if r.identical_to_sequential {
                "yes"
            } else {
                "NO"
            },
            check(r.header_ok),
            check(r.post_state_ok),
        );
    }
}

/// The model column: `-` for sequential, plain revm under every model.
fn model_cell(strategy: stmlab::Strategy, model: stmlab::ConflictModel) -> &'static str {
    if strategy == stmlab::Strategy::Sequential {
        "-"
    } else {
        model.name()
    }
}

/// A check's column: `-` when there was nothing to check.
fn check(ok: Option<bool>) -> &'static str {
    match ok {
        None => "-",
        Some(true) => "ok",
        Some(false) => "BAD",
    }
}

/// The summary under the table (`summary::summarize`): one line per strategy and thread
/// count, the workloads as columns `w1`, `w2`, ... named below it.
pub fn print_summary(s: &Summary) {
    let ratio = |r: Option<f64>| r.map_or("-".to_string(), |r| format!("{r:.2}x"));
    println!();
    println!("summary: ratio to sequential (sequential's median time over the strategy's; above 1 is faster)");
    let mut header = format!(
        "{:<11} {:<6} {:>3} {:>6} {:>7} {:>6} {:>6}",
        "strategy", "model", "thr", "blocks", "total", "faster", "slower"
    );
    for i in 0..s.workloads.len() {
        header += &format!(" {:>7}", format!("w{}", i + 1));
    }
    println!("{header} {:>5}", "same");
    for r in &s.rows {
        let name = if r.chose_sequential > 0 {
            format!("{}*", r.strategy.name())
        } else {
            r.strategy.name().to_string()
        };
        let mut line = format!(
            "{:<11} {:<6} {:>3} {:>6} {:>7} {:>6} {:>6}",
            name,
            model_cell(r.strategy, r.conflicts),
            r.threads,
            r.blocks,
            ratio(r.blocks_speedup),
            r.faster,
            r.slower
        );
        for w in &r.workloads {
            line += &format!(" {:>7}", ratio(*w));
        }
        println!("{line} {:>5}", if r.identical { "yes" } else { "NO" });
    }
    println!("total: the sum of sequential's medians over the sum of the strategy's, over the blocks; faster, slower: blocks");
    if s.rows.iter().any(|r| r.chose_sequential > 0) {
        println!("*: adaptive mode ran some of its inputs sequentially (--raw turns it off)");
    }
    for (i, w) in s.workloads.iter().enumerate() {
        println!("w{}: {w}", i + 1);
    }
    let headers = match (s.headers_checked, s.headers_bad.as_slice()) {
        (0, _) => "no block header to check".to_string(),
        (n, []) => format!("every block header ok ({n} checked)"),
        (n, bad) => format!("{} of {n} block headers BAD: {}", bad.len(), bad.join(", ")),
    };
    let post_states = match (s.post_states_checked, s.post_states_bad.as_slice()) {
        (0, _) => String::new(),
        (n, []) => format!("; every post-state ok ({n} checked)"),
        (n, bad) => format!("; {} of {n} post-states BAD: {}", bad.len(), bad.join(", ")),
    };
    let outputs = if s.all_identical {
        "every output identical to sequential"
    } else {
        "some output DIFFERS from sequential (same = NO)"
    };
    println!("{outputs}; {headers}{post_states}");
}
