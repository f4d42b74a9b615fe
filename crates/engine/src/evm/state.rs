//! The in-memory pre-block state built from files or by the workload generators.
//! Any other `DatabaseRef + Sync` serves as well: the executors only read through that trait.

use std::collections::HashMap;
use std::convert::Infallible;

use crate::core::FastHash;

use revm::bytecode::Bytecode;
use revm::database_interface::DBErrorMarker;
use revm::primitives::map::{AddressMap, B256Map, U256Map};
use revm::primitives::{keccak256, Address, B256, U256};
use revm::state::AccountInfo;
use revm::DatabaseRef;

/// A read-only pre-block state held in hash maps.
#[derive(Clone, Debug, Default)]
pub struct InMemoryState {
    /// The accounts. The code of an account with code must be in `bytecodes` under its
    /// `code_hash` (as `insert_account` puts it there): `basic_ref` hands accounts out
    /// without their code, which readers fetch by hash.
    pub accounts: AddressMap<AccountInfo>,
    pub storage: AddressMap<U256Map<U256>>,
    pub bytecodes: B256Map<Bytecode>,
    pub block_hashes: HashMap<u64, B256, FastHash>,
}

/// The in-memory state never fails; this is its (uninhabited) error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unreachable")]
pub struct NoError(Infallible);
impl DBErrorMarker for NoError {}

impl NoError {
    /// What holds a `NoError` cannot exist: any type, from one.
    pub fn unreachable<T>(&self) -> T {
        match self.0 {}
    }
}

impl InMemoryState {
    /// Inserts an account; its code, if any, is registered under its hash.
    pub fn insert_account(&mut self, address: Address, mut info: AccountInfo) {
        if let Some(code) = info.code.take() {
            if !code.is_empty() {
                info.code_hash = code.hash_slow();
                self.bytecodes.insert(info.code_hash, code.clone());
                info.code = Some(code);
            }
        }
        self.accounts.insert(address, info);
    }

    pub fn insert_storage(&mut self, address: Address, slot: U256, value: U256) {
        self.storage.entry(address).or_default().insert(slot, value);
    }
}

impl DatabaseRef for InMemoryState {
    type Error = NoError;

    /// The account without its code (`code: None`: revm and the executors fetch it by its
    /// hash, `code_by_hash_ref`). Handing out the code here cloned its `Arc`: two atomic
    /// read-modify-writes, per read, on a counter shared by every thread that reads the
    /// account, though each worker takes its own copy of the code (`code_copies.rs`) and
    /// dropped the one given here at once.
    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        Ok(self
            .accounts
            .get(&address)
            .map(AccountInfo::copy_without_code))
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        Ok(self.bytecodes.get(&code_hash).cloned().unwrap_or_default())
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, Self::Error> {
        Ok(self
            .storage
            .get(&address)
            .and_then(|s| s.get(&index))
            .copied()
            .unwrap_or_default())
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, Self::Error> {
        Ok(self
            .block_hashes
            .get(&number)
            .copied()
            .unwrap_or_else(|| keccak256(number.to_string().as_bytes())))
    }
}

/// The in-memory state never fails: on it, `execute_block` has only the engine's errors.
impl From<crate::error::ExecuteError<NoError>> for crate::error::EngineError {
    fn from(error: crate::error::ExecuteError<NoError>) -> Self {
        use crate::error::ExecuteError;
        match error {
            ExecuteError::State { error, .. } => error.unreachable(),
            ExecuteError::Engine(e) => e,
            ExecuteError::InvalidBlock(e) => crate::error::EngineError::InvalidBlock(e.to_string()),
        }
    }
}
