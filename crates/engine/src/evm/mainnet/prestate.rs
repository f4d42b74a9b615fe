//! The pre-block state: `bytecodes.json`, `pre_state.json` and `block_hashes.json`.

use std::path::Path;

use revm::bytecode::Bytecode;
use revm::primitives::{keccak256, Bytes, KECCAK_EMPTY};
use revm::state::AccountInfo;
use serde_json::Value;

use super::fields::{shorten, Obj};
use super::hex::{address_value, b256_value, bytes_value, key_value, u256_value, u64_value};
use super::LoadError;
use crate::evm::state::InMemoryState;

pub(super) fn parse_bytecodes(
    path: &Path,
    json: &Value,
    state: &mut InMemoryState,
) -> Result<(), LoadError> {
    let obj = Obj::new(json, path, String::new())?;
    for (key, value) in obj.map {
        let hash = b256_value(&key_value(key)).map_err(|reason| obj.err(key, reason))?;
        let code = bytes_value(value).map_err(|reason| obj.err(key, reason))?;
        let actual = keccak256(&code);
        if actual != hash {
            return Err(obj.err(
                key,
                format!("keccak256 of the code is {actual}, not the key"),
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
    let obj = Obj::new(json, path, String::new())?;
    state.accounts.reserve(obj.map.len());
    for (key, value) in obj.map {
        let address = address_value(&key_value(key)).map_err(|reason| obj.err(key, reason))?;
        let account = Obj::new(value, path, key.clone())?;
        let balance = account.req("balance", u256_value)?;
        let nonce = account.req("nonce", u64_value)?;
        let code_hash = account
            .opt("code_hash", b256_value)?
            .unwrap_or(KECCAK_EMPTY);
        let code = if code_hash == KECCAK_EMPTY {
            Bytecode::default()
        } else {
            state.bytecodes.get(&code_hash).cloned().ok_or_else(|| {
                account.err(
                    "code_hash",
                    format!("no code with hash {code_hash} in bytecodes.json"),
                )
            })?
        };
        if let Some(storage) = account.opt_value("storage") {
            let storage = Obj::new(storage, path, account.field("storage"))?;
            let slots = state.storage.entry(address).or_default();
            slots.reserve(storage.map.len());
            for (slot_key, slot_value) in storage.map {
                let slot = u256_value(&key_value(slot_key))
                    .map_err(|reason| storage.err(slot_key, reason))?;
                let value =
                    u256_value(slot_value).map_err(|reason| storage.err(slot_key, reason))?;
                slots.insert(slot, value);
            }
        }
        state
            .accounts
            .insert(address, AccountInfo::new(balance, nonce, code_hash, code));
    }
    Ok(())
}

pub(super) fn parse_block_hashes(
    path: &Path,
    json: &Value,
    state: &mut InMemoryState,
) -> Result<(), LoadError> {
    let obj = Obj::new(json, path, String::new())?;
    for (key, value) in obj.map {
        let number = match key.parse::<u64>() {
            Ok(n) => n,
            Err(_) => u64_value(&key_value(key))
                .map_err(|_| obj.err(key, format!("invalid block number {:?}", shorten(key))))?,
        };
        let hash = b256_value(value).map_err(|reason| obj.err(key, reason))?;
        state.block_hashes.insert(number, hash);
    }
    Ok(())
}
