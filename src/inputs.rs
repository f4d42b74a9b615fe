//! What a command runs on: block folders (the bundled mainnet blocks unless told
//! otherwise) or a generated workload, loaded before timing; the `--block`/`--workload`
//! arguments that name them (one input for `run` and `exec`, groups of them for `analyze`
//! and `simulate`); and the thread counts given on the command line.

use std::path::{Path, PathBuf};

use clap::Args;

use stmlab::evm::block::Block;
use stmlab::evm::mainnet::{find_block_dirs, load_block_dir, load_post_state};
use stmlab::evm::state::InMemoryState;
use stmlab_workloads as workloads;

/// One block and its pre-state, named as the command line named it.
pub struct Input {
    pub label: String,
    pub block: Block,
    pub state: InMemoryState,
    /// The expected state after the block, from the folder's `post_state.json` (none for
    /// a workload, or a folder without one).
    pub post_state: Option<InMemoryState>,
}

/// Every block under `path` (a block folder or a folder of them).
pub fn from_blocks(path: &Path) -> Result<Vec<Input>, String> {
    let dirs = find_block_dirs(path).map_err(|e| e.to_string())?;
    dirs.iter()
        .map(|dir| {
            let (block, state) = load_block_dir(dir).map_err(|e| e.to_string())?;
            let post_state = load_post_state(dir).map_err(|e| e.to_string())?;
            // The folder's name: the block number for mainnet blocks, the test's name for
            // the spec-test blocks (all numbered 1).
            let label = dir
                .file_name()
                .map_or_else(|| block.label.clone(), |n| n.to_string_lossy().into_owned());
            Ok(Input {
                label,
                block,
                state,
                post_state,
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
        post_state: None,
    })
}

/// `--block PATH` or `--workload SPEC`, exactly one (`stmlab run`, `stmlab exec`).
#[derive(Args, Debug)]
pub struct InputArgs {
    /// A block folder, or a folder of block folders.
    #[arg(
        long,
        conflicts_with = "workload",
        required_unless_present = "workload"
    )]
    pub block: Option<PathBuf>,
    /// A workload spec, e.g. transfers:txs=10000,accounts=100000 or erc20:txs=5000,hot=0.1.
    #[arg(long)]
    pub workload: Option<String>,
}

impl InputArgs {
    /// Every block the `--block` folder holds, or the `--workload`.
    pub fn load(&self) -> Result<Vec<Input>, String> {
        match (&self.block, &self.workload) {
            (Some(path), _) => from_blocks(path),
            (None, Some(spec)) => Ok(vec![from_workload(spec)?]),
            (None, None) => Err("give --block PATH or --workload SPEC".into()),
        }
    }
}

/// Repeatable `--block PATH` and `--workload SPEC`, at least one (`stmlab analyze`,
/// `stmlab simulate`).
#[derive(Args, Debug)]
pub struct GroupArgs {
    /// A block folder, or a folder of block folders (repeatable; a folder of several
    /// blocks also gets aggregate lines: the blocks run one after the other).
    #[arg(long, required_unless_present = "workload")]
    pub block: Vec<PathBuf>,
    /// A workload spec, e.g. erc20:txs=5000,hot=0.1 (repeatable).
    #[arg(long)]
    pub workload: Vec<String>,
}

/// The inputs of one `--block` or `--workload` argument, with the label of their
/// aggregate when there are several.
pub struct Group {
    pub label: String,
    /// A name for file names: the workload spec, or the folder's name.
    pub name: String,
    pub inputs: Vec<Input>,
}

impl GroupArgs {
    /// Every `--block` folder and `--workload` spec, loaded, in the order given (blocks
    /// first).
    pub fn load(&self) -> Result<Vec<Group>, String> {
        if self.block.is_empty() && self.workload.is_empty() {
            return Err("give --block PATH or --workload SPEC".into());
        }
        let mut groups = Vec::new();
        for path in &self.block {
            let inputs = from_blocks(path)?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.display().to_string());
            groups.push(Group {
                label: format!("aggregate: {} ({} blocks)", path.display(), inputs.len()),
                name,
                inputs,
            });
        }
        for spec in &self.workload {
            groups.push(Group {
                label: spec.clone(),
                name: spec.clone(),
                inputs: vec![from_workload(spec)?],
            });
        }
        Ok(groups)
    }
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
