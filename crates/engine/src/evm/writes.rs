//! From the state revm leaves after one transaction to the write set the core stores.
//! Mirrors what revm's `CacheDB::commit` does with the same state, so a sequence of write
//! sets applied in order gives the state plain revm reaches.

use revm::primitives::{Address, U256};
use revm::state::EvmState;

use super::location::{AccountValue, EvmValue, Location};
use crate::core::txn::TxnIndex;

/// The write set of transaction `txn_idx`.
///
/// `read(address)` is the account as this execution read it (when known): its storage
/// epoch carries over, and an account whose value it leaves unchanged is not written.
/// `fee` is the beneficiary's credit, when deferred.
pub fn write_set<'a>(
    txn_idx: TxnIndex,
    state: &EvmState,
    read: impl Fn(&Address) -> Option<&'a AccountValue>,
    fee: Option<U256>,
) -> Vec<(Location, EvmValue)> {
    let mut writes = Vec::with_capacity(state.len() * 2 + 1);
    for (address, account) in state {
        if !account.is_touched() {
            continue;
        }
        let before = read(address);
        if account.is_selfdestructed() {
            writes.push((
                Location::Account(*address),
                EvmValue::Account(Box::new(AccountValue {
                    info: None,
                    storage_epoch: Some(txn_idx),
                })),
            ));
            continue;
        }
        let created = account.is_created();
        // A touched account that existed empty is deleted from Spurious Dragon on
        // (EIP-161), though its value is unchanged: written, and assembly, which knows the
        // block's fork, records the deletion.
        let emptied = account.info.is_empty() && before.is_some_and(|b| b.info.is_some());
        let unchanged =
            !created && !emptied && before.is_some_and(|b| b.info.as_ref() == Some(&account.info));
        if !unchanged {
            writes.push((
                Location::Account(*address),
                EvmValue::Account(Box::new(AccountValue {
                    info: Some(account.info.clone()),
                    storage_epoch: if created {
                        Some(txn_idx)
                    } else {
                        before.and_then(|b| b.storage_epoch)
                    },
                })),
            ));
        }
        for (slot, value) in &account.storage {
            let present = value.present_value();
            if value.is_changed() || (created && !present.is_zero()) {
                writes.push((
                    Location::Storage(*address, *slot),
                    EvmValue::Storage(present),
                ));
            }
        }
    }
    if let Some(fee) = fee {
        writes.push((Location::Fee(txn_idx), EvmValue::Fee(fee)));
    }
    writes
}
