//! # stmlab-core: the concurrent core of stmlab, generic over the transaction
//!
//! Everything here is written against [`txn::TxnExecutor`], never against revm: the
//! engine crate (`stmlab`) implements it with revm, the tests and loom models with mock
//! transactions (`mock`), the simulator with replayed recordings. The same code runs in
//! all of them.
//!
//! Layers, lowest first (a module imports only from those above it in this list):
//! `sync` (std or loom primitives), `perturb` (stress hooks), `error`, `txn`, `metrics`,
//! `read_set`, `pool` (the worker threads), `mvmemory`, `scheduler`, `dep_graph`,
//! `strategies` (each strategy's driver loop), `mock`.
//!
//! Errors (`error`) are typed: a transaction machine names its own error type
//! ([`txn::TxnExecutor::Error`]); a strategy returns [`BlockError`]: `Txn` with that
//! error, as it is, for a transaction that could not run (no strategy retries one), or
//! `Engine` with an [`EngineError`], whose `Invariant` variant is an [`Invariant`] naming
//! the check that failed.
//!
//! ## Vocabulary
//! - A *key* is a location of state: an account (balance, nonce, code), a storage slot,
//!   or a transaction's fee to the beneficiary (the engine crate, `stmlab::evm::location`).
//! - An *incarnation* is one execution of a transaction; its *version* is
//!   (transaction index, incarnation). A *read set* records, for every key read, the
//!   version it resolved to, or the pre-block state (`read_set`).
//! - A *read below a bound* `(key, t)` resolves `key` as transaction `t` would (the
//!   highest write below `t`), for a transaction at or above `t`: how a machine that
//!   stores commutative deltas (an EVM balance credit) walks a key's chain of writers
//!   down to a full value (`txn::StateView::read_below`). Each link is recorded and
//!   validated on its own, and all links unchanged means the same resolved sum
//!   (`read_set`). A view may also `peek` a value unrecorded and `record` it only once
//!   the execution used it. Every strategy answers both: Block-STM and `dag` by the
//!   multi-version memory's "highest writer below" look-up with `t` for the reader, `sv`
//!   from a history of older committed writes kept for keys written more than once.
//!   `Metrics::aborts_by_kind` counts failed validations by the kind of the first stale
//!   read's key (`txn::Key::kind`; "delta" for a link below a bound).
//! - The *multi-version memory* (`mvmemory`) holds, per key, the value each
//!   transaction's latest incarnation wrote; a read by transaction `j` sees the highest
//!   writer below `j`. An aborted incarnation's entries become *ESTIMATE* markers: a
//!   reader that meets one suspends until that transaction executes again. Two
//!   implementations: lock-based (`locked.rs`) and one whose key index and version lists
//!   are read without locks (`lockfree.rs` over `key_table.rs`, a table of keys sized for
//!   the block whose slots are set once, and `version_list.rs`; keys and nodes live in
//!   arenas of the block, `arena.rs`, freed a bucket at a time; each version's entry sits behind its own mutex,
//!   written only by its transaction's worker). The memory keeps no copy of a write
//!   set: its caller hands back the last one recorded.
//!
//! ## The strategies (`strategies/`, one file each)
//! - `sequential` (the engine crate's `evm::sequential`): plain revm, the reference.
//! - `sv` (`strategies::sv`): execute every transaction once in parallel against the
//!   pre-block state; validate in block order against the committed writes; re-execute
//!   stale ones against the updated state; commit.
//! - `dag` (`strategies::dag`): execute all in parallel; validate in parallel, building a
//!   dependency graph (`dep_graph`) from read and write sets; independent
//!   transactions commit at once, a dependent re-executes when all it depends on has
//!   committed; a final pass in block order repairs what the first-round write sets
//!   could not foresee.
//! - `block-stm` (`strategies::block_stm`): Block-STM. The collaborative scheduler
//!   (`scheduler`) keeps an execution index and a validation index; every worker
//!   takes the lower of the next execution and validation task. A failed validation
//!   aborts the incarnation (the first abort wins), marks its writes ESTIMATE, and lowers
//!   the validation index so later transactions are revalidated; so does an execution
//!   that wrote a key its previous incarnation did not, when the validation index had
//!   passed it and a later transaction had already begun finishing an execution. A
//!   worker whose finished execution resumed waiting transactions validates its own
//!   (when due), then runs the lowest of them itself when the execution index has passed
//!   it (`Task::ValidateThenExecute`): a chain of one sender's transactions stays on one
//!   core. The block is done when both indices have passed it and no task is active.
//!
//! `unsafe` is in two small places, each with its safety argument where it stands:
//! `mvmemory::version_list` (the lock-free version lists and the block's arena of their
//! nodes) and `pool::kept` (a job's lifetime erased while the kept threads run it).
#![deny(unsafe_code)]
#![warn(unsafe_op_in_unsafe_fn)]

pub mod dep_graph;
pub mod error;
pub mod metrics;
pub mod mock;
pub mod mvmemory;
pub mod perturb;
pub mod phase;
pub mod pool;
pub mod read_set;
pub mod scheduler;
pub mod strategies;
mod sync;
pub mod txn;

pub use error::{BlockError, EngineError, Invariant};

/// The hasher of every hash map on the hot path: foldhash (fast, not DoS-resistant; keys
/// come from the block being executed, whose author pays gas for every key).
pub type FastHash = foldhash::fast::RandomState;
