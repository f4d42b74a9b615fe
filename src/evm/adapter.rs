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

/// Why a read through the adapter failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdapterError {
    /// The read hit an ESTIMATE of this transaction: the execution must wait for it.
    #[error("read an estimate of transaction {0}")]
    Blocked(TxnIndex),
    /// A view returned a value of the wrong kind for its key: an engine bug.
    #[error("engine invariant broken: {0}")]
    Invariant(String),
    #[error("pre-block state: {0}")]
    PreState(String),
}
impl DBErrorMarker for AdapterError {}

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
        Self {
            view,
            pre,
            txn_idx,
            beneficiary,
            accounts: HashMap::default(),
        }
    }

    /// The accounts read, for building the write set.
    pub fn accounts_read(&self) -> &HashMap<Address, AccountValue, FastHash> {
        &self.accounts
    }

    fn pre_account(&self, address: Address) -> Result<Option<AccountInfo>, AdapterError> {
        let info = self
            .pre
            .basic_ref(address)
            .map_err(|e| AdapterError::PreState(e.to_string()))?;
        info.map(|mut info| {
            if info.code.is_none() {
                info.code = Some(
                    self.pre
                        .code_by_hash_ref(info.code_hash)
                        .map_err(|e| AdapterError::PreState(e.to_string()))?,
                );
            }
            Ok(info)
        })
        .transpose()
    }

    fn account(&mut self, address: Address) -> Result<&AccountValue, AdapterError> {
        if !self.accounts.contains_key(&address) {
            let (mut value, writer) = match self.view.read(&Location::Account(address)) {
                ReadResult::Written {
                    version,
                    value: EvmValue::Account(value),
                } => (*value, Some(version.txn_idx)),
                ReadResult::Written { value, .. } => {
                    return Err(AdapterError::Invariant(format!(
                        "account {address} holds {value:?}"
                    )))
                }
                ReadResult::Base => (
                    AccountValue {
                        info: self.pre_account(address)?,
                        storage_epoch: None,
                    },
                    None,
                ),
                ReadResult::Estimate(blocking) => return Err(AdapterError::Blocked(blocking)),
            };
            if address == self.beneficiary {
                // The fees of the writer itself and of every transaction after it.
                let fees = self.fees_since(writer.unwrap_or(0))?;
                if !fees.is_zero() {
                    let info = value.info.get_or_insert_with(AccountInfo::default);
                    info.balance = info.balance.saturating_add(fees);
                }
            }
            self.accounts.insert(address, value);
        }
        Ok(&self.accounts[&address])
    }

    fn fees_since(&mut self, first: TxnIndex) -> Result<U256, AdapterError> {
        let mut sum = U256::ZERO;
        for i in first..self.txn_idx {
            match self.view.read(&Location::Fee(i)) {
                ReadResult::Written {
                    value: EvmValue::Fee(fee),
                    ..
                } => sum = sum.saturating_add(fee),
                ReadResult::Written { value, .. } => {
                    return Err(AdapterError::Invariant(format!("fee {i} holds {value:?}")))
                }
                ReadResult::Base => {}
                ReadResult::Estimate(blocking) => return Err(AdapterError::Blocked(blocking)),
            }
        }
        Ok(sum)
    }
}

impl<S, P> Database for TxnDb<'_, S, P>
where
    S: StateView<Location, EvmValue>,
    P: DatabaseRef,
{
    type Error = AdapterError;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        Ok(self.account(address)?.info.clone())
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        // Accounts carry their code; revm asks only for code the pre-state left out.
        self.pre
            .code_by_hash_ref(code_hash)
            .map_err(|e| AdapterError::PreState(e.to_string()))
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
            ReadResult::Written { value, .. } => Err(AdapterError::Invariant(format!(
                "slot {slot} of {address} holds {value:?}"
            ))),
            ReadResult::Base if epoch.is_some() => Ok(U256::ZERO),
            ReadResult::Base => self
                .pre
                .storage_ref(address, slot)
                .map_err(|e| AdapterError::PreState(e.to_string())),
            ReadResult::Estimate(blocking) => Err(AdapterError::Blocked(blocking)),
        }
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, Self::Error> {
        self.pre
            .block_hash_ref(number)
            .map_err(|e| AdapterError::PreState(e.to_string()))
    }
}
