//! The differential check the integration tests share: every strategy, at every thread
//! count, repeated, gives exactly the sequential output.

use std::sync::{mpsc, OnceLock};
use std::thread;
use std::time::Duration;

use stmlab::evm::block::Block;
use stmlab::evm::output::BlockOutput;
use stmlab::evm::state::InMemoryState;
use stmlab::{execute_block, execute_block_with, ConflictModel, Executor, Options, Strategy};

/// The strategies exactly as asked: never the engine's adaptive choice of sequential
/// execution for a small or dependent block, which would leave the parallel code untested.
#[allow(dead_code)]
pub const RAW: Options = Options::RAW;

pub const THREADS: [usize; 4] = [1, 2, 4, 8];

/// `RAW` under conflict model `conflicts`.
pub fn raw(conflicts: ConflictModel) -> Options {
    Options {
        conflicts,
        ..Options::RAW
    }
}

/// One kept executor per conflict model and thread count, shared by every block this test
/// binary runs, as a node keeps one: whatever a worker keeps from one block to the next
/// must not change the next block's output. (Tests running at once may find one busy; it
/// then runs the block on threads of its own, which is correct too.)
fn kept_executor(conflicts: ConflictModel, threads: usize) -> &'static Executor {
    static EXECUTORS: OnceLock<Vec<Executor>> = OnceLock::new();
    let executors = EXECUTORS.get_or_init(|| {
        ConflictModel::ALL
            .iter()
            .flat_map(|&m| THREADS.iter().map(move |&t| (m, t)))
            .map(|(m, t)| Executor::with_options(t, raw(m)).expect("worker threads start"))
            .collect()
    });
    let m = ConflictModel::ALL
        .iter()
        .position(|&m| m == conflicts)
        .expect("a conflict model");
    let i = THREADS
        .iter()
        .position(|&t| t == threads)
        .expect("a tested thread count");
    &executors[m * THREADS.len() + i]
}

/// A block whose strategies have not all finished after this long is reported as a hang.
const WATCHDOG: Duration = Duration::from_secs(120);

/// Runs `block` with every strategy at every thread count, `repeats` times, checks each
/// output equals the sequential one (and that nothing fell back to sequential), and
/// returns the sequential output. A run that hangs fails after a watchdog.
pub fn check_all_strategies(block: &Block, state: &InMemoryState, repeats: usize) -> BlockOutput {
    let (block, state) = (block.clone(), state.clone());
    let label = block.label.clone();
    let (done_tx, done_rx) = mpsc::channel();
    let worker = thread::spawn(move || {
        let out = check_unwatched(&block, &state, repeats);
        let _ = done_tx.send(());
        out
    });
    match done_rx.recv_timeout(WATCHDOG) {
        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Ok(out) => out,
            Err(panic) => std::panic::resume_unwind(panic),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{label}: no result after {WATCHDOG:?}: some strategy hangs")
        }
    }
}

fn check_unwatched(block: &Block, state: &InMemoryState, repeats: usize) -> BlockOutput {
    let label = &block.label;
    let expected = execute_block(block, state, Strategy::Sequential, 1)
        .unwrap_or_else(|e| panic!("{label}: sequential failed: {e}"))
        .output;
    assert_eq!(
        expected.txs.len(),
        block.txs.len(),
        "{label}: one outcome per transaction"
    );
    for conflicts in ConflictModel::ALL {
        for &strategy in Strategy::ALL.iter().filter(|s| **s != Strategy::Sequential) {
            for threads in THREADS {
                for repeat in 0..repeats {
                    let run = format!("{strategy} at {threads} threads, {conflicts} conflicts");
                    // Even repeats through the kept executor, odd ones through the one-call
                    // convenience, which starts threads for this block alone.
                    let got = if repeat % 2 == 0 {
                        kept_executor(conflicts, threads).execute(block, state, strategy)
                    } else {
                        execute_block_with(block, state, strategy, threads, raw(conflicts))
                    }
                    .unwrap_or_else(|e| panic!("{label}: {run}: {e}"));
                    if let Some(diff) = got.output.first_difference(&expected) {
                        panic!("{label}: {run} (repeat {repeat}): {diff}");
                    }
                    // `first_difference` describes; `==` is the definition (logs included).
                    assert!(
                        got.output == expected,
                        "{label}: {run} (repeat {repeat}): outputs differ"
                    );
                    assert!(
                        got.metrics.fell_back.is_none(),
                        "{label}: {run} fell back: {:?}",
                        got.metrics.fell_back
                    );
                }
            }
        }
    }
    expected
}
