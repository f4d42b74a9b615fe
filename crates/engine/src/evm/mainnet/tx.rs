//! The transactions of `block.json`: each read as alloy's RPC transaction
//! ([`alloy_rpc_types_eth::Transaction`]) and mapped to revm's [`TxEnv`].

use std::path::Path;

use alloy_consensus::{Transaction as _, Typed2718 as _};
use alloy_rpc_types_eth::Transaction;
use revm::context::TxEnv;
use revm::context_interface::either::Either;
use serde::Deserialize;
use serde_json::Value;

use super::read::field_error;
use super::tx_fields::locate_error;
use super::LoadError;

/// The transaction at `field` (`transactions[i]`) of the file at `path`.
///
/// alloy reads a transaction through an internally tagged enum (by `type`) and flattened
/// fields, which hide the path of a bad field; on an error the transaction is read again
/// field by field to name it (`tx_fields.rs`).
pub(super) fn read_tx(value: &Value, path: &Path, field: &str) -> Result<Transaction, LoadError> {
    Transaction::deserialize(value).map_err(|e| {
        locate_error(value, path, field).unwrap_or_else(|| field_error(path, field, &e.to_string()))
    })
}

/// The execution environment of a transaction: its type, sender, gas, fees, destination,
/// value, input, nonce, chain id, access list, blobs and EIP-7702 authorizations.
pub(super) fn tx_env(tx: &Transaction) -> TxEnv {
    TxEnv {
        tx_type: tx.ty(),
        caller: tx.inner.signer(),
        gas_limit: tx.gas_limit(),
        // The gas price before EIP-1559, the fee cap after it.
        gas_price: tx.max_fee_per_gas(),
        kind: tx.kind(),
        value: tx.value(),
        data: tx.input().clone(),
        nonce: tx.nonce(),
        // Legacy transactions: from the EIP-155 `v`, none before EIP-155.
        chain_id: tx.chain_id(),
        access_list: tx.access_list().cloned().unwrap_or_default(),
        gas_priority_fee: tx.max_priority_fee_per_gas(),
        blob_hashes: tx
            .blob_versioned_hashes()
            .map(<[_]>::to_vec)
            .unwrap_or_default(),
        max_fee_per_blob_gas: tx.max_fee_per_blob_gas().unwrap_or(0),
        authorization_list: tx
            .authorization_list()
            .map(|list| list.iter().cloned().map(Either::Left).collect())
            .unwrap_or_default(),
    }
}
