//! System calls: a call from SYSTEM_ADDRESS into a system contract, with 30,000,000 gas
//! and no fee, made by the node around the block's transactions: EIP-4788 (the parent
//! beacon block root) and EIP-2935 (the parent hash) before them, EIP-7002 and EIP-7251
//! (dequeueing the block's requests) after them.

use alloy_eips::eip2935::HISTORY_STORAGE_ADDRESS;
use alloy_eips::eip4788::{BEACON_ROOTS_ADDRESS, SYSTEM_ADDRESS};
use revm::context::result::{EVMError, ExecutionResult};
use revm::context::TxEnv;
use revm::database::CacheDB;
use revm::handler::{EthFrame, Handler, MainnetContext, MainnetHandler};
use revm::interpreter::interpreter::EthInterpreter;
use revm::primitives::hardfork::SpecId;
use revm::primitives::{Address, Bytes, TxKind};
use revm::{DatabaseRef, ExecuteEvm, MainBuilder};

use crate::error::{ExecuteError, InvalidBlock};
use crate::evm::assemble::FinalState;
use crate::evm::block::Block;
use crate::evm::executor::cfg_env;
use crate::evm::output::StateChanges;
use crate::evm::writes::write_set;

/// The gas a system call runs with.
pub const SYSTEM_CALL_GAS: u64 = 30_000_000;

/// What a system call returned and the state changes it made (relative to the state it
/// ran on); `None` when an unchecked call made none (no code, or it failed).
pub type CallOutcome = Option<(Bytes, StateChanges)>;

/// How a system call's failure counts (execution-specs, Prague): the EIP-7002 and
/// EIP-7251 calls are *checked* (`process_checked_system_transaction`: a contract without
/// code, or a call that reverts or halts, makes the block invalid); the EIP-4788 and
/// EIP-2935 calls are *unchecked* (skipped without code; a revert or halt is ignored,
/// its state rolled back, and the block goes on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checked {
    Yes,
    No,
}

/// Calls `contract` with `data` from SYSTEM_ADDRESS on `view`. SYSTEM_ADDRESS and the
/// beneficiary, which the call touches, are left out of its changes unless the call
/// changed them (their balance, nonce, code or storage): a touch must not delete them.
pub fn system_call<V: DatabaseRef>(
    block: &Block,
    view: &V,
    contract: Address,
    data: Bytes,
    checked: Checked,
) -> Result<CallOutcome, ExecuteError<V::Error>> {
    let state_error = |error| ExecuteError::State { txn: None, error };
    let has_code = view
        .basic_ref(contract)
        .map_err(state_error)?
        .is_some_and(|info| !info.is_empty_code_hash());
    let failed = |reason: String| InvalidBlock::SystemCall { contract, reason };
    if !has_code {
        return match checked {
            Checked::No => Ok(None),
            Checked::Yes => Err(failed("the system contract has no code".into()).into()),
        };
    }
    let mut evm = MainnetContext::new(CacheDB::new(view), block.spec)
        .with_block(block.env.clone())
        .with_cfg(cfg_env(block))
        .build_mainnet();
    evm.ctx.tx = TxEnv {
        caller: SYSTEM_ADDRESS,
        kind: TxKind::Call(contract),
        data,
        gas_limit: SYSTEM_CALL_GAS,
        ..TxEnv::default()
    };
    let result = MainnetHandler::<_, EVMError<V::Error>, EthFrame<EthInterpreter>>::default()
        .run_system_call(&mut evm);
    let output = match result {
        Ok(ExecutionResult::Success { output, .. }) => output.into_data(),
        // An unchecked call's failure changes nothing.
        Ok(ExecutionResult::Revert { .. } | ExecutionResult::Halt { .. })
            if checked == Checked::No =>
        {
            return Ok(None)
        }
        Ok(ExecutionResult::Revert { output, .. }) => {
            return Err(failed(format!("reverted with {output}")).into())
        }
        Ok(ExecutionResult::Halt { reason, .. }) => {
            return Err(failed(format!("halted: {reason:?}")).into())
        }
        Err(EVMError::Database(error)) => return Err(state_error(error)),
        Err(other) => return Err(failed(other.to_string()).into()),
    };
    let mut state = evm.finalize();
    for bystander in [SYSTEM_ADDRESS, block.env.beneficiary] {
        if bystander == contract {
            continue;
        }
        let Some(account) = state.get(&bystander) else {
            continue;
        };
        let before = view.basic_ref(bystander).map_err(state_error)?;
        let same_info = before.as_ref().is_some_and(|b| {
            (b.balance, b.nonce, b.code_hash)
                == (
                    account.info.balance,
                    account.info.nonce,
                    account.info.code_hash,
                )
        }) || (before.is_none() && account.info.is_empty());
        let storage_changed = account.storage.values().any(|s| s.is_changed());
        if same_info && !storage_changed && !account.is_selfdestructed() {
            state.remove(&bystander);
        }
    }
    let mut final_state = FinalState::default();
    final_state.apply(0, write_set(0, &state, |_| None, None))?;
    let changes = final_state
        .changes(view, block.env.beneficiary, block.spec)
        .map_err(state_error)?;
    Ok(Some((output, changes)))
}

/// The EIP-4788 call's data (the parent beacon block root), when the block makes it:
/// from Cancun, when the header has the root.
pub fn beacon_root_call(block: &Block) -> Option<(Address, Bytes)> {
    let root = block.level.parent_beacon_block_root?;
    block.spec.is_enabled_in(SpecId::CANCUN).then(|| {
        (
            BEACON_ROOTS_ADDRESS,
            Bytes::copy_from_slice(root.as_slice()),
        )
    })
}

/// The EIP-2935 call's data (the parent hash), when the block makes it: from Prague,
/// when the parent hash is known.
pub fn history_call(block: &Block) -> Option<(Address, Bytes)> {
    let parent = block.level.parent_hash?;
    block.spec.is_enabled_in(SpecId::PRAGUE).then(|| {
        (
            HISTORY_STORAGE_ADDRESS,
            Bytes::copy_from_slice(parent.as_slice()),
        )
    })
}
