//! A pre-block state that fails to answer a read: its own error reaches the caller of
//! `execute_block`, typed and unchanged, from every strategy at every setting, with no
//! fallback to sequential execution and no second run.
//!
//! The source fails exactly once (its `at`-th read) and answers every read after it. So
//! any second run of the block (the engine's fallback, or a strategy retrying the failed
//! transaction) would succeed and return `Ok`: an `Err` carrying the failure is proof
//! that nothing ran again. `execute_block` returns no metrics on an error, so this is how
//! "`fell_back` unset" shows.

use std::sync::atomic::{AtomicUsize, Ordering};

use revm::bytecode::Bytecode;
use revm::database_interface::DBErrorMarker;
use revm::primitives::{Address, B256, U256};
use revm::state::AccountInfo;
use revm::DatabaseRef;
use stmlab::evm::block::Block;
use stmlab::evm::state::InMemoryState;
use stmlab::{execute_block, execute_block_with, ExecuteError, Executor, Options, Strategy};
use stmlab_workloads as workloads;

/// The source's own error: which of its reads failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the disk failed at read {read}")]
struct DiskError {
    read: usize,
}
impl DBErrorMarker for DiskError {}

/// An in-memory state whose `at`-th read (0-based, counting account, code and storage
/// reads) fails, once.
struct FailsOnce {
    inner: InMemoryState,
    at: usize,
    reads: AtomicUsize,
    failures: AtomicUsize,
}

impl FailsOnce {
    fn new(inner: &InMemoryState, at: usize) -> Self {
        Self {
            inner: inner.clone(),
            at,
            reads: AtomicUsize::new(0),
            failures: AtomicUsize::new(0),
        }
    }

    fn read<T>(&self, answer: impl FnOnce(&InMemoryState) -> T) -> Result<T, DiskError> {
        let read = self.reads.fetch_add(1, Ordering::Relaxed);
        if read == self.at {
            self.failures.fetch_add(1, Ordering::Relaxed);
            return Err(DiskError { read });
        }
        Ok(answer(&self.inner))
    }

    fn reads(&self) -> usize {
        self.reads.load(Ordering::Relaxed)
    }
}

fn ok<T>(r: Result<T, stmlab::evm::state::NoError>) -> T {
    r.unwrap_or_else(|e| e.unreachable())
}

impl DatabaseRef for FailsOnce {
    type Error = DiskError;
    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, DiskError> {
        self.read(|s| ok(s.basic_ref(address)))
    }
    fn code_by_hash_ref(&self, hash: B256) -> Result<Bytecode, DiskError> {
        self.read(|s| ok(s.code_by_hash_ref(hash)))
    }
    fn storage_ref(&self, address: Address, slot: U256) -> Result<U256, DiskError> {
        self.read(|s| ok(s.storage_ref(address, slot)))
    }
    fn block_hash_ref(&self, number: u64) -> Result<B256, DiskError> {
        Ok(ok(self.inner.block_hash_ref(number)))
    }
}

/// Token transfers: account and storage reads, and contract code.
fn block() -> (Block, InMemoryState) {
    workloads::from_spec("erc20:txs=200,accounts=400,hot=0.1").unwrap()
}

/// Checks one failed run: the source's error, as it is, returned once.
fn assert_failed<T>(
    got: Result<T, ExecuteError<DiskError>>,
    source: &FailsOnce,
    what: &str,
) -> Option<usize> {
    let at = source.at;
    let txn = match got {
        Err(ExecuteError::State { txn, error }) => {
            assert_eq!(error, DiskError { read: at }, "{what}");
            txn
        }
        Err(other) => panic!("{what}: expected the state's error, got {other}"),
        Ok(_) => panic!("{what}: the block succeeded: something ran it again"),
    };
    assert_eq!(source.failures.load(Ordering::Relaxed), 1, "{what}");
    txn
}

#[test]
fn a_failing_state_is_the_callers_error_for_every_strategy() {
    let (block, state) = block();
    // The clean run reads more than the reads failed on below, so every run reaches them.
    let clean = FailsOnce::new(&state, usize::MAX);
    execute_block(&block, &clean, Strategy::Sequential, 1).unwrap();
    assert!(clean.reads() > 300, "{} reads", clean.reads());
    for &strategy in Strategy::ALL {
        for threads in [1, 2] {
            for adaptive in [false, true] {
                for at in [3, 150] {
                    let source = FailsOnce::new(&state, at);
                    let options = Options {
                        adaptive,
                        ..Options::default()
                    };
                    let got = execute_block_with(&block, &source, strategy, threads, options);
                    let what = format!("{strategy} at {threads} threads, {options:?}, read {at}");
                    let txn = assert_failed(got, &source, &what);
                    // Read while executing a transaction (none is assembled yet).
                    assert!(txn.is_some(), "{what}");
                }
            }
        }
    }
}

/// Sequential execution stops at the failing read: not one read more.
#[test]
fn sequential_execution_stops_at_the_failing_read() {
    let (block, state) = block();
    let clean = FailsOnce::new(&state, usize::MAX);
    execute_block(&block, &clean, Strategy::Sequential, 1).unwrap();
    for at in [0, 77, 240] {
        let source = FailsOnce::new(&state, at);
        let got = execute_block(&block, &source, Strategy::Sequential, 1);
        assert!(assert_failed(got, &source, "sequential").is_some());
        assert_eq!(source.reads(), at + 1);
    }
    // The last read of a clean run is made assembling the output: no transaction named.
    let last = clean.reads() - 1;
    let source = FailsOnce::new(&state, last);
    let got = execute_block(&block, &source, Strategy::Sequential, 1);
    assert_eq!(assert_failed(got, &source, "sequential, assembly"), None);
    assert_eq!(source.reads(), last + 1);
}

/// A kept executor returns the error and goes on to the next block.
#[test]
fn an_executor_returns_the_error_and_goes_on() {
    let (block, state) = block();
    let expected = execute_block(&block, &state, Strategy::Sequential, 1)
        .unwrap()
        .output;
    let executor = Executor::with_options(2, Options::RAW).unwrap();
    for &strategy in Strategy::ALL {
        for at in [3, 150] {
            let source = FailsOnce::new(&state, at);
            let got = executor.execute(&block, &source, strategy);
            assert_failed(got, &source, &format!("{strategy}, read {at}"));
            let run = executor.execute(&block, &state, strategy).unwrap();
            assert_eq!(run.metrics.fell_back, None, "{strategy}");
            assert_eq!(run.output.first_difference(&expected), None, "{strategy}");
        }
    }
}
