//! # stmlab: EVM blocks executed in parallel, strategies side by side
//!
//! The engine crate: revm as the core's transaction ([`evm`]), the executor a node keeps
//! and `execute_block` ([`engine`]), the adaptive mode ([`adaptive`]), the mainnet block
//! format and header check. The concurrent core is the `stmlab-core` crate (re-exported
//! as [`core`]); the simulator, the workloads and the command line are crates of their
//! own, above this one.
//!
//! A block's transactions are executed optimistically on all cores without knowing in
//! advance what state they touch; conflicts are found afterwards, and the result is always
//! exactly what sequential execution gives. Every strategy here runs the same
//! [`core::txn::TxnExecutor`] (revm in production, mock transactions in tests and loom
//! models) and is checked against plain sequential revm.
//!
//! ## Vocabulary
//! - A *key* is a location of state: an account (balance, nonce, code), a storage slot,
//!   or a transaction's fee to the beneficiary (`evm::location`).
//! - An *incarnation* is one execution of a transaction; its *version* is
//!   (transaction index, incarnation). A *read set* records, for every key read, the
//!   version it resolved to, or the pre-block state (`core::read_set`).
//! - The *multi-version memory* (`core::mvmemory`) holds, per key, the value each
//!   transaction's latest incarnation wrote; a read by transaction `j` sees the highest
//!   writer below `j`. An aborted incarnation's entries become *ESTIMATE* markers: a
//!   reader that meets one suspends until that transaction executes again. Two
//!   implementations: lock-based (`locked.rs`) and one whose key index and version lists
//!   are lock-free (`lockfree.rs` over `version_list.rs`; each version's entry sits
//!   behind its own mutex, written only by its transaction's worker).
//!
//! ## The strategies (`strategies/`, one file each)
//! - `sequential` (`evm::sequential`): plain revm, the reference.
//! - `sv` (`strategies::sv`): execute every transaction once in parallel against the
//!   pre-block state; validate in block order against the committed writes; re-execute
//!   stale ones against the updated state; commit.
//! - `dag` (`strategies::dag`): execute all in parallel; validate in parallel, building a
//!   dependency graph (`core::dep_graph`) from read and write sets; independent
//!   transactions commit at once, a dependent re-executes when all it depends on has
//!   committed; a final pass in block order repairs what the first-round write sets
//!   could not foresee.
//! - `block-stm` (`strategies::block_stm`): Block-STM. The collaborative scheduler
//!   (`core::scheduler`) keeps an execution index and a validation index; every worker
//!   takes the lower of the next execution and validation task. A failed validation
//!   aborts the incarnation (the first abort wins), marks its writes ESTIMATE, and lowers
//!   the validation index so later transactions are revalidated. The block is done when
//!   both indices have passed it and no task is active.
//!
//! ## The EVM side (`evm/`)
//! `evm::executor::EvmTxns` runs one transaction with revm through a `Database` adapter
//! (`evm::adapter`) that reads through the strategy's view and the read-only pre-block
//! state (any `DatabaseRef + Sync`). The fee is not credited inside the transaction
//! (`evm::handler`): that would make every transaction write the beneficiary and
//! serialise the block; each transaction writes its own `Fee(i)` instead, and a read of the
//! beneficiary adds the fees since its last explicit write. `evm::assemble` turns the
//! committed write sets into receipts and canonical state changes.
//!
//! Each worker keeps what sequential revm builds once per block between its executions
//! (`evm::executor`: the call-frame stack, the journal, the local context, the block and
//! cfg environments, the adapter's map of accounts read) and its own copies of contract
//! code across blocks (`evm::code_copies`), so the workers share no counter and rebuild
//! nothing per transaction.
//!
//! ## The library
//! `engine::Executor` is what a node keeps: worker threads started once
//! (`core::pool`, kept threads that run one block's jobs after another), on which
//! every block runs; `engine::execute_block` is the one-call convenience over it. The
//! errors are typed ([`error`]): a pre-block state that fails to answer a read reaches
//! the caller as its own error value (`ExecuteError::State`, of the state's `P::Error`),
//! at once, with no fallback and no second run; a broken engine invariant is an
//! [`Invariant`] naming the check that failed, on which the engine falls back to
//! sequential execution and says so in `metrics.fell_back`.
//!
//! `unsafe` is in three small places, each with its safety argument where it stands:
//! `core::mvmemory::version_list` (the lock-free version lists, their nodes' arena),
//! `core::pool::kept` (a job's lifetime erased while the kept threads run it) and one
//! call in `evm::code_copies` (revm's constructor of already-analysed code). By default the
//! engine is *adaptive* (`adaptive`): a block that parallel execution cannot speed up
//! (too small, one sender's chain, cheap transactions by its header or a timed probe)
//! runs sequentially, and the metrics say so; `engine::Options::RAW` runs
//! the strategy as asked.
#![deny(unsafe_code)]
#![warn(unsafe_op_in_unsafe_fn)]

pub mod adaptive;
pub mod engine;
pub mod error;
pub mod evm;

/// The concurrent core (the `stmlab-core` crate), re-exported so an embedder needs this
/// crate only.
pub use stmlab_core as core;
pub use stmlab_core::{perturb, strategies};

pub use engine::{execute_block, execute_block_with, Executed, Executor, Options, Strategy};
pub use error::{EngineError, ExecuteError, InvalidBlock, Invariant};
pub use evm::conflicts::ConflictModel;
