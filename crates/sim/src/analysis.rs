//! The critical-path bound and the dependency statistics of a recorded block.
//!
//! Transaction `j` depends on `i` when `j` read a key whose value, in sequential
//! execution, `i` wrote (the last writer of that key before `j`): the origins the
//! sequential read set records. Whatever the scheduler, `j`'s final execution must read
//! `i`'s final write, so it cannot start before `i`'s final execution has ended: the
//! longest chain of dependencies, each transaction weighted by its execution cost, is a
//! floor on the wall time on any number of cores, and `total cost / critical path` a
//! ceiling on the speedup (over sequential execution at the same per-transaction cost).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use serde::Serialize;

use super::replay::TxnRecord;
use stmlab::core::txn::TxnIndex;

/// The dependency statistics of one block (or of several, aggregated).
#[derive(Clone, Debug, Serialize)]
pub struct Analysis {
    pub block: String,
    /// "block" (one block or workload) or "aggregate" (several blocks run one after the
    /// other: costs and paths add up).
    pub kind: &'static str,
    pub blocks: usize,
    pub txs: usize,
    /// Sum of the transactions' execution costs.
    pub total_cost_ns: u64,
    /// The longest chain of dependencies, weighted by execution cost.
    pub critical_path_ns: u64,
    /// `total_cost_ns / critical_path_ns`: no scheduler on any number of cores does better.
    pub speedup_bound: f64,
    /// Transactions that depend on at least one earlier transaction.
    pub dependent_txs: usize,
    pub dependent_fraction: f64,
    /// Dependency edges (distinct pairs).
    pub edges: usize,
    /// The longest chain of dependencies, in transactions.
    pub longest_chain_txs: usize,
    /// `txs / longest_chain_txs` (for an aggregate: over the sum of its blocks' longest
    /// chains): the bound counted in transactions, every transaction of the same cost.
    /// Deterministic: no timing goes into it.
    pub unweighted_bound: f64,
    /// The makespan of a greedy list schedule of the dependency graph on two workers
    /// ([`list_schedule_makespan`]) with the execution costs (an aggregate: the sum).
    pub two_worker_makespan_ns: u64,
    /// `total_cost_ns / two_worker_makespan_ns`: at most 2 and at most `speedup_bound`.
    pub two_worker_bound: f64,
    /// The transactions on the weighted critical path.
    pub critical_path_txs: usize,
    /// Per dependent transaction, the distance to its nearest dependency (`j - i` for the
    /// highest `i` it depends on): a dependency within the window of transactions in
    /// flight on `N` workers (distance < N) is the kind that costs re-executions.
    pub nearest_distance_median: f64,
    pub nearest_distance_mean: f64,
    pub nearest_distance_p90: f64,
    /// Dependent transactions whose nearest dependency is the transaction right before.
    pub adjacent_fraction: f64,
    /// The mean distance over all edges.
    pub edge_distance_mean: f64,
    /// Edges by the kind of key `j` read from `i` (an edge through two kinds of key counts
    /// under both; kinds are the caller's, e.g. account, storage, fee; a read below a
    /// bound, a link of a delta chain, counts under "delta").
    pub edges_by_kind: BTreeMap<&'static str, usize>,
    /// The most transactions depending on one transaction (a hot spot).
    pub max_dependents: usize,
    /// Execution cost per transaction: mean and largest.
    pub mean_cost_ns: f64,
    pub max_cost_ns: u64,
    /// The nearest-dependency distances, for aggregating.
    #[serde(skip)]
    pub nearest_distances: Vec<usize>,
    #[serde(skip)]
    edge_distance_sum: u64,
    /// The sum of the blocks' longest chains (one block: its longest chain).
    #[serde(skip)]
    chain_txs_sum: usize,
}

fn percentile(sorted: &[usize], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    let frac = pos - lo as f64;
    sorted[lo] as f64 * (1.0 - frac) + sorted[hi] as f64 * frac
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

/// The critical path (weights `exec_ns`), its length in transactions, and the per
/// transaction depth in transactions.
pub fn critical_path<K>(txns: &[TxnRecord<K>]) -> (u64, usize, Vec<usize>) {
    let n = txns.len();
    let mut finish = vec![0u64; n];
    let mut depth = vec![0usize; n];
    let mut via: Vec<Option<TxnIndex>> = vec![None; n];
    for (j, t) in txns.iter().enumerate() {
        let deps = t.dependencies();
        let best = deps.iter().copied().max_by_key(|&i| (finish[i], i));
        finish[j] = best.map_or(0, |i| finish[i]) + t.cost.exec_ns;
        via[j] = best;
        depth[j] = 1 + deps.iter().map(|&i| depth[i]).max().unwrap_or(0);
    }
    let end = (0..n).max_by_key(|&j| (finish[j], std::cmp::Reverse(j)));
    let mut on_path = 0;
    let mut at = end;
    while let Some(j) = at {
        on_path += 1;
        at = via[j];
    }
    (end.map_or(0, |j| finish[j]), on_path, depth)
}

/// The makespan of a greedy list schedule of the block's dependency graph on `workers`
/// workers (at least one), each transaction weighted by its execution cost: whenever a
/// worker is free it starts the lowest-numbered transaction whose dependencies have all
/// finished; a transaction runs once, to completion. Any schedule takes at least the
/// critical path and at least `total / workers`, so `total / makespan` is at most
/// `workers` and at most the critical-path bound.
pub fn list_schedule_makespan<K>(txns: &[TxnRecord<K>], workers: usize) -> u64 {
    let n = txns.len();
    let mut waiting_on = vec![0usize; n];
    let mut dependents: Vec<Vec<TxnIndex>> = vec![Vec::new(); n];
    for (j, t) in txns.iter().enumerate() {
        // Only earlier transactions can be waited on (a malformed record's later or own
        // index would never become ready and leave its transaction out of the schedule).
        let deps: Vec<TxnIndex> = t.dependencies().into_iter().filter(|&i| i < j).collect();
        waiting_on[j] = deps.len();
        for i in deps {
            dependents[i].push(j);
        }
    }
    let mut ready: BinaryHeap<Reverse<TxnIndex>> = (0..n)
        .filter(|&j| waiting_on[j] == 0)
        .map(Reverse)
        .collect();
    // (finish time, transaction) of the running ones, earliest first.
    let mut running: BinaryHeap<Reverse<(u64, TxnIndex)>> = BinaryHeap::new();
    let (mut now, mut idle) = (0u64, workers.max(1));
    loop {
        while idle > 0 {
            let Some(Reverse(j)) = ready.pop() else { break };
            running.push(Reverse((now + txns[j].cost.exec_ns, j)));
            idle -= 1;
        }
        let Some(Reverse((end, j))) = running.pop() else {
            return now;
        };
        now = end;
        idle += 1;
        for &d in &dependents[j] {
            waiting_on[d] -= 1;
            if waiting_on[d] == 0 {
                ready.push(Reverse(d));
            }
        }
    }
}

/// The dependency statistics of one recorded block.
pub fn analyze<K>(label: &str, txns: &[TxnRecord<K>]) -> Analysis {
    analyze_with(label, txns, |_| "key")
}

/// [`analyze`], naming the kind of each key (for `edges_by_kind`).
pub fn analyze_with<K>(
    label: &str,
    txns: &[TxnRecord<K>],
    kind: impl Fn(&K) -> &'static str,
) -> Analysis {
    let n = txns.len();
    let (critical, on_path, depth) = critical_path(txns);
    let total: u64 = txns.iter().map(|t| t.cost.exec_ns).sum();
    let mut dependents = vec![0usize; n];
    let mut nearest = Vec::new();
    let mut edges = 0usize;
    let mut edge_distance_sum = 0u64;
    let mut edges_by_kind: BTreeMap<&'static str, usize> = BTreeMap::new();
    for (j, t) in txns.iter().enumerate() {
        let deps = t.dependencies();
        if let Some(&last) = deps.last() {
            nearest.push(j - last);
        }
        // A read below a bound (a delta chain's link) counts under "delta".
        let mut below = t.below.iter().map(|(pos, _)| *pos).peekable();
        let mut kinds: Vec<(usize, &'static str)> = t
            .reads
            .iter()
            .enumerate()
            .filter_map(|(pos, (k, o))| {
                let linked = below.next_if_eq(&pos).is_some();
                o.map(|i| (i, if linked { "delta" } else { kind(k) }))
            })
            .collect();
        kinds.sort_unstable();
        kinds.dedup();
        for (_, k) in kinds {
            *edges_by_kind.entry(k).or_default() += 1;
        }
        for &i in &deps {
            dependents[i] += 1;
            edge_distance_sum += (j - i) as u64;
        }
        edges += deps.len();
    }
    nearest.sort_unstable();
    let longest_chain_txs = depth.iter().copied().max().unwrap_or(0);
    let mut a = Analysis {
        block: label.to_string(),
        kind: "block",
        blocks: 1,
        txs: n,
        total_cost_ns: total,
        critical_path_ns: critical,
        speedup_bound: 0.0,
        dependent_txs: nearest.len(),
        dependent_fraction: 0.0,
        edges,
        longest_chain_txs,
        unweighted_bound: 0.0,
        two_worker_makespan_ns: list_schedule_makespan(txns, 2),
        two_worker_bound: 0.0,
        critical_path_txs: on_path,
        nearest_distance_median: 0.0,
        nearest_distance_mean: 0.0,
        nearest_distance_p90: 0.0,
        adjacent_fraction: 0.0,
        edge_distance_mean: 0.0,
        edges_by_kind,
        max_dependents: dependents.iter().copied().max().unwrap_or(0),
        mean_cost_ns: ratio(total as f64, n as f64),
        max_cost_ns: txns.iter().map(|t| t.cost.exec_ns).max().unwrap_or(0),
        nearest_distances: nearest,
        edge_distance_sum,
        chain_txs_sum: longest_chain_txs,
    };
    a.fill_derived();
    a
}

impl Analysis {
    fn fill_derived(&mut self) {
        let d = &self.nearest_distances;
        self.speedup_bound = if self.critical_path_ns > 0 {
            self.total_cost_ns as f64 / self.critical_path_ns as f64
        } else {
            1.0
        };
        self.unweighted_bound = if self.chain_txs_sum > 0 {
            self.txs as f64 / self.chain_txs_sum as f64
        } else {
            1.0
        };
        self.two_worker_bound = if self.two_worker_makespan_ns > 0 {
            self.total_cost_ns as f64 / self.two_worker_makespan_ns as f64
        } else {
            1.0
        };
        self.dependent_fraction = ratio(self.dependent_txs as f64, self.txs as f64);
        self.nearest_distance_median = percentile(d, 0.5);
        self.nearest_distance_p90 = percentile(d, 0.9);
        self.nearest_distance_mean = ratio(d.iter().sum::<usize>() as f64, d.len() as f64);
        self.adjacent_fraction =
            ratio(d.iter().filter(|&&x| x == 1).count() as f64, d.len() as f64);
        self.edge_distance_mean = ratio(self.edge_distance_sum as f64, self.edges as f64);
    }

    /// Several blocks executed one after the other: costs, critical paths and counts add
    /// up; distances are pooled; the longest chain is the longest of any block.
    pub fn aggregate(label: &str, parts: &[Analysis]) -> Analysis {
        let mut nearest: Vec<usize> = parts
            .iter()
            .flat_map(|p| p.nearest_distances.iter().copied())
            .collect();
        nearest.sort_unstable();
        let mut edges_by_kind: BTreeMap<&'static str, usize> = BTreeMap::new();
        for p in parts {
            for (k, v) in &p.edges_by_kind {
                *edges_by_kind.entry(k).or_default() += v;
            }
        }
        let txs: usize = parts.iter().map(|p| p.txs).sum();
        let total: u64 = parts.iter().map(|p| p.total_cost_ns).sum();
        let mut a = Analysis {
            block: label.to_string(),
            kind: "aggregate",
            blocks: parts.iter().map(|p| p.blocks).sum(),
            txs,
            total_cost_ns: total,
            critical_path_ns: parts.iter().map(|p| p.critical_path_ns).sum(),
            speedup_bound: 0.0,
            dependent_txs: parts.iter().map(|p| p.dependent_txs).sum(),
            dependent_fraction: 0.0,
            edges: parts.iter().map(|p| p.edges).sum(),
            longest_chain_txs: parts.iter().map(|p| p.longest_chain_txs).max().unwrap_or(0),
            unweighted_bound: 0.0,
            two_worker_makespan_ns: parts.iter().map(|p| p.two_worker_makespan_ns).sum(),
            two_worker_bound: 0.0,
            critical_path_txs: parts.iter().map(|p| p.critical_path_txs).max().unwrap_or(0),
            nearest_distance_median: 0.0,
            nearest_distance_mean: 0.0,
            nearest_distance_p90: 0.0,
            adjacent_fraction: 0.0,
            edge_distance_mean: 0.0,
            edges_by_kind,
            max_dependents: parts.iter().map(|p| p.max_dependents).max().unwrap_or(0),
            mean_cost_ns: ratio(total as f64, txs as f64),
            max_cost_ns: parts.iter().map(|p| p.max_cost_ns).max().unwrap_or(0),
            nearest_distances: nearest,
            edge_distance_sum: parts.iter().map(|p| p.edge_distance_sum).sum(),
            chain_txs_sum: parts.iter().map(|p| p.chain_txs_sum).sum(),
        };
        a.fill_derived();
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::TxnCost;

    fn tx(reads: &[(u64, Option<usize>)], writes: &[u64], cost: u64) -> TxnRecord<u64> {
        TxnRecord {
            reads: reads.to_vec(),
            below: Vec::new(),
            writes: writes.to_vec(),
            base_reads: reads.iter().map(|r| r.0).collect(),
            base_writes: writes.to_vec(),
            hint: None,
            cost: TxnCost {
                exec_ns: cost,
                ..TxnCost::default()
            },
        }
    }

    #[test]
    fn critical_path_follows_the_heaviest_chain() {
        // 0 (10) -> 2 (5); 1 (30) -> 3 (1) -> 4 (1); 5 (2) alone.
        let txns = vec![
            tx(&[(0, None)], &[1], 10),
            tx(&[(9, None)], &[2], 30),
            tx(&[(1, Some(0))], &[3], 5),
            tx(&[(2, Some(1))], &[4], 1),
            tx(&[(4, Some(3)), (1, Some(0))], &[], 1),
            tx(&[(7, None)], &[], 2),
        ];
        let a = analyze("t", &txns);
        assert_eq!(a.total_cost_ns, 49);
        assert_eq!(a.critical_path_ns, 32);
        assert_eq!(a.critical_path_txs, 3);
        assert_eq!(a.longest_chain_txs, 3);
        assert_eq!(a.dependent_txs, 3);
        assert_eq!(a.edges, 4);
        // Nearest distances: 2 (2-0), 2 (3-1), 1 (4-3).
        assert_eq!(a.nearest_distances, vec![1, 2, 2]);
        assert!((a.speedup_bound - 49.0 / 32.0).abs() < 1e-12);
        assert_eq!(a.max_dependents, 2);
        let agg = Analysis::aggregate("all", &[a.clone(), a]);
        assert_eq!(agg.critical_path_ns, 64);
        assert_eq!(agg.txs, 12);
        assert!((agg.speedup_bound - 49.0 / 32.0).abs() < 1e-12);
    }

    /// A DAG scheduled by hand on two workers (costs in brackets):
    /// 0 [4] -> 2 [3] -> 4 [2]; 1 [1] -> 3 [5]; 5 [2] independent.
    /// t=0: workers take 0 and 1 (the lowest ready). t=1: 1 ends, 3 and 5 are ready; 3
    /// starts (1..6). t=4: 0 ends, 2 ready; ready {2, 5}: 2 starts (4..7). t=6: 3 ends;
    /// 5 starts (6..8). t=7: 2 ends; 4 starts (7..9). Makespan 9 for a total of 17; the
    /// critical path is 9 too (0, 2, 4), so the bound is 17/9 either way.
    #[test]
    fn two_workers_follow_the_greedy_list_schedule() {
        let txns = vec![
            tx(&[(0, None)], &[10], 4),
            tx(&[(0, None)], &[11], 1),
            tx(&[(10, Some(0))], &[12], 3),
            tx(&[(11, Some(1))], &[13], 5),
            tx(&[(12, Some(2))], &[], 2),
            tx(&[(7, None)], &[], 2),
        ];
        assert_eq!(list_schedule_makespan(&txns, 2), 9);
        assert_eq!(list_schedule_makespan(&txns, 1), 17);
        assert_eq!(list_schedule_makespan(&txns, 8), 9);
        let a = analyze("t", &txns);
        assert_eq!(a.two_worker_makespan_ns, 9);
        assert!((a.two_worker_bound - 17.0 / 9.0).abs() < 1e-12);
        assert!(a.two_worker_bound <= a.speedup_bound + 1e-12);
        // Three transactions on the longest chain: 6 / 3.
        assert!((a.unweighted_bound - 2.0).abs() < 1e-12);
        // Four independent transactions of cost 1, 1, 1, 3: two workers take 0 and 1,
        // then 2 and 3 (at t=1): makespan 4, bound 6/4, below the critical-path bound 2.
        let wide = vec![
            tx(&[], &[1], 1),
            tx(&[], &[2], 1),
            tx(&[], &[3], 1),
            tx(&[], &[4], 3),
        ];
        let w = analyze("wide", &wide);
        assert_eq!(w.two_worker_makespan_ns, 4);
        assert!((w.two_worker_bound - 1.5).abs() < 1e-12);
        assert!((w.speedup_bound - 2.0).abs() < 1e-12);
        let agg = Analysis::aggregate("both", &[a, w]);
        assert_eq!(agg.two_worker_makespan_ns, 13);
        assert!((agg.two_worker_bound - 23.0 / 13.0).abs() < 1e-12);
        // 10 transactions over chains of 3 and 1.
        assert!((agg.unweighted_bound - 10.0 / 4.0).abs() < 1e-12);
    }

    #[test]
    fn independent_block_is_bounded_by_its_largest_transaction() {
        let txns = vec![tx(&[], &[1], 5), tx(&[], &[2], 7), tx(&[], &[3], 3)];
        let a = analyze("t", &txns);
        assert_eq!(a.critical_path_ns, 7);
        assert_eq!(a.dependent_txs, 0);
        assert_eq!(a.longest_chain_txs, 1);
        let empty: Vec<TxnRecord<u64>> = Vec::new();
        let e = analyze("empty", &empty);
        assert_eq!((e.txs, e.critical_path_ns, e.speedup_bound), (0, 0, 1.0));
    }
}
