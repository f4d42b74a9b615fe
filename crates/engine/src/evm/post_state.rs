//! Checks a block's state changes against its expected full post-block state (a
//! `post_state.json`, loaded by `mainnet::load_post_state`): the pre-block state plus the
//! changes must hold every account (balance, nonce, code hash) and every slot of the
//! expected state, and the pre-block state with the changes must hold no account or
//! non-zero slot the expected state lacks.

use std::collections::BTreeSet;
use std::fmt;

use revm::primitives::hardfork::SpecId;
use revm::primitives::{Address, U256};
use revm::state::AccountInfo;

use super::output::{AccountSummary, StateChanges};
use super::state::InMemoryState;

/// The first way the state after the block differs from the expected one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PostStateDifference {
    /// An account differs (`None`: absent, or empty from Spurious Dragon on).
    Account {
        address: Address,
        expected: Option<AccountSummary>,
        got: Option<AccountSummary>,
    },
    /// A storage slot differs (an absent slot is zero).
    Slot {
        address: Address,
        slot: U256,
        expected: U256,
        got: U256,
    },
}

impl fmt::Display for PostStateDifference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |s: &Option<AccountSummary>| match s {
            Some(s) => format!(
                "balance {}, nonce {}, code hash {}",
                s.balance, s.nonce, s.code_hash
            ),
            None => "no account".to_string(),
        };
        match self {
            PostStateDifference::Account {
                address,
                expected,
                got,
            } => write!(
                f,
                "account {address}: expected {}, got {}",
                show(expected),
                show(got)
            ),
            PostStateDifference::Slot {
                address,
                slot,
                expected,
                got,
            } => write!(
                f,
                "slot {slot} of {address}: expected {expected}, got {got}"
            ),
        }
    }
}

/// The first difference between `expected` and `pre` with `changes` applied, in address
/// then slot order, or `None` when they agree.
pub fn check_post_state(
    pre: &InMemoryState,
    changes: &StateChanges,
    expected: &InMemoryState,
    spec: SpecId,
) -> Option<PostStateDifference> {
    let summary = |info: Option<&AccountInfo>| AccountSummary::of(info, spec);
    let account_after = |address: &Address| match changes.accounts.get(address) {
        Some(change) => change.info,
        None => summary(pre.accounts.get(address)),
    };
    let slot_after = |address: &Address, slot: &U256| {
        let pre_value = || {
            pre.storage
                .get(address)
                .and_then(|s| s.get(slot))
                .copied()
                .unwrap_or_default()
        };
        match changes.accounts.get(address) {
            Some(change) => match change.storage.get(slot) {
                Some(value) => *value,
                None if change.storage_wiped || change.info.is_none() => U256::ZERO,
                None => pre_value(),
            },
            None => pre_value(),
        }
    };
    let expected_slot = |address: &Address, slot: &U256| {
        expected
            .storage
            .get(address)
            .and_then(|s| s.get(slot))
            .copied()
            .unwrap_or_default()
    };
    // Every account the expected state, the pre-block state or the changes name, in order
    // (a pre-block account the block should have deleted, and did not, is a difference).
    let addresses: BTreeSet<&Address> = expected
        .accounts
        .keys()
        .chain(pre.accounts.keys())
        .chain(changes.accounts.keys())
        .collect();
    for address in addresses {
        let want = summary(expected.accounts.get(address));
        let got = account_after(address);
        if want != got {
            return Some(PostStateDifference::Account {
                address: *address,
                expected: want,
                got,
            });
        }
        let mut slots: BTreeSet<&U256> = BTreeSet::new();
        for storage in [expected.storage.get(address), pre.storage.get(address)]
            .into_iter()
            .flatten()
        {
            slots.extend(storage.keys());
        }
        if let Some(change) = changes.accounts.get(address) {
            slots.extend(change.storage.keys());
        }
        for slot in slots {
            let (want, got) = (expected_slot(address, slot), slot_after(address, slot));
            if want != got {
                return Some(PostStateDifference::Slot {
                    address: *address,
                    slot: *slot,
                    expected: want,
                    got,
                });
            }
        }
    }
    None
}
