//! A block's output in the types the rest of a Rust Ethereum client uses, so that a node
//! can persist it: receipts as alloy's [`ReceiptEnvelope`](alloy_consensus::ReceiptEnvelope)
//! (`receipts.rs`), state changes as revm's per-transaction [`EvmState`](revm::state::EvmState)
//! and its [`BundleState`](revm::database::BundleState), with reverts and the code of the
//! contracts the block created (`state.rs`).
//!
//! Our own output ([`BlockOutput`](super::output::BlockOutput)) stays the canonical form the
//! strategies are compared in; these are views of it, built after the block, outside any
//! timed phase.

mod receipts;
mod state;

pub use receipts::{alloy_receipt, alloy_receipts};
pub use state::{bundle_state, evm_state, StateConvertError};

use revm::primitives::hardfork::SpecId;

/// Why a block's output has no form of the asked type.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    /// A receipt of a transaction type alloy does not know (EIP-2718 types 0 to 4).
    #[error("transaction {txn}: unknown transaction type {tx_type}")]
    UnknownTxType { txn: usize, tx_type: u8 },
    /// Before Byzantium a receipt holds the intermediate state root after its
    /// transaction, which the engine does not compute.
    #[error("receipts before Byzantium carry an intermediate state root, which stmlab does not compute (block runs under {spec:?})")]
    PreByzantiumReceipts { spec: SpecId },
    /// Before Spurious Dragon an empty account is an account; revm's bundle treats every
    /// empty account as removed (EIP-161), so it cannot say what such a block left.
    #[error("revm's bundle state removes empty accounts (EIP-161), so it cannot hold a block before Spurious Dragon (block runs under {spec:?})")]
    PreSpuriousDragonState { spec: SpecId },
}
