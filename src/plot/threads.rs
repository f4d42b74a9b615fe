//! The threads figures: throughput and speedup over sequential versus worker threads, one
//! line per strategy, for each workload input (`threads-<input>.png`) and for the mainnet
//! blocks in total (`threads-mainnet-all.png`, times summed over the blocks).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::axes::{y_range, XAxis};
use super::mainnet::Mainnet;
use super::panel::{figure, lines_by_strategy, Line, Panel, Whisker};
use super::schema::{Point, Sweep};
use super::text::{fmt_plain, fmt_speedup, slug};

/// `threads-<input>.png` for each workload input of `sweep`, into `out`.
pub fn per_input(sweep: &Sweep, out: &Path) -> Result<Vec<PathBuf>, String> {
    let context = sweep.context();
    let threads = sweep.thread_counts();
    let mut labels: Vec<&str> = Vec::new();
    for p in sweep.points.iter().filter(|p| p.source == "workload") {
        if !labels.contains(&p.block.as_str()) {
            labels.push(&p.block);
        }
    }
    let mut written = Vec::new();
    for label in &labels {
        let pts: Vec<&Point> = sweep.points.iter().filter(|p| p.block == *label).collect();
        let path = out.join(format!("threads-{}.png", slug(label)));
        figure(
            &path,
            (1400, 560),
            &format!("{label}: scaling with threads"),
            &context.with_whiskers,
            (1, 2),
            &threads_panels(&pts, &threads, context.whiskers),
        )?;
        written.push(path);
    }
    Ok(written)
}

/// `threads-mainnet-all.png`: the mainnet blocks in total (the sum of the times over all
/// blocks), into `out`; none without mainnet points.
pub fn mainnet_total(
    sweep: &Sweep,
    mainnet: &Mainnet,
    out: &Path,
) -> Result<Option<PathBuf>, String> {
    if mainnet.points.is_empty() {
        return Ok(None);
    }
    let mut totals: BTreeMap<(String, usize), (usize, u64, u64)> = BTreeMap::new();
    for p in &mainnet.points {
        let t = totals
            .entry((p.strategy.clone(), p.threads))
            .or_insert((0, 0, 0));
        t.0 += p.txs;
        t.1 += p.wall_ns;
        t.2 += p.sequential_wall_ns;
    }
    let agg: Vec<Point> = totals
        .into_iter()
        .map(|((strategy, threads), (txs, wall, seq))| Point {
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
    let refs: Vec<&Point> = agg.iter().collect();
    let total_txs = agg.first().map_or(0, |p| p.txs);
    let path = out.join("threads-mainnet-all.png");
    figure(
        &path,
        (1400, 560),
        &format!(
            "All {} mainnet blocks ({total_txs} transactions, times summed): scaling with threads",
            mainnet.blocks.len()
        ),
        &sweep.context().without_whiskers,
        (1, 2),
        &threads_panels(&refs, &sweep.thread_counts(), false),
    )?;
    Ok(Some(path))
}

/// The x axis of the threads figures: log scale, ticks at the swept counts.
fn threads_axis(threads: &[usize]) -> XAxis {
    let values: Vec<f64> = threads.iter().map(|&t| t as f64).collect();
    XAxis::at("worker threads", &values, f64::log2, |v| format!("{v:.0}"))
}

/// The two panels (throughput, speedup) of a threads-plot over `points` of one input.
fn threads_panels(points: &[&Point], threads: &[usize], whiskers: bool) -> Vec<Panel> {
    let x = |p: &Point| (p.threads as f64).log2();
    let thr_w = |p: &Point| p.throughput_range();
    let sp_w = |p: &Point| p.speedup_range();
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
