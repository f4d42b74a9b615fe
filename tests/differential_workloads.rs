//! The promise users rely on: every strategy, at every thread count, on every generated
//! workload, gives exactly the sequential output (receipts, gas, logs, final state).
//! Runs repeat, since races show up only sometimes.

use stmlab::{execute_block, workloads, Strategy};

const THREADS: [usize; 4] = [1, 2, 4, 8];
const REPEATS: usize = 3;

fn check(spec: &str) {
    let (block, state) = workloads::from_spec(spec).unwrap();
    let expected = execute_block(&block, &state, Strategy::Sequential, 1)
        .unwrap()
        .output;
    assert_eq!(expected.txs.len(), block.txs.len());
    for &strategy in Strategy::ALL.iter().filter(|s| **s != Strategy::Sequential) {
        for threads in THREADS {
            for repeat in 0..REPEATS {
                let got = execute_block(&block, &state, strategy, threads).unwrap();
                if let Some(diff) = got.output.first_difference(&expected) {
                    panic!("{spec}: {strategy} at {threads} threads (repeat {repeat}): {diff}");
                }
                assert!(
                    got.metrics.fell_back.is_none(),
                    "{spec}: {strategy} fell back"
                );
            }
        }
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
