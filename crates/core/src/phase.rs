//! The phases a block execution is timed in (`Metrics::phases`), named once: strategies,
//! the engine, the simulator's model and its calibration all use these, so a phase
//! cannot be misspelt on one side and silently count zero on the other.

use serde::Serialize;

/// One timed phase of a block's execution. Serialized (and displayed) as its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Phase {
    /// Block-STM: building the run's shared structures.
    #[serde(rename = "setup")]
    Setup,
    /// Executing transactions: sequential's whole run, the first round of `sv` and `dag`.
    #[serde(rename = "execute")]
    Execute,
    /// `sv`: the pass in block order (validation, re-executions, commits).
    #[serde(rename = "validate")]
    Validate,
    /// Block-STM: the workers' loop of executions and validations.
    #[serde(rename = "execute+validate")]
    ExecuteValidate,
    /// `dag`: the dependency graph from round 1's read and write sets.
    #[serde(rename = "graph")]
    Graph,
    /// `dag`: the commit loop.
    #[serde(rename = "commit")]
    Commit,
    /// `dag`: the repair pass in block order.
    #[serde(rename = "repair")]
    Repair,
    /// Block-STM: taking every transaction's last recorded execution.
    #[serde(rename = "collect")]
    Collect,
    /// Freeing the multi-version memory.
    #[serde(rename = "free memory")]
    FreeMemory,
    /// Building the block's output (receipts, state changes) from the write sets.
    #[serde(rename = "assemble")]
    Assemble,
}

impl Phase {
    /// The phase's name, as results files and tables show it.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Setup => "setup",
            Phase::Execute => "execute",
            Phase::Validate => "validate",
            Phase::ExecuteValidate => "execute+validate",
            Phase::Graph => "graph",
            Phase::Commit => "commit",
            Phase::Repair => "repair",
            Phase::Collect => "collect",
            Phase::FreeMemory => "free memory",
            Phase::Assemble => "assemble",
        }
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phase_serializes_as_its_name() {
        for p in [
            Phase::Setup,
            Phase::Execute,
            Phase::Validate,
            Phase::ExecuteValidate,
            Phase::Graph,
            Phase::Commit,
            Phase::Repair,
            Phase::Collect,
            Phase::FreeMemory,
            Phase::Assemble,
        ] {
            assert_eq!(
                serde_json::to_string(&p).unwrap(),
                format!("\"{}\"", p.name())
            );
        }
    }
}
