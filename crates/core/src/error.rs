//! The errors a block execution can return.
//!
//! Three kinds, kept apart because the caller does different things with them:
//! - [`BlockError::Txn`]: the transaction machine could not run a transaction (for the
//!   EVM: its state source failed). That error is the caller's, returned as it is, typed
//!   by [`crate::txn::TxnExecutor::Error`].
//! - [`Invariant`]: a state the engine's own logic rules out was reached, a bug of the
//!   engine. The engine crate falls back to sequential execution on it.
//! - the rest of [`EngineError`]: the engine cannot run at all as asked (threads).
//!
//! (Transaction indices are `usize` and incarnations `u32` here, as `txn::TxnIndex` and
//! `txn::Incarnation`: this module sits below `txn`.)

use std::convert::Infallible;

/// Why a block could not be executed, the transaction machine's own errors apart (those
/// are [`BlockError::Txn`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("the number of threads must be at least 1")]
    ZeroThreads,
    /// More worker threads than the engine starts (see `stmlab::core::pool::MAX_THREADS`).
    #[error("{asked} threads is more than this engine starts (at most {limit})")]
    TooManyThreads { asked: usize, limit: usize },
    /// A state the engine's own logic rules out was reached: a bug. The top level falls
    /// back to sequential execution when it sees this.
    #[error("engine invariant broken: {0}")]
    Invariant(#[from] Invariant),
    /// The operating system refused to start a worker thread.
    #[error("could not start a worker thread: {0}")]
    Threads(String),
    /// The block itself is invalid (the EVM side's `InvalidBlock`, as its message): a rule
    /// of the steps around its transactions is broken.
    #[error("invalid block: {0}")]
    InvalidBlock(String),
}

/// What broke, when the engine reaches a state its own logic rules out: one variant per
/// check, with what it saw. Displayed as the check's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invariant {
    // The strategies.
    /// A strategy that never writes an ESTIMATE saw a transaction blocked on one.
    #[error("transaction {txn} blocked on an estimate of {on}, which this strategy never writes")]
    UnexpectedEstimate { txn: usize, on: usize },
    /// Block-STM handed out the validation of an incarnation no execution recorded.
    #[error("validation of transaction {txn} (incarnation {incarnation}) before any execution")]
    ValidatedBeforeExecuted { txn: usize, incarnation: u32 },
    /// Block-STM's workers all returned while its scheduler was not done.
    #[error("block-stm finished before the scheduler was done")]
    FinishedBeforeDone,
    /// Block-STM ended with no recorded execution of a transaction.
    #[error("transaction {txn} never executed")]
    NeverExecuted { txn: usize },
    /// Block-STM ended with a transaction's record still held elsewhere.
    #[error("record of transaction {txn} still shared")]
    RecordStillShared { txn: usize },
    /// Block-STM's collection of the results, run beside the freeing of its memory, did
    /// not run on the calling thread.
    #[error("block-stm's results were never collected")]
    CollectionNeverRan,
    /// The DAG strategy's commit loop ended with transactions uncommitted.
    #[error("the commit loop ended before every transaction committed")]
    CommitLoopUnfinished,
    /// A dependency graph was given an edge that does not go from a lower to a higher
    /// transaction (`dep_graph::BadEdge`).
    #[error("dependency edge {from} -> {to} does not go from a lower to a higher transaction")]
    BadDependencyEdge { from: usize, to: usize },
    /// The stress watchdog (`perturb`) saw no progress and cancelled the run.
    #[error("stopped by the stress watchdog")]
    StressCancelled,

    // The scheduler (`status`: the transaction's status as the scheduler holds it).
    /// A transaction was suspended on one that is not earlier.
    #[error("transaction {txn} waits on {blocking}, which is not earlier")]
    WaitsOnLater { txn: usize, blocking: usize },
    /// A transaction was suspended while not executing.
    #[error("transaction {txn} suspended while {status}")]
    SuspendedWhileNotExecuting { txn: usize, status: String },
    /// A suspended transaction was resumed while not suspended.
    #[error("transaction {txn} made ready while {status}")]
    ReadyWhileNotSuspended { txn: usize, status: String },
    /// An execution finished that is not the one executing.
    #[error(
        "finish_execution of transaction {txn} (incarnation {incarnation}) while {status}({current})"
    )]
    FinishedExecutionNotRunning {
        txn: usize,
        incarnation: u32,
        status: String,
        current: u32,
    },

    // The worker pool.
    /// A worker thread panicked (a panicking transaction or state source included: the
    /// engine cannot tell one from a bug of its own).
    #[error("a worker thread panicked")]
    WorkerPanicked,
    /// A parallel map over indices ended with an index never run.
    #[error("index {index} never ran")]
    IndexNeverRan { index: usize },

    // The EVM (the engine crate's `evm`).
    /// A view returned a value of the wrong kind for its key (`key`, `value`: as read).
    #[error("{key} holds {value}")]
    WrongValue { key: String, value: String },
    /// A write set paired a key with a value of another kind.
    #[error("transaction {txn} wrote {value} to {key}")]
    WrongWrite {
        txn: usize,
        key: String,
        value: String,
    },
    /// The assembly of a block's output did not run.
    #[error("assembly never ran")]
    AssemblyNeverRan,

    // The simulator (`stmlab-sim`) and the tools.
    /// A parallel strategy was simulated on a recording without the strategies' costs.
    #[error("the block was recorded without the strategies' costs")]
    RecordedWithoutCosts,
    /// A simulated strategy ended on an execution that is not the sequential one.
    #[error(
        "{strategy} simulation: transaction {txn} ended with an execution that is not the sequential one"
    )]
    SimulatedNotSequential { strategy: &'static str, txn: usize },
    /// The simulated DAG commit loop found no ready transaction where it counted one.
    #[error("dag simulation: no ready transaction")]
    SimulatedNoReadyTransaction,
    /// The simulated DAG commit loop ended with transactions uncommitted.
    #[error("dag simulation: the commit loop ended before every transaction committed")]
    SimulatedCommitLoopUnfinished,
    /// The simulated Block-STM scheduler had no task for too long and was not done.
    #[error("block-stm simulation: no task and not done")]
    SimulatedStuck,
    /// Every simulated Block-STM worker left before the block was done.
    #[error("block-stm simulation: every worker left before the block was done")]
    SimulatedUnfinished,
    /// A strategy fell back to sequential execution while being calibrated.
    #[error("{strategy} fell back to sequential while calibrating")]
    FellBackWhileCalibrating { strategy: &'static str },
    /// A run panicked outside the pool's own catching (the stress runner).
    #[error("the run panicked: {what}")]
    RunPanicked { what: String },
}

/// Metrics and result files hold an invariant as its message.
impl serde::Serialize for Invariant {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Why a strategy could not execute a block: a transaction's own error (`E`, the
/// transaction machine's [`crate::txn::TxnExecutor::Error`]), or the engine's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError<E> {
    /// Transaction `txn` could not run: the machine said why (for the EVM, its state
    /// source failed). Returned at once, as it is.
    #[error("transaction {txn} could not run: {error}")]
    Txn { txn: usize, error: E },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl<E> From<Invariant> for BlockError<E> {
    fn from(invariant: Invariant) -> Self {
        BlockError::Engine(EngineError::Invariant(invariant))
    }
}

/// A machine whose transactions cannot fail (mock and replayed transactions) has only the
/// engine's errors.
impl From<BlockError<Infallible>> for EngineError {
    fn from(error: BlockError<Infallible>) -> Self {
        match error {
            BlockError::Txn { error, .. } => match error {},
            BlockError::Engine(e) => e,
        }
    }
}
