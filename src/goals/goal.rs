//! The goals themselves: a goal (a bound a measured ratio is held against), every goal of
//! the table with its input and thread count, and how the goals run the engine.

use serde::{Deserialize, Serialize};
use stmlab::Options;

/// The goals measure the engine as a node runs it: in adaptive mode, where a block with
/// nothing to gain runs sequentially (and the metrics say so).
pub const ADAPTIVE: Options = Options::ADAPTIVE;
/// And beside it, Block-STM forced, so the table shows what it does itself.
pub const RAW: Options = Options::RAW;

/// Where the result goes unless `--out` says otherwise.
pub const GOALS_OUT: &str = "results/goals.json";
/// Runs per point unless `--repeat` says otherwise.
pub const GOALS_REPEAT: usize = 15;
/// The thread count of the mainnet rows and of the peak-memory row.
pub const GOALS_THREADS: usize = 2;

/// How a measured value is held against its goal.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Cmp {
    #[serde(rename = ">=")]
    AtLeast,
    #[serde(rename = "<=")]
    AtMost,
}

/// A bound on a measured ratio.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Goal {
    pub cmp: Cmp,
    pub value: f64,
}

const fn at_least(value: f64) -> Goal {
    Goal {
        cmp: Cmp::AtLeast,
        value,
    }
}

const fn at_most(value: f64) -> Goal {
    Goal {
        cmp: Cmp::AtMost,
        value,
    }
}

impl Goal {
    /// Whether `measured` meets the goal (compared unrounded).
    pub fn met(&self, measured: f64) -> bool {
        match self.cmp {
            Cmp::AtLeast => measured >= self.value,
            Cmp::AtMost => measured <= self.value,
        }
    }

    /// `≥ 1.4×`, `≤ 1.05×`.
    pub fn text(&self) -> String {
        let op = match self.cmp {
            Cmp::AtLeast => "≥",
            Cmp::AtMost => "≤",
        };
        format!("{op} {}×", self.value)
    }
}

/// A goal on one generated workload.
pub struct WorkloadGoal {
    pub id: &'static str,
    pub work: &'static str,
    pub spec: &'static str,
    pub threads: usize,
    pub goal: Goal,
    /// Judged on the raw run (Block-STM forced): the overhead row, which adaptive mode
    /// would answer by running sequential revm and measuring nothing.
    pub judged_raw: bool,
}

const ERC20: &str = "erc20:txs=10000,accounts=100000,hot=0";

/// The mainnet totals are judged on the raw runs (Block-STM forced); the worst block on
/// the adaptive run (the library's default), which exists to keep every block near
/// sequential speed.
pub const MAINNET_TOTAL_GOAL: Goal = at_least(1.4);
pub const MAINNET_TOTAL_1_THREAD_GOAL: Goal = at_least(0.95);
pub const MAINNET_WORST_GOAL: Goal = at_least(0.95);
/// On the input and thread count of the first of [`WORKLOAD_GOALS`].
/// Measured on the raw run (Block-STM forced).
pub const PEAK_MEMORY_GOAL: Goal = at_most(1.5);
/// Callgrind's instructions of Block-STM at 1 thread over sequential's, on both inputs of
/// [`INSTRUCTION_INPUTS`] (the larger ratio is judged).
pub const INSTRUCTIONS_GOAL: Goal = at_most(1.08);
/// Our sequential reference (revm plus the canonical output) over revm's bare
/// transact-and-commit loop: what the canonical output costs.
pub const BASELINE_GOAL: Goal = at_most(1.05);

/// The workload rows, in table order; the first one's run also measures peak memory.
/// Every one is judged raw: the goals are the strategy's own speed.
pub const WORKLOAD_GOALS: &[WorkloadGoal] = &[
    WorkloadGoal {
        id: "erc20",
        work: "independent ERC-20",
        spec: ERC20,
        threads: GOALS_THREADS,
        goal: at_least(1.8),
        judged_raw: true,
    },
    WorkloadGoal {
        id: "erc20-1-thread",
        work: "independent ERC-20, 1 thread",
        spec: ERC20,
        threads: 1,
        goal: at_least(0.95),
        judged_raw: true,
    },
    WorkloadGoal {
        id: "transfers",
        work: "independent ETH transfers",
        spec: "transfers:txs=10000,accounts=100000,hot=0",
        threads: GOALS_THREADS,
        goal: at_least(1.5),
        judged_raw: true,
    },
    WorkloadGoal {
        id: "amm",
        work: "independent AMM swaps",
        spec: "amm:txs=5000,pools=5000",
        threads: GOALS_THREADS,
        goal: at_least(1.9),
        judged_raw: true,
    },
    WorkloadGoal {
        id: "chain",
        work: "dependency chain",
        spec: "chain:txs=2000",
        threads: GOALS_THREADS,
        goal: at_least(0.9),
        judged_raw: true,
    },
];

/// The inputs of the instruction-count row (as `stmlab exec` takes them), relative to
/// the project root for the block.
pub const INSTRUCTION_INPUTS: &[(&str, &str)] = &[
    ("--workload", "erc20:txs=2000,accounts=20000,hot=0"),
    ("--block", "data/mainnet/13217637"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goals_compare_both_ways_inclusively() {
        assert!(at_least(1.5).met(1.5));
        assert!(at_least(1.5).met(1.51));
        assert!(!at_least(1.5).met(1.499));
        assert!(at_most(1.5).met(1.5));
        assert!(at_most(1.5).met(0.7));
        assert!(!at_most(1.5).met(1.501));
    }
}
