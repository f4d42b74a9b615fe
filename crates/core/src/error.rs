//! The errors a block execution can return.

/// Why a block could not be executed.
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
    Invariant(String),
    /// The operating system refused to start a worker thread.
    #[error("could not start a worker thread: {0}")]
    Threads(String),
    /// The pre-block state failed to answer a read.
    #[error("pre-block state: {0}")]
    PreState(String),
}
