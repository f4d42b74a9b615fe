//! Generated workloads, deterministic from a seed, with knobs for size and contention.
pub mod amm;
pub mod chain;
pub mod common;
pub mod compute;
pub mod erc20;
pub mod mixed;
pub mod pairs;
pub mod spec;
pub mod transfers;

pub use spec::{SpecError, WorkloadSpec};

use crate::evm::block::Block;
use crate::evm::state::InMemoryState;

/// Builds the block and pre-state a spec describes.
pub fn generate(spec: &WorkloadSpec) -> Result<(Block, InMemoryState), SpecError> {
    match spec.name.as_str() {
        "transfers" => transfers::generate(spec),
        "erc20" => erc20::generate(spec),
        "chain" => chain::generate(spec),
        "amm" => amm::generate(spec),
        "compute" => compute::generate(spec),
        "mixed" => mixed::generate(spec),
        other => Err(SpecError::UnknownWorkload(other.into())),
    }
}

/// Parses and builds in one step.
pub fn from_spec(text: &str) -> Result<(Block, InMemoryState), SpecError> {
    generate(&WorkloadSpec::parse(text)?)
}
