//! The EVM side: blocks, the revm `Database` adapter, the `TxnExecutor` for revm, plain
//! sequential execution, the block output, the mainnet loader and the header check.
pub mod adapter;
pub mod assemble;
pub mod block;
pub mod block_level;
pub mod code_copies;
pub mod conflicts;
pub mod convert;
pub mod executor;
pub mod handler;
pub mod header;
pub mod lazy;
pub mod location;
pub mod mainnet;
pub mod observe;
pub mod output;
pub mod post_state;
pub mod sequential;
pub mod shape;
pub mod state;
pub mod writes;
