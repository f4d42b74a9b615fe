//! The concurrent core: generic over the transaction, never importing revm.
pub mod dep_graph;
/// The hasher of every hash map on the hot path: foldhash (fast, not DoS-resistant; keys
/// come from the block being executed, whose author pays gas for every key).
pub type FastHash = foldhash::fast::RandomState;

pub mod metrics;
pub mod mock;
pub mod mvmemory;
pub mod read_set;
pub mod scheduler;
pub mod txn;
