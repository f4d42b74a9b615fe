//! What a strategy reports about its work, beside the output, and the one median every
//! measurement of the workspace is summarised by.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::error::Invariant;
use crate::phase::Phase;

/// Counters and phase times of one block execution. Fields a strategy has no use for stay 0.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Metrics {
    /// Executions of transactions: first runs and re-executions.
    pub executions: u64,
    /// Read-set validations.
    pub validations: u64,
    /// Executions found stale (failed validation) and thrown away.
    pub aborts: u64,
    /// The failed validations of `aborts`, by the kind of the first stale read's key
    /// (`Key::kind`; "delta" for a read below a bound). Counted on the failure path only.
    pub aborts_by_kind: BTreeMap<&'static str, u64>,
    /// Executions stopped at an ESTIMATE, waiting for a dependency (Block-STM).
    pub suspensions: u64,
    /// Sequential validation: rounds of execution (the parallel first round, then one per
    /// stale transaction re-executed against the updated state).
    pub rounds: u64,
    /// DAG validation: dependency edges found.
    pub dependency_edges: u64,
    /// DAG validation: the longest chain of dependencies, in transactions.
    pub longest_chain: u64,
    /// DAG validation: the most re-executions a single commit released (the dependents
    /// whose last uncommitted dependency it was).
    pub max_released: u64,
    /// DAG validation: transactions the final repair pass found stale and executed again
    /// (a dependency the graph missed).
    pub repairs: u64,
    /// Set when the executor gave up on the parallel path (an engine invariant broke) and
    /// ran the block sequentially instead; holds what broke (serialized as its message).
    pub fell_back: Option<Invariant>,
    /// Set when the engine, in adaptive mode, ran the block sequentially instead of with
    /// the strategy asked for, because nothing was to be gained (`crate::adaptive`: too
    /// few transactions, one sender's chain, cheap ones by the header or a timed probe);
    /// holds the reason.
    pub chose_sequential: Option<std::borrow::Cow<'static, str>>,
    /// Wall time per phase, in the order run.
    pub phases: Vec<(Phase, Duration)>,
}

impl Metrics {
    pub fn phase(&mut self, phase: Phase, time: Duration) {
        self.phases.push((phase, time));
    }

    /// Counts one failed validation under `kind` (in `aborts_by_kind` only; `aborts` is
    /// the caller's).
    pub fn count_abort_kind(&mut self, kind: &'static str) {
        *self.aborts_by_kind.entry(kind).or_default() += 1;
    }
}

/// The median of some measurements: the middle one after sorting them in place, the
/// upper of the two middle ones for an even count (always one of the measurements, never
/// an average of two), and 0 for none.
///
/// The workspace's one median: the simulator's recording, `stmlab run`, `sweep`, the
/// goals and `simulate --check` all summarise their repeated runs with it.
pub fn median(values: &mut [u64]) -> u64 {
    values.sort_unstable();
    values.get(values.len() / 2).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_is_the_middle_or_upper_middle_measurement() {
        assert_eq!(median(&mut []), 0);
        assert_eq!(median(&mut [7]), 7);
        assert_eq!(median(&mut [9, 1, 5]), 5);
        // Even counts: the upper middle one, not the mean of 3 and 8.
        assert_eq!(median(&mut [8, 1, 3, 20]), 8);
        let mut v = [4, 2, 3];
        median(&mut v);
        assert_eq!(v, [2, 3, 4], "sorted in place");
    }
}
