//! Loads real mainnet blocks from folders of JSON files (see `data/mainnet/README.md`).
//!
//! A block folder holds `block.json` (the `eth_getBlockByNumber(N, true)` object),
//! `pre_state.json`, `bytecodes.json` and `block_hashes.json`; each may instead be present
//! gzip-compressed as `<name>.json.gz`. An optional `spec.txt` names the hardfork to use
//! instead of the mainnet rule.
//!
//! Nothing here panics on bad input: every problem is a [`LoadError`] naming the file and
//! the field.
//!
//! The parts: [`LoadError`] (`error.rs`); reading a file, plain or gzip-compressed
//! (`files.rs`); deserializing with field paths in errors (`read.rs`); the hardfork of a
//! block (`spec.rs`) and its blob parameters (`blobs.rs`); `block.json` as alloy's RPC
//! block (`block_json.rs`) and its transactions (`tx.rs`, with `tx_fields.rs` naming the
//! field of one that does not read); the pre-block state files (`prestate.rs`); the
//! block-level facts, `uncles.json` and `post_state.json` (`block_level.rs`).

mod blobs;
mod block_json;
mod block_level;
mod error;
mod files;
mod prestate;
mod read;
mod spec;
mod tx;
mod tx_fields;

#[cfg(test)]
mod fixtures;

use std::fs;
use std::path::{Path, PathBuf};

pub use blobs::{
    blob_excess_gas_and_price, fork_blob_params, mainnet_blob_params, max_blobs_per_tx,
    MAINNET_BPO1_TIMESTAMP, MAINNET_BPO2_TIMESTAMP,
};
pub use block_level::load_post_state;
pub use error::LoadError;
pub use spec::{mainnet_spec, parse_spec_name, MAINNET_OSAKA_TIMESTAMP};

use super::block::Block;
use super::state::InMemoryState;
use block_json::parse_block;
use files::read_json;
use prestate::{parse_block_hashes, parse_bytecodes, parse_pre_state};
use spec::read_spec_override;

/// The JSON files of a block folder, without their `.json` / `.json.gz` extension.
const BLOCK_FILE: &str = "block";
const PRE_STATE_FILE: &str = "pre_state";
const BYTECODES_FILE: &str = "bytecodes";
const BLOCK_HASHES_FILE: &str = "block_hashes";
/// The optional hardfork override.
pub const SPEC_FILE: &str = "spec.txt";

/// The mainnet chain id, used when no transaction carries a `chainId`.
pub const MAINNET_CHAIN_ID: u64 = 1;

/// Whether `dir` is a block folder (holds `block.json` or `block.json.gz`).
pub fn is_block_dir(dir: &Path) -> bool {
    dir.join("block.json").is_file() || dir.join("block.json.gz").is_file()
}

/// The block folders at `path`: `path` itself if it is a block folder, else its
/// sub-folders that are block folders, sorted by numeric name (numeric names first, in
/// numeric order), then by name.
pub fn find_block_dirs(path: &Path) -> Result<Vec<PathBuf>, LoadError> {
    if is_block_dir(path) {
        return Ok(vec![path.to_path_buf()]);
    }
    let io = |source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut dirs = Vec::new();
    for entry in fs::read_dir(path).map_err(io)? {
        let entry = entry.map_err(io)?;
        let sub = entry.path();
        if sub.is_dir() && is_block_dir(&sub) {
            dirs.push(sub);
        }
    }
    if dirs.is_empty() {
        return Err(LoadError::NoBlocks {
            path: path.to_path_buf(),
        });
    }
    dirs.sort_by_cached_key(|d| {
        let name = d
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let number = name.parse::<u64>().ok();
        (number.is_none(), number, name)
    });
    Ok(dirs)
}

/// Loads a block folder: the block (env, spec, chain id, transactions, header fields) and
/// the pre-block state it reads.
pub fn load_block_dir(dir: &Path) -> Result<(Block, InMemoryState), LoadError> {
    let (block_path, block_json) = read_json(dir, BLOCK_FILE)?;
    let spec_override = read_spec_override(dir)?;
    let (level, requests_hash) = block_level::read_block_level(dir, &block_path, &block_json)?;
    let mut block = parse_block(&block_path, block_json, spec_override)?;
    block.level = level;
    if let Some(header) = &mut block.header {
        header.requests_hash = requests_hash;
    }

    let mut state = InMemoryState::default();
    let (path, json) = read_json(dir, BYTECODES_FILE)?;
    parse_bytecodes(&path, &json, &mut state)?;
    drop(json);
    let (path, json) = read_json(dir, PRE_STATE_FILE)?;
    parse_pre_state(&path, &json, &mut state)?;
    drop(json);
    let (path, json) = read_json(dir, BLOCK_HASHES_FILE)?;
    parse_block_hashes(&path, &json, &mut state)?;
    Ok((block, state))
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;
    use revm::context_interface::block::BlobExcessGasAndPrice;
    use revm::primitives::hardfork::SpecId;
    use revm::primitives::{Address, Bytes, TxKind, B256, U256};
    use serde_json::Value;

    #[test]
    fn loads_a_valid_folder() {
        let dir = valid_dir("valid");
        let (block, state) = load_block_dir(&dir).unwrap();
        assert_eq!(block.label, "18000000");
        assert_eq!(block.spec, SpecId::CANCUN);
        assert_eq!(block.chain_id, 1);
        assert_eq!(block.env.basefee, 7);
        assert_eq!(block.env.gas_limit, 30_000_000);
        let blob = block.env.blob_excess_gas_and_price.unwrap();
        assert_eq!(blob.excess_blob_gas, 0x80000);
        assert_eq!(
            blob.blob_gasprice,
            BlobExcessGasAndPrice::new(0x80000, 3_338_477).blob_gasprice
        );
        assert_eq!(block.header.as_ref().unwrap().gas_used, 21_000);
        assert_eq!(block.txs.len(), 3);
        let t0 = &block.txs[0];
        assert_eq!((t0.tx_type, t0.chain_id, t0.gas_price), (0, Some(1), 16));
        assert_eq!(t0.gas_priority_fee, None);
        let t1 = &block.txs[1];
        assert_eq!(
            (t1.tx_type, t1.gas_price, t1.gas_priority_fee),
            (2, 32, Some(2))
        );
        assert_eq!(t1.kind, TxKind::Create);
        assert_eq!(t1.access_list.0.len(), 1);
        assert_eq!(t1.data, Bytes::from(vec![0x60, 0x00]));
        let t2 = &block.txs[2];
        assert_eq!(
            (t2.tx_type, t2.max_fee_per_blob_gas, t2.blob_hashes.len()),
            (3, 3, 1)
        );

        let bb: Address = "0x00000000000000000000000000000000000000bb"
            .parse()
            .unwrap();
        let info = &state.accounts[&bb];
        assert_eq!(info.nonce, 1);
        assert_eq!(
            info.code.as_ref().unwrap().original_bytes(),
            CODE.parse::<Bytes>().unwrap()
        );
        assert_eq!(state.storage[&bb][&U256::ZERO], U256::from(42));
        assert_eq!(state.storage[&bb][&U256::from(5)], U256::from(1));
        assert_eq!(state.block_hashes[&19_000_000], B256::repeat_byte(0xab));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn invalid_hex_field_is_named() {
        let dir = valid_dir("badhex");
        fs::remove_file(dir.join("block.json.gz")).unwrap();
        let bad_block = |edit: &dyn Fn(&mut Value)| {
            let mut block = block_json();
            edit(&mut block);
            write(&dir, "block.json", &block);
            load_err(&dir)
        };
        let msg = bad_block(&|b| b["transactions"][1]["gas"] = "0xzz".into());
        assert!(
            msg.ends_with("block.json: transactions[1].gas: invalid value: string \"0xzz\", expected a 8 byte hex string"),
            "{msg}"
        );
        let msg = bad_block(&|b| b["miner"] = "0x1234".into());
        assert!(
            msg.contains("block.json: miner: invalid string length"),
            "{msg}"
        );
        let msg = bad_block(&|b| {
            b.as_object_mut().unwrap().remove("gasUsed");
        });
        assert!(msg.ends_with("block.json: gasUsed: missing"), "{msg}");
        let msg = bad_block(&|b| {
            b.as_object_mut().unwrap().remove("transactions");
        });
        assert!(msg.ends_with("block.json: transactions: missing"), "{msg}");
        let msg = bad_block(&|b| b["transactions"] = "0x12".into());
        assert!(
            msg.contains("block.json: transactions: invalid type: string \"0x12\""),
            "{msg}"
        );

        // Fields inside a transaction, below alloy's tagged transaction enum.
        let msg = bad_block(&|b| b["transactions"][0]["from"] = "0x12".into());
        assert!(
            msg.contains("block.json: transactions[0].from: invalid string length"),
            "{msg}"
        );
        let msg = bad_block(&|b| {
            b["transactions"][2]
                .as_object_mut()
                .unwrap()
                .remove("maxFeePerBlobGas");
        });
        assert!(
            msg.ends_with("block.json: transactions[2].maxFeePerBlobGas: missing"),
            "{msg}"
        );
        let msg =
            bad_block(&|b| b["transactions"][1]["accessList"][0]["storageKeys"][0] = "0x01".into());
        assert!(
            msg.contains("block.json: transactions[1].accessList[0].storageKeys[0]: "),
            "{msg}"
        );
        let msg = bad_block(&|b| b["transactions"][2]["blobVersionedHashes"] = true.into());
        assert!(
            msg.contains("block.json: transactions[2].blobVersionedHashes: invalid type"),
            "{msg}"
        );
        let msg = bad_block(&|b| b["transactions"][1]["type"] = "0x7".into());
        assert!(
            msg.ends_with("block.json: transactions[1].type: unsupported transaction type 7"),
            "{msg}"
        );
        let msg = bad_block(&|b| b["transactions"][1]["r"] = "0xzz".into());
        assert!(
            msg.contains("block.json: transactions[1].r: invalid value"),
            "{msg}"
        );
        let msg = bad_block(&|b| {
            b["transactions"][0].as_object_mut().unwrap().remove("hash");
        });
        assert!(
            msg.ends_with("block.json: transactions[0].hash: missing"),
            "{msg}"
        );

        write(&dir, "block.json", &block_json());
        let mut pre = pre_state_json();
        pre["0x00000000000000000000000000000000000000aa"]["balance"] = Value::from(-1);
        write(&dir, "pre_state.json", &pre);
        let msg = load_err(&dir);
        assert!(
            msg.contains("pre_state.json: 0x00000000000000000000000000000000000000aa.balance"),
            "{msg}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn pre_state_errors_are_named() {
        let dir = valid_dir("badstate");
        let bb = "0x00000000000000000000000000000000000000bb";
        let mut pre = pre_state_json();
        pre[bb]["storage"]["0x0"] = "0xzz".into();
        write(&dir, "pre_state.json", &pre);
        let msg = load_err(&dir);
        assert!(
            msg.contains(&format!("pre_state.json: {bb}.storage.0x0: invalid value")),
            "{msg}"
        );
        let mut pre = pre_state_json();
        pre[bb]["code_hash"] = format!("0x{}", "33".repeat(32)).into();
        write(&dir, "pre_state.json", &pre);
        let msg = load_err(&dir);
        assert!(
            msg.contains(&format!(
                "pre_state.json: {bb}.code_hash: no code with hash 0x3333"
            )),
            "{msg}"
        );
        let mut pre = pre_state_json();
        pre["0x12"] = pre[bb].clone();
        write(&dir, "pre_state.json", &pre);
        let msg = load_err(&dir);
        assert!(msg.contains("pre_state.json: 0x12: "), "{msg}");
        write(&dir, "pre_state.json", &pre_state_json());

        let mut codes = bytecodes_json();
        let key = codes.as_object().unwrap().keys().next().unwrap().clone();
        codes[&key] = "0x6002600055".into();
        write(&dir, "bytecodes.json", &codes);
        let msg = load_err(&dir);
        assert!(
            msg.contains(&format!("bytecodes.json: {key}: keccak256 of the code is")),
            "{msg}"
        );
        write(&dir, "bytecodes.json", &bytecodes_json());

        write(
            &dir,
            "block_hashes.json",
            &serde_json::json!({"12x": SOME_B256}),
        );
        let msg = load_err(&dir);
        assert!(msg.contains("block_hashes.json: 12x: "), "{msg}");
        write(
            &dir,
            "block_hashes.json",
            &serde_json::json!({"0x10": SOME_B256, "17": SOME_B256}),
        );
        let (_, state) = load_block_dir(&dir).unwrap();
        assert_eq!(state.block_hashes.len(), 2);
        assert!(state.block_hashes.contains_key(&16) && state.block_hashes.contains_key(&17));
        fs::remove_dir_all(&dir).unwrap();
    }

    /// Osaka by name and by mainnet timestamp, and the blob parameters that come with it:
    /// a named fork's own, and on mainnet those of BPO1 and BPO2 by timestamp.
    #[test]
    fn osaka_and_the_blob_parameter_only_forks() {
        let dir = valid_dir("osaka");
        fs::remove_file(dir.join("block.json.gz")).unwrap();
        // Large enough for the update fractions to give different prices.
        let excess = 0x200_0000;
        let price = |fraction| BlobExcessGasAndPrice::new(excess, fraction).blob_gasprice;
        let at = |timestamp: u64| {
            let mut block = block_json();
            block["timestamp"] = format!("{timestamp:#x}").into();
            block["excessBlobGas"] = format!("{excess:#x}").into();
            write(&dir, "block.json", &block);
            let block = load_block_dir(&dir).unwrap().0;
            (
                block.spec,
                block.env.blob_excess_gas_and_price.unwrap().blob_gasprice,
            )
        };
        assert_eq!(at(1_764_798_550), (SpecId::PRAGUE, price(5_007_716)));
        assert_eq!(
            at(MAINNET_OSAKA_TIMESTAMP),
            (SpecId::OSAKA, price(5_007_716))
        );
        assert_eq!(
            at(MAINNET_BPO1_TIMESTAMP - 1),
            (SpecId::OSAKA, price(5_007_716))
        );
        assert_eq!(
            at(MAINNET_BPO1_TIMESTAMP),
            (SpecId::OSAKA, price(8_346_193))
        );
        assert_eq!(
            at(MAINNET_BPO2_TIMESTAMP - 1),
            (SpecId::OSAKA, price(8_346_193))
        );
        assert_eq!(
            at(MAINNET_BPO2_TIMESTAMP),
            (SpecId::OSAKA, price(11_684_671))
        );
        let prices = [3_338_477, 5_007_716, 8_346_193, 11_684_671].map(price);
        assert!(prices.windows(2).all(|w| w[0] > w[1]), "{prices:?}");

        // A fork named in spec.txt brings its own schedule, whatever the timestamp.
        fs::write(dir.join("spec.txt"), "Osaka\n").unwrap();
        assert_eq!(at(1_000), (SpecId::OSAKA, price(5_007_716)));
        assert_eq!(
            at(MAINNET_BPO2_TIMESTAMP),
            (SpecId::OSAKA, price(5_007_716))
        );
        fs::write(dir.join("spec.txt"), "Cancun\n").unwrap();
        assert_eq!(
            at(MAINNET_BPO2_TIMESTAMP),
            (SpecId::CANCUN, price(3_338_477))
        );

        // revm's cfg gets the fork's limit of blobs per transaction.
        fs::write(dir.join("spec.txt"), "Osaka\n").unwrap();
        let (block, _) = load_block_dir(&dir).unwrap();
        assert_eq!(
            crate::evm::executor::cfg_env(&block).max_blobs_per_tx,
            Some(6)
        );
        fs::write(dir.join("spec.txt"), "Prague\n").unwrap();
        let (block, _) = load_block_dir(&dir).unwrap();
        assert_eq!(
            crate::evm::executor::cfg_env(&block).max_blobs_per_tx,
            Some(9)
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    /// Every bundled mainnet block loads, with its header fields.
    #[test]
    fn bundled_mainnet_blocks_load() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/mainnet");
        let dirs = find_block_dirs(&root).unwrap();
        assert_eq!(dirs.len(), 32);
        let mut txs = 0;
        let mut specs = Vec::new();
        for dir in &dirs {
            let (block, state) =
                load_block_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            assert_eq!(block.label, dir.file_name().unwrap().to_string_lossy());
            assert_eq!(block.chain_id, 1);
            assert!(block.header.is_some());
            assert!(
                block.is_empty() || !state.accounts.is_empty(),
                "{}",
                block.label
            );
            txs += block.len();
            specs.push(block.spec);
        }
        assert_eq!(txs, 7814);
        assert_eq!(specs.first(), Some(&SpecId::FRONTIER));
        assert_eq!(specs.last(), Some(&SpecId::CANCUN));
        assert!(specs.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn find_block_dirs_sorts_numerically() {
        let root = temp_dir("find");
        for name in ["100", "20", "abc", "3"] {
            let d = root.join(name);
            fs::create_dir_all(&d).unwrap();
            fs::write(
                d.join(if name == "20" {
                    "block.json.gz"
                } else {
                    "block.json"
                }),
                b"{}",
            )
            .unwrap();
        }
        fs::create_dir_all(root.join("empty")).unwrap();
        let names: Vec<_> = find_block_dirs(&root)
            .unwrap()
            .iter()
            .map(|d| d.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["3", "20", "100", "abc"]);
        assert_eq!(
            find_block_dirs(&root.join("3")).unwrap(),
            vec![root.join("3")]
        );
        assert!(matches!(
            find_block_dirs(&root.join("empty")),
            Err(LoadError::NoBlocks { .. })
        ));
        assert!(matches!(
            find_block_dirs(&root.join("nonexistent")),
            Err(LoadError::Io { .. })
        ));
        fs::remove_dir_all(&root).unwrap();
    }
}
