//! The transactions of `block.json`: their fields by type, access lists and EIP-7702
//! authorization lists.

use revm::context::transaction::{AccessList, AccessListItem, Authorization, SignedAuthorization};
use revm::context::TxEnv;
use revm::context_interface::either::Either;
use revm::primitives::TxKind;

use super::fields::Obj;
use super::hex::{
    address_value, b256_value, bytes_value, u128_value, u256_value, u64_value, u8_value,
};
use super::LoadError;

pub(super) fn parse_tx(tx: &Obj<'_>) -> Result<TxEnv, LoadError> {
    let tx_type = tx.opt("type", u8_value)?.unwrap_or(0);
    if tx_type > 4 {
        return Err(tx.err("type", format!("unsupported transaction type {tx_type}")));
    }
    let (gas_price, gas_priority_fee) = if tx_type < 2 {
        (tx.req("gasPrice", u128_value)?, None)
    } else {
        (
            tx.req("maxFeePerGas", u128_value)?,
            Some(tx.req("maxPriorityFeePerGas", u128_value)?),
        )
    };
    let kind = match tx.opt("to", address_value)? {
        Some(to) => TxKind::Call(to),
        None => TxKind::Create,
    };
    let chain_id = if tx_type == 0 {
        // EIP-155: v = chain_id * 2 + 35 or + 36; 27 / 28 before it.
        let v = tx.req("v", u64_value)?;
        (v >= 35).then(|| (v - 35) / 2)
    } else {
        Some(tx.req("chainId", u64_value)?)
    };
    let access_list = if tx_type >= 1 {
        parse_access_list(tx)?
    } else {
        AccessList::default()
    };
    let (blob_hashes, max_fee_per_blob_gas) = if tx_type == 3 {
        let mut hashes = Vec::new();
        for (j, h) in tx.array("blobVersionedHashes", true)?.iter().enumerate() {
            hashes.push(
                b256_value(h)
                    .map_err(|reason| tx.err(&format!("blobVersionedHashes[{j}]"), reason))?,
            );
        }
        (hashes, tx.req("maxFeePerBlobGas", u128_value)?)
    } else {
        (Vec::new(), 0)
    };
    let authorization_list = if tx_type == 4 {
        parse_authorization_list(tx)?
    } else {
        Vec::new()
    };
    Ok(TxEnv {
        tx_type,
        caller: tx.req("from", address_value)?,
        gas_limit: tx.req("gas", u64_value)?,
        gas_price,
        kind,
        value: tx.req("value", u256_value)?,
        data: tx.req("input", bytes_value)?,
        nonce: tx.req("nonce", u64_value)?,
        chain_id,
        access_list,
        gas_priority_fee,
        blob_hashes,
        max_fee_per_blob_gas,
        authorization_list,
    })
}

fn parse_access_list(tx: &Obj<'_>) -> Result<AccessList, LoadError> {
    let mut items = Vec::new();
    for (j, value) in tx.array("accessList", false)?.iter().enumerate() {
        let item = Obj::new(value, tx.path, tx.field(&format!("accessList[{j}]")))?;
        let mut storage_keys = Vec::new();
        for (k, key) in item.array("storageKeys", false)?.iter().enumerate() {
            storage_keys.push(
                b256_value(key).map_err(|reason| item.err(&format!("storageKeys[{k}]"), reason))?,
            );
        }
        items.push(AccessListItem {
            address: item.req("address", address_value)?,
            storage_keys,
        });
    }
    Ok(AccessList(items))
}

type AuthorizationList =
    Vec<Either<SignedAuthorization, revm::context::transaction::RecoveredAuthorization>>;

fn parse_authorization_list(tx: &Obj<'_>) -> Result<AuthorizationList, LoadError> {
    let mut list = Vec::new();
    for (j, value) in tx.array("authorizationList", true)?.iter().enumerate() {
        let item = Obj::new(value, tx.path, tx.field(&format!("authorizationList[{j}]")))?;
        let inner = Authorization {
            chain_id: item.req("chainId", u256_value)?,
            address: item.req("address", address_value)?,
            nonce: item.req("nonce", u64_value)?,
        };
        let y_parity = match item.opt("yParity", u8_value)? {
            Some(y) => y,
            None => item.req("v", u8_value)?,
        };
        list.push(Either::Left(SignedAuthorization::new_unchecked(
            inner,
            y_parity,
            item.req("r", u256_value)?,
            item.req("s", u256_value)?,
        )));
    }
    Ok(list)
}
