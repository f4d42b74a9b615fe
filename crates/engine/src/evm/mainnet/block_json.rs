//! `block.json`: the block environment, the header fields checked after execution, the
//! chain id and the transactions.

use std::path::Path;

use revm::context::BlockEnv;
use revm::context_interface::block::BlobExcessGasAndPrice;
use revm::primitives::eip4844::{
    BLOB_BASE_FEE_UPDATE_FRACTION_CANCUN, BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE,
};
use revm::primitives::hardfork::SpecId;
use revm::primitives::U256;
use serde_json::Value;

use super::fields::Obj;
use super::hex::{address_value, b256_value, bloom_value, u256_value, u64_value};
use super::spec::mainnet_spec;
use super::tx::parse_tx;
use super::{LoadError, MAINNET_CHAIN_ID};
use crate::evm::block::{Block, HeaderFields};

pub(super) fn parse_block(
    path: &Path,
    json: &Value,
    spec_override: Option<SpecId>,
) -> Result<Block, LoadError> {
    let obj = Obj::new(json, path, String::new())?;
    let number = obj.req("number", u64_value)?;
    let timestamp = obj.req("timestamp", u64_value)?;
    let spec = spec_override.unwrap_or_else(|| mainnet_spec(number, timestamp));

    let blob_excess_gas_and_price = match obj.opt("excessBlobGas", u64_value)? {
        Some(excess) => Some(blob_excess_gas_and_price(excess, spec).ok_or_else(|| {
            obj.err(
                "excessBlobGas",
                format!("blob gas price for excess blob gas {excess} overflows"),
            )
        })?),
        // revm requires a blob gas price from Cancun on.
        None if spec.is_enabled_in(SpecId::CANCUN) => blob_excess_gas_and_price(0, spec),
        None => None,
    };
    let env = BlockEnv {
        number: U256::from(number),
        beneficiary: obj.req("miner", address_value)?,
        timestamp: U256::from(timestamp),
        gas_limit: obj.req("gasLimit", u64_value)?,
        basefee: obj.opt("baseFeePerGas", u64_value)?.unwrap_or(0),
        difficulty: obj.req("difficulty", u256_value)?,
        prevrandao: obj.opt("mixHash", b256_value)?,
        blob_excess_gas_and_price,
        ..BlockEnv::default()
    };

    let header = HeaderFields {
        gas_used: obj.req("gasUsed", u64_value)?,
        logs_bloom: obj.req("logsBloom", bloom_value)?,
        receipts_root: obj.req("receiptsRoot", b256_value)?,
        requests_hash: None, // read by `block_level`
    };

    let mut chain_id: Option<u64> = None;
    let tx_values = obj.array("transactions", true)?;
    let mut txs = Vec::with_capacity(tx_values.len());
    for (i, value) in tx_values.iter().enumerate() {
        let tx = Obj::new(value, path, format!("transactions[{i}]"))?;
        if let Some(id) = tx.opt("chainId", u64_value)? {
            match chain_id {
                None => chain_id = Some(id),
                Some(first) if first != id => {
                    return Err(tx.err(
                        "chainId",
                        format!(
                            "chain id {id} differs from chain id {first} of an earlier transaction"
                        ),
                    ))
                }
                Some(_) => {}
            }
        }
        txs.push(parse_tx(&tx)?);
    }

    Ok(Block {
        label: number.to_string(),
        env,
        spec,
        chain_id: chain_id.unwrap_or(MAINNET_CHAIN_ID),
        txs,
        header: Some(header),
        level: Default::default(), // read by `block_level`
    })
}

/// The blob gas price for an excess blob gas, with the update fraction of the spec
/// (Cancun's 3338477 before Prague), or `None` if the price does not fit in 128 bits
/// (revm's computation would overflow).
pub fn blob_excess_gas_and_price(
    excess_blob_gas: u64,
    spec: SpecId,
) -> Option<BlobExcessGasAndPrice> {
    let fraction = if spec.is_enabled_in(SpecId::PRAGUE) {
        BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE
    } else {
        BLOB_BASE_FEE_UPDATE_FRACTION_CANCUN
    };
    blob_price_fits(excess_blob_gas, fraction)
        .then(|| BlobExcessGasAndPrice::new(excess_blob_gas, fraction))
}

/// Whether revm's `fake_exponential(MIN_BLOB_GASPRICE = 1, excess, fraction)` runs without
/// overflow: the same loop with checked arithmetic.
fn blob_price_fits(excess_blob_gas: u64, fraction: u64) -> bool {
    let (numerator, denominator) = (u128::from(excess_blob_gas), u128::from(fraction));
    let mut i: u128 = 1;
    let mut output: u128 = 0;
    let mut accum = denominator;
    while accum > 0 {
        let Some(sum) = output.checked_add(accum) else {
            return false;
        };
        output = sum;
        let (Some(num), Some(den)) = (accum.checked_mul(numerator), denominator.checked_mul(i))
        else {
            return false;
        };
        accum = num / den;
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use std::fs;

    #[test]
    fn disagreeing_chain_ids_are_an_error() {
        let dir = valid_dir("chainid");
        let mut block = block_json();
        block["transactions"][2]["chainId"] = Value::String("0x5".into());
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
        assert!(blob_excess_gas_and_price(0x80000, SpecId::CANCUN).is_some());
        assert!(blob_excess_gas_and_price(100_000_000, SpecId::CANCUN).is_some());
        assert!(blob_excess_gas_and_price(u64::MAX, SpecId::CANCUN).is_none());
        let dir = valid_dir("blobgas");
        let mut block = block_json();
        block["excessBlobGas"] = Value::String("0xffffffffffffffff".into());
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
