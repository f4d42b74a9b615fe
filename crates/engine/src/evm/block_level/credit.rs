//! Balance credits without EVM execution (withdrawals, mining rewards): the changes they
//! make to a state.

use std::collections::BTreeMap;

use revm::primitives::hardfork::SpecId;
use revm::primitives::{Address, U256};
use revm::DatabaseRef;

use super::layered::summary;
use crate::evm::output::{AccountChange, StateChanges};

/// The changes of crediting each `(address, amount)` on `view` (amounts to one address
/// add up). A zero credit to an account that exists empty deletes it from Spurious
/// Dragon on, as a touch does (EIP-161); to an absent one it changes nothing.
pub fn credit<V: DatabaseRef>(
    view: &V,
    credits: impl IntoIterator<Item = (Address, U256)>,
    spec: SpecId,
) -> Result<StateChanges, V::Error> {
    let mut totals: BTreeMap<Address, U256> = BTreeMap::new();
    for (address, amount) in credits {
        let total = totals.entry(address).or_default();
        *total = total.saturating_add(amount);
    }
    let mut changes = StateChanges::default();
    for (address, amount) in totals {
        let pre = view.basic_ref(address)?;
        let before = summary(&pre, spec);
        let mut info = pre.clone().unwrap_or_default();
        info.balance = info.balance.saturating_add(amount);
        let existed = pre.is_some();
        let after = summary(&(existed || !amount.is_zero()).then_some(info), spec);
        let deleted = spec.is_enabled_in(SpecId::SPURIOUS_DRAGON) && existed && after.is_none();
        if after != before || deleted {
            changes.accounts.insert(
                address,
                AccountChange {
                    info: after,
                    ..AccountChange::default()
                },
            );
        }
    }
    Ok(changes)
}
