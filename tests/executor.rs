//! A node's use of the library: one `Executor`, many blocks. Blocks of different forks
//! and workloads alternate on the same kept threads, so whatever a worker keeps from one
//! block (revm's journal and environments, its code copies) must not leak into the next:
//! every output equals the one-call sequential reference.

use std::path::Path;

use stmlab::evm::mainnet::load_block_dir;
use stmlab::{execute_block, workloads, EngineError, Executor, Options, Strategy};

#[test]
fn one_executor_runs_block_after_block_of_different_forks() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/mainnet");
    let mut inputs = Vec::new();
    // Frontier, Byzantium, London and Cancun blocks, and two generated workloads.
    for number in ["46147", "5891667", "13217637", "19910734"] {
        inputs.push(load_block_dir(&root.join(number)).unwrap());
    }
    inputs.push(workloads::from_spec("erc20:txs=300,accounts=600,hot=0.2").unwrap());
    inputs.push(workloads::from_spec("chain:txs=100").unwrap());
    let expected: Vec<_> = inputs
        .iter()
        .map(|(block, state)| execute_block(block, state, Strategy::Sequential, 1).unwrap().output)
        .collect();
    for threads in [1, 2, 3] {
        let executor = Executor::with_options(threads, Options { adaptive: false }).unwrap();
        assert_eq!(executor.threads(), threads);
        for round in 0..3 {
            for ((block, state), expected) in inputs.iter().zip(&expected) {
                for &strategy in Strategy::ALL {
                    let run = executor.execute(block, state, strategy).unwrap();
                    assert_eq!(
                        run.output.first_difference(expected),
                        None,
                        "{} with {strategy} at {threads} threads, round {round}",
                        block.label
                    );
                    assert!(run.output == *expected);
                }
            }
        }
    }
}

#[test]
fn an_executor_needs_a_thread() {
    assert!(matches!(Executor::new(0), Err(EngineError::ZeroThreads)));
    let (block, state) = workloads::from_spec("transfers:txs=20,accounts=40").unwrap();
    let executor = Executor::new(2).unwrap();
    // Adaptive mode (the default) runs this small block sequentially, and says so.
    let run = executor.execute(&block, &state, Strategy::BlockStm).unwrap();
    assert!(run.metrics.chose_sequential.is_some());
}
