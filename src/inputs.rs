//! What a command runs on: block folders (the bundled mainnet blocks unless told
//! otherwise) or a generated workload, loaded before timing, and the thread counts given
//! on the command line.

use std::path::{Path, PathBuf};

use stmlab::evm::block::Block;
use stmlab::evm::mainnet::{find_block_dirs, load_block_dir};
use stmlab::evm::state::InMemoryState;
use stmlab_workloads as workloads;

/// One block and its pre-state, named as the command line named it.
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

/// Where the bundled mainnet blocks are, relative to the project root.
pub const BUNDLED_BLOCKS: &str = "data/mainnet";

/// The folder of the bundled mainnet blocks.
pub fn bundled_blocks() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(BUNDLED_BLOCKS)
}

/// A `--threads` value: one number or a comma-separated list, each a valid thread count.
pub fn parse_threads(text: &str) -> Result<Vec<usize>, String> {
    let list: Vec<usize> = text
        .split(',')
        .map(|t| {
            t.trim()
                .parse::<usize>()
                .map_err(|_| format!("--threads: {t:?} is not a whole number"))
        })
        .collect::<Result<_, _>>()?;
    for &t in &list {
        stmlab::core::pool::check_threads(t).map_err(|e| format!("--threads: {e}"))?;
    }
    Ok(list)
}
