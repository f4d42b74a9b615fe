//! A whole tiny block of mock transactions executed by 2 workers running the production
//! Block-STM loop (`strategies::block_stm::BlockStm::work`) over the production scheduler
//! and the lock-based multi-version memory: every interleaving ends with the sequential
//! result. The conflicts make validations fail and incarnations re-execute, so the done
//! marker races newly scheduled tasks here too.
#![cfg(all(stmlab_loom, not(stmlab_mutant_double_abort)))]

use loom::sync::Arc;
use loom::thread;
use stmlab_core::metrics::Metrics;
use stmlab_core::mock::{same_results, MockBlock, MockTxn};
use stmlab_core::mvmemory::locked::LockedMvMemory;
use stmlab_core::strategies::block_stm::BlockStm;

/// Transaction 1 reads what 0 writes, and 2 reads what 1 writes; write sets depend on
/// what was read, so they change between incarnations.
fn conflicting_block(n: usize) -> MockBlock {
    let txns = vec![
        MockTxn {
            reads: vec![0],
            write_variants: vec![vec![1]],
            spin: 0,
            ..MockTxn::default()
        },
        MockTxn {
            reads: vec![1],
            write_variants: vec![vec![0], vec![0, 1]],
            spin: 0,
            ..MockTxn::default()
        },
        MockTxn {
            reads: vec![0, 1],
            write_variants: vec![vec![1]],
            spin: 0,
            ..MockTxn::default()
        },
    ];
    MockBlock {
        txns: txns.into_iter().take(n).collect(),
    }
}

fn run_with_two_workers(n: usize) {
    loom::model(move || {
        let block = Arc::new(conflicting_block(n));
        let run = Arc::new(BlockStm::<MockBlock, LockedMvMemory<u64, u64>>::new(n));
        let other = {
            let (block, run) = (block.clone(), run.clone());
            thread::spawn(move || run.work(&block))
        };
        run.work(&block).unwrap();
        other.join().unwrap().unwrap();
        let run = Arc::try_unwrap(run).ok().expect("workers are done");
        let got = run.finish(&mut Metrics::default()).unwrap();
        assert!(
            same_results(&got, &block.sequential()),
            "differs from sequential"
        );
    });
}

#[test]
fn two_transactions_two_workers() {
    run_with_two_workers(2);
}

#[test]
fn three_transactions_two_workers() {
    run_with_two_workers(3);
}
