//! The EVM side: blocks, the revm `Database` adapter, the `TxnExecutor` for revm, plain
//! sequential execution, and the block output.
pub mod adapter;
pub mod assemble;
pub mod block;
pub mod executor;
pub mod handler;
pub mod location;
pub mod output;
pub mod sequential;
pub mod state;
pub mod writes;
