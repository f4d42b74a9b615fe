//! Withdrawals (EIP-4895, from Shanghai): after the transactions, each withdrawal's
//! amount (in gwei) is credited to its address, with no EVM execution.

use revm::primitives::hardfork::SpecId;
use revm::primitives::{Address, U256};

use crate::evm::block::Block;

/// The credits of the block's withdrawals, in wei (none before Shanghai).
pub fn withdrawal_credits(block: &Block) -> Vec<(Address, U256)> {
    if !block.spec.is_enabled_in(SpecId::SHANGHAI) {
        return Vec::new();
    }
    block
        .level
        .withdrawals
        .iter()
        .map(|w| (w.address, w.amount_wei()))
        .collect()
}
