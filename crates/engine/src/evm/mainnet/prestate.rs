//! The pre-block state: `bytecodes.json`, `pre_state.json` and `block_hashes.json`, read
//! as serde structs over alloy-primitives types (hex quantities, hashes, addresses and
//! data) and put into the in-memory state.

use std::collections::BTreeMap;
use std::path::Path;

use alloy_primitives::{Address, Bytes, B256, U256, U64};
use revm::bytecode::Bytecode;
use revm::primitives::{keccak256, KECCAK_EMPTY};
use revm::state::AccountInfo;
use serde::Deserialize;
use serde_json::Value;

use super::read::{field_error, from_value};
use super::LoadError;
use crate::evm::state::InMemoryState;

/// `bytecodes.json`: runtime code by its keccak256 hash.
type Bytecodes = BTreeMap<B256, Bytes>;

/// `pre_state.json`: the accounts the block reads, by address.
type PreState = BTreeMap<Address, PreAccount>;

/// `block_hashes.json`: block hashes by number (decimal, or `0x` hex).
type BlockHashes = BTreeMap<U64, B256>;

/// An account of `pre_state.json`.
#[derive(Deserialize)]
struct PreAccount {
    balance: U256,
    nonce: U64,
    /// Absent or `null` for an account without code.
    #[serde(default)]
    code_hash: Option<B256>,
    /// The account's non-zero slots; absent or `null` for none.
    #[serde(default)]
    storage: Option<BTreeMap<U256, U256>>,
}

pub(super) fn parse_bytecodes(
    path: &Path,
    json: &Value,
    state: &mut InMemoryState,
) -> Result<(), LoadError> {
    let codes: Bytecodes = from_value(json, path, "")?;
    for (hash, code) in codes {
        let actual = keccak256(&code);
        if actual != hash {
            return Err(field_error(
                path,
                &format!("{hash:#x}"),
                &format!("keccak256 of the code is {actual}, not the key"),
            ));
        }
        state.bytecodes.insert(hash, bytecode(code));
    }
    Ok(())
}

/// Raw runtime code as revm bytecode: EIP-7702 delegations are recognised; anything else
/// (including pre-London code that merely starts with 0xEF01) is legacy code.
fn bytecode(code: Bytes) -> Bytecode {
    match Bytecode::new_raw_checked(code.clone()) {
        Ok(bytecode) => bytecode,
        Err(_) => Bytecode::new_legacy(code),
    }
}

pub(super) fn parse_pre_state(
    path: &Path,
    json: &Value,
    state: &mut InMemoryState,
) -> Result<(), LoadError> {
    let accounts: PreState = from_value(json, path, "")?;
    state.accounts.reserve(accounts.len());
    for (address, account) in accounts {
        let nonce = account.nonce.to::<u64>();
        let code_hash = account.code_hash.unwrap_or(KECCAK_EMPTY);
        let code = if code_hash == KECCAK_EMPTY {
            Bytecode::default()
        } else {
            state.bytecodes.get(&code_hash).cloned().ok_or_else(|| {
                field_error(
                    path,
                    &format!("{address:#x}.code_hash"),
                    &format!("no code with hash {code_hash} in bytecodes.json"),
                )
            })?
        };
        if let Some(storage) = account.storage {
            let slots = state.storage.entry(address).or_default();
            slots.reserve(storage.len());
            slots.extend(storage);
        }
        state.accounts.insert(
            address,
            AccountInfo::new(account.balance, nonce, code_hash, code),
        );
    }
    Ok(())
}

/// `post_state.json` (the format of `pre_state.json`) as an in-memory state of accounts
/// and slots; accounts carry their code hash and no code (the code of the contracts a
/// block creates is in no file of its folder).
pub(super) fn parse_post_state(path: &Path, json: &Value) -> Result<InMemoryState, LoadError> {
    let accounts: PreState = from_value(json, path, "")?;
    let mut state = InMemoryState::default();
    for (address, account) in accounts {
        if let Some(storage) = account.storage {
            state.storage.entry(address).or_default().extend(storage);
        }
        state.accounts.insert(
            address,
            AccountInfo {
                balance: account.balance,
                nonce: account.nonce.to::<u64>(),
                code_hash: account.code_hash.unwrap_or(KECCAK_EMPTY),
                code: None,
                ..AccountInfo::default()
            },
        );
    }
    Ok(state)
}

pub(super) fn parse_block_hashes(
    path: &Path,
    json: &Value,
    state: &mut InMemoryState,
) -> Result<(), LoadError> {
    let hashes: BlockHashes = from_value(json, path, "")?;
    state
        .block_hashes
        .extend(hashes.into_iter().map(|(number, hash)| (number.to(), hash)));
    Ok(())
}
