//! Loom models of stmlab's concurrent core. They drive the production scheduler compiled
//! against loom's primitives, so they only run when the whole build has
//! `--cfg stmlab_loom`:
//!
//! ```text
//! RUSTFLAGS="--cfg stmlab_loom" LOOM_MAX_PREEMPTIONS=2 cargo test --release -p loom-tests
//! ```
//!
//! Without that cfg this crate builds and runs no model (the plain `cargo test` of the
//! workspace stays fast).
