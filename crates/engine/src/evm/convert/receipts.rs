//! Our receipts as alloy's: [`ReceiptEnvelope`] (the EIP-2718 typed receipt with its
//! bloom), whose encoding is what the header's receipts root commits to.

use alloy_consensus::{Eip658Value, Receipt as AlloyReceipt, ReceiptEnvelope, TxType};
use revm::primitives::hardfork::SpecId;

use super::ConvertError;
use crate::evm::block::Block;
use crate::evm::output::{Receipt, TxOutcome};

/// One receipt in alloy's form, with its EIP-658 status (the form from Byzantium on).
/// `txn` is the transaction's index in the block, for the error.
pub fn alloy_receipt(txn: usize, receipt: &Receipt) -> Result<ReceiptEnvelope, ConvertError> {
    let tx_type = TxType::try_from(receipt.tx_type).map_err(|_| ConvertError::UnknownTxType {
        txn,
        tx_type: receipt.tx_type,
    })?;
    let inner = AlloyReceipt {
        status: Eip658Value::Eip658(receipt.success),
        cumulative_gas_used: receipt.cumulative_gas_used,
        logs: receipt.logs.clone(),
    };
    Ok(ReceiptEnvelope::from_typed(tx_type, inner.with_bloom()))
}

/// The block's receipts in alloy's form, in block order: one per included transaction
/// (a rejected transaction has none). Only from Byzantium on, where a receipt's status
/// is what the execution gives (before, it is an intermediate state root).
pub fn alloy_receipts(
    block: &Block,
    txs: &[TxOutcome],
) -> Result<Vec<ReceiptEnvelope>, ConvertError> {
    if !block.spec.is_enabled_in(SpecId::BYZANTIUM) {
        return Err(ConvertError::PreByzantiumReceipts { spec: block.spec });
    }
    txs.iter()
        .enumerate()
        .filter_map(|(i, t)| t.as_ref().ok().map(|r| (i, r)))
        .map(|(i, r)| alloy_receipt(i, r))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::TxReceipt;
    use revm::primitives::{Address, Log, LogData, B256};

    fn receipt(tx_type: u8, success: bool) -> Receipt {
        Receipt {
            tx_type,
            success,
            gas_used: 21_000,
            cumulative_gas_used: 42_000,
            logs: vec![Log {
                address: Address::repeat_byte(9),
                data: LogData::new_unchecked(vec![B256::repeat_byte(1)], Default::default()),
            }],
        }
    }

    fn block(spec: SpecId) -> Block {
        Block::empty(spec)
    }

    #[test]
    fn receipts_keep_type_status_gas_logs_and_bloom() {
        for tx_type in 0..=4 {
            let ours = receipt(tx_type, tx_type % 2 == 0);
            let theirs = alloy_receipt(0, &ours).unwrap();
            assert_eq!(theirs.tx_type() as u8, tx_type);
            assert_eq!(theirs.status(), ours.success);
            assert_eq!(theirs.cumulative_gas_used(), 42_000);
            assert_eq!(theirs.logs(), ours.logs.as_slice());
            assert_eq!(theirs.bloom(), crate::evm::header::logs_bloom(&ours.logs));
        }
    }

    #[test]
    fn unknown_types_and_old_forks_are_errors() {
        assert_eq!(
            alloy_receipt(3, &receipt(0x7e, true)),
            Err(ConvertError::UnknownTxType {
                txn: 3,
                tx_type: 0x7e
            })
        );
        let txs = vec![Ok(receipt(0, true)), Err("nonce too low".to_string())];
        assert!(matches!(
            alloy_receipts(&block(SpecId::HOMESTEAD), &txs),
            Err(ConvertError::PreByzantiumReceipts { .. })
        ));
        // A rejected transaction has no receipt.
        assert_eq!(
            alloy_receipts(&block(SpecId::CANCUN), &txs).unwrap().len(),
            1
        );
    }
}
