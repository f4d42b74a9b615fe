//! Blob parameters (EIP-7840's blob schedule, alloy's [`BlobParams`]) by fork and, on
//! mainnet, by timestamp, with the blob-parameter-only forks after Osaka (EIP-7892); and
//! the blob gas price of a block.

use alloy_eips::eip7840::BlobParams;
use revm::context_interface::block::BlobExcessGasAndPrice;
use revm::primitives::hardfork::SpecId;

/// Mainnet activation of BPO1 (target 10, max 15, update fraction 8346193).
pub const MAINNET_BPO1_TIMESTAMP: u64 = 1_765_290_071;
/// Mainnet activation of BPO2 (target 14, max 21, update fraction 11684671).
pub const MAINNET_BPO2_TIMESTAMP: u64 = 1_767_747_671;

/// The blob parameters a fork starts with, `None` before Cancun: Cancun target 3, max 6;
/// Prague and Osaka target 6, max 9 (Osaka also caps a transaction at 6 blobs, EIP-7594).
/// This is the schedule of a fork named in `spec.txt`.
pub fn fork_blob_params(spec: SpecId) -> Option<BlobParams> {
    if spec.is_enabled_in(SpecId::OSAKA) {
        Some(BlobParams::osaka())
    } else if spec.is_enabled_in(SpecId::PRAGUE) {
        Some(BlobParams::prague())
    } else if spec.is_enabled_in(SpecId::CANCUN) {
        Some(BlobParams::cancun())
    } else {
        None
    }
}

/// The blob parameters of a mainnet block of fork `spec` at `timestamp`: the fork's, or
/// from Osaka on those of the latest blob-parameter-only fork active at `timestamp`.
pub fn mainnet_blob_params(spec: SpecId, timestamp: u64) -> Option<BlobParams> {
    if spec.is_enabled_in(SpecId::OSAKA) && timestamp >= MAINNET_BPO2_TIMESTAMP {
        Some(BlobParams::bpo2())
    } else if spec.is_enabled_in(SpecId::OSAKA) && timestamp >= MAINNET_BPO1_TIMESTAMP {
        Some(BlobParams::bpo1())
    } else {
        fork_blob_params(spec)
    }
}

/// The most blobs one transaction of fork `spec` may carry (revm's
/// `CfgEnv::max_blobs_per_tx`); blob-parameter-only forks keep Osaka's limit.
pub fn max_blobs_per_tx(spec: SpecId) -> Option<u64> {
    fork_blob_params(spec).map(|params| params.max_blobs_per_tx)
}

/// The blob gas price for an excess blob gas under a base-fee update fraction, or `None`
/// if the price does not fit in 128 bits (revm's computation would overflow) or the
/// fraction is zero or does not fit in 64 bits.
pub fn blob_excess_gas_and_price(
    excess_blob_gas: u64,
    update_fraction: u128,
) -> Option<BlobExcessGasAndPrice> {
    let fraction = u64::try_from(update_fraction).ok().filter(|&f| f > 0)?;
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
    use super::*;

    /// (target, max, update fraction, max per transaction).
    fn shape(params: Option<BlobParams>) -> Option<(u64, u64, u128, u64)> {
        params.map(|p| {
            (
                p.target_blob_count,
                p.max_blob_count,
                p.update_fraction,
                p.max_blobs_per_tx,
            )
        })
    }

    #[test]
    fn schedule_by_fork() {
        assert_eq!(shape(fork_blob_params(SpecId::SHANGHAI)), None);
        assert_eq!(
            shape(fork_blob_params(SpecId::CANCUN)),
            Some((3, 6, 3_338_477, 6))
        );
        assert_eq!(
            shape(fork_blob_params(SpecId::PRAGUE)),
            Some((6, 9, 5_007_716, 9))
        );
        assert_eq!(
            shape(fork_blob_params(SpecId::OSAKA)),
            Some((6, 9, 5_007_716, 6))
        );
        assert_eq!(max_blobs_per_tx(SpecId::LONDON), None);
        assert_eq!(max_blobs_per_tx(SpecId::CANCUN), Some(6));
        assert_eq!(max_blobs_per_tx(SpecId::PRAGUE), Some(9));
        assert_eq!(max_blobs_per_tx(SpecId::OSAKA), Some(6));
    }

    #[test]
    fn bpo_forks_by_timestamp() {
        let osaka = 1_764_798_551;
        assert_eq!(
            shape(mainnet_blob_params(SpecId::OSAKA, osaka)),
            Some((6, 9, 5_007_716, 6))
        );
        assert_eq!(
            shape(mainnet_blob_params(SpecId::OSAKA, 1_765_290_070)),
            Some((6, 9, 5_007_716, 6))
        );
        assert_eq!(
            shape(mainnet_blob_params(SpecId::OSAKA, 1_765_290_071)),
            Some((10, 15, 8_346_193, 6))
        );
        assert_eq!(
            shape(mainnet_blob_params(SpecId::OSAKA, 1_767_747_670)),
            Some((10, 15, 8_346_193, 6))
        );
        assert_eq!(
            shape(mainnet_blob_params(SpecId::OSAKA, 1_767_747_671)),
            Some((14, 21, 11_684_671, 6))
        );
        // Blob-parameter-only forks come after Osaka: an earlier fork keeps its own.
        assert_eq!(
            shape(mainnet_blob_params(SpecId::PRAGUE, 1_767_747_671)),
            Some((6, 9, 5_007_716, 9))
        );
    }

    #[test]
    fn huge_excess_blob_gas_has_no_price() {
        assert!(blob_excess_gas_and_price(0x80000, 3_338_477).is_some());
        assert!(blob_excess_gas_and_price(100_000_000, 3_338_477).is_some());
        assert!(blob_excess_gas_and_price(u64::MAX, 3_338_477).is_none());
        assert!(blob_excess_gas_and_price(1, 0).is_none());
        assert!(blob_excess_gas_and_price(1, u128::MAX).is_none());
        assert_eq!(
            blob_excess_gas_and_price(0x80000, 11_684_671).map(|b| b.blob_gasprice),
            Some(BlobExcessGasAndPrice::new(0x80000, 11_684_671).blob_gasprice)
        );
    }
}
