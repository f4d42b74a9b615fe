//! What a strategy reports about its work, beside the output.

use std::time::Duration;

use serde::Serialize;

use crate::error::Invariant;

/// Counters and phase times of one block execution. Fields a strategy has no use for stay 0.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Metrics {
    /// Executions of transactions: first runs and re-executions.
    pub executions: u64,
    /// Read-set validations.
    pub validations: u64,
    /// Executions found stale (failed validation) and thrown away.
    pub aborts: u64,
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
    /// Wall time per phase, in the order run (e.g. "execute", "validate", "assemble").
    pub phases: Vec<(&'static str, Duration)>,
}

impl Metrics {
    pub fn phase(&mut self, name: &'static str, time: Duration) {
        self.phases.push((name, time));
    }
}
