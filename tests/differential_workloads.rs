//! The promise users rely on: every strategy, at every thread count, on every generated
//! workload, gives exactly the sequential output (receipts, gas, logs, final state).
//! Runs repeat, since races show up only sometimes.

mod common;

use stmlab::workloads;

const REPEATS: usize = 3;

fn check(spec: &str) {
    let (block, state) = workloads::from_spec(spec).unwrap();
    common::check_all_strategies(&block, &state, REPEATS);
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
