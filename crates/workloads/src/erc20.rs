//! `erc20`: token transfers on the ERC-20 contract of `contracts/ERC20.sol`.
//!
//! Planned by `pairs.rs` (its knobs), like `transfers`. Every sender holds tokens;
//! transaction `i` calls `transfer(recipient, amount)`, so with `hot=0` and enough accounts
//! the transfers touch disjoint balances.

use revm::bytecode::Bytecode;
use revm::context::TxEnv;
use revm::primitives::{Address, Bytes, U256};
use revm::state::AccountInfo;

use super::common::{
    address_word, block, call_data, contract, eoa, initial_balance, mapping_slot, runtime_code, tx,
    Rng,
};
use super::pairs::{Plan, Transfer};
use super::spec::{SpecError, WorkloadSpec};
use stmlab::evm::block::Block;
use stmlab::evm::state::InMemoryState;

/// Runtime bytecode of `contracts/ERC20.sol`, built by `contracts/build.sh`.
const ERC20_RUNTIME: &str = include_str!("../../../contracts/out/ERC20.runtime.hex");
/// `transfer(address,uint256)`.
const TRANSFER: [u8; 4] = [0xa9, 0x05, 0x9c, 0xbb];
/// `transferFrom(address,address,uint256)`.
pub const TRANSFER_FROM: [u8; 4] = [0x23, 0xb8, 0x72, 0xdd];
/// Gas limit of a generated token transfer (it uses about 51,000 at most).
pub const TRANSFER_GAS: u64 = 100_000;

pub fn erc20_code() -> Bytecode {
    runtime_code(ERC20_RUNTIME)
}

/// Storage slot of `balanceOf[holder]` (mapping at slot 0).
pub fn balance_slot(holder: Address) -> U256 {
    mapping_slot(holder, U256::ZERO)
}

/// Storage slot of `allowance[owner][spender]` (nested mapping at slot 1).
pub fn allowance_slot(owner: Address, spender: Address) -> U256 {
    mapping_slot(spender, mapping_slot(owner, U256::from(1)))
}

/// Calldata of `transfer(to, amount)`.
pub fn transfer_call(to: Address, amount: U256) -> Bytes {
    call_data(TRANSFER, &[address_word(to), amount])
}

/// Deploys a token at `address` holding `supply_each` for each of `holders`.
pub fn deploy_token(
    state: &mut InMemoryState,
    address: Address,
    holders: impl IntoIterator<Item = Address>,
    supply_each: U256,
) {
    deploy_token_with(
        state,
        address,
        holders.into_iter().map(|h| (h, supply_each)),
        [],
    );
}

/// Deploys a token at `address` with the given `(holder, balance)` entries (a holder
/// listed twice gets the sum) and `(owner, spender, allowance)` entries; `totalSupply`
/// is the sum of the balances.
pub fn deploy_token_with(
    state: &mut InMemoryState,
    address: Address,
    balances: impl IntoIterator<Item = (Address, U256)>,
    allowances: impl IntoIterator<Item = (Address, Address, U256)>,
) {
    state.insert_account(
        address,
        AccountInfo {
            code: Some(erc20_code()),
            ..AccountInfo::default()
        },
    );
    let mut total = U256::ZERO;
    for (holder, amount) in balances {
        let slot = balance_slot(holder);
        let old = state
            .storage
            .get(&address)
            .and_then(|s| s.get(&slot))
            .copied()
            .unwrap_or_default();
        state.insert_storage(address, slot, old + amount);
        total += amount;
    }
    for (owner, spender, amount) in allowances {
        state.insert_storage(address, allowance_slot(owner, spender), amount);
    }
    state.insert_storage(address, U256::from(2), total);
}

/// The token of a `transfers`-style plan: every sender of `plan` holds 10^24 units.
pub fn deploy_plan_token(state: &mut InMemoryState, token: Address, plan: &Plan) {
    deploy_token(
        state,
        token,
        (0..plan.senders).map(eoa),
        U256::from(10u64).pow(U256::from(24u64)),
    );
}

/// The planned transfer `t` as a `token.transfer(recipient, amount)` transaction, with an
/// amount drawn from `rng`.
pub fn transfer_tx(token: Address, t: &Transfer, rng: &mut Rng) -> TxEnv {
    let amount = U256::from(1 + rng.below(1_000_000));
    let data = transfer_call(eoa(t.recipient), amount);
    tx(
        eoa(t.sender),
        token,
        U256::ZERO,
        data,
        t.nonce,
        TRANSFER_GAS,
    )
}

pub fn generate(spec: &WorkloadSpec) -> Result<(Block, InMemoryState), SpecError> {
    let mut plan = Plan::from_spec(spec)?;
    let token = contract(0);
    let mut state = InMemoryState::default();
    // Only senders pay gas; recipients need not exist as accounts.
    for i in 0..plan.senders {
        state.insert_account(eoa(i), AccountInfo::from_balance(initial_balance()));
    }
    deploy_plan_token(&mut state, token, &plan);
    let list = plan
        .transfers
        .iter()
        .map(|t| transfer_tx(token, t, &mut plan.rng))
        .collect();
    let (txs, accounts, hot) = (plan.txs, plan.accounts, plan.hot);
    let senders = plan
        .hot_senders
        .map_or(String::new(), |n| format!(",senders={n}"));
    Ok((
        block(
            format!("erc20:txs={txs},accounts={accounts},hot={hot}{senders}"),
            list,
        ),
        state,
    ))
}
