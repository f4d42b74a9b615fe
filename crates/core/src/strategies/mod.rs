//! The parallel strategies, side by side, each generic over `TxnExecutor`.
//! (`sequential`, plain revm, lives in `evm::sequential`: it is the reference.)
pub mod block_stm;
pub mod dag;
pub mod sv;
