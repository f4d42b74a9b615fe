//! Naming the field of a transaction that alloy refused: the transaction read again as
//! the plain alloy structs inside alloy's RPC transaction (the sender and hash, the
//! consensus transaction of its `type`, the signature), each with field paths.

use std::path::Path;

use alloy_consensus::{TxEip1559, TxEip2930, TxEip4844, TxEip7702, TxLegacy};
use alloy_primitives::{Address, Signature, B256, U256, U64, U8};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use super::read::{field_error, from_value, join};
use super::LoadError;

/// The fields of an RPC transaction around the consensus transaction (only their
/// presence and form matter here).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct Envelope {
    /// The EIP-2718 type; absent on legacy transactions from before EIP-2718.
    #[serde(default, rename = "type")]
    ty: Option<U8>,
    from: Address,
    hash: B256,
    #[serde(default)]
    block_hash: Option<B256>,
    #[serde(default)]
    block_number: Option<U64>,
    #[serde(default)]
    transaction_index: Option<U64>,
    #[serde(default)]
    gas_price: Option<U256>,
}

/// The error of the first field of the transaction at `field` that does not read, or
/// `None` if each part reads on its own.
pub(super) fn locate_error(value: &Value, path: &Path, field: &str) -> Option<LoadError> {
    let envelope: Envelope = match from_value(value, path, field) {
        Ok(envelope) => envelope,
        Err(e) => return Some(e),
    };
    let ty = envelope.ty.map(|t| t.to::<u8>()).unwrap_or(0);
    let body = match ty {
        0 => check::<TxLegacy>(value, path, field),
        1 => check::<TxEip2930>(value, path, field),
        2 => check::<TxEip1559>(value, path, field),
        3 => check::<TxEip4844>(value, path, field),
        4 => check::<TxEip7702>(value, path, field),
        other => {
            return Some(field_error(
                path,
                &join(field, "type"),
                &format!("unsupported transaction type {other}"),
            ))
        }
    };
    body.or_else(|| check::<Signature>(value, path, field))
}

/// The error of reading `value` as a `T`, if any.
fn check<T: DeserializeOwned>(value: &Value, path: &Path, field: &str) -> Option<LoadError> {
    from_value::<T>(value, path, field).err()
}
