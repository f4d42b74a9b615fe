//! The block around its transactions: what a node does besides running them.
//!
//! Before the transactions, the pre-block system calls ([`pre_block`]: EIP-4788's parent
//! beacon block root, EIP-2935's parent hash), whose changes every strategy reads
//! through a [`Layered`] view of the pre-block state. After them ([`post_block`]), on
//! the pre-block state plus the transactions' changes: withdrawals (EIP-4895), the
//! mining rewards before Paris, and from Prague the block's requests (deposits from the
//! receipts, the EIP-7002 and EIP-7251 system calls). All the changes are composed into
//! one `StateChanges` relative to the original pre-block state.
//!
//! A block with no block-level facts (`BlockLevel::default()`, as generated workloads
//! have) gets none of these steps: its output is its transactions' alone, and the view
//! they read through forwards every read at the cost of one branch.

mod credit;
mod layered;
mod requests;
mod rewards;
mod system_calls;
mod withdrawals;

use alloy_eips::eip7002::{WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS, WITHDRAWAL_REQUEST_TYPE};
use alloy_eips::eip7251::{CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS, CONSOLIDATION_REQUEST_TYPE};
use revm::primitives::hardfork::SpecId;
use revm::primitives::{Address, Bytes, U256};
use revm::DatabaseRef;

pub use credit::credit;
pub use layered::{compose, Layered};
pub use requests::{block_requests, deposit_requests, DEPOSIT_CONTRACT, DEPOSIT_EVENT_TOPIC};
pub use rewards::{block_reward, mining_rewards, Rewards};
pub use system_calls::{beacon_root_call, history_call, system_call, Checked, SYSTEM_CALL_GAS};
pub use withdrawals::withdrawal_credits;

use super::block::{Block, BlockLevel};
use super::output::{BlockOutput, StateChanges};
use crate::error::ExecuteError;

/// Whether `block` has any block-level step (a block without block-level facts has
/// none).
pub fn has_steps(block: &Block) -> bool {
    block.level != BlockLevel::default()
}

/// The changes of the pre-block system calls on `pre` (empty when the block makes none).
pub fn pre_block<P: DatabaseRef>(
    block: &Block,
    pre: &P,
) -> Result<StateChanges, ExecuteError<P::Error>> {
    let mut changes = StateChanges::default();
    if !has_steps(block) {
        return Ok(changes);
    }
    for (contract, data) in [beacon_root_call(block), history_call(block)]
        .into_iter()
        .flatten()
    {
        let call = system_call(
            block,
            &Layered::new(pre, &changes),
            contract,
            data,
            Checked::No,
        )?;
        if let Some((_, made)) = call {
            changes = compose(pre, changes, made, block.spec).map_err(state_error)?;
        }
    }
    Ok(changes)
}

/// The whole block's output from its transactions' (`txs`, made on `pre` with
/// `pre_block` applied): the post-block steps run, and every change is composed relative
/// to `pre`.
pub fn post_block<P: DatabaseRef>(
    block: &Block,
    pre: &P,
    pre_block: StateChanges,
    mut txs: BlockOutput,
) -> Result<BlockOutput, ExecuteError<P::Error>> {
    if !has_steps(block) {
        return Ok(txs);
    }
    let spec = block.spec;
    let mut changes =
        compose(pre, pre_block, std::mem::take(&mut txs.state), spec).map_err(state_error)?;
    let apply_credits =
        |changes: StateChanges, credits: Vec<(Address, U256)>| -> Result<_, P::Error> {
            if credits.is_empty() {
                return Ok(changes);
            }
            let made = credit(&Layered::new(pre, &changes), credits, spec)?;
            compose(pre, changes, made, spec)
        };
    changes = apply_credits(changes, withdrawal_credits(block)).map_err(state_error)?;
    let rewards = mining_rewards(block);
    txs.missing_uncle_rewards = rewards.missing_uncles;
    changes = apply_credits(changes, rewards.credits).map_err(state_error)?;
    if spec.is_enabled_in(SpecId::PRAGUE) {
        let deposits = deposit_requests(&txs.txs)?;
        let mut typed = Vec::new();
        for (request_type, contract) in [
            (
                WITHDRAWAL_REQUEST_TYPE,
                WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS,
            ),
            (
                CONSOLIDATION_REQUEST_TYPE,
                CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS,
            ),
        ] {
            let call = system_call(
                block,
                &Layered::new(pre, &changes),
                contract,
                Bytes::new(),
                Checked::Yes,
            )?;
            if let Some((output, made)) = call {
                changes = compose(pre, changes, made, spec).map_err(state_error)?;
                typed.push((request_type, output));
            }
        }
        txs.requests = Some(block_requests(deposits, typed));
    }
    txs.state = changes;
    Ok(txs)
}

fn state_error<E>(error: E) -> ExecuteError<E> {
    ExecuteError::State { txn: None, error }
}

#[cfg(test)]
mod tests;
