//! The concurrent core: generic over the transaction, never importing revm.
pub mod metrics;
pub mod read_set;
pub mod txn;
