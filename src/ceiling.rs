//! The machine's ceiling for a block: how much faster `threads` threads run it when they
//! share nothing at all. Each thread runs its contiguous share of the block's transactions
//! with plain sequential revm on its own state, with no coordination, no validation and no
//! merging; the ratio of one thread's time for the whole block to this split run's wall
//! time bounds what any parallel strategy can reach on this machine for this work.
//!
//! The threads read the pre-state through per-thread copies of the code, as Block-STM's
//! workers do (`evm::code_copies`). It is meaningful for blocks of independent transactions (the generated workloads with
//! no hot spot), where each share runs exactly as it would in the whole block. On this
//! 2-core VM it is well below 2x for the memory-bound workloads: the second core slows the
//! first.

use super::measure::{interleaved, Order};
use stmlab::core::metrics::median;
use stmlab::evm::block::Block;
use stmlab::evm::code_copies::ThreadCodeCopies;
use stmlab::evm::state::InMemoryState;
use stmlab::{execute_block, EngineError, Invariant, Strategy};

/// `block` cut into `parts` contiguous shares of its transactions.
pub fn split(block: &Block, parts: usize) -> Vec<Block> {
    let parts = parts.max(1);
    let per = block.txs.len().div_ceil(parts).max(1);
    block
        .txs
        .chunks(per)
        .map(|txs| Block {
            label: block.label.clone(),
            env: block.env.clone(),
            spec: block.spec,
            chain_id: block.chain_id,
            txs: txs.to_vec(),
            header: None,
            level: Default::default(),
        })
        .collect()
}

/// Median whole-block sequential time over the median split-run wall time, `repeat` times
/// interleaved (`measure::interleaved`, the whole block first in every repeat).
pub fn ceiling(
    block: &Block,
    state: &InMemoryState,
    threads: usize,
    repeat: usize,
) -> Result<f64, EngineError> {
    let shares = split(block, threads);
    // Slot 0 the whole block on one thread, slot 1 the split run, in that order in every
    // repeat; every block output is dropped inside its timing.
    let mut samples = interleaved(2, repeat, Order::FIXED, |slot, stopwatch| {
        if slot == 0 {
            return stopwatch
                .time(|| execute_block(block, state, Strategy::Sequential, 1).map(drop));
        }
        let (copies, ran) = stopwatch.time(|| {
            // Each thread on its own copies of the code (see `evm::code_copies`), as
            // Block-STM's workers run: otherwise every clone of a shared contract's code,
            // or of revm's one empty code, would bounce a counter between the cores.
            let copies = ThreadCodeCopies::new(state);
            let ran = std::thread::scope(|s| {
                let copies = &copies;
                let runs: Vec<_> = shares
                    .iter()
                    .map(|share| {
                        s.spawn(move || execute_block(share, copies, Strategy::Sequential, 1))
                    })
                    .collect();
                runs.into_iter().try_for_each(|r| {
                    r.join()
                        .map_err(|_| EngineError::Invariant(Invariant::WorkerPanicked))?
                        .map(drop)
                })
            });
            (copies, ran)
        });
        // The copies are freed after the clock stops.
        drop(copies);
        ran
    })?;
    let (whole, split_run) = (median(&mut samples[0]), median(&mut samples[1]));
    Ok(whole as f64 / split_run.max(1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use stmlab_workloads as workloads;

    #[test]
    fn shares_cover_the_block_in_order() {
        let (block, _) = workloads::from_spec("transfers:txs=11,accounts=100,hot=0").unwrap();
        let shares = split(&block, 2);
        assert_eq!(shares.len(), 2);
        assert_eq!(shares[0].txs.len(), 6);
        assert_eq!(shares[1].txs.len(), 5);
        let joined: Vec<_> = shares.iter().flat_map(|b| b.txs.iter().cloned()).collect();
        assert_eq!(joined, block.txs);
        assert_eq!(shares[1].env, block.env);
    }

    #[test]
    fn a_ceiling_is_a_positive_ratio() {
        let (block, state) = workloads::from_spec("transfers:txs=64,accounts=1000,hot=0").unwrap();
        let c = ceiling(&block, &state, 2, 1).unwrap();
        assert!(c.is_finite() && c > 0.0, "{c}");
    }
}
