//! Mock transactions for tests, proptests, loom models and benchmarks of the core.
//!
//! A mock transaction reads a fixed list of keys, mixes what it read into an accumulator,
//! and picks its write set among several variants by that accumulator, so its write set
//! changes between incarnations whenever what it read changes. Values written are derived
//! from the accumulator too. `sequential` runs the same block one transaction after
//! another: the baseline every strategy must reproduce exactly.
//!
//! [`MockBlock::generate_with`] gives blocks with teeth ([`Teeth`]): transactions that
//! spin for random lengths (so workers overtake each other), that read the keys they
//! write (read-modify-write), and that crowd onto one hot key, so that later ones fail
//! validation again and again.

use std::collections::HashMap;
use std::convert::Infallible;

use super::txn::{Execution, ReadResult, StateView, TxnExecutor, TxnIndex, TxnResult};

#[derive(Clone, Debug)]
pub struct MockTxn {
    pub reads: Vec<u64>,
    /// Non-empty; the write set is `write_variants[acc % len]`.
    pub write_variants: Vec<Vec<u64>>,
    /// Busy work after the reads, in spin-loop iterations: how long the transaction takes.
    pub spin: u32,
}

/// What makes a generated block hard.
#[derive(Clone, Copy, Debug, Default)]
pub struct Teeth {
    /// Each transaction spins up to this many iterations (uniformly drawn).
    pub max_spin: u32,
    /// The share (out of 100) of transactions that also read every key they may write.
    pub read_own_writes: u64,
    /// The share (out of 100) of reads and writes that go to key 0.
    pub hot: u64,
}

#[derive(Clone, Debug, Default)]
pub struct MockBlock {
    pub txns: Vec<MockTxn>,
}

fn mix(a: u64, b: u64) -> u64 {
    (a ^ b.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .rotate_left(29)
        .wrapping_mul(0xBF58_476D_1CE4_E5B9)
}

/// The pre-block value of a key.
pub fn base_value(key: u64) -> u64 {
    mix(key, 0xBA5E)
}

impl MockBlock {
    /// Runs transaction `txn_idx` with reads answered by `read` (`None`: blocked on the
    /// returned transaction).
    fn run(
        &self,
        txn_idx: TxnIndex,
        mut read: impl FnMut(u64) -> Result<u64, TxnIndex>,
    ) -> Execution<u64, u64, u64, Infallible> {
        let txn = &self.txns[txn_idx];
        let mut acc = mix(txn_idx as u64, 1);
        for &key in &txn.reads {
            match read(key) {
                Ok(value) => acc = mix(acc, value),
                Err(on) => return Execution::Blocked { on },
            }
        }
        for i in 0..txn.spin {
            acc = std::hint::black_box(acc.wrapping_add(u64::from(i)));
        }
        let variant = &txn.write_variants[(acc % txn.write_variants.len() as u64) as usize];
        let writes = variant.iter().map(|&k| (k, mix(acc, k))).collect();
        Execution::Done {
            writes,
            output: acc,
        }
    }

    /// The sequential result: each transaction sees every earlier one's writes.
    pub fn sequential(&self) -> Vec<TxnResult<u64, u64, u64>> {
        let mut state: HashMap<u64, u64> = HashMap::new();
        (0..self.txns.len())
            .map(|i| {
                let execution = self.run(i, |k| {
                    Ok(state.get(&k).copied().unwrap_or_else(|| base_value(k)))
                });
                let Execution::Done { writes, output } = execution else {
                    unreachable!("sequential reads never block")
                };
                for (k, v) in &writes {
                    state.insert(*k, *v);
                }
                TxnResult { writes, output }
            })
            .collect()
    }

    /// A block of `n` transactions over `keys` keys from a seed: 1-4 reads, 1-3 write
    /// variants of 0-3 keys each.
    pub fn generate(n: usize, keys: u64, seed: u64) -> Self {
        Self::generate_with(n, keys, seed, Teeth::default())
    }

    /// `generate`, with `teeth`.
    pub fn generate_with(n: usize, keys: u64, seed: u64, teeth: Teeth) -> Self {
        let mut s = seed;
        let mut next = move || {
            s = mix(s, 0x5EED);
            s
        };
        let keys = keys.max(1);
        // With no teeth, the same stream of draws as ever: existing seeds keep their
        // blocks.
        let pick = |r: u64| {
            if teeth.hot > 0 && r % 100 < teeth.hot {
                0
            } else if teeth.hot > 0 {
                (r >> 8) % keys
            } else {
                r % keys
            }
        };
        let txns = (0..n)
            .map(|_| {
                let mut reads: Vec<u64> = (0..1 + next() % 4).map(|_| pick(next())).collect();
                let write_variants: Vec<Vec<u64>> = (0..1 + next() % 3)
                    .map(|_| (0..next() % 4).map(|_| pick(next())).collect())
                    .collect();
                if teeth.read_own_writes > 0 && next() % 100 < teeth.read_own_writes {
                    reads.extend(write_variants.iter().flatten().copied());
                }
                let spin = if teeth.max_spin == 0 {
                    0
                } else {
                    (next() % u64::from(teeth.max_spin)) as u32
                };
                MockTxn {
                    reads,
                    write_variants,
                    spin,
                }
            })
            .collect();
        Self { txns }
    }
}

impl TxnExecutor for MockBlock {
    type Key = u64;
    type Value = u64;
    type Output = u64;
    type Error = Infallible;

    fn num_txns(&self) -> usize {
        self.txns.len()
    }

    fn execute<S: StateView<u64, u64>>(
        &self,
        txn_idx: TxnIndex,
        view: &mut S,
    ) -> Execution<u64, u64, u64, Infallible> {
        self.run(txn_idx, |k| match view.read(&k) {
            ReadResult::Written { value, .. } => Ok(value),
            ReadResult::Base => Ok(base_value(k)),
            ReadResult::Estimate(on) => Err(on),
        })
    }
}

/// True when two results are the same write sets (as maps: a write set is a set of keys,
/// the last write of a key counting) and outputs.
pub fn same_results(a: &[TxnResult<u64, u64, u64>], b: &[TxnResult<u64, u64, u64>]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            let mx: HashMap<_, _> = x.writes.iter().copied().collect();
            let my: HashMap<_, _> = y.writes.iter().copied().collect();
            x.output == y.output && mx == my
        })
}
