//! `transfers`: plain ETH transfers, planned by `pairs.rs` (its knobs). Every account
//! exists with a balance.

use revm::state::AccountInfo;

use super::common::{block, eoa, initial_balance};
use super::pairs::Plan;
use super::spec::{SpecError, WorkloadSpec};
use stmlab::evm::block::Block;
use stmlab::evm::state::InMemoryState;

pub fn generate(spec: &WorkloadSpec) -> Result<(Block, InMemoryState), SpecError> {
    let mut plan = Plan::from_spec(spec)?;
    let mut state = InMemoryState::default();
    for i in 0..plan.accounts {
        state.insert_account(eoa(i), AccountInfo::from_balance(initial_balance()));
    }
    let list = plan
        .transfers
        .iter()
        .map(|t| t.eth_tx(&mut plan.rng))
        .collect();
    let (txs, accounts, hot) = (plan.txs, plan.accounts, plan.hot);
    Ok((
        block(
            format!("transfers:txs={txs},accounts={accounts},hot={hot}"),
            list,
        ),
        state,
    ))
}
