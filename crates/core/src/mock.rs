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
//!
//! With [`Teeth::deltas`], transactions also credit keys by a *delta* (a value with the
//! [`DELTA`] bit set: an amount to add to what lies below it, as an EVM balance credit is
//! stored), resolve a key's full value by walking its chain of writers down with
//! `read_below` (the sum of the deltas down to the first full value or the pre-block
//! value), optionally settle it (write the full value back, ending the chain), and peek
//! keys that they record and use only when their accumulator says so (`peek`, then
//! `record`). The sequential reference walks the same chains over its own history.

use std::collections::HashMap;
use std::convert::Infallible;

use super::txn::{Execution, ReadResult, StateView, TxnExecutor, TxnIndex, TxnResult, Version};

/// The bit that marks a value as a delta (an amount to add to the value below it). Full
/// values are written with it clear.
pub const DELTA: u64 = 1 << 63;

#[derive(Clone, Debug, Default)]
pub struct MockTxn {
    pub reads: Vec<u64>,
    /// Non-empty; the write set is `write_variants[acc % len]`.
    pub write_variants: Vec<Vec<u64>>,
    /// Busy work after the reads, in spin-loop iterations: how long the transaction takes.
    pub spin: u32,
    /// Keys resolved to their full value by walking the delta chain, after the reads.
    pub resolves: Vec<u64>,
    /// Write each resolved key's full value (plus one) back: a debit that ends the chain.
    pub settle: bool,
    /// Keys peeked after the resolves, recorded and used only when the accumulator is even
    /// at that point (so a peek left unrecorded never changes what the transaction does).
    pub peeks: Vec<u64>,
    /// `(key, amount)`: written as the delta `DELTA | amount`, without reading the key.
    pub credits: Vec<(u64, u64)>,
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
    /// The share (out of 100) of transactions that also credit, resolve and peek keys
    /// (see the module docs).
    pub deltas: u64,
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

/// A key's full value, walking its delta chain down from what `view` reads it as (`Err`:
/// blocked on the returned transaction).
fn resolve(view: &mut impl StateView<u64, u64>, key: u64) -> Result<u64, TxnIndex> {
    let mut sum = 0u64;
    let mut found = view.read(&key);
    loop {
        match found {
            ReadResult::Written { version, value } if value & DELTA != 0 => {
                sum = sum.wrapping_add(value & !DELTA);
                // Strictly below the writer just read: the walk ends.
                found = view.read_below(&key, version.txn_idx);
            }
            ReadResult::Written { value, .. } => return Ok(sum.wrapping_add(value) & !DELTA),
            ReadResult::Base => return Ok(sum.wrapping_add(base_value(key)) & !DELTA),
            ReadResult::Estimate(on) => return Err(on),
        }
    }
}

/// The value a read gives the mock (the pre-block value for `Base`).
fn value_of(key: u64, found: ReadResult<u64>) -> Result<u64, TxnIndex> {
    match found {
        ReadResult::Written { value, .. } => Ok(value),
        ReadResult::Base => Ok(base_value(key)),
        ReadResult::Estimate(on) => Err(on),
    }
}

/// The sequential state: every write of every key so far, in block order, so that a read
/// below a bound finds the last write below it.
#[derive(Default)]
struct History(HashMap<u64, Vec<(TxnIndex, u64)>>);

impl StateView<u64, u64> for History {
    fn peek(&mut self, key: &u64, below: Option<TxnIndex>) -> ReadResult<u64> {
        let bound = below.unwrap_or(TxnIndex::MAX);
        self.0
            .get(key)
            .and_then(|list| list.iter().rev().find(|(t, _)| *t < bound))
            .map(|&(t, value)| ReadResult::Written {
                version: Version::new(t, 0),
                value,
            })
            .unwrap_or(ReadResult::Base)
    }

    fn record(&mut self, _: &u64, _: Option<TxnIndex>, _: Option<Version>) {}
}

impl MockBlock {
    /// A delta chain: transaction 0 writes key 1 in full (and credits key 9), 1 and 2
    /// credit key 1 with 7 and 11, 3 resolves key 1 by walking the chain below them.
    pub fn credit_chain() -> Self {
        let credit = |amount| MockTxn {
            write_variants: vec![vec![]],
            credits: vec![(1, amount)],
            ..MockTxn::default()
        };
        MockBlock {
            txns: vec![
                MockTxn {
                    write_variants: vec![vec![1]],
                    credits: vec![(9, 1)],
                    ..MockTxn::default()
                },
                credit(7),
                credit(11),
                MockTxn {
                    write_variants: vec![vec![]],
                    resolves: vec![1],
                    ..MockTxn::default()
                },
            ],
        }
    }

    /// Runs transaction `txn_idx` through `view`.
    fn run(
        &self,
        txn_idx: TxnIndex,
        view: &mut impl StateView<u64, u64>,
    ) -> Execution<u64, u64, u64, Infallible> {
        match self.try_run(txn_idx, view) {
            Ok((writes, output)) => Execution::Done { writes, output },
            Err(on) => Execution::Blocked { on },
        }
    }

    fn try_run(
        &self,
        txn_idx: TxnIndex,
        view: &mut impl StateView<u64, u64>,
    ) -> Result<(Vec<(u64, u64)>, u64), TxnIndex> {
        let txn = &self.txns[txn_idx];
        let mut acc = mix(txn_idx as u64, 1);
        for &key in &txn.reads {
            acc = mix(acc, value_of(key, view.read(&key))?);
        }
        let mut resolved = Vec::new();
        for &key in &txn.resolves {
            let full = resolve(view, key)?;
            acc = mix(acc, full);
            resolved.push((key, full));
        }
        for &key in &txn.peeks {
            let found = view.peek(&key, None);
            if acc % 2 == 0 {
                if !matches!(found, ReadResult::Estimate(_)) {
                    view.record(&key, None, found.origin());
                }
                acc = mix(acc, value_of(key, found)?);
            }
        }
        for i in 0..txn.spin {
            acc = std::hint::black_box(acc.wrapping_add(u64::from(i)));
        }
        let variant = &txn.write_variants[(acc % txn.write_variants.len() as u64) as usize];
        let mut writes: Vec<(u64, u64)> = variant.iter().map(|&k| (k, mix(acc, k))).collect();
        if txn.delta_ops() {
            // Full values must not look like deltas once deltas are about.
            for (_, v) in &mut writes {
                *v &= !DELTA;
            }
            for &(key, amount) in &txn.credits {
                writes.push((key, DELTA | amount));
            }
            if txn.settle {
                for &(key, full) in &resolved {
                    writes.push((key, full.wrapping_add(1) & !DELTA));
                }
            }
            // One write per key, the last one counting.
            let mut seen = std::collections::HashSet::new();
            writes.reverse();
            writes.retain(|(k, _)| seen.insert(*k));
            writes.reverse();
        }
        Ok((writes, acc))
    }

    /// The sequential result: each transaction sees every earlier one's writes.
    pub fn sequential(&self) -> Vec<TxnResult<u64, u64, u64>> {
        let mut state = History::default();
        (0..self.txns.len())
            .map(|i| {
                let execution = self.run(i, &mut state);
                let Execution::Done { writes, output } = execution else {
                    unreachable!("sequential reads never block")
                };
                for (k, v) in &writes {
                    state.0.entry(*k).or_default().push((i, *v));
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
                let mut txn = MockTxn {
                    reads,
                    write_variants,
                    spin,
                    ..MockTxn::default()
                };
                // No draws without deltas: existing seeds keep their blocks.
                if teeth.deltas > 0 && next() % 100 < teeth.deltas {
                    let r = next();
                    if r & 1 != 0 {
                        txn.credits.push((pick(next()), 1 + next() % 1000));
                    }
                    if r & 2 != 0 {
                        txn.resolves.push(pick(next()));
                        txn.settle = r & 4 != 0;
                    }
                    if r & 8 != 0 {
                        txn.peeks.push(pick(next()));
                    }
                }
                txn
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
        self.run(txn_idx, view)
    }
}

impl MockTxn {
    /// True for a transaction with delta operations (its full values are written with
    /// the [`DELTA`] bit clear).
    fn delta_ops(&self) -> bool {
        !(self.credits.is_empty() && self.resolves.is_empty() && self.peeks.is_empty())
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
