//! Keys with a sole writer (`Key::sole_writer`: an EVM transaction's fee) live in a slot of
//! their transaction instead of the multi-version memory's index. These blocks exercise
//! that path in every strategy and both memories, and the path where the hint is wrong (a
//! transaction writes another's sole-writer key, or two of its own), against sequential
//! execution.

use std::collections::HashMap;
use std::convert::Infallible;

use proptest::prelude::*;
use stmlab::core::metrics::Metrics;
use stmlab::core::mvmemory::locked::LockedMvMemory;
use stmlab::core::mvmemory::lockfree::LockFreeMvMemory;
use stmlab::core::txn::{Execution, Key, ReadResult, StateView, TxnExecutor, TxnIndex, TxnResult};
use stmlab::strategies::{block_stm, dag, sv};

/// A shared key, or one of transaction `i`'s own two (its "fee", and a second one, which
/// cannot share the slot and lives in the index).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum K {
    Shared(u64),
    Own(TxnIndex),
    OwnB(TxnIndex),
}

impl Key for K {
    fn sole_writer(&self) -> Option<TxnIndex> {
        match self {
            K::Own(i) | K::OwnB(i) => Some(*i),
            K::Shared(_) => None,
        }
    }
}

fn mix(a: u64, b: u64) -> u64 {
    (a ^ b.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .rotate_left(31)
        .wrapping_mul(0xBF58_476D_1CE4_E5B9)
}

fn base(key: &K) -> u64 {
    match key {
        K::Shared(k) => mix(*k, 7),
        K::Own(i) => mix(*i as u64, 11),
        K::OwnB(i) => mix(*i as u64, 13),
    }
}

struct Txn {
    reads: Vec<K>,
    /// Shared keys written; the own key is written when the accumulator says so, so an
    /// incarnation may stop writing it (its entry removed) or start again.
    writes: Vec<u64>,
    /// Keys owned by other transactions (or a second own-like key) that this one writes
    /// when the accumulator says so: the hint broken.
    foreign: Vec<K>,
}

struct Block {
    txns: Vec<Txn>,
}

impl Block {
    fn generate(n: usize, keys: u64, lying: bool, seed: u64) -> Self {
        let mut s = seed;
        let mut next = move || {
            s = mix(s, 0x5EED);
            s
        };
        let txns = (0..n)
            .map(|i| {
                let mut reads: Vec<K> = (0..1 + next() % 3)
                    .map(|_| K::Shared(next() % keys))
                    .collect();
                // Like the beneficiary's read: the fees of a few earlier transactions.
                if i > 0 && next() % 3 == 0 {
                    let first = (next() as usize) % i;
                    reads.extend((first..i).take(8).map(K::Own));
                    reads.extend((first..i).take(4).map(K::OwnB));
                }
                let writes = (0..next() % 3).map(|_| next() % keys).collect();
                let foreign = if lying && next() % 4 == 0 {
                    let owner = (next() as usize) % n;
                    vec![if next() % 2 == 0 {
                        K::Own(owner)
                    } else {
                        K::OwnB(owner)
                    }]
                } else {
                    Vec::new()
                };
                Txn {
                    reads,
                    writes,
                    foreign,
                }
            })
            .collect();
        Self { txns }
    }

    fn run(
        &self,
        i: TxnIndex,
        mut read: impl FnMut(&K) -> Result<u64, TxnIndex>,
    ) -> Execution<K, u64, u64, Infallible> {
        let txn = &self.txns[i];
        let mut acc = mix(i as u64, 3);
        for key in &txn.reads {
            match read(key) {
                Ok(v) => acc = mix(acc, v),
                Err(on) => return Execution::Blocked { on },
            }
        }
        let mut writes: Vec<(K, u64)> = txn
            .writes
            .iter()
            .map(|&k| (K::Shared(k), mix(acc, k)))
            .collect();
        // A second own key, written first now and then: it takes the slot, and `Own(i)`
        // then lives in the index (for this block's run of the memory).
        if acc % 3 == 0 {
            writes.push((K::OwnB(i), mix(acc, 98)));
        }
        if acc % 4 != 0 {
            writes.push((K::Own(i), mix(acc, 99)));
        }
        if acc % 2 == 0 {
            writes.extend(txn.foreign.iter().map(|&k| (k, mix(acc, 5))));
        }
        Execution::Done {
            writes,
            output: acc,
        }
    }

    fn sequential(&self) -> Vec<TxnResult<K, u64, u64>> {
        let mut state: HashMap<K, u64> = HashMap::new();
        (0..self.txns.len())
            .map(|i| {
                let Execution::Done { writes, output } =
                    self.run(i, |k| Ok(state.get(k).copied().unwrap_or_else(|| base(k))))
                else {
                    unreachable!("sequential reads never block")
                };
                state.extend(writes.iter().copied());
                TxnResult { writes, output }
            })
            .collect()
    }
}

impl TxnExecutor for Block {
    type Key = K;
    type Value = u64;
    type Output = u64;
    type Error = Infallible;

    fn num_txns(&self) -> usize {
        self.txns.len()
    }

    fn execute<S: StateView<K, u64>>(
        &self,
        i: TxnIndex,
        view: &mut S,
    ) -> Execution<K, u64, u64, Infallible> {
        self.run(i, |k| match view.read(k) {
            ReadResult::Written { value, .. } => Ok(value),
            ReadResult::Base => Ok(base(k)),
            ReadResult::Estimate(on) => Err(on),
        })
    }
}

fn same(a: &[TxnResult<K, u64, u64>], b: &[TxnResult<K, u64, u64>]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            let mx: HashMap<_, _> = x.writes.iter().copied().collect();
            let my: HashMap<_, _> = y.writes.iter().copied().collect();
            x.output == y.output && mx == my
        })
}

fn check(block: &Block, threads: usize) {
    let expected = block.sequential();
    let mut m = Metrics::default();
    let got = block_stm::execute::<_, LockFreeMvMemory<K, u64>>(block, threads, &mut m).unwrap();
    assert!(
        same(&got, &expected),
        "lock-free block-stm at {threads} threads"
    );
    let got = block_stm::execute::<_, LockedMvMemory<K, u64>>(block, threads, &mut m).unwrap();
    assert!(
        same(&got, &expected),
        "locked block-stm at {threads} threads"
    );
    let got = dag::execute(block, threads, &mut m).unwrap();
    assert!(same(&got, &expected), "dag at {threads} threads");
    let got = sv::execute(block, threads, &mut m).unwrap();
    assert!(same(&got, &expected), "sv at {threads} threads");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn sole_writer_keys_equal_sequential(n in 100usize..2000, keys in 5u64..60, lying in any::<bool>(), seed in any::<u64>(), threads in 1usize..9) {
        // Perturbed schedules in a `--features perturb` build (a no-op otherwise): the
        // moves of misplaced keys race their owners' writes and the readers.
        stmlab::perturb::configure(Some(seed));
        check(&Block::generate(n, keys, lying, seed), threads);
        stmlab::perturb::configure(None);
    }
}

#[test]
fn broken_hints_many_threads() {
    for seed in 0..4 {
        check(&Block::generate(800, 4, true, seed), 8);
    }
}

/// The memory itself: an entry in a slot is found by later readers only, turns into an
/// ESTIMATE and back, and is removed when an incarnation stops writing it; a key another
/// transaction writes moves to the index with its owner's entry, the later writer
/// winning; a transaction's second own key lives in the index.
#[test]
fn memory_reads_slots_and_spills() {
    use stmlab::core::mvmemory::MvMemory;
    use stmlab::core::txn::Version;
    /// The memory with each transaction's last recorded write set, which the memory's
    /// caller hands back (`MvMemory::record`).
    struct Tracked<M> {
        m: M,
        last: Vec<Vec<(K, u64)>>,
    }
    impl<M: MvMemory<K, u64>> Tracked<M> {
        fn record(&mut self, v: Version, writes: &[(K, u64)]) -> bool {
            let wrote_new = self.m.record(v, writes, &self.last[v.txn_idx]);
            self.last[v.txn_idx] = writes.to_vec();
            wrote_new
        }
        fn mark_estimates(&self, txn: usize) {
            self.m.mark_estimates(txn, &self.last[txn]);
        }
        fn read(&self, key: &K, txn: usize) -> ReadResult<u64> {
            self.m.read(key, txn)
        }
        fn read_origin(&self, key: &K, txn: usize) -> Result<Option<Version>, usize> {
            self.m.read_origin(key, txn)
        }
    }
    fn exercise<M: MvMemory<K, u64>>() {
        let mut m = Tracked {
            m: M::new(6),
            last: vec![Vec::new(); 6],
        };
        assert!(m.record(Version::new(2, 0), &[(K::Own(2), 20)]));
        assert_eq!(m.read(&K::Own(2), 2), ReadResult::Base);
        assert_eq!(
            m.read(&K::Own(2), 3),
            ReadResult::Written {
                version: Version::new(2, 0),
                value: 20
            }
        );
        m.mark_estimates(2);
        assert_eq!(m.read(&K::Own(2), 5), ReadResult::Estimate(2));
        assert!(!m.record(Version::new(2, 1), &[(K::Own(2), 21)]));
        assert_eq!(m.read_origin(&K::Own(2), 5), Ok(Some(Version::new(2, 1))));
        // Incarnation 2 writes something else: the own key is removed.
        assert!(m.record(Version::new(2, 2), &[(K::Shared(1), 1)]));
        assert_eq!(m.read(&K::Own(2), 5), ReadResult::Base);
        // Transaction 4 writes transaction 2's key (the hint broken): readers above 4 see
        // 4's write; readers at 3 see 2's again once it writes it back.
        assert!(m.record(Version::new(2, 3), &[(K::Own(2), 23)]));
        assert!(m.record(Version::new(4, 0), &[(K::Own(2), 40)]));
        assert_eq!(m.read_origin(&K::Own(2), 5), Ok(Some(Version::new(4, 0))));
        assert_eq!(m.read_origin(&K::Own(2), 4), Ok(Some(Version::new(2, 3))));
        m.mark_estimates(4);
        assert_eq!(m.read(&K::Own(2), 5), ReadResult::Estimate(4));
        // Transaction 1 writes its own key and one owned by transaction 5 (foreign: it
        // goes to the index, with nothing to move out of 5's empty slot).
        assert!(m.record(Version::new(1, 0), &[(K::Own(1), 10), (K::Own(5), 15)]));
        assert_eq!(m.read_origin(&K::Own(5), 6), Ok(Some(Version::new(1, 0))));
        assert_eq!(m.read_origin(&K::Own(1), 2), Ok(Some(Version::new(1, 0))));
        assert_eq!(m.read_origin(&K::Own(1), 1), Ok(None));
        // Transaction 5 then writes its own key: it has moved to the index, and the later
        // of the two writers wins for readers above 5.
        assert!(m.record(Version::new(5, 0), &[(K::Own(5), 50)]));
        assert_eq!(m.read_origin(&K::Own(5), 6), Ok(Some(Version::new(5, 0))));
        assert_eq!(m.read_origin(&K::Own(5), 5), Ok(Some(Version::new(1, 0))));
        // Transaction 3's two own keys: the one written first takes the slot; when an
        // incarnation drops it and writes the other alone, that one lives in the index.
        assert!(m.record(Version::new(3, 0), &[(K::OwnB(3), 30)]));
        assert!(m.record(Version::new(3, 1), &[(K::Own(3), 31)]));
        assert_eq!(m.read(&K::OwnB(3), 4), ReadResult::Base);
        assert_eq!(
            m.read(&K::Own(3), 4),
            ReadResult::Written {
                version: Version::new(3, 1),
                value: 31
            }
        );
        assert!(m.record(Version::new(3, 2), &[(K::OwnB(3), 32), (K::Own(3), 33)]));
        assert_eq!(m.read_origin(&K::OwnB(3), 4), Ok(Some(Version::new(3, 2))));
        assert_eq!(m.read_origin(&K::Own(3), 4), Ok(Some(Version::new(3, 2))));
        m.mark_estimates(3);
        assert_eq!(m.read(&K::OwnB(3), 4), ReadResult::Estimate(3));
        assert_eq!(m.read(&K::Own(3), 4), ReadResult::Estimate(3));
    }
    exercise::<LockFreeMvMemory<K, u64>>();
    exercise::<LockedMvMemory<K, u64>>();
}
