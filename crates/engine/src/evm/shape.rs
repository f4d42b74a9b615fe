//! What a block's transactions reveal before any of them runs: how many there are, and how
//! many come from one sender. Transactions of one sender depend on each other through the
//! sender's nonce, so they run one after another under every strategy: the largest such
//! group bounds the block's critical path from below, and with it any speedup.

use std::collections::HashMap;

use revm::primitives::map::AddressMap;
use revm::primitives::Address;

use super::block::Block;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    pub txs: usize,
    /// The sender with the most transactions, and how many it has.
    pub busiest_sender: Option<(Address, usize)>,
}

impl Shape {
    pub fn of(block: &Block) -> Self {
        let mut per_sender: AddressMap<usize> = HashMap::default();
        for tx in &block.txs {
            *per_sender.entry(tx.caller).or_default() += 1;
        }
        Self {
            txs: block.txs.len(),
            busiest_sender: per_sender.into_iter().max_by_key(|&(a, n)| (n, a)),
        }
    }

    /// The most any parallel execution can gain over sequential: the block's transactions
    /// over its longest same-sender chain (an upper bound: other dependencies only lower
    /// it).
    pub fn parallelism_bound(&self) -> f64 {
        match self.busiest_sender {
            Some((_, n)) if n > 0 => self.txs as f64 / n as f64,
            _ => 1.0,
        }
    }
}
