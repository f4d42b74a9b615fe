//! `erc20`: token transfers on the ERC-20 contract of `contracts/ERC20.sol`.
//!
//! Planned by `pairs.rs` (its knobs), like `transfers`. Every sender holds tokens;
//! transaction `i` calls `transfer(recipient, amount)`, so with `hot=0` and enough accounts
//! the transfers touch disjoint balances.

use revm::bytecode::Bytecode;
use revm::primitives::{keccak256, Address, Bytes, U256};
use revm::state::AccountInfo;

use super::common::{block, contract, eoa, initial_balance, tx};
use super::pairs::Plan;
use super::spec::{SpecError, WorkloadSpec};
use crate::evm::block::Block;
use crate::evm::state::InMemoryState;

/// Runtime bytecode of `contracts/ERC20.sol`, built by `contracts/build.sh`.
const ERC20_RUNTIME: &str = include_str!("../../contracts/out/ERC20.runtime.hex");
/// `transfer(address,uint256)`.
const TRANSFER: [u8; 4] = [0xa9, 0x05, 0x9c, 0xbb];
/// `transferFrom(address,address,uint256)`.
pub const TRANSFER_FROM: [u8; 4] = [0x23, 0xb8, 0x72, 0xdd];

pub fn erc20_code() -> Bytecode {
    let bytes = alloy_primitives::hex::decode(ERC20_RUNTIME.trim())
        .expect("contracts/out/ERC20.runtime.hex is hex (checked by a test)");
    Bytecode::new_raw(Bytes::from(bytes))
}

/// Storage slot of `balanceOf[holder]` (mapping at slot 0).
pub fn balance_slot(holder: Address) -> U256 {
    mapping_slot(holder, U256::ZERO)
}

/// Storage slot of `allowance[owner][spender]` (nested mapping at slot 1).
pub fn allowance_slot(owner: Address, spender: Address) -> U256 {
    let inner = mapping_slot(owner, U256::from(1));
    let mut buf = [0u8; 64];
    buf[12..32].copy_from_slice(spender.as_slice());
    buf[32..].copy_from_slice(&inner.to_be_bytes::<32>());
    U256::from_be_bytes(keccak256(buf).0)
}

fn mapping_slot(key: Address, slot: U256) -> U256 {
    let mut buf = [0u8; 64];
    buf[12..32].copy_from_slice(key.as_slice());
    buf[32..].copy_from_slice(&slot.to_be_bytes::<32>());
    U256::from_be_bytes(keccak256(buf).0)
}

/// Calldata of `transfer(to, amount)`.
pub fn transfer_call(to: Address, amount: U256) -> Bytes {
    let mut data = Vec::with_capacity(68);
    data.extend_from_slice(&TRANSFER);
    data.extend_from_slice(&[0u8; 12]);
    data.extend_from_slice(to.as_slice());
    data.extend_from_slice(&amount.to_be_bytes::<32>());
    Bytes::from(data)
}

/// Deploys a token at `address` holding `supply_each` for each of `holders`.
pub fn deploy_token(
    state: &mut InMemoryState,
    address: Address,
    holders: impl IntoIterator<Item = Address>,
    supply_each: U256,
) {
    state.insert_account(
        address,
        AccountInfo {
            code: Some(erc20_code()),
            ..AccountInfo::default()
        },
    );
    let mut total = U256::ZERO;
    for h in holders {
        state.insert_storage(address, balance_slot(h), supply_each);
        total += supply_each;
    }
    state.insert_storage(address, U256::from(2), total);
}

pub fn generate(spec: &WorkloadSpec) -> Result<(Block, InMemoryState), SpecError> {
    let mut plan = Plan::from_spec(spec)?;
    let token = contract(0);
    let mut state = InMemoryState::default();
    // Only senders pay gas; recipients need not exist as accounts.
    for i in 0..plan.senders {
        state.insert_account(eoa(i), AccountInfo::from_balance(initial_balance()));
    }
    deploy_token(
        &mut state,
        token,
        (0..plan.senders).map(eoa),
        U256::from(10u64).pow(U256::from(24u64)),
    );
    let mut list = Vec::with_capacity(plan.txs);
    for t in &plan.transfers {
        let amount = U256::from(1 + plan.rng.below(1_000_000));
        let data = transfer_call(eoa(t.recipient), amount);
        list.push(tx(eoa(t.sender), token, U256::ZERO, data, t.nonce, 100_000));
    }
    let (txs, accounts, hot) = (plan.txs, plan.accounts, plan.hot);
    Ok((
        block(
            format!("erc20:txs={txs},accounts={accounts},hot={hot}"),
            list,
        ),
        state,
    ))
}
