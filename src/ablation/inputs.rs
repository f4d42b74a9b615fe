//! What the ablation runs on: a folder of blocks as one aggregate row (the bundled
//! mainnet blocks unless told otherwise, those with transactions), and the workloads.

use super::AblationArgs;
use crate::inputs::{bundled_blocks, from_blocks, from_workload, Input};

/// The workloads of the table by default: no contention and hot recipients for ETH and
/// ERC-20 transfers, hot senders (nonce chains), and the mixed block.
pub const DEFAULT_WORKLOADS: &[&str] = &[
    "transfers:txs=10000,accounts=100000,hot=0",
    "transfers:txs=10000,accounts=100000,hot=0.3",
    "transfers:txs=10000,accounts=100000,senders=100",
    "erc20:txs=10000,accounts=100000,hot=0",
    "erc20:txs=10000,accounts=100000,hot=0.3",
    "mixed:txs=10000,accounts=100000,hot=0.3",
];

/// One row's input: a folder's blocks (run one after the other) or one workload.
pub struct Item {
    /// The folder (`mainnet` for the bundled blocks) or the workload spec.
    pub label: String,
    /// "blocks" or "workload".
    pub kind: &'static str,
    pub inputs: Vec<Input>,
}

/// The items `args` asks for: the blocks first, then the workloads in the order given.
pub fn load(args: &AblationArgs) -> Result<Vec<Item>, String> {
    let mut items = Vec::new();
    if !args.no_blocks {
        let (dir, label) = match &args.blocks {
            Some(dir) => (dir.clone(), dir.display().to_string()),
            None => (bundled_blocks(), "mainnet".to_string()),
        };
        if !dir.is_dir() {
            return Err(format!("--blocks {}: not a readable folder", dir.display()));
        }
        let mut inputs: Vec<Input> = from_blocks(&dir)
            .map_err(|e| format!("--blocks {}: {e}", dir.display()))?
            .into_iter()
            .filter(|i| !i.block.txs.is_empty())
            .collect();
        if let Some(n) = args.max_blocks {
            inputs.truncate(n);
        }
        if inputs.is_empty() {
            return Err(format!(
                "--blocks {}: no block with transactions",
                dir.display()
            ));
        }
        items.push(Item {
            label,
            kind: "blocks",
            inputs,
        });
    }
    if !args.no_workloads {
        let specs: Vec<String> = if args.workload.is_empty() {
            DEFAULT_WORKLOADS.iter().map(|s| s.to_string()).collect()
        } else {
            args.workload.clone()
        };
        for spec in specs {
            let input = from_workload(&spec).map_err(|e| format!("--workload {spec}: {e}"))?;
            items.push(Item {
                label: spec,
                kind: "workload",
                inputs: vec![input],
            });
        }
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::DEFAULT_WORKLOADS;

    /// Every default workload is a valid spec of 10,000 transactions (the hot-senders one
    /// with reused senders).
    #[test]
    fn the_default_workloads_generate() {
        for spec in DEFAULT_WORKLOADS {
            let input = crate::inputs::from_workload(spec).unwrap();
            assert_eq!(input.block.txs.len(), 10_000, "{spec}");
        }
        let hot_senders = crate::inputs::from_workload(DEFAULT_WORKLOADS[2]).unwrap();
        let senders: std::collections::HashSet<_> =
            hot_senders.block.txs.iter().map(|t| t.caller).collect();
        assert!(senders.len() <= 100, "{} senders", senders.len());
    }
}
