//! The goals' generated workloads: each row of [`WORKLOAD_GOALS`], Block-STM against
//! sequential in adaptive mode and raw (one `compare` call each), with the machine's
//! ceiling beside it; the first row's raw run also counts both peaks for the peak-memory
//! row. Each input is generated once (the ERC-20 one serves three rows).

use super::goal::{WorkloadGoal, ADAPTIVE, RAW, WORKLOAD_GOALS};
use super::progress::Progress;
use super::rows::{block_stm_row, memory_row, GoalRow, Metric};
use crate::ceiling::ceiling;
use crate::compare::{compare, Row};
use crate::inputs::{self, Input};
use crate::memory;
use stmlab::Strategy;

/// What the workloads gave: a row per [`WORKLOAD_GOALS`] entry, and the peak-memory row.
pub struct WorkloadRun {
    pub rows: Vec<GoalRow>,
    pub memory: GoalRow,
}

/// Measures every workload goal, `repeat` interleaved runs per point, each input capped
/// at `max_txs` transactions when given; peak memory unless `no_memory`. A step of
/// `progress` per row.
pub fn measure(
    repeat: usize,
    max_txs: Option<usize>,
    no_memory: bool,
    progress: &mut Progress,
) -> Result<WorkloadRun, String> {
    let mut rows = Vec::new();
    let mut memory_measured: Option<GoalRow> = None;
    let mut current: Option<Input> = None;
    for (i, goal) in WORKLOAD_GOALS.iter().enumerate() {
        let spec = sized(goal.spec, max_txs);
        if current.as_ref().is_none_or(|c| c.label != spec) {
            drop(current.take()); // free the previous input before generating the next
            progress.bar.set_message(format!("generating {spec}"));
            current = Some(inputs::from_workload(&spec)?);
        }
        let input = current.as_ref().expect("generated above");
        progress
            .bar
            .set_message(format!("{spec} at {} threads", goal.threads));
        let mut row = GoalRow::new(
            goal.id,
            goal.work,
            spec.clone(),
            goal.threads,
            Metric::Speedup,
            goal.goal,
        );
        let (adaptive, m) = compare(
            input,
            &[Strategy::BlockStm],
            &[goal.threads],
            repeat,
            ADAPTIVE,
        )?;
        progress.check(&adaptive, m);
        if i == 0 {
            let (raw, memory) = raw_with_peaks(input, goal, repeat, no_memory, progress)?;
            row.set_speedups(
                block_stm_row(&adaptive)?,
                block_stm_row(&raw)?,
                goal.judged_raw,
            );
            memory_measured = Some(memory);
        } else {
            let (raw, m) = compare(input, &[Strategy::BlockStm], &[goal.threads], repeat, RAW)?;
            progress.check(&raw, m);
            row.set_speedups(
                block_stm_row(&adaptive)?,
                block_stm_row(&raw)?,
                goal.judged_raw,
            );
        }
        if goal.threads > 1 {
            progress
                .bar
                .set_message(format!("{spec}: the machine's ceiling"));
            row.ceiling = Some(
                ceiling(&input.block, &input.state, goal.threads, repeat)
                    .map_err(|e| format!("{spec}: ceiling: {e}"))?,
            );
        }
        rows.push(row);
        progress.bar.inc(1);
    }
    drop(current);
    Ok(WorkloadRun {
        rows,
        memory: memory_measured.expect("the first workload goal ran"),
    })
}

/// The raw run of the first workload goal, and the peak-memory row from it: Block-STM's
/// own peak, never adaptive mode's choice of sequential revm. Sequential runs as a
/// strategy too, so the untimed counting run `compare` adds measures its peak as well.
fn raw_with_peaks(
    input: &Input,
    goal: &WorkloadGoal,
    repeat: usize,
    no_memory: bool,
    progress: &mut Progress,
) -> Result<(Vec<Row>, GoalRow), String> {
    memory::set_wanted(!no_memory);
    let counted = memory::wanted();
    let (raw, m) = compare(
        input,
        &[Strategy::Sequential, Strategy::BlockStm],
        &[goal.threads],
        repeat,
        RAW,
    )?;
    memory::set_wanted(false);
    progress.check(&raw, m);
    let peak = |s: Strategy| {
        raw.iter()
            .find(|r| r.strategy == s)
            .and_then(|r| r.peak_mem_bytes)
    };
    let why_not = if no_memory {
        "--no-memory"
    } else if !counted {
        "no counting allocator"
    } else {
        "no peak reported"
    };
    let row = memory_row(
        &input.label,
        peak(Strategy::Sequential),
        peak(Strategy::BlockStm),
        why_not,
    );
    Ok((raw, row))
}

/// `spec` as the goals run it: capped at `max_txs` transactions when given.
pub fn sized(spec: &str, max_txs: Option<usize>) -> String {
    match max_txs {
        Some(cap) => cap_txs(spec, cap),
        None => spec.to_string(),
    }
}

/// `spec` with its `txs` knob lowered to at most `cap` (for quick tests; the goals are
/// defined at the full sizes).
pub fn cap_txs(spec: &str, cap: usize) -> String {
    let Some((name, knobs)) = spec.split_once(':') else {
        return spec.to_string();
    };
    let knobs: Vec<String> = knobs
        .split(',')
        .map(|kv| match kv.split_once('=') {
            Some(("txs", n)) => match n.parse::<usize>() {
                Ok(n) => format!("txs={}", n.min(cap)),
                Err(_) => kv.to_string(),
            },
            _ => kv.to_string(),
        })
        .collect();
    format!("{name}:{}", knobs.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_only_the_txs_knob() {
        assert_eq!(
            cap_txs("erc20:txs=10000,accounts=100000,hot=0", 50),
            "erc20:txs=50,accounts=100000,hot=0"
        );
        assert_eq!(cap_txs("chain:txs=20", 50), "chain:txs=20");
        assert_eq!(
            cap_txs("amm:pools=5000,txs=5000", 7),
            "amm:pools=5000,txs=7"
        );
        for g in WORKLOAD_GOALS {
            let capped = cap_txs(g.spec, 10);
            assert!(capped.contains("txs=10"), "{capped}");
            stmlab_workloads::WorkloadSpec::parse(&capped).unwrap();
            stmlab_workloads::WorkloadSpec::parse(g.spec).unwrap();
        }
    }
}
