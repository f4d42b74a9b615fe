//! The revm `Database` one execution reads through: the strategy's view of earlier
//! transactions' writes over the read-only pre-block state.

use std::collections::HashMap;

use crate::core::FastHash;

use revm::bytecode::Bytecode;
use revm::database_interface::DBErrorMarker;
use revm::primitives::{Address, B256, U256};
use revm::state::AccountInfo;
use revm::{Database, DatabaseRef};

use super::location::{AccountValue, EvmValue, Location};
use crate::core::txn::{ReadResult, StateView, TxnIndex};
use crate::core::Invariant;

/// Why a read through the adapter failed (`E`: the pre-block state's own error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdapterError<E> {
    /// The read hit an ESTIMATE of this transaction: the execution must wait for it.
    #[error("read an estimate of transaction {0}")]
    Blocked(TxnIndex),
    /// A view returned a value of the wrong kind for its key: an engine bug.
    #[error("engine invariant broken: {0}")]
    Invariant(Invariant),
    /// The pre-block state failed to answer: its error, as it is.
    #[error("pre-block state: {0}")]
    State(E),
}
impl<E: DBErrorMarker> DBErrorMarker for AdapterError<E> {}

/// Reads of transaction `txn_idx` through a strategy's view.
pub struct TxnDb<'a, S, P> {
    view: &'a mut S,
    pre: &'a P,
    txn_idx: TxnIndex,
    beneficiary: Address,
    /// The accounts this execution read, as returned to revm (the beneficiary with its
    /// fees added): storage reads need the account's storage epoch, and the write set
    /// leaves out accounts whose value did not change.
    accounts: HashMap<Address, AccountValue, FastHash>,
}

impl<'a, S, P> TxnDb<'a, S, P>
where
    S: StateView<Location, EvmValue>,
    P: DatabaseRef,
{
    pub fn new(view: &'a mut S, pre: &'a P, txn_idx: TxnIndex, beneficiary: Address) -> Self {
        Self::with_accounts(view, pre, txn_idx, beneficiary, HashMap::default())
    }

    /// `new`, with a map (emptied here) to hold the accounts read: a worker lends the
    /// same one to every execution it runs, so it is allocated once.
    pub fn with_accounts(
        view: &'a mut S,
        pre: &'a P,
        txn_idx: TxnIndex,
        beneficiary: Address,
        mut accounts: HashMap<Address, AccountValue, FastHash>,
    ) -> Self {
        accounts.clear();
        Self {
            view,
            pre,
            txn_idx,
            beneficiary,
            accounts,
        }
    }

    /// The map of accounts read, to be lent to the next execution.
    pub fn into_accounts(self) -> HashMap<Address, AccountValue, FastHash> {
        self.accounts
    }

    /// The accounts read, for building the write set.
    pub fn accounts_read(&self) -> &HashMap<Address, AccountValue, FastHash> {
        &self.accounts
    }

    fn account(&mut self, address: Address) -> Result<&AccountValue, AdapterError<P::Error>> {
        // One hash of the address for the lookup and the insertion (the map is a field of
        // its own, so the view can be read while its entry is held).
        let entry = match self.accounts.entry(address) {
            std::collections::hash_map::Entry::Occupied(e) => return Ok(e.into_mut()),
            std::collections::hash_map::Entry::Vacant(e) => e,
        };
        let (mut value, writer) = match self.view.read(&Location::Account(address)) {
            ReadResult::Written {
                version,
                value: EvmValue::Account(value),
            } => (*value, Some(version.txn_idx)),
            ReadResult::Written { value, .. } => {
                return Err(AdapterError::Invariant(Invariant::WrongValue {
                    key: format!("account {address}"),
                    value: format!("{value:?}"),
                }))
            }
            ReadResult::Base => (
                AccountValue {
                    info: pre_account(self.pre, address)?,
                    storage_epoch: None,
                },
                None,
            ),
            ReadResult::Estimate(blocking) => return Err(AdapterError::Blocked(blocking)),
        };
        if address == self.beneficiary {
            // The fees of the writer itself and of every transaction after it.
            let fees = fees_since(self.view, writer.unwrap_or(0), self.txn_idx)?;
            if !fees.is_zero() {
                let info = value.info.get_or_insert_with(AccountInfo::default);
                info.balance = info.balance.saturating_add(fees);
            }
        }
        Ok(entry.insert(value))
    }
}

/// The pre-block account at `address`, with its code.
fn pre_account<P: DatabaseRef>(
    pre: &P,
    address: Address,
) -> Result<Option<AccountInfo>, AdapterError<P::Error>> {
    let info = pre.basic_ref(address).map_err(AdapterError::State)?;
    info.map(|mut info| {
        if info.code.is_none() {
            info.code = Some(
                pre.code_by_hash_ref(info.code_hash)
                    .map_err(AdapterError::State)?,
            );
        }
        Ok(info)
    })
    .transpose()
}

/// The fees of transactions `first..reader` (the beneficiary's credits since its last
/// explicit write).
fn fees_since<S: StateView<Location, EvmValue>, E>(
    view: &mut S,
    first: TxnIndex,
    reader: TxnIndex,
) -> Result<U256, AdapterError<E>> {
    let mut sum = U256::ZERO;
    for i in first..reader {
        match view.read(&Location::Fee(i)) {
            ReadResult::Written {
                value: EvmValue::Fee(fee),
                ..
            } => sum = sum.saturating_add(fee),
            ReadResult::Written { value, .. } => {
                return Err(AdapterError::Invariant(Invariant::WrongValue {
                    key: format!("fee {i}"),
                    value: format!("{value:?}"),
                }))
            }
            ReadResult::Base => {}
            ReadResult::Estimate(blocking) => return Err(AdapterError::Blocked(blocking)),
        }
    }
    Ok(sum)
}

impl<S, P> Database for TxnDb<'_, S, P>
where
    S: StateView<Location, EvmValue>,
    P: DatabaseRef,
{
    type Error = AdapterError<P::Error>;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        Ok(self.account(address)?.info.clone())
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        // Accounts carry their code; revm asks only for code the pre-state left out.
        self.pre
            .code_by_hash_ref(code_hash)
            .map_err(AdapterError::State)
    }

    fn storage(&mut self, address: Address, slot: U256) -> Result<U256, Self::Error> {
        let epoch = self.account(address)?.storage_epoch;
        match self.view.read(&Location::Storage(address, slot)) {
            ReadResult::Written {
                version,
                value: EvmValue::Storage(value),
            } => Ok(match epoch {
                Some(epoch) if version.txn_idx < epoch => U256::ZERO,
                _ => value,
            }),
            ReadResult::Written { value, .. } => {
                Err(AdapterError::Invariant(Invariant::WrongValue {
                    key: format!("slot {slot} of {address}"),
                    value: format!("{value:?}"),
                }))
            }
            ReadResult::Base if epoch.is_some() => Ok(U256::ZERO),
            ReadResult::Base => self
                .pre
                .storage_ref(address, slot)
                .map_err(AdapterError::State),
            ReadResult::Estimate(blocking) => Err(AdapterError::Blocked(blocking)),
        }
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, Self::Error> {
        self.pre.block_hash_ref(number).map_err(AdapterError::State)
    }
}
