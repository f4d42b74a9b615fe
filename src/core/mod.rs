//! The concurrent core: generic over the transaction, never importing revm.
pub mod dep_graph;
pub mod metrics;
pub mod mock;
pub mod mvmemory;
pub mod read_set;
pub mod scheduler;
pub mod txn;
