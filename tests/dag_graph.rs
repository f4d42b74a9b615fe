//! The DAG strategy's graph at work on EVM transactions: a chain of transactions from one
//! sender inside otherwise independent transfers. The independent transfers (and the
//! chain's first transaction) commit their first execution; exactly the chain's other
//! links execute again, each once; the output is exactly the sequential one.

use revm::primitives::{Bytes, U256};
use revm::state::AccountInfo;

use stmlab::core::metrics::Metrics;
use stmlab::evm::assemble::assemble;
use stmlab::evm::block::Block;
use stmlab::evm::executor::EvmTxns;
use stmlab::evm::state::InMemoryState;
use stmlab::strategies::dag;
use stmlab::{execute_block, execute_block_with, Strategy};
use stmlab_workloads::common::{block, eoa, initial_balance, tx};

const INDEPENDENT: usize = 50;
const CHAIN: usize = 10;
const CHAIN_SENDER: usize = 500;

/// 50 transfers from distinct senders to distinct recipients, with a chain of 10
/// transfers from one sender (consecutive nonces) interleaved: one link after every five
/// independent transfers. Returns the block, its state and the chain's positions.
fn chain_in_transfers() -> (Block, InMemoryState, Vec<usize>) {
    let mut state = InMemoryState::default();
    let mut txs = Vec::new();
    let mut links = Vec::new();
    let mut next_link = 0;
    for i in 0..INDEPENDENT {
        state.insert_account(eoa(i), AccountInfo::from_balance(initial_balance()));
        let value = U256::from(1_000 + i);
        txs.push(tx(eoa(i), eoa(1_000 + i), value, Bytes::new(), 0, 21_000));
        if i % 5 == 2 && next_link < CHAIN {
            links.push(txs.len());
            let value = U256::from(7 + next_link);
            let to = eoa(2_000 + next_link);
            txs.push(tx(
                eoa(CHAIN_SENDER),
                to,
                value,
                Bytes::new(),
                next_link as u64,
                21_000,
            ));
            next_link += 1;
        }
    }
    assert_eq!(links.len(), CHAIN);
    state.insert_account(
        eoa(CHAIN_SENDER),
        AccountInfo::from_balance(initial_balance()),
    );
    (block("chain-in-transfers".into(), txs), state, links)
}

#[test]
fn chain_inside_independent_transfers() {
    let (block, state, links) = chain_in_transfers();
    let n = block.txs.len();
    assert_eq!(n, INDEPENDENT + CHAIN);
    let expected = execute_block(&block, &state, Strategy::Sequential, 1)
        .unwrap()
        .output;
    assert!(
        expected.txs.iter().all(|t| t.is_ok()),
        "every transfer succeeds"
    );
    for threads in [2, 1, 4, 8] {
        for repeat in 0..5 {
            let mut metrics = Metrics::default();
            let (results, report) =
                dag::execute_with_report(&EvmTxns::new(&block, &state), threads, &mut metrics)
                    .unwrap();
            let what = format!("{threads} threads, repeat {repeat}");

            // The graph: each link depends on the one before it, nothing else depends on
            // anything.
            for j in 0..n {
                let expected_deps: Vec<usize> = match links.iter().position(|&l| l == j) {
                    Some(i) if i > 0 => vec![links[i - 1]],
                    _ => vec![],
                };
                assert_eq!(
                    report.graph.dependencies(j),
                    expected_deps,
                    "tx {j}, {what}"
                );
            }
            assert_eq!(metrics.dependency_edges, (CHAIN - 1) as u64, "{what}");
            assert_eq!(metrics.longest_chain, CHAIN as u64, "{what}");

            // At work: the independent transactions executed once, exactly the chain's
            // dependents executed again (once each), nothing needed repair.
            for j in 0..n {
                let dependent_link = links[1..].contains(&j);
                let want = if dependent_link { 2 } else { 1 };
                assert_eq!(report.executions[j], want, "executions of tx {j}, {what}");
            }
            assert!(report.repaired.is_empty(), "{what}");
            assert_eq!(metrics.repairs, 0);
            assert_eq!(metrics.executions, (n + CHAIN - 1) as u64, "{what}");
            assert_eq!(metrics.aborts, (CHAIN - 1) as u64, "{what}");
            assert_eq!(metrics.max_released, 1, "{what}");
            for (i, &link) in links.iter().enumerate() {
                let released = u32::from(i + 1 < CHAIN);
                assert_eq!(report.released[link], released, "{what}");
            }

            // And the output is exactly sequential.
            let got = assemble(
                &block,
                &state,
                results.into_iter().map(|r| (r.writes, r.output)),
            )
            .unwrap();
            if let Some(diff) = got.first_difference(&expected) {
                panic!("{what}: {diff}");
            }
        }
    }
    // Through the engine too.
    let raw = stmlab::Options::RAW;
    let got = execute_block_with(&block, &state, Strategy::Dag, 2, raw).unwrap();
    assert_eq!(got.output.first_difference(&expected), None);
    assert!(got.metrics.fell_back.is_none());
}
