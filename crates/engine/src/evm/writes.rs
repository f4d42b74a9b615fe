//! From the state revm leaves after one transaction to the write set the core stores.
//! Mirrors what revm's `CacheDB::commit` does with the same state, so a sequence of write
//! sets applied in order gives the state plain revm reaches.

use revm::primitives::{Address, U256};
use revm::state::EvmState;

use super::lazy::LazyFields;
use super::location::{AccountValue, EvmValue, Location};
use super::observe::{Observed, BALANCE};
use crate::core::txn::TxnIndex;
use crate::core::Invariant;

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
            writes.push((Location::Account(*address), destroyed(txn_idx)));
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
        push_slots(&mut writes, address, account, created);
    }
    push_fee(&mut writes, txn_idx, fee);
    writes
}

/// The write set of transaction `txn_idx` under the `fields` and `deltas` models: per
/// account, its `Code` location (existence, code, storage epoch) when that changed, its
/// `Balance` and `Nonce` when they changed. `loaded(address)` gives the account as the
/// execution loaded it (with the peeked balance and nonce) and what it observed of it in
/// the end (`Lazy::observed_at_end`). Under `deltas` a changed balance the execution did
/// not observe is written as the credit it received.
pub fn field_write_set<'a>(
    txn_idx: TxnIndex,
    state: &EvmState,
    loaded: impl Fn(&Address) -> Option<(&'a AccountValue, &'a LazyFields, Observed)>,
    deltas: bool,
    fee: Option<U256>,
) -> Result<Vec<(Location, EvmValue)>, Invariant> {
    let mut writes = Vec::with_capacity(state.len() * 2 + 1);
    for (address, account) in state {
        if !account.is_touched() {
            continue;
        }
        let Some((before, fields, observed)) = loaded(address) else {
            return Err(Invariant::WrongValue {
                key: format!("account {address}"),
                value: "written but never loaded".into(),
            });
        };
        if account.is_selfdestructed() {
            writes.push((Location::Code(*address), destroyed(txn_idx)));
            if fields.balance != U256::ZERO {
                writes.push((Location::Balance(*address), EvmValue::Balance(U256::ZERO)));
            }
            if fields.nonce != 0 {
                writes.push((Location::Nonce(*address), EvmValue::Nonce(0)));
            }
            continue;
        }
        let info = &account.info;
        let created = account.is_created();
        let emptied = info.is_empty() && fields.existed;
        let code_changed = before
            .info
            .as_ref()
            .is_none_or(|b| b.code_hash != info.code_hash);
        if created || emptied || code_changed {
            writes.push((
                Location::Code(*address),
                EvmValue::Account(Box::new(AccountValue {
                    info: Some(revm::state::AccountInfo {
                        balance: U256::ZERO,
                        nonce: 0,
                        ..info.clone()
                    }),
                    storage_epoch: if created {
                        Some(txn_idx)
                    } else {
                        before.storage_epoch
                    },
                })),
            ));
        }
        if info.balance != fields.balance {
            let full = !deltas || !fields.existed || observed & BALANCE != 0;
            let value = match info.balance.checked_sub(fields.balance) {
                Some(credit) if !full => EvmValue::Credit(credit),
                // A balance that shrank is observed (`Lazy::observed_at_end`).
                _ => EvmValue::Balance(info.balance),
            };
            writes.push((Location::Balance(*address), value));
        }
        if info.nonce != fields.nonce {
            writes.push((Location::Nonce(*address), EvmValue::Nonce(info.nonce)));
        }
        push_slots(&mut writes, address, account, created);
    }
    push_fee(&mut writes, txn_idx, fee);
    Ok(writes)
}

/// The value an account destroyed by transaction `txn_idx` is written as: absent, its
/// storage epoch (which hides every older slot) at the destroyer.
fn destroyed(txn_idx: TxnIndex) -> EvmValue {
    EvmValue::Account(Box::new(AccountValue {
        info: None,
        storage_epoch: Some(txn_idx),
    }))
}

/// The changed slots of `account`, and for a created one every non-zero slot (its older
/// ones are hidden by the new storage epoch), under every model alike.
fn push_slots(
    writes: &mut Vec<(Location, EvmValue)>,
    address: &Address,
    account: &revm::state::Account,
    created: bool,
) {
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

/// The beneficiary's deferred credit of transaction `txn_idx`, when deferred.
fn push_fee(writes: &mut Vec<(Location, EvmValue)>, txn_idx: TxnIndex, fee: Option<U256>) {
    if let Some(fee) = fee {
        writes.push((Location::Fee(txn_idx), EvmValue::Fee(fee)));
    }
}
