//! The errors of a block execution: the core's ([`EngineError`], its [`Invariant`], a
//! strategy's [`BlockError`]) and what `execute_block` returns, [`ExecuteError`], which
//! carries the pre-block state's own error as it is. (The conversions from the EVM
//! side's errors live beside those types, in `evm::executor` and `evm::state`, so this
//! module imports nothing above it.)

use std::fmt;

pub use stmlab_core::error::{BlockError, EngineError, Invariant};

use crate::core::txn::TxnIndex;

/// Why `execute_block` (or `Executor::execute`) returned no output. `E` is the pre-block
/// state's own error type (`P::Error` of the `DatabaseRef` it was given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecuteError<E> {
    /// The pre-block state failed to answer a read: its error, as it returned it. The
    /// block stops there, with no fallback and no second run. `txn`: the transaction
    /// whose execution made the read (`None`: a read made assembling the block's output);
    /// a parallel strategy names the first it saw fail, which may be a speculative
    /// execution sequential execution would not have made.
    State { txn: Option<TxnIndex>, error: E },
    /// The engine could not run the block: bad threads, or an engine invariant broken
    /// on the sequential path itself (on a parallel path the engine falls back to
    /// sequential execution instead).
    Engine(EngineError),
    /// The block breaks a rule of the steps around its transactions
    /// (`evm::block_level`): no strategy can give it an output.
    InvalidBlock(InvalidBlock),
}

/// How a block breaks a rule of the steps around its transactions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidBlock {
    /// A system call (EIP-4788, 2935, 7002 or 7251) reverted, halted or was refused.
    #[error("system call to {contract} failed: {reason}")]
    SystemCall {
        contract: revm::primitives::Address,
        reason: String,
    },
    /// A log of the deposit contract is not a well-formed DepositEvent (EIP-6110).
    #[error("receipt {receipt}, log {log}: malformed deposit event: {reason}")]
    DepositLog {
        receipt: usize,
        log: usize,
        reason: &'static str,
    },
}

impl<E> ExecuteError<E> {
    /// The pre-block state's error, if that is what this is.
    pub fn state_error(&self) -> Option<&E> {
        match self {
            ExecuteError::State { error, .. } => Some(error),
            ExecuteError::Engine(_) | ExecuteError::InvalidBlock(_) => None,
        }
    }
}

impl<E: fmt::Display> fmt::Display for ExecuteError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExecuteError::State {
                txn: Some(txn),
                error,
            } => write!(f, "pre-block state (read by transaction {txn}): {error}"),
            ExecuteError::State { txn: None, error } => write!(f, "pre-block state: {error}"),
            ExecuteError::Engine(e) => fmt::Display::fmt(e, f),
            ExecuteError::InvalidBlock(e) => write!(f, "invalid block: {e}"),
        }
    }
}

impl<E: std::error::Error> std::error::Error for ExecuteError<E> {}

impl<E> From<EngineError> for ExecuteError<E> {
    fn from(error: EngineError) -> Self {
        ExecuteError::Engine(error)
    }
}

impl<E> From<Invariant> for ExecuteError<E> {
    fn from(invariant: Invariant) -> Self {
        ExecuteError::Engine(EngineError::Invariant(invariant))
    }
}

impl<E> From<InvalidBlock> for ExecuteError<E> {
    fn from(error: InvalidBlock) -> Self {
        ExecuteError::InvalidBlock(error)
    }
}
