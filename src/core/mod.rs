//! The concurrent core: generic over the transaction, never importing revm.
pub mod metrics;
pub mod mvmemory;
pub mod read_set;
pub mod scheduler;
pub mod txn;
