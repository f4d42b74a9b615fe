//! The block-level facts of a block folder (`evm::block::BlockLevel`): from `block.json`
//! the parent hash, parent beacon block root, withdrawals, uncle hashes and the header's
//! requestsHash; the uncles' headers from the optional `uncles.json` (a JSON list of
//! objects with at least `number` and `miner`, hex as in the RPC format); and the
//! optional expected post-block state, `post_state.json` (the format of
//! `pre_state.json`). All read as serde structs over alloy's types (`read.rs`), so an
//! error names the file and the field.

use std::path::Path;

use alloy_eips::eip4895::Withdrawal;
use alloy_primitives::{Address, B256, U64};
use serde::Deserialize;
use serde_json::Value;

use super::files::read_json;
use super::prestate::parse_post_state;
use super::read::{field_error, from_value};
use super::LoadError;
use crate::evm::block::{BlockLevel, UncleHeader, Uncles};
use crate::evm::state::InMemoryState;

/// The optional uncle headers, without extension.
const UNCLES_FILE: &str = "uncles";
/// The optional expected post-block state, without extension.
const POST_STATE_FILE: &str = "post_state";

/// The fields of the RPC block `block_json.rs` does not read (alloy's consensus header
/// leaves out the withdrawals and the uncle hashes; the hashes are read here too, so the
/// block-level facts come from one place).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockLevelFields {
    #[serde(default)]
    parent_hash: Option<B256>,
    #[serde(default)]
    parent_beacon_block_root: Option<B256>,
    #[serde(default)]
    requests_hash: Option<B256>,
    #[serde(default)]
    withdrawals: Option<Vec<Withdrawal>>,
    #[serde(default)]
    uncles: Option<Vec<B256>>,
}

/// An uncle's header in `uncles.json`: what its reward needs.
#[derive(Deserialize)]
struct UncleFields {
    number: U64,
    miner: Address,
}

/// The block-level facts of `json` (`block.json`, at `path`) and of the folder's
/// `uncles.json`, and the header's requestsHash.
pub(super) fn read_block_level(
    dir: &Path,
    path: &Path,
    json: &Value,
) -> Result<(BlockLevel, Option<B256>), LoadError> {
    let fields: BlockLevelFields = from_value(json, path, "")?;
    let count = fields.uncles.as_ref().map_or(0, Vec::len);
    let level = BlockLevel {
        parent_hash: fields.parent_hash,
        parent_beacon_block_root: fields.parent_beacon_block_root,
        withdrawals: fields.withdrawals.unwrap_or_default(),
        uncles: Uncles {
            count,
            headers: read_uncles(dir, count)?,
        },
    };
    Ok((level, fields.requests_hash))
}

/// The uncles' headers from `uncles.json`, if the folder has it; it must list as many
/// uncles as `block.json` names.
fn read_uncles(dir: &Path, count: usize) -> Result<Option<Vec<UncleHeader>>, LoadError> {
    if !has_file(dir, UNCLES_FILE) {
        return Ok(None);
    }
    let (path, json) = read_json(dir, UNCLES_FILE)?;
    let uncles: Vec<UncleFields> = from_value(&json, &path, "")?;
    if uncles.len() != count {
        return Err(field_error(
            &path,
            "",
            &format!(
                "{} uncle headers, but block.json names {count} uncles",
                uncles.len()
            ),
        ));
    }
    let headers = uncles
        .into_iter()
        .map(|u| UncleHeader {
            number: u.number.to::<u64>(),
            miner: u.miner,
        })
        .collect();
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
    parse_post_state(&path, &json).map(Some)
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
