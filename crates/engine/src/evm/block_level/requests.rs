//! The block's requests (EIP-7685, from Prague): deposits (type 0x00, EIP-6110) parsed
//! from the deposit contract's DepositEvent logs, withdrawal requests (0x01, EIP-7002)
//! and consolidation requests (0x02, EIP-7251) returned by their system calls.

use alloy_eips::eip6110::{DEPOSIT_REQUEST_TYPE, MAINNET_DEPOSIT_CONTRACT_ADDRESS};
use alloy_eips::eip7685::Requests;
use revm::primitives::{b256, Address, Bytes, B256, U256};

use crate::error::InvalidBlock;
use crate::evm::output::TxOutcome;

/// The deposit contract whose logs are deposits (mainnet's).
pub const DEPOSIT_CONTRACT: Address = MAINNET_DEPOSIT_CONTRACT_ADDRESS;

/// keccak256("DepositEvent(bytes,bytes,bytes,bytes,bytes)"): the DepositEvent topic.
pub const DEPOSIT_EVENT_TOPIC: B256 =
    b256!("649bbc62d0e31342afea4e5cd82d4049e7e1ee912fc0889aa790803be39038c5");

/// A DepositEvent's fields: pubkey, withdrawal credentials, amount, signature, index, as
/// (ABI offset, size): the only layout EIP-6110 accepts.
const DEPOSIT_FIELDS: [(usize, usize); 5] = [(160, 48), (256, 32), (320, 8), (384, 96), (512, 8)];
/// The ABI-encoded size of a DepositEvent's data.
const DEPOSIT_EVENT_SIZE: usize = 576;

/// The deposit requests' data: each DepositEvent of the deposit contract in the included
/// transactions' receipts, its five fields concatenated (192 bytes a deposit).
pub fn deposit_requests(txs: &[TxOutcome]) -> Result<Vec<u8>, InvalidBlock> {
    let mut out = Vec::new();
    for (receipt, outcome) in txs.iter().enumerate() {
        let Ok(r) = outcome else { continue };
        for (log, entry) in r.logs.iter().enumerate() {
            if entry.address != DEPOSIT_CONTRACT
                || entry.topics().first() != Some(&DEPOSIT_EVENT_TOPIC)
            {
                continue;
            }
            let bad = |reason| InvalidBlock::DepositLog {
                receipt,
                log,
                reason,
            };
            parse_deposit(&entry.data.data, &mut out).map_err(bad)?;
        }
    }
    Ok(out)
}

/// Appends the fields of one DepositEvent's ABI-encoded `data` to `out`.
fn parse_deposit(data: &[u8], out: &mut Vec<u8>) -> Result<(), &'static str> {
    if data.len() != DEPOSIT_EVENT_SIZE {
        return Err("data is not 576 bytes");
    }
    let word = |at: usize| U256::from_be_slice(&data[at..at + 32]);
    for (i, (offset, size)) in DEPOSIT_FIELDS.iter().enumerate() {
        if word(i * 32) != U256::from(*offset) {
            return Err("unexpected field offset");
        }
        if word(*offset) != U256::from(*size) {
            return Err("unexpected field size");
        }
    }
    for (offset, size) in DEPOSIT_FIELDS {
        out.extend_from_slice(&data[offset + 32..offset + 32 + size]);
    }
    Ok(())
}

/// The block's requests, in type order, empty ones left out.
pub fn block_requests(deposits: Vec<u8>, typed: impl IntoIterator<Item = (u8, Bytes)>) -> Requests {
    let mut requests = Requests::default();
    requests.push_request_with_type(DEPOSIT_REQUEST_TYPE, deposits);
    for (request_type, data) in typed {
        requests.push_request_with_type(request_type, data);
    }
    requests
}
