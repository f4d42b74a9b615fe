//! What a block's transactions reveal before any of them runs: how many there are, and how
//! many come from one sender. Transactions of one sender depend on each other through the
//! sender's nonce, so they run one after another under every strategy: the largest such
//! group bounds the block's critical path from below, and with it any speedup.

use std::collections::HashMap;

use revm::primitives::Address;

use super::block::Block;
use crate::core::FastHash;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    pub txs: usize,
    /// The sender with the most transactions, and how many it has.
    pub busiest_sender: Option<(Address, usize)>,
}

impl Shape {
    pub fn of(block: &Block) -> Self {
        let mut per_sender: HashMap<Address, usize, FastHash> = HashMap::default();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workloads;

    #[test]
    fn a_chain_of_one_sender_has_no_parallelism() {
        let (block, _) = workloads::from_spec("chain:txs=50").unwrap();
        let shape = Shape::of(&block);
        assert_eq!(shape.txs, 50);
        assert_eq!(shape.busiest_sender.map(|(_, n)| n), Some(50));
        assert_eq!(shape.parallelism_bound(), 1.0);
    }

    #[test]
    fn independent_transfers_have_distinct_senders() {
        let (block, _) = workloads::from_spec("transfers:txs=200,accounts=100000,hot=0").unwrap();
        let shape = Shape::of(&block);
        let (_, most) = shape.busiest_sender.unwrap();
        assert!(most <= 3, "one sender has {most} of 200 transfers");
        assert!(shape.parallelism_bound() >= 60.0);
    }

    #[test]
    fn an_empty_block_has_no_sender() {
        let (mut block, _) = workloads::from_spec("chain:txs=1").unwrap();
        block.txs.clear();
        let shape = Shape::of(&block);
        assert_eq!(shape.busiest_sender, None);
        assert_eq!(shape.parallelism_bound(), 1.0);
    }
}
