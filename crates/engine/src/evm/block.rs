//! What a block is to stmlab: its environment, spec, chain id and ordered transactions,
//! plus (for real blocks) the header fields the replay is checked against.

use alloy_primitives::{Bloom, B256};
use revm::context::{BlockEnv, TxEnv};
use revm::primitives::hardfork::SpecId;

/// A block ready to execute.
#[derive(Clone, Debug)]
pub struct Block {
    /// A name for reports: the block number for real blocks, the workload spec otherwise.
    pub label: String,
    pub env: BlockEnv,
    pub spec: SpecId,
    pub chain_id: u64,
    /// The transactions in block order. `TxEnv::tx_type` is the EIP-2718 type.
    pub txs: Vec<TxEnv>,
    /// Present for blocks that came with a real header.
    pub header: Option<HeaderFields>,
}

/// The header fields a replay must reproduce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderFields {
    pub gas_used: u64,
    pub logs_bloom: Bloom,
    /// Checked from Byzantium on; before it receipts carry an intermediate state root.
    pub receipts_root: B256,
}

impl Block {
    pub fn len(&self) -> usize {
        self.txs.len()
    }
    pub fn is_empty(&self) -> bool {
        self.txs.is_empty()
    }
}
