//! Beyond this machine's cores: what a strategy would do on 16 to 64 cores, answered in two
//! ways from one recording of a block.
//!
//! 1. **Recording** (`record`). The block runs sequentially through the generic core
//!    (a plain map of committed writes as the view), several passes over: per transaction
//!    its read set (each key with the transaction whose write it read), its write set, and
//!    its execution cost (median over the passes). The same transactions also run against
//!    the pre-block state alone (what the first round of `sv` and `dag` does) and through a
//!    multi-version memory holding the block's writes (what Block-STM reads through), and
//!    the per-task overheads of every strategy are measured by running the production
//!    strategies on transactions that do nothing ([`replay::NullTxns`]) and on replayed
//!    ones that only read and write their recorded keys ([`replay::ReplayTxns`]). The
//!    numbers form the block's [`record::CostModel`].
//! 2. **The critical-path bound** (`analysis`). Transaction `j` depends on `i` when it read
//!    a key whose value `i` wrote (the last writer before `j`: exactly what the sequential
//!    read set records). The longest chain of dependencies, weighted by execution cost, is
//!    a floor on any schedule's wall time: no scheduler on any number of cores beats
//!    `total cost / critical path`.
//! 3. **The simulator** (`simulate`). The recorded block is replayed through each
//!    strategy's production scheduling code (the Block-STM [`Scheduler`] with a
//!    [`LockedMvMemory`], the DAG strategy's [`DepGraph`]) with `N` virtual workers on a
//!    virtual clock: deterministic, single-threaded, discrete events. A replayed execution
//!    reads its recorded keys through the strategy's real view and knows whether what it
//!    read is what the sequential execution read; if not, it behaves as the transaction
//!    did against the pre-block state (its recorded round-1 read and write sets and cost),
//!    so validations fail, ESTIMATEs block and write sets change exactly when the
//!    interleaving makes them.
//!
//! The cost model and its assumptions are spelled out in `papers/report.md` (section 7) and in
//! [`record::CostModel`]; the check against measured runs at 1 and 2 threads is
//! `stmlab simulate --check`.
//!
//! [`Scheduler`]: stmlab::core::scheduler::Scheduler
//! [`LockedMvMemory`]: stmlab::core::mvmemory::locked::LockedMvMemory
//! [`DepGraph`]: stmlab::core::dep_graph::DepGraph

pub mod analysis;
pub mod calibrated;
pub mod record;
pub mod replay;
pub mod simulate;

pub use analysis::{analyze, analyze_with, Analysis};
pub use calibrated::record_block;
pub use record::{record_generic, record_txns, BlockRecord, CostModel, RecordOptions};
pub use replay::{ReplayTxns, TxnCost, TxnRecord};
pub use simulate::{simulate, simulate_tuned, simulate_uncalibrated, Prediction, Tuning};

/// The thread counts the simulator predicts by default.
pub const DEFAULT_THREADS: &[usize] = &[1, 2, 4, 8, 16, 32, 64];
