//! The readable table `stmlab run` prints. A strategy marked `*` ran the block
//! sequentially by the adaptive choice (`--raw` turns it off).

use super::compare::Row;

pub fn print(rows: &[Row]) {
    println!(
        "{:<44} {:<11} {:>3} {:>6} {:>11} {:>10} {:>8} {:>7} {:>7} {:>6} {:>5}",
        "block",
        "strategy",
        "thr",
        "txs",
        "gas",
        "wall ms",
        "vs seq",
        "execs",
        "aborts",
        "same",
        "hdr"
    );
    for r in rows {
        let label = if r.block.len() > 44 {
            &r.block[..44]
        } else {
            &r.block
        };
        println!(
            "{:<44} {:<11} {:>3} {:>6} {:>11} {:>10.3} {:>7.2}x {:>7} {:>7} {:>6} {:>5}",
            label,
            if r.chose_sequential {
                format!("{}*", r.strategy.name())
            } else {
                r.strategy.name().to_string()
            },
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
            match r.header_ok {
                None => "-",
                Some(true) => "ok",
                Some(false) => "BAD",
            }
        );
    }
}
