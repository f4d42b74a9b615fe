//! Our state changes as revm's types: the per-transaction [`EvmState`] (what revm's
//! `DatabaseCommit::commit` takes), and the [`BundleState`] a node persists (plain state,
//! reverts and new contracts), which revm's own `State` builds from that commit, so the
//! bundle's statuses, reverts and storage wipes are revm's and not re-derived here.

use revm::bytecode::Bytecode;
use revm::database::states::bundle_state::BundleRetention;
use revm::database::{BundleState, State};
use revm::primitives::hardfork::SpecId;
use revm::primitives::U256;
use revm::state::{Account, AccountInfo, EvmState, EvmStorageSlot, TransactionId};
use revm::{DatabaseCommit, DatabaseRef};

use super::ConvertError;
use crate::evm::block::Block;
use crate::evm::output::StateChanges;

/// Why a state conversion failed: the block's fork, or the pre-block state source.
#[derive(Debug, thiserror::Error)]
pub enum StateConvertError<E> {
    #[error(transparent)]
    Convert(#[from] ConvertError),
    /// The pre-block state source failed while its original values were read.
    #[error("pre-block state: {0}")]
    State(E),
}

/// The block's changes as one `EvmState`, as if the whole block were one transaction
/// committed over the pre-block state `pre`: every changed account touched, with its end
/// state and the code the block gave it; a wiped storage as a created account (every
/// slot not listed is zero); an account gone at the end as self-destructed; each changed
/// slot with its pre-block value as the original (zero for a wiped account).
pub fn evm_state<P: DatabaseRef>(
    block: &Block,
    changes: &StateChanges,
    pre: &P,
) -> Result<EvmState, StateConvertError<P::Error>> {
    if !block.spec.is_enabled_in(SpecId::SPURIOUS_DRAGON) {
        return Err(ConvertError::PreSpuriousDragonState { spec: block.spec }.into());
    }
    let mut state = EvmState::default();
    for (address, change) in &changes.accounts {
        let mut account = match &change.info {
            None => Account::default().with_selfdestruct_mark(),
            Some(summary) => {
                let mut info = AccountInfo {
                    balance: summary.balance,
                    nonce: summary.nonce,
                    code_hash: summary.code_hash,
                    ..AccountInfo::default()
                };
                if let Some(code) = &change.code {
                    info.code = Some(Bytecode::new_raw(code.clone()));
                }
                let account = Account::from(info);
                if change.storage_wiped {
                    account.with_created_mark()
                } else {
                    account
                }
            }
        };
        for (slot, value) in &change.storage {
            let original = if change.storage_wiped {
                U256::ZERO
            } else {
                pre.storage_ref(*address, *slot)
                    .map_err(StateConvertError::State)?
            };
            account.storage.insert(
                *slot,
                EvmStorageSlot::new_changed(original, *value, TransactionId::ZERO),
            );
        }
        state.insert(*address, account.with_touched_mark());
    }
    Ok(state)
}

/// The block's changes as revm's `BundleState` over `pre`: the changes of
/// [`evm_state`] committed to a revm `State` over the pre-block state with bundle
/// updates on, merged with reverts kept (one transition: the block).
pub fn bundle_state<P: DatabaseRef>(
    block: &Block,
    changes: &StateChanges,
    pre: &P,
) -> Result<BundleState, StateConvertError<P::Error>> {
    let evm_state = evm_state(block, changes, pre)?;
    let mut state = State::builder()
        .with_database_ref(pre)
        .with_bundle_update()
        .build();
    // Loaded first, so each account's original comes from the pre-block state.
    for address in evm_state.keys() {
        state
            .load_cache_account(*address)
            .map_err(StateConvertError::State)?;
    }
    state.commit(evm_state);
    state.merge_transitions(BundleRetention::Reverts);
    Ok(state.take_bundle())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evm::output::{AccountChange, AccountSummary};
    use crate::evm::state::InMemoryState;
    use revm::database::OriginalValuesKnown;
    use revm::primitives::{bytes, keccak256, Address, B256, KECCAK_EMPTY};

    fn block(spec: SpecId) -> Block {
        Block::empty(spec)
    }

    /// A balance change, a slot change, a created contract (code and wiped storage), a
    /// destroyed contract: revm's bundle says each as a node must write it.
    #[test]
    fn bundle_of_each_kind_of_change() {
        let (payer, token, created, destroyed) = (
            Address::repeat_byte(1),
            Address::repeat_byte(2),
            Address::repeat_byte(3),
            Address::repeat_byte(4),
        );
        let mut pre = InMemoryState::default();
        pre.insert_account(payer, AccountInfo::from_balance(U256::from(100)));
        pre.insert_account(
            token,
            AccountInfo::default().with_code(Bytecode::new_raw(bytes!("00"))),
        );
        pre.insert_storage(token, U256::from(7), U256::from(70));
        pre.insert_account(
            destroyed,
            AccountInfo::default().with_code(Bytecode::new_raw(bytes!("ff"))),
        );
        pre.insert_storage(destroyed, U256::from(1), U256::from(1));
        let code = bytes!("6001600055");
        let summary = |balance: u64, nonce: u64, code_hash: B256| AccountSummary {
            balance: U256::from(balance),
            nonce,
            code_hash,
        };
        let mut changes = StateChanges::default();
        changes.accounts.insert(
            payer,
            AccountChange {
                info: Some(summary(90, 1, KECCAK_EMPTY)),
                ..AccountChange::default()
            },
        );
        changes.accounts.insert(
            token,
            AccountChange {
                info: Some(summary(0, 0, keccak256([0u8]))),
                storage: [(U256::from(7), U256::from(71))].into(),
                ..AccountChange::default()
            },
        );
        changes.accounts.insert(
            created,
            AccountChange {
                info: Some(summary(10, 1, keccak256(&code))),
                storage_wiped: true,
                storage: [(U256::ZERO, U256::from(1))].into(),
                code: Some(code.clone()),
            },
        );
        changes.accounts.insert(
            destroyed,
            AccountChange {
                info: None,
                storage_wiped: true,
                ..AccountChange::default()
            },
        );
        let bundle = bundle_state(&block(SpecId::CANCUN), &changes, &pre).unwrap();
        assert_eq!(
            bundle.bytecode(&keccak256(&code)).unwrap().original_bytes(),
            code
        );
        let plain = bundle.to_plain_state(OriginalValuesKnown::Yes);
        let account = |a: Address| plain.accounts.iter().find(|(x, _)| *x == a).map(|(_, i)| i);
        assert_eq!(
            account(payer).unwrap().as_ref().unwrap().balance,
            U256::from(90)
        );
        assert_eq!(account(destroyed), Some(&None));
        assert_eq!(account(created).unwrap().as_ref().unwrap().nonce, 1);
        let storage = |a: Address| plain.storage.iter().find(|s| s.address == a).unwrap();
        assert_eq!(storage(token).storage, [(U256::from(7), U256::from(71))]);
        assert!(!storage(token).wipe_storage);
        assert!(storage(destroyed).wipe_storage);
        assert_eq!(storage(created).storage, [(U256::ZERO, U256::from(1))]);
        // The reverts restore the pre-block values: the token's slot to 70, the payer's
        // balance to 100.
        let reverts = &bundle.reverts[0];
        let revert = |a: Address| &reverts.iter().find(|(x, _)| *x == a).unwrap().1;
        assert_eq!(
            revert(token)
                .storage
                .get(&U256::from(7))
                .map(|s| s.to_previous_value()),
            Some(U256::from(70))
        );
        assert!(format!("{:?}", revert(payer).account).contains("balance: 100"));
    }

    #[test]
    fn before_spurious_dragon_is_an_error() {
        let err = bundle_state(
            &block(SpecId::HOMESTEAD),
            &StateChanges::default(),
            &InMemoryState::default(),
        )
        .unwrap_err();
        assert!(matches!(
            err,
            StateConvertError::Convert(ConvertError::PreSpuriousDragonState { .. })
        ));
    }
}
