//! The block-level facts of a block folder (`evm::block::BlockLevel`): from `block.json`
//! the parent hash, parent beacon block root, withdrawals, uncle hashes and the header's
//! requestsHash; the uncles' headers from the optional `uncles.json` (a JSON list of
//! objects with at least `number` and `miner`, hex as in the RPC format); and the
//! optional expected post-block state, `post_state.json` (the format of
//! `pre_state.json`).

use std::path::Path;

use alloy_eips::eip4895::Withdrawal;
use revm::primitives::KECCAK_EMPTY;
use revm::state::AccountInfo;
use serde_json::Value;

use super::fields::Obj;
use super::files::read_json;
use super::hex::{address_value, b256_value, key_value, u256_value, u64_value};
use super::LoadError;
use crate::evm::block::{Block, BlockLevel, UncleHeader, Uncles};
use crate::evm::state::InMemoryState;

/// The optional uncle headers, without extension.
const UNCLES_FILE: &str = "uncles";
/// The optional expected post-block state, without extension.
const POST_STATE_FILE: &str = "post_state";

/// Reads the block-level facts of `json` (`block.json`, at `path`) and of the folder's
/// `uncles.json` into `block`.
pub(super) fn read_block_level(
    dir: &Path,
    path: &Path,
    json: &Value,
    block: &mut Block,
) -> Result<(), LoadError> {
    let obj = Obj::new(json, path, String::new())?;
    let mut withdrawals = Vec::new();
    for (i, value) in obj.array("withdrawals", false)?.iter().enumerate() {
        let w = Obj::new(value, path, format!("withdrawals[{i}]"))?;
        withdrawals.push(Withdrawal {
            index: w.req("index", u64_value)?,
            validator_index: w.req("validatorIndex", u64_value)?,
            address: w.req("address", address_value)?,
            amount: w.req("amount", u64_value)?,
        });
    }
    let count = obj.array("uncles", false)?.len();
    block.level = BlockLevel {
        parent_hash: obj.opt("parentHash", b256_value)?,
        parent_beacon_block_root: obj.opt("parentBeaconBlockRoot", b256_value)?,
        withdrawals,
        uncles: Uncles {
            count,
            headers: read_uncles(dir, count)?,
        },
    };
    if let Some(header) = &mut block.header {
        header.requests_hash = obj.opt("requestsHash", b256_value)?;
    }
    Ok(())
}

/// The uncles' headers from `uncles.json`, if the folder has it; it must list as many
/// uncles as `block.json` names.
fn read_uncles(dir: &Path, count: usize) -> Result<Option<Vec<UncleHeader>>, LoadError> {
    if !has_file(dir, UNCLES_FILE) {
        return Ok(None);
    }
    let (path, json) = read_json(dir, UNCLES_FILE)?;
    let Value::Array(items) = &json else {
        return Err(LoadError::Field {
            path,
            field: "(top level)".into(),
            reason: "expected a list of uncle headers".into(),
        });
    };
    if items.len() != count {
        return Err(LoadError::Field {
            path,
            field: "(top level)".into(),
            reason: format!(
                "{} uncle headers, but block.json names {count} uncles",
                items.len()
            ),
        });
    }
    let mut headers = Vec::with_capacity(items.len());
    for (i, value) in items.iter().enumerate() {
        let uncle = Obj::new(value, &path, format!("[{i}]"))?;
        headers.push(UncleHeader {
            number: uncle.req("number", u64_value)?,
            miner: uncle.req("miner", address_value)?,
        });
    }
    Ok(Some(headers))
}

/// The expected state after the block (`post_state.json`), or `None` when the folder
/// has none. Accounts carry their code hash only (the code of contracts the block
/// creates is in no file of the folder); the post-state check compares hashes.
pub fn load_post_state(dir: &Path) -> Result<Option<InMemoryState>, LoadError> {
    if !has_file(dir, POST_STATE_FILE) {
        return Ok(None);
    }
    let (path, json) = read_json(dir, POST_STATE_FILE)?;
    let obj = Obj::new(&json, &path, String::new())?;
    let mut state = InMemoryState::default();
    for (key, value) in obj.map {
        let address = address_value(&key_value(key)).map_err(|reason| obj.err(key, reason))?;
        let account = Obj::new(value, &path, key.clone())?;
        let info = AccountInfo {
            balance: account.req("balance", u256_value)?,
            nonce: account.req("nonce", u64_value)?,
            code_hash: account
                .opt("code_hash", b256_value)?
                .unwrap_or(KECCAK_EMPTY),
            ..AccountInfo::default()
        };
        state.accounts.insert(address, info);
        if let Some(storage) = account.opt_value("storage") {
            let storage = Obj::new(storage, &path, account.field("storage"))?;
            for (slot_key, slot_value) in storage.map {
                let bad = |reason| storage.err(slot_key, reason);
                let slot = u256_value(&key_value(slot_key)).map_err(bad)?;
                let value = u256_value(slot_value).map_err(bad)?;
                state.insert_storage(address, slot, value);
            }
        }
    }
    Ok(Some(state))
}

/// Whether `<stem>.json` or `<stem>.json.gz` is in `dir`.
fn has_file(dir: &Path, stem: &str) -> bool {
    dir.join(format!("{stem}.json")).is_file() || dir.join(format!("{stem}.json.gz")).is_file()
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::super::load_block_dir;
    use super::*;
    use revm::primitives::B256;
    use std::fs;

    fn with_block(name: &str, edit: impl FnOnce(&mut Value)) -> std::path::PathBuf {
        let dir = valid_dir(name);
        let mut block = block_json();
        edit(&mut block);
        fs::remove_file(dir.join("block.json.gz")).unwrap();
        write(&dir, "block.json", &block);
        dir
    }

    #[test]
    fn reads_the_block_level_fields_and_uncles() {
        let dir = with_block("blocklevel", |b| {
            b["parentHash"] = Value::String(format!("0x{}", "11".repeat(32)));
            b["requestsHash"] = Value::String(format!("0x{}", "22".repeat(32)));
            b["uncles"] = serde_json::json!([format!("0x{}", "33".repeat(32))]);
            b["withdrawals"] = serde_json::json!([{
                "index": "0x1", "validatorIndex": "0x2",
                "address": "0x00000000000000000000000000000000000000aa", "amount": "0x3"
            }]);
        });
        let (block, _) = load_block_dir(&dir).unwrap();
        let level = &block.level;
        assert_eq!(level.parent_hash, Some(B256::repeat_byte(0x11)));
        assert_eq!(
            block.header.unwrap().requests_hash,
            Some(B256::repeat_byte(0x22))
        );
        assert_eq!(level.withdrawals[0].amount, 3);
        assert_eq!(level.uncles.count, 1);
        assert_eq!(level.uncles.headers, None);

        write(
            &dir,
            "uncles.json",
            &serde_json::json!([{"number": "0x5", "miner": "0x00000000000000000000000000000000000000bb"}]),
        );
        let (block, _) = load_block_dir(&dir).unwrap();
        let headers = block.level.uncles.headers.unwrap();
        assert_eq!(headers[0].number, 5);

        write(&dir, "uncles.json", &serde_json::json!([{"number": "0x5"}]));
        let msg = load_err(&dir);
        assert!(msg.ends_with("uncles.json: [0].miner: missing"), "{msg}");
        write(&dir, "uncles.json", &serde_json::json!([]));
        let msg = load_err(&dir);
        assert!(
            msg.contains("0 uncle headers, but block.json names 1"),
            "{msg}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_withdrawal_is_named() {
        let dir = with_block("badwithdrawal", |b| {
            b["withdrawals"] = serde_json::json!([{"index": "0x1"}]);
        });
        let msg = load_err(&dir);
        assert!(
            msg.ends_with("block.json: withdrawals[0].validatorIndex: missing"),
            "{msg}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn loads_a_post_state() {
        let dir = valid_dir("poststate");
        assert!(load_post_state(&dir).unwrap().is_none());
        write(
            &dir,
            "post_state.json",
            &serde_json::json!({"0x00000000000000000000000000000000000000aa": {
                "balance": "0x5", "nonce": 1,
                "code_hash": format!("0x{}", "44".repeat(32)),
                "storage": {"0x1": "0x2"}
            }}),
        );
        let state = load_post_state(&dir).unwrap().unwrap();
        let aa = revm::primitives::Address::with_last_byte(0xaa);
        assert_eq!(state.accounts[&aa].code_hash, B256::repeat_byte(0x44));
        assert_eq!(
            state.storage[&aa][&revm::primitives::U256::from(1)],
            revm::primitives::U256::from(2)
        );
        write(
            &dir,
            "post_state.json",
            &serde_json::json!({"0x00000000000000000000000000000000000000aa": {"nonce": 1}}),
        );
        let err = load_post_state(&dir).unwrap_err().to_string();
        assert!(
            err.ends_with(
                "post_state.json: 0x00000000000000000000000000000000000000aa.balance: missing"
            ),
            "{err}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
