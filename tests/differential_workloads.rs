//! The promise users rely on: every strategy, at every thread count, on every generated
//! workload, gives exactly the sequential output (receipts, gas, logs, final state).
//! Runs repeat, since races show up only sometimes.

mod common;

use stmlab_workloads as workloads;

const REPEATS: usize = 3;

/// Also checks that sequential execution included every transaction and none reverted:
/// a generator whose transactions fail would measure nothing.
fn check(spec: &str) {
    let (block, state) = workloads::from_spec(spec).unwrap();
    let expected = common::check_all_strategies(&block, &state, REPEATS);
    for (i, t) in expected.txs.iter().enumerate() {
        let receipt = t
            .as_ref()
            .unwrap_or_else(|e| panic!("{spec}: tx {i} rejected: {e}"));
        assert!(receipt.success, "{spec}: tx {i} reverted");
    }
}

#[test]
fn transfers_independent() {
    check("transfers:txs=300,accounts=3000,hot=0");
}

#[test]
fn transfers_hot() {
    check("transfers:txs=300,accounts=600,hot=0.3");
}

#[test]
fn transfers_reused_senders() {
    check("transfers:txs=300,accounts=50,hot=0.1");
}

#[test]
fn erc20_independent() {
    check("erc20:txs=300,accounts=3000,hot=0");
}

#[test]
fn erc20_hot() {
    check("erc20:txs=300,accounts=500,hot=0.5,hot_accounts=2");
}

#[test]
fn chain() {
    check("chain:txs=200");
}

#[test]
fn amm_independent() {
    check("amm:txs=200,pools=200");
}

#[test]
fn amm_few_pools() {
    check("amm:txs=200,pools=4");
}

#[test]
fn amm_hot() {
    check("amm:txs=200,pools=200,hot=0.5");
}

#[test]
fn amm_one_pool() {
    check("amm:txs=100,pools=1");
}

#[test]
fn compute_independent() {
    check("compute:txs=200,iters=20,shared=0");
}

#[test]
fn compute_shared() {
    check("compute:txs=200,iters=20,shared=0.3");
}

#[test]
fn mixed() {
    check("mixed:txs=300");
}

#[test]
fn mixed_hot() {
    check("mixed:txs=300,transfers=0.5,erc20=0.3,amm=0.2,accounts=200,pools=4,hot=0.3");
}

/// Adaptive mode (the library default) runs a chain of one sender's transactions, and a
/// block too small to share out, sequentially, says so in the metrics, and still gives
/// the sequential output. On a block worth sharing out, the choice rests on a timed probe
/// (so on the machine's load): whichever way it goes, the output is sequential's and the
/// metrics say which way it went.
#[test]
fn adaptive_mode_chooses_sequential_only_where_nothing_can_be_gained() {
    use stmlab::{execute_block, Strategy};
    for (spec, threads, chooses) in [
        ("chain:txs=300", 2, Some(true)),
        ("transfers:txs=10,accounts=1000,hot=0", 2, Some(true)),
        ("amm:txs=300,pools=300", 2, None),
    ] {
        let (block, state) = stmlab_workloads::from_spec(spec).unwrap();
        let expected = execute_block(&block, &state, Strategy::Sequential, 1).unwrap();
        for strategy in [Strategy::Sv, Strategy::Dag, Strategy::BlockStm] {
            let run = execute_block(&block, &state, strategy, threads).unwrap();
            let what = format!("{spec} {strategy}: {:?}", run.metrics.chose_sequential);
            assert_eq!(
                run.output.first_difference(&expected.output),
                None,
                "{what}"
            );
            if let Some(chooses) = chooses {
                assert_eq!(run.metrics.chose_sequential.is_some(), chooses, "{what}");
            }
            match &run.metrics.chose_sequential {
                // Sequential: every transaction executed exactly once, nothing validated.
                Some(_) => {
                    assert_eq!(run.metrics.executions, block.txs.len() as u64, "{what}");
                    assert_eq!(run.metrics.validations, 0, "{what}");
                }
                None => assert!(run.metrics.validations > 0, "{what}: ran in parallel"),
            }
        }
    }
}

/// A block of 4,096 transactions or more: at 2 threads and up, Block-STM frees its memory
/// on a second worker while it collects the results (`finish_freeing_beside`), a path
/// that smaller blocks never take. With conflicts, so the memory holds aborted versions.
#[test]
fn large_block_frees_its_memory_beside_the_collection() {
    check("transfers:txs=4500,accounts=9000,hot=0.2");
}
