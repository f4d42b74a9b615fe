//! The production strategies and both multi-version memories on mock transactions whose
//! read and write sets change between incarnations: every result equals sequential
//! execution of the same block.

use proptest::prelude::*;
use stmlab::core::metrics::Metrics;
use stmlab::core::mock::{same_results, MockBlock, Teeth};
use stmlab::core::mvmemory::locked::LockedMvMemory;
use stmlab::core::mvmemory::lockfree::LockFreeMvMemory;
use stmlab::strategies::{block_stm, dag, sv};

fn check_block_stm(block: &MockBlock, threads: usize) {
    let expected = block.sequential();
    let mut m = Metrics::default();
    let got = block_stm::execute::<_, LockFreeMvMemory<u64, u64>>(block, threads, &mut m).unwrap();
    assert!(
        same_results(&got, &expected),
        "lock-free block-stm at {threads} threads"
    );
    assert!(m.executions >= block.txns.len() as u64);
    assert_eq!(m.aborts_by_kind.values().sum::<u64>(), m.aborts, "{m:?}");
    let mut m = Metrics::default();
    let got = block_stm::execute::<_, LockedMvMemory<u64, u64>>(block, threads, &mut m).unwrap();
    assert!(
        same_results(&got, &expected),
        "locked block-stm at {threads} threads"
    );
}

/// A generated block; with `deltas` > 0 some transactions credit keys by deltas, resolve
/// delta chains with reads below a bound, and peek keys they record only if used.
fn block(n: usize, keys: u64, seed: u64, deltas: u64) -> MockBlock {
    let teeth = Teeth {
        deltas,
        ..Teeth::default()
    };
    MockBlock::generate_with(n, keys, seed, teeth)
}

/// Delta chains on few keys, every strategy: long chains of credits, resolved and settled,
/// and the metrics count some conflicts under "delta".
#[test]
fn delta_chains_on_few_keys() {
    let mut by_kind = std::collections::BTreeMap::new();
    for seed in 0..6 {
        let block = block(800, 4, seed, 90);
        let chains = block.txns.iter().filter(|t| !t.resolves.is_empty()).count();
        assert!(chains > 100, "{chains} transactions resolve a chain");
        let expected = block.sequential();
        check_block_stm(&block, 4);
        for threads in [1, 3] {
            let mut m = Metrics::default();
            let got = sv::execute(&block, threads, &mut m).unwrap();
            assert!(same_results(&got, &expected), "sv at {threads} threads");
            let mut m2 = Metrics::default();
            let got = dag::execute(&block, threads, &mut m2).unwrap();
            assert!(same_results(&got, &expected), "dag at {threads} threads");
            for m in [m, m2] {
                // Every thrown-away execution is blamed on one read.
                assert_eq!(m.aborts_by_kind.values().sum::<u64>(), m.aborts, "{m:?}");
                for (k, v) in m.aborts_by_kind {
                    *by_kind.entry(k).or_insert(0u64) += v;
                }
            }
        }
    }
    assert!(by_kind.contains_key("key"), "{by_kind:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn block_stm_equals_sequential(n in 300usize..5000, keys in 10u64..100, seed in any::<u64>(), threads in 1usize..5, deltas in prop_oneof![Just(0u64), 1u64..80]) {
        check_block_stm(&block(n, keys, seed, deltas), threads);
    }

    #[test]
    fn sv_equals_sequential(n in 300usize..3000, keys in 10u64..100, seed in any::<u64>(), threads in 1usize..5, deltas in prop_oneof![Just(0u64), 1u64..80]) {
        let block = block(n, keys, seed, deltas);
        let mut m = Metrics::default();
        let got = sv::execute(&block, threads, &mut m).unwrap();
        prop_assert!(same_results(&got, &block.sequential()));
    }

    #[test]
    fn dag_equals_sequential_with_delta_chains(n in 100usize..2000, keys in 3u64..60, seed in any::<u64>(), threads in 1usize..5, deltas in 1u64..90) {
        let block = block(n, keys, seed, deltas);
        let mut m = Metrics::default();
        let got = dag::execute(&block, threads, &mut m).unwrap();
        prop_assert!(same_results(&got, &block.sequential()));
    }
}

#[test]
fn hot_keys_many_threads() {
    // Few keys: nearly every transaction conflicts; 8 threads on this 2-core machine.
    for seed in 0..5 {
        check_block_stm(&MockBlock::generate(1000, 3, seed), 8);
    }
}

#[test]
fn empty_and_single() {
    check_block_stm(&MockBlock::default(), 2);
    check_block_stm(&MockBlock::generate(1, 5, 1), 2);
}

/// Two writers publish the same fresh keys at once (transactions 3 and 7): for every key
/// one of them loses the race to insert its list and must put its entry into the winner's
/// (`VersionList::into_first_entry`). Both entries must be there afterwards, each where a
/// reader expects it. The memory is sized for far fewer keys, so the index grows (moves
/// its entries) while they race: with the version lists held in the index's entries, a
/// writer's entry went into a moved-from copy and was lost (commit 41c5364; 200 rounds
/// catch it every run, 20 did not).
#[test]
fn racing_writers_of_new_keys_keep_both_entries() {
    use std::sync::Barrier;
    use stmlab::core::mvmemory::lockfree::LockFreeMvMemory;
    use stmlab::core::mvmemory::MvMemory;
    use stmlab::core::txn::{ReadResult, Version};

    const KEYS: u64 = 2000;
    for round in 0..200u64 {
        let memory = LockFreeMvMemory::<u64, u64>::new(8);
        let barrier = Barrier::new(2);
        std::thread::scope(|s| {
            for txn in [3usize, 7] {
                let (memory, barrier) = (&memory, &barrier);
                s.spawn(move || {
                    let writes: Vec<(u64, u64)> = (0..KEYS)
                        .map(|k| (round * KEYS + k, k * 10 + txn as u64))
                        .collect();
                    barrier.wait();
                    memory.record(Version::new(txn, 0), &writes, &[]);
                });
            }
        });
        for k in 0..KEYS {
            let key = round * KEYS + k;
            let at = |reader: usize| match memory.read(&key, reader) {
                ReadResult::Written { version, value } => Some((version.txn_idx, value)),
                _ => None,
            };
            assert_eq!(at(8), Some((7, k * 10 + 7)), "key {key}: the later write");
            assert_eq!(at(7), Some((3, k * 10 + 3)), "key {key}: the earlier write");
            assert_eq!(at(3), None, "key {key}: nothing below 3");
        }
    }
}
