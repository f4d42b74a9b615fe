//! `block.json`: the block environment, the header fields checked after execution, the
//! chain id and the transactions.
//!
//! The file is alloy's RPC block, read in its parts so that every error keeps the path of
//! its field: the consensus header the RPC block flattens in ([`alloy_consensus::Header`])
//! and each transaction on its own (`tx.rs`). Only the mapping to revm's types is ours.

use std::path::Path;

use alloy_consensus::Header;
use alloy_eips::eip7840::BlobParams;
use revm::context::BlockEnv;
use revm::primitives::hardfork::SpecId;
use revm::primitives::U256;
use serde::de::IgnoredAny;
use serde_json::Value;

use super::blobs::{blob_excess_gas_and_price, fork_blob_params, mainnet_blob_params};
use super::read::{field_error, from_value};
use super::spec::mainnet_spec;
use super::tx::{read_tx, tx_env};
use super::{LoadError, MAINNET_CHAIN_ID};
use crate::evm::block::{Block, HeaderFields};

/// The key of the transactions in the RPC block.
const TRANSACTIONS: &str = "transactions";

/// The block of `block.json` (`json`, read from `path`); `spec_override` is the fork
/// named in `spec.txt`, whose own blob parameters then apply.
pub(super) fn parse_block(
    path: &Path,
    mut json: Value,
    spec_override: Option<SpecId>,
) -> Result<Block, LoadError> {
    let header: Header = from_value(&json, path, "")?;
    let (number, timestamp) = (header.number, header.timestamp);
    let (spec, blob_params) = match spec_override {
        Some(spec) => (spec, fork_blob_params(spec)),
        None => {
            let spec = mainnet_spec(number, timestamp);
            (spec, mainnet_blob_params(spec, timestamp))
        }
    };

    // revm requires a blob gas price from Cancun on (excess blob gas 0 if the header has
    // none); a header's excess blob gas under an earlier fork named in `spec.txt` is
    // priced with Cancun's parameters, as the first fork that has them.
    let blob_price = match (header.excess_blob_gas, &blob_params) {
        (None, None) => None,
        (excess, params) => Some((
            excess.unwrap_or(0),
            params
                .as_ref()
                .map_or(BlobParams::cancun().update_fraction, |p| p.update_fraction),
        )),
    };
    let blob_excess_gas_and_price = match blob_price {
        None => None,
        Some((excess, fraction)) => {
            Some(blob_excess_gas_and_price(excess, fraction).ok_or_else(|| {
                field_error(
                    path,
                    "excessBlobGas",
                    &format!("blob gas price for excess blob gas {excess} overflows"),
                )
            })?)
        }
    };
    let env = BlockEnv {
        number: U256::from(number),
        beneficiary: header.beneficiary,
        timestamp: U256::from(timestamp),
        gas_limit: header.gas_limit,
        basefee: header.base_fee_per_gas.unwrap_or(0),
        difficulty: header.difficulty,
        prevrandao: Some(header.mix_hash),
        blob_excess_gas_and_price,
        ..BlockEnv::default()
    };
    let fields = HeaderFields {
        gas_used: header.gas_used,
        logs_bloom: header.logs_bloom,
        receipts_root: header.receipts_root,
        requests_hash: None, // read by `block_level`
    };

    let tx_values = match json.get_mut(TRANSACTIONS).map(Value::take) {
        Some(Value::Array(values)) => values,
        // serde's description of what is there instead of an array.
        Some(other) => {
            return Err(from_value::<Vec<IgnoredAny>>(&other, path, TRANSACTIONS)
                .err()
                .unwrap_or_else(|| field_error(path, TRANSACTIONS, "expected an array")))
        }
        None => return Err(field_error(path, TRANSACTIONS, "missing")),
    };
    let mut chain_id: Option<(u64, usize)> = None;
    let mut txs = Vec::with_capacity(tx_values.len());
    for (i, value) in tx_values.iter().enumerate() {
        let field = format!("{TRANSACTIONS}[{i}]");
        let tx = read_tx(value, path, &field)?;
        let env = tx_env(&tx);
        if let Some(id) = env.chain_id {
            match chain_id {
                None => chain_id = Some((id, i)),
                Some((first, j)) if first != id => {
                    return Err(field_error(
                        path,
                        &format!("{field}.chainId"),
                        &format!(
                            "chain id {id} differs from chain id {first} of transactions[{j}]"
                        ),
                    ))
                }
                Some(_) => {}
            }
        }
        txs.push(env);
    }

    Ok(Block {
        label: number.to_string(),
        env,
        spec,
        chain_id: chain_id.map_or(MAINNET_CHAIN_ID, |(id, _)| id),
        txs,
        header: Some(fields),
        level: Default::default(), // read by `block_level`
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use std::fs;

    #[test]
    fn disagreeing_chain_ids_are_an_error() {
        let dir = valid_dir("chainid");
        let mut block = block_json();
        block["transactions"][2]["chainId"] = "0x5".into();
        fs::remove_file(dir.join("block.json.gz")).unwrap();
        write(&dir, "block.json", &block);
        let msg = load_err(&dir);
        assert!(
            msg.contains("transactions[2].chainId: chain id 5 differs"),
            "{msg}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn huge_excess_blob_gas_is_an_error() {
        let dir = valid_dir("blobgas");
        let mut block = block_json();
        block["excessBlobGas"] = "0xffffffffffffffff".into();
        fs::remove_file(dir.join("block.json.gz")).unwrap();
        write(&dir, "block.json", &block);
        let msg = load_err(&dir);
        assert!(
            msg.contains("block.json: excessBlobGas: blob gas price"),
            "{msg}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
