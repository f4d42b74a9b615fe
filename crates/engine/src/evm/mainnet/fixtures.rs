//! Test fixtures shared by the loader's unit tests: a valid block folder and ways to break
//! it.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use revm::primitives::{hex, keccak256};
use serde_json::Value;

use super::load_block_dir;

/// A fresh, empty temp folder for one test.
pub(super) fn temp_dir(name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "stmlab-mainnet-test-{}-{}-{name}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

pub(super) const CODE: &str = "0x6001600055";

/// A block hash for `block_hashes.json`.
pub(super) const SOME_B256: &str =
    "0xabababababababababababababababababababababababababababababababab";

/// A hash for the fields the loader reads but does not use (a block's parent, a
/// transaction's own hash).
const SOME_HASH: &str = "0x2222222222222222222222222222222222222222222222222222222222222222";

/// A Cancun block (by its number and timestamp) of three transactions: legacy, EIP-1559
/// and EIP-4844, with every field of the RPC format alloy requires.
pub(super) fn block_json() -> Value {
    serde_json::json!({
        "hash": SOME_HASH,
        "parentHash": SOME_HASH,
        "sha3Uncles": "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347",
        "stateRoot": SOME_HASH,
        "transactionsRoot": SOME_HASH,
        "extraData": "0x",
        "nonce": "0x0000000000000000",
        "number": "0x112a880",
        "timestamp": "0x65f1b057",
        "miner": "0x95222290dd7278aa3ddd389cc1e1d165cc4bafe5",
        "gasLimit": "0x1c9c380",
        "gasUsed": "0x5208",
        "baseFeePerGas": "0x7",
        "difficulty": "0x0",
        "mixHash": "0x1111111111111111111111111111111111111111111111111111111111111111",
        "excessBlobGas": "0x80000",
        "blobGasUsed": "0x20000",
        "logsBloom": format!("0x{}", "00".repeat(256)),
        "receiptsRoot": "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421",
        "uncles": [],
        "transactions": transactions(),
    })
}

/// The transactions of [`block_json`] (a literal of its own: one `json!` for the whole
/// block exceeds the macro recursion limit).
fn transactions() -> Value {
    serde_json::json!([
            {
                "type": "0x0", "from": "0x00000000000000000000000000000000000000aa",
                "to": "0x00000000000000000000000000000000000000bb", "gas": "0x5208",
                "gasPrice": "0x10", "value": "0x1", "input": "0x", "nonce": "0x0",
                "v": "0x25", "r": "0x1", "s": "0x2", "chainId": "0x1", "hash": SOME_HASH
            },
            {
                "type": "0x2", "from": "0x00000000000000000000000000000000000000aa",
                "to": null, "gas": "0x10000", "maxFeePerGas": "0x20",
                "maxPriorityFeePerGas": "0x2", "gasPrice": "0x9", "value": "0x0",
                "input": "0x6000", "nonce": "0x1", "chainId": "0x1", "v": "0x1",
                "yParity": "0x1", "r": "0x1", "s": "0x2", "hash": SOME_HASH,
                "accessList": [{"address": "0x00000000000000000000000000000000000000cc",
                                "storageKeys": ["0x0000000000000000000000000000000000000000000000000000000000000001"]}]
            },
            {
                "type": "0x3", "from": "0x00000000000000000000000000000000000000aa",
                "to": "0x00000000000000000000000000000000000000bb", "gas": "0x5208",
                "maxFeePerGas": "0x20", "maxPriorityFeePerGas": "0x2",
                "maxFeePerBlobGas": "0x3", "value": "0x0", "input": "0x", "nonce": "0x2",
                "chainId": "0x1", "accessList": [], "yParity": "0x0", "r": "0x1", "s": "0x2",
                "hash": SOME_HASH,
                "blobVersionedHashes": ["0x0100000000000000000000000000000000000000000000000000000000000001"]
            }
    ])
}

pub(super) fn pre_state_json() -> Value {
    serde_json::json!({
        "0x00000000000000000000000000000000000000aa": {"balance": "0xde0b6b3a7640000", "nonce": 0, "storage": {}},
        "0x00000000000000000000000000000000000000bb": {
            "balance": "0x0", "nonce": 1,
            "code_hash": keccak256(hex::decode(&CODE[2..]).unwrap()).to_string(),
            "storage": {"0x0": "0x2a", "0x0000000000000000000000000000000000000000000000000000000000000005": "0x1"}
        }
    })
}

pub(super) fn bytecodes_json() -> Value {
    let hash = keccak256(hex::decode(&CODE[2..]).unwrap()).to_string();
    serde_json::json!({ hash: CODE })
}

pub(super) fn write(dir: &Path, name: &str, value: &Value) {
    fs::write(dir.join(name), serde_json::to_vec(value).unwrap()).unwrap();
}

pub(super) fn write_gz(dir: &Path, name: &str, value: &Value) {
    use std::io::Write;
    let file = fs::File::create(dir.join(name)).unwrap();
    let mut enc = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    enc.write_all(&serde_json::to_vec(value).unwrap()).unwrap();
    enc.finish().unwrap();
}

/// A complete, valid block folder (block.json compressed, the rest plain).
pub(super) fn valid_dir(name: &str) -> PathBuf {
    let dir = temp_dir(name);
    write_gz(&dir, "block.json.gz", &block_json());
    write(&dir, "pre_state.json", &pre_state_json());
    write(&dir, "bytecodes.json", &bytecodes_json());
    write(
        &dir,
        "block_hashes.json",
        &serde_json::json!({"19000000": format!("0x{}", "ab".repeat(32))}),
    );
    dir
}

pub(super) fn load_err(dir: &Path) -> String {
    match load_block_dir(dir) {
        Ok(_) => panic!("{} loaded, expected an error", dir.display()),
        Err(e) => e.to_string(),
    }
}
