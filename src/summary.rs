//! The short conclusion under a run's table: for each strategy and thread count, the
//! total ratio to sequential over the blocks, the ratio on each workload, how many blocks
//! were faster and slower than sequential, and whether every output was identical to
//! sequential's; and whether every block's header check passed. Computed from the rows
//! alone (`summarize`); printed by `table::print_summary`.

use serde::Serialize;
use stmlab::{ConflictModel, Strategy};

use super::compare::Row;

/// The summary of a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// The workload labels, in column order; every other row is a block.
    pub workloads: Vec<String>,
    /// One per strategy and thread count, in the order the strategies first appear in the
    /// rows, then by thread count.
    pub rows: Vec<SummaryRow>,
    /// Every output of every strategy was identical to sequential's.
    pub all_identical: bool,
    /// The blocks with a header to check (workloads have none), and those whose check
    /// failed.
    pub headers_checked: usize,
    pub headers_bad: Vec<String>,
    /// The same for the post-state check (blocks with a `post_state.json`).
    pub post_states_checked: usize,
    pub post_states_bad: Vec<String>,
}

/// One strategy at one thread count.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SummaryRow {
    pub strategy: Strategy,
    /// The conflict model of the strategy's rows (`Row::conflicts`).
    pub conflicts: ConflictModel,
    pub threads: usize,
    /// The blocks measured, and the sums of sequential's medians and of this strategy's
    /// over them (each block's sequential median from the same interleaved runs).
    pub blocks: usize,
    pub blocks_sequential_wall_ns: u64,
    pub blocks_wall_ns: u64,
    /// The first sum over the second: the total ratio to sequential (`None`: no blocks).
    pub blocks_speedup: Option<f64>,
    /// Blocks where this strategy's median was below sequential's, and above it.
    pub faster: usize,
    pub slower: usize,
    /// The ratio to sequential on each workload, in `Summary::workloads` order (`None`:
    /// no row for it).
    pub workloads: Vec<Option<f64>>,
    /// Every output of this strategy at this thread count was identical to sequential's.
    pub identical: bool,
    /// Rows where adaptive mode ran the input sequentially instead.
    pub chose_sequential: usize,
}

/// The summary of `rows`; `workloads` names the rows that are workloads (their labels,
/// which give the column order), every other row is a block.
pub fn summarize(rows: &[Row], workloads: &[String]) -> Summary {
    let mut keys: Vec<(Strategy, ConflictModel, usize)> = Vec::new();
    let mut strategy_order: Vec<Strategy> = Vec::new();
    let mut model_order: Vec<ConflictModel> = Vec::new();
    for r in rows {
        if !keys.contains(&(r.strategy, r.conflicts, r.threads)) {
            keys.push((r.strategy, r.conflicts, r.threads));
        }
        if !strategy_order.contains(&r.strategy) {
            strategy_order.push(r.strategy);
        }
        if !model_order.contains(&r.conflicts) {
            model_order.push(r.conflicts);
        }
    }
    keys.sort_by_key(|&(s, m, t)| {
        (
            strategy_order.iter().position(|&o| o == s),
            model_order.iter().position(|&o| o == m),
            t,
        )
    });

    let summary_rows = keys
        .into_iter()
        .map(|(strategy, conflicts, threads)| {
            let mine: Vec<&Row> = rows
                .iter()
                .filter(|r| {
                    r.strategy == strategy && r.conflicts == conflicts && r.threads == threads
                })
                .collect();
            let blocks: Vec<&&Row> = mine
                .iter()
                .filter(|r| !workloads.contains(&r.block))
                .collect();
            let seq: u64 = blocks.iter().map(|r| r.sequential_wall_ns).sum();
            let wall: u64 = blocks.iter().map(|r| r.wall_ns).sum();
            SummaryRow {
                strategy,
                conflicts,
                threads,
                blocks: blocks.len(),
                blocks_sequential_wall_ns: seq,
                blocks_wall_ns: wall,
                blocks_speedup: (!blocks.is_empty()).then(|| seq as f64 / wall.max(1) as f64),
                faster: blocks
                    .iter()
                    .filter(|r| r.wall_ns < r.sequential_wall_ns)
                    .count(),
                slower: blocks
                    .iter()
                    .filter(|r| r.wall_ns > r.sequential_wall_ns)
                    .count(),
                workloads: workloads
                    .iter()
                    .map(|w| {
                        mine.iter()
                            .find(|r| &r.block == w)
                            .map(|r| r.speedup_vs_sequential)
                    })
                    .collect(),
                identical: mine.iter().all(|r| r.identical_to_sequential),
                chose_sequential: mine.iter().filter(|r| r.chose_sequential).count(),
            }
        })
        .collect();

    let (headers_checked, headers_bad) = checked_blocks(rows, |r| r.header_ok);
    let (post_states_checked, post_states_bad) = checked_blocks(rows, |r| r.post_state_ok);
    Summary {
        workloads: workloads.to_vec(),
        rows: summary_rows,
        all_identical: rows.iter().all(|r| r.identical_to_sequential),
        headers_checked,
        headers_bad,
        post_states_checked,
        post_states_bad,
    }
}

/// How many blocks a check (`check(row)`: `None` when there was nothing to check) ran on,
/// and those it failed. A check is on the block (on sequential's output), the same in all
/// the block's rows.
fn checked_blocks(rows: &[Row], check: impl Fn(&Row) -> Option<bool>) -> (usize, Vec<String>) {
    let mut checked = std::collections::BTreeSet::new();
    let mut bad = Vec::new();
    for r in rows {
        if let Some(ok) = check(r) {
            if checked.insert(r.block.as_str()) && !ok {
                bad.push(r.block.clone());
            }
        }
    }
    (checked.len(), bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row of `strategy` at `threads` on `block`: `wall` ns against sequential's `seq`.
    fn row(block: &str, strategy: Strategy, threads: usize, seq: u64, wall: u64) -> Row {
        Row {
            block: block.into(),
            strategy,
            conflicts: ConflictModel::default(),
            threads,
            txs: 10,
            gas_used: 210_000,
            wall_ns: wall,
            wall_ns_min: wall,
            wall_ns_max: wall,
            repeats: 3,
            sequential_wall_ns: seq,
            speedup_vs_sequential: seq as f64 / wall.max(1) as f64,
            txs_per_sec: 0.0,
            gas_per_sec: 0.0,
            executions_per_tx: 1.0,
            peak_mem_bytes: None,
            executions: 10,
            validations: 0,
            aborts: 0,
            aborts_by_kind: Default::default(),
            suspensions: 0,
            dependency_edges: 0,
            longest_chain: 0,
            max_released: 0,
            repairs: 0,
            fell_back: false,
            chose_sequential: false,
            identical_to_sequential: true,
            header_ok: if block.contains(':') {
                None
            } else {
                Some(true)
            },
            post_state_ok: None,
            executor_startup_ns: 0,
            executor_first_run_ns: 0,
        }
    }

    fn workloads() -> Vec<String> {
        vec!["transfers:txs=10".into(), "chain:txs=5".into()]
    }

    #[test]
    fn block_total_is_sum_over_sum_and_counts_faster_and_slower() {
        use Strategy::*;
        let rows = [
            row("transfers:txs=10", BlockStm, 2, 300, 100),
            row("1", BlockStm, 2, 400, 100),
            // Slower than sequential: 100 against 200.
            row("2", BlockStm, 2, 100, 200),
            row("3", BlockStm, 2, 100, 100),
            row("chain:txs=5", BlockStm, 2, 100, 125),
        ];
        let s = summarize(&rows, &workloads());
        assert_eq!(s.rows.len(), 1);
        let r = &s.rows[0];
        assert_eq!((r.strategy, r.threads), (BlockStm, 2));
        assert_eq!(r.blocks, 3);
        // The workloads are not part of the block total.
        assert_eq!(r.blocks_sequential_wall_ns, 600);
        assert_eq!(r.blocks_wall_ns, 400);
        // 600 / 400, not the mean of the ratios 4, 0.5 and 1.
        assert_eq!(r.blocks_speedup, Some(1.5));
        assert_eq!((r.faster, r.slower), (1, 1));
        assert_eq!(r.workloads, vec![Some(3.0), Some(0.8)]);
        assert!(r.identical && s.all_identical);
        assert_eq!(s.headers_checked, 3);
        assert!(s.headers_bad.is_empty());
    }

    #[test]
    fn one_row_per_strategy_and_threads_in_the_rows_order() {
        use Strategy::*;
        let mut rows = Vec::new();
        for t in [2, 1] {
            for s in [Sequential, Dag] {
                rows.push(row("1", s, t, 100, 50 * t as u64));
            }
        }
        let s = summarize(&rows, &[]);
        let keys: Vec<_> = s.rows.iter().map(|r| (r.strategy, r.threads)).collect();
        assert_eq!(
            keys,
            vec![(Sequential, 1), (Sequential, 2), (Dag, 1), (Dag, 2)]
        );
        assert_eq!(s.rows[0].blocks_speedup, Some(2.0));
        assert_eq!(s.rows[1].blocks_speedup, Some(1.0));
        assert_eq!((s.rows[1].faster, s.rows[1].slower), (0, 0));
        // One block, checked once whatever the number of its rows.
        assert_eq!(s.headers_checked, 1);
    }

    #[test]
    fn a_missing_workload_is_none_and_no_blocks_no_total() {
        use Strategy::*;
        let rows = [
            row("transfers:txs=10", Sv, 1, 100, 50),
            row("transfers:txs=10", Dag, 1, 100, 200),
            row("chain:txs=5", Dag, 1, 100, 100),
        ];
        let s = summarize(&rows, &workloads());
        assert_eq!(s.rows[0].strategy, Sv);
        assert_eq!(s.rows[0].workloads, vec![Some(2.0), None]);
        assert_eq!(s.rows[1].workloads, vec![Some(0.5), Some(1.0)]);
        for r in &s.rows {
            assert_eq!((r.blocks, r.blocks_speedup), (0, None));
            assert_eq!((r.faster, r.slower), (0, 0));
        }
        assert_eq!(s.headers_checked, 0);
    }

    #[test]
    fn a_differing_output_and_a_bad_header_are_reported() {
        use Strategy::*;
        let mut rows = vec![
            row("1", Sv, 2, 100, 50),
            row("1", Dag, 2, 100, 50),
            row("2", Sv, 2, 100, 50),
            row("2", Dag, 2, 100, 50),
        ];
        rows[1].identical_to_sequential = false;
        rows[1].chose_sequential = true;
        for r in &mut rows[2..] {
            r.header_ok = Some(false);
        }
        let s = summarize(&rows, &[]);
        assert!(s.rows[0].identical);
        assert!(!s.rows[1].identical);
        assert_eq!(s.rows[1].chose_sequential, 1);
        assert!(!s.all_identical);
        assert_eq!(s.headers_checked, 2);
        assert_eq!(s.headers_bad, vec!["2".to_string()]);
        assert_eq!(s.post_states_checked, 0);
    }

    #[test]
    fn post_state_checks_are_counted_per_block() {
        use Strategy::*;
        let mut rows = vec![
            row("1", Sv, 1, 100, 50),
            row("1", Sv, 2, 100, 50),
            row("2", Sv, 1, 100, 50),
            row("2", Sv, 2, 100, 50),
            row("3", Sv, 1, 100, 50),
        ];
        for r in &mut rows[..2] {
            r.post_state_ok = Some(true);
        }
        for r in &mut rows[2..4] {
            r.post_state_ok = Some(false);
        }
        let s = summarize(&rows, &[]);
        assert_eq!(s.post_states_checked, 2);
        assert_eq!(s.post_states_bad, vec!["2".to_string()]);
    }

    #[test]
    fn one_row_per_conflict_model() {
        use Strategy::*;
        let mut rows = Vec::new();
        for m in ConflictModel::ALL {
            let mut r = row("1", BlockStm, 2, 100, 50);
            r.conflicts = m;
            rows.push(r);
        }
        rows[2].wall_ns = 25;
        let s = summarize(&rows, &[]);
        let models: Vec<_> = s.rows.iter().map(|r| r.conflicts).collect();
        assert_eq!(models, ConflictModel::ALL.to_vec());
        assert_eq!(s.rows[2].blocks_speedup, Some(4.0));
    }

    #[test]
    fn no_rows_no_summary_rows() {
        let s = summarize(&[], &workloads());
        assert!(s.rows.is_empty());
        assert!(s.all_identical);
        assert_eq!(s.workloads.len(), 2);
    }
}
