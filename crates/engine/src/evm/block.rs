//! What a block is to stmlab: its environment, spec, chain id and ordered transactions,
//! plus (for real blocks) the header fields the replay is checked against.

use alloy_eips::eip4895::Withdrawal;
use alloy_primitives::{Address, Bloom, B256};
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
    /// What the block does around its transactions (system calls, withdrawals, mining
    /// rewards); the default, for generated blocks, is none of it.
    pub level: BlockLevel,
}

/// The block-level facts the steps around the transactions need
/// (`evm::block_level`). `Default` means "none of these": no system call, no withdrawal,
/// no uncle, so a generated block runs its transactions alone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockLevel {
    /// The parent block's hash: the EIP-2935 call's data (from Prague).
    pub parent_hash: Option<B256>,
    /// The parent beacon block root: the EIP-4788 call's data (from Cancun).
    pub parent_beacon_block_root: Option<B256>,
    /// The withdrawals credited after the transactions (EIP-4895, from Shanghai).
    pub withdrawals: Vec<Withdrawal>,
    /// The block's uncles, for the mining rewards before Paris.
    pub uncles: Uncles,
}

/// A block's uncles: how many the block names (its `uncles` hashes) and, when known,
/// their headers' reward-relevant fields (the RPC block format does not carry them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Uncles {
    /// How many uncles the block has.
    pub count: usize,
    /// Their headers, when given (`uncles.json`); `None` when unknown.
    pub headers: Option<Vec<UncleHeader>>,
}

/// What the mining reward of an uncle depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UncleHeader {
    pub number: u64,
    pub miner: Address,
}

/// The header fields a replay must reproduce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderFields {
    pub gas_used: u64,
    pub logs_bloom: Bloom,
    /// Checked from Byzantium on; before it receipts carry an intermediate state root.
    pub receipts_root: B256,
    /// The EIP-7685 requests hash (from Prague), when the header has one.
    pub requests_hash: Option<B256>,
}

impl Block {
    /// A block of no transactions under `spec`: the default environment, chain id 1, no
    /// header and no block-level facts (what unit tests build on).
    pub fn empty(spec: SpecId) -> Self {
        Block {
            label: "empty".into(),
            env: BlockEnv::default(),
            spec,
            chain_id: 1,
            txs: Vec::new(),
            header: None,
            level: BlockLevel::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.txs.len()
    }
    pub fn is_empty(&self) -> bool {
        self.txs.is_empty()
    }
}
