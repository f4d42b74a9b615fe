//! What a command runs on: block folders or a generated workload, loaded before timing.

use std::path::Path;

use stmlab::evm::block::Block;
use stmlab::evm::mainnet::{find_block_dirs, load_block_dir};
use stmlab::evm::state::InMemoryState;
use stmlab_workloads as workloads;

pub struct Input {
    pub label: String,
    pub block: Block,
    pub state: InMemoryState,
}

/// Every block under `path` (a block folder or a folder of them).
pub fn from_blocks(path: &Path) -> Result<Vec<Input>, String> {
    let dirs = find_block_dirs(path).map_err(|e| e.to_string())?;
    dirs.iter()
        .map(|dir| {
            let (block, state) = load_block_dir(dir).map_err(|e| e.to_string())?;
            Ok(Input {
                label: block.label.clone(),
                block,
                state,
            })
        })
        .collect()
}

pub fn from_workload(spec: &str) -> Result<Input, String> {
    let (block, state) = workloads::from_spec(spec).map_err(|e| e.to_string())?;
    Ok(Input {
        label: spec.to_string(),
        block,
        state,
    })
}
