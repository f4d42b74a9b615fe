//! Mining rewards before Paris: after the transactions, the fork's block reward to the
//! beneficiary, and per uncle `(8 + uncle.number - number) * reward / 8` to the uncle's
//! miner and `reward / 32` more to the beneficiary.

use revm::primitives::hardfork::SpecId;
use revm::primitives::{Address, U256};

use crate::evm::block::Block;

const ETHER: u128 = 1_000_000_000_000_000_000;

/// The block reward of a fork: 5 ether from Frontier, 3 from Byzantium (EIP-649), 2 from
/// Constantinople and Petersburg (EIP-1234); none from Paris on.
pub fn block_reward(spec: SpecId) -> Option<U256> {
    let ether = if spec.is_enabled_in(SpecId::MERGE) {
        return None;
    } else if spec.is_enabled_in(SpecId::PETERSBURG) {
        2
    } else if spec.is_enabled_in(SpecId::BYZANTIUM) {
        3
    } else {
        5
    };
    Some(U256::from(ether * ETHER))
}

/// The block's mining rewards.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rewards {
    /// Who is credited what.
    pub credits: Vec<(Address, U256)>,
    /// Uncles whose miner's reward is left out: the block names them but their headers
    /// are unknown (no `uncles.json`). The beneficiary's share for them is paid.
    pub missing_uncles: usize,
}

/// The mining rewards of `block` (none from Paris on).
pub fn mining_rewards(block: &Block) -> Rewards {
    let Some(reward) = block_reward(block.spec) else {
        return Rewards::default();
    };
    let uncles = &block.level.uncles;
    let number = block.env.number.saturating_to::<u64>();
    let mut beneficiary = reward;
    let mut credits = Vec::new();
    let mut missing_uncles = 0;
    match &uncles.headers {
        Some(headers) => {
            for uncle in headers {
                let depth_factor = uncle.number.saturating_add(8).saturating_sub(number);
                credits.push((
                    uncle.miner,
                    reward * U256::from(depth_factor) / U256::from(8),
                ));
                beneficiary += reward / U256::from(32);
            }
        }
        None => {
            missing_uncles = uncles.count;
            beneficiary += reward / U256::from(32) * U256::from(uncles.count);
        }
    }
    credits.insert(0, (block.env.beneficiary, beneficiary));
    Rewards {
        credits,
        missing_uncles,
    }
}
