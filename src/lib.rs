#![deny(unsafe_code)]
#![warn(unsafe_op_in_unsafe_fn)]
//! # stmlab
//!
//! (Overview written below as the pieces land.)
pub mod cli;
pub mod core;
pub mod engine;
pub mod error;
pub mod evm;
pub mod strategies;
mod sync;
pub mod workloads;

pub use engine::{execute_block, Executed, Strategy};
pub use error::EngineError;
