//! Adaptive mode's choice: whether a block should run sequentially whatever strategy was
//! asked for, because parallel execution cannot gain on it. Decided first from the block
//! alone (how many transactions, one sender's chain, a real block's header gas), then,
//! for a block without a header, from a short timed sequential probe of its first
//! transactions (`engine::execute_block_with` runs the probe and keeps its work when the
//! choice is sequential). Every threshold was measured on this project's machine and
//! blocks; each says what data it rests on.

use std::borrow::Cow;
use std::time::Duration;

use crate::evm::block::Block;
use crate::evm::shape::Shape;

/// Blocks with fewer transactions than this per worker thread run sequentially (adaptive
/// mode): starting workers and building the shared structures costs more than the few
/// transactions each would get.
pub const MIN_TXS_PER_THREAD: usize = 8;

/// Why adaptive mode ran a block sequentially, as `Metrics::chose_sequential` holds it.
pub type Reason = Cow<'static, str>;

/// The reason given for a block of fewer than [`MIN_TXS_PER_THREAD`] transactions a thread.
pub const FEW_TRANSACTIONS: &str = "fewer than 8 transactions per thread";

/// Blocks whose parallelism bound (transactions over the longest same-sender chain) is
/// below this run sequentially (adaptive mode): at best they would gain a few percent, at
/// worst re-execute most transactions.
pub const MIN_PARALLELISM: f64 = 1.5;

/// Real blocks whose header's gas used averages less than this per transaction run
/// sequentially (adaptive mode). Measured on the bundled mainnet blocks (`--raw`
/// Block-STM at 2 threads, two runs): every block under 32,000 gas a transaction was
/// slower than sequential but one (1.04-1.06x); of the 12 blocks above 45,000 and 2 ms,
/// 10 were faster in both runs. The timed probe alone misjudges such blocks: their first
/// transactions are the expensive ones.
pub const MIN_GAS_PER_TX: u64 = 45_000;

/// Real blocks whose header's gas used is below this run sequentially (adaptive mode):
/// the header's stand-in for [`MIN_BLOCK_COST`]. Measured on the bundled mainnet blocks
/// (`--raw` Block-STM at 2 threads, three runs): of the blocks above [`MIN_GAS_PER_TX`],
/// those under 10 million gas (2-3 ms here) gained nothing reliably (0.87-1.17x), those
/// above gained in most runs (0.88-1.49x).
pub const MIN_BLOCK_GAS: u64 = 10_000_000;

/// Transactions adaptive mode executes sequentially, timed, before choosing on a block
/// without a header: one in [`PROBE_SHARE`] of them, at least [`PROBE_TXS`] and at most
/// [`MAX_PROBE_TXS`]; kept if it chooses sequential execution, thrown away otherwise (at
/// most 1/32 of the work done twice). The first transactions run on cold caches and cost
/// more than the rest: a probe of 8 on 10,000 ERC-20 transfers measured them above 8 µs
/// each where the block averages 5.
pub const PROBE_TXS: usize = 8;
pub const PROBE_SHARE: usize = 32;
pub const MAX_PROBE_TXS: usize = 64;

/// How many transactions adaptive mode probes in a block of `txs`.
pub fn probe_size(txs: usize) -> usize {
    (txs / PROBE_SHARE).clamp(PROBE_TXS, MAX_PROBE_TXS)
}

/// Blocks whose probed transactions took less than this each run sequentially (adaptive
/// mode): Block-STM's own cost per transaction at 2 threads on this machine is a few
/// microseconds (multi-version reads and writes, validation, scheduling), so cheaper
/// transactions lose more than a second core gives back. Measured: on the bundled
/// mainnet blocks, `--raw` Block-STM at 2 threads was slower than sequential on every
/// block averaging under 6 µs a transaction, faster on most above 8 µs.
pub const MIN_TX_COST: Duration = Duration::from_micros(8);

/// Blocks whose estimated sequential time (probed cost per transaction times their
/// number) is below this run sequentially (adaptive mode): starting the workers and
/// building the shared structures takes a good part of a millisecond here.
pub const MIN_BLOCK_COST: Duration = Duration::from_micros(1500);

/// Why a block of `txs` transactions costing `per_tx` each (as probed) should run
/// sequentially, if it should.
pub fn cost_choice(per_tx: Duration, txs: usize) -> Option<Reason> {
    let estimate = per_tx * txs as u32;
    if per_tx < MIN_TX_COST {
        return Some(Reason::Owned(format!(
            "probed {:.1} µs a transaction, under {} µs",
            per_tx.as_secs_f64() * 1e6,
            MIN_TX_COST.as_micros()
        )));
    }
    if estimate < MIN_BLOCK_COST {
        return Some(Reason::Owned(format!(
            "about {:.2} ms sequentially, under {:.1} ms",
            estimate.as_secs_f64() * 1e3,
            MIN_BLOCK_COST.as_secs_f64() * 1e3
        )));
    }
    None
}

/// Why `block` should run sequentially on `threads` threads in adaptive mode, if it
/// should: decided from the block alone, before anything executes.
pub fn sequential_choice(block: &Block, threads: usize) -> Option<Reason> {
    let txs = block.txs.len();
    // Told by the block's length alone, before its shape is taken (a map of its senders:
    // on a block of one transaction, a few percent of the block).
    if txs < MIN_TXS_PER_THREAD * threads {
        // Not formatted: on a block of one transaction a formatted reason cost a few
        // percent of the block (the row shows the count of transactions anyway).
        return Some(Reason::Borrowed(FEW_TRANSACTIONS));
    }
    if let Some(header) = &block.header {
        // A real block's header says how much gas its transactions used: a low average
        // means mostly transfers and other cheap calls.
        let per_tx = header.gas_used / txs.max(1) as u64;
        if per_tx < MIN_GAS_PER_TX {
            return Some(Reason::Owned(format!(
                "header: {per_tx} gas a transaction on average, under {MIN_GAS_PER_TX}"
            )));
        }
        if header.gas_used < MIN_BLOCK_GAS {
            return Some(Reason::Owned(format!(
                "header: {} gas in all, under {MIN_BLOCK_GAS}",
                header.gas_used
            )));
        }
    }
    let shape = Shape::of(block);
    let bound = shape.parallelism_bound();
    if bound < MIN_PARALLELISM {
        let (sender, n) = shape.busiest_sender.unwrap_or_default();
        return Some(Reason::Owned(format!(
            "sender {sender} has {n} of {} transactions: at most {bound:.2}x from parallelism",
            shape.txs
        )));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_few_transactions_reason_names_the_threshold() {
        assert!(FEW_TRANSACTIONS.contains(&format!("fewer than {MIN_TXS_PER_THREAD} ")));
    }

    #[test]
    fn the_probe_is_a_thirty_second_of_the_block_within_bounds() {
        assert_eq!(probe_size(10), PROBE_TXS);
        assert_eq!(probe_size(320), 10);
        assert_eq!(probe_size(100_000), MAX_PROBE_TXS);
    }

    #[test]
    fn cheap_or_small_blocks_are_chosen_sequential_by_cost() {
        let us = Duration::from_micros;
        // Cheap transactions: sequential whatever the block's size.
        assert!(cost_choice(us(2), 100_000)
            .unwrap()
            .contains("µs a transaction"));
        // Costly ones, but too few to pay for the workers.
        assert!(cost_choice(us(50), 20).unwrap().contains("ms sequentially"));
        // Costly enough, and enough of them.
        assert_eq!(cost_choice(us(50), 100), None);
        assert_eq!(cost_choice(MIN_TX_COST, 1_000), None);
    }
}
