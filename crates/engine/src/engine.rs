//! The library API a node calls: execute this block on this state with this strategy and
//! this many threads.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use revm::DatabaseRef;

use crate::adaptive::{cost_choice, probe_size, sequential_choice};
use crate::core::metrics::Metrics;
use crate::core::mvmemory::lockfree::LockFreeMvMemory;
use crate::core::pool::WorkerPool;
use crate::core::txn::{TxnExecutor, TxnResult};
use crate::error::{EngineError, ExecuteError, Invariant};
use crate::evm::assemble::{assemble_on, assemble_shards};
use crate::evm::block::Block;
use crate::evm::block_level::{self, Layered};
use crate::evm::conflicts::ConflictModel;
use crate::evm::executor::{EvmTxOutput, EvmTxnError, EvmTxns};
use crate::evm::location::{EvmValue, Location};
use crate::evm::output::BlockOutput;
use crate::evm::sequential::{self, SequentialRun};
use crate::strategies;

/// The strategies stmlab compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Plain revm, one transaction after another: the reference.
    Sequential,
    /// Parallel execution, then sequential validation in block order.
    Sv,
    /// Parallel validation building a dependency graph: independent transactions commit
    /// at once, only dependents re-execute.
    Dag,
    /// Block-STM: multi-version memory and the collaborative scheduler.
    BlockStm,
}

impl Strategy {
    pub const ALL: &'static [Strategy] = &[
        Strategy::Sequential,
        Strategy::Sv,
        Strategy::Dag,
        Strategy::BlockStm,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Strategy::Sequential => "sequential",
            Strategy::Sv => "sv",
            Strategy::Dag => "dag",
            Strategy::BlockStm => "block-stm",
        }
    }

    /// Parses one name, a comma-separated list, or `all`.
    pub fn parse_list(s: &str) -> Result<Vec<Strategy>, String> {
        if s.trim().eq_ignore_ascii_case("all") {
            return Ok(Self::ALL.to_vec());
        }
        let list = s
            .split(',')
            .map(|n| n.trim().parse())
            .collect::<Result<Vec<Strategy>, String>>()?;
        if list.is_empty() {
            return Err("no strategy named".into());
        }
        Ok(list)
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Strategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|st| st.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|s| s.name()).collect();
                format!(
                    "unknown strategy {s:?} (known: {}, or all)",
                    names.join(", ")
                )
            })
    }
}

/// A block's output with the metrics of the run that produced it.
#[derive(Clone, Debug)]
pub struct Executed {
    pub output: BlockOutput,
    pub metrics: Metrics,
}

type EvmResults = Vec<TxnResult<Location, EvmValue, EvmTxOutput>>;

/// How `execute_block_with` runs a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Run a block sequentially, whatever the strategy, when parallel execution cannot
    /// gain: too few transactions, one sender's chain of them, a header showing cheap
    /// ones, or too cheap ones as timed on the first few (all in `crate::adaptive`);
    /// `metrics.chose_sequential` then says why. Off, every strategy runs as asked: what
    /// tests and research comparisons of the strategies themselves need.
    pub adaptive: bool,
    /// Which parts of an account are separate locations, and whether balance credits are
    /// deltas (`evm::conflicts`). Every model gives the sequential output.
    pub conflicts: ConflictModel,
}

impl Options {
    /// Adaptive, under the default conflict model (what `Default` gives).
    pub const ADAPTIVE: Options = Options {
        adaptive: true,
        conflicts: ConflictModel::Deltas,
    };

    /// Every strategy as asked (not adaptive), under the default conflict model.
    pub const RAW: Options = Options {
        adaptive: false,
        conflicts: ConflictModel::Deltas,
    };
}

impl Default for Options {
    fn default() -> Self {
        Self::ADAPTIVE
    }
}

/// What a node keeps to execute block after block: the worker threads (kept across blocks,
/// each with what it reuses from one execution to the next: revm's frame stack and
/// journal, its code copies, its allocator heap) and the options.
///
/// ```no_run
/// # fn blocks() -> Vec<(stmlab::evm::block::Block, stmlab::evm::state::InMemoryState)> { vec![] }
/// use stmlab::{Executor, Strategy};
/// let executor = Executor::new(2)?; // starts the worker threads, once
/// for (block, pre_state) in blocks() {
///     let executed = executor.execute(&block, &pre_state, Strategy::BlockStm)?;
///     println!("{} receipts", executed.output.txs.len());
/// }
/// # Ok::<(), stmlab::EngineError>(())
/// ```
pub struct Executor {
    pool: WorkerPool,
    options: Options,
    startup: Duration,
}

impl Executor {
    /// An executor on `threads` threads (the calling thread is one of them), in adaptive
    /// mode.
    pub fn new(threads: usize) -> Result<Self, EngineError> {
        Self::with_options(threads, Options::default())
    }

    pub fn with_options(threads: usize, options: Options) -> Result<Self, EngineError> {
        let start = Instant::now();
        let pool = WorkerPool::new(threads)?;
        Ok(Self {
            pool,
            options,
            startup: start.elapsed(),
        })
    }

    pub fn threads(&self) -> usize {
        self.pool.threads()
    }

    pub fn options(&self) -> Options {
        self.options
    }

    /// How long starting the worker threads took: paid once, by `new`.
    pub fn startup(&self) -> Duration {
        self.startup
    }

    /// Executes `block` on the pre-block state `pre` with `strategy`.
    ///
    /// Every strategy returns exactly the output of sequential execution. If a parallel
    /// strategy reports a broken engine invariant, the block is executed sequentially
    /// instead and `metrics.fell_back` says what broke. If `pre` fails to answer a read,
    /// its error is returned at once ([`ExecuteError::State`]): no fallback, no second run.
    pub fn execute<P>(
        &self,
        block: &Block,
        pre: &P,
        strategy: Strategy,
    ) -> Result<Executed, ExecuteError<P::Error>>
    where
        P: DatabaseRef + Sync,
    {
        self.pool
            .install(|| run_block(block, pre, strategy, self.threads(), self.options))
    }
}

/// Executes `block` on the pre-block state `pre` with `strategy` on `threads` threads, in
/// adaptive mode (see [`Options`]): a one-call convenience over [`Executor`] (which starts
/// and stops its threads for this one block; a node keeps an `Executor`).
///
/// Every strategy returns exactly the output of sequential execution. If a parallel
/// strategy reports a broken engine invariant, the block is executed sequentially instead
/// and `metrics.fell_back` says what broke. If `pre` fails to answer a read, its error is
/// returned at once ([`ExecuteError::State`]): no fallback, no second run.
pub fn execute_block<P>(
    block: &Block,
    pre: &P,
    strategy: Strategy,
    threads: usize,
) -> Result<Executed, ExecuteError<P::Error>>
where
    P: DatabaseRef + Sync,
{
    execute_block_with(block, pre, strategy, threads, Options::default())
}

/// `execute_block` with explicit options.
pub fn execute_block_with<P>(
    block: &Block,
    pre: &P,
    strategy: Strategy,
    threads: usize,
    options: Options,
) -> Result<Executed, ExecuteError<P::Error>>
where
    P: DatabaseRef + Sync,
{
    crate::core::pool::check_threads(threads)?;
    if strategy == Strategy::Sequential {
        // No thread to start.
        return run_block(block, pre, strategy, threads, options);
    }
    Executor::with_options(threads, options)?.execute(block, pre, strategy)
}

/// One block, on whatever pool is installed (or scoped threads). Never inlined: the
/// instruction counts (`cli::instructions`) collect inside this function by its name.
#[inline(never)]
fn run_block<P>(
    block: &Block,
    pre: &P,
    strategy: Strategy,
    threads: usize,
    options: Options,
) -> Result<Executed, ExecuteError<P::Error>>
where
    P: DatabaseRef + Sync,
{
    crate::core::pool::check_threads(threads)?;
    // The block around its transactions: the pre-block system calls first, read by the
    // transactions through a view that forwards every read when there are none; then
    // the post-block steps, and all changes composed relative to `pre`.
    let pre_block = block_level::pre_block(block, pre)?;
    let view = Layered::new(pre, &pre_block);
    let mut executed = run_transactions(block, &view, strategy, threads, options)?;
    drop(view);
    executed.output = block_level::post_block(block, pre, pre_block, executed.output)?;
    Ok(executed)
}

/// The block's transactions on `pre` (the pre-block state with the pre-block system
/// calls applied), with `strategy`, or sequentially when adaptive mode chooses so.
fn run_transactions<P>(
    block: &Block,
    pre: &P,
    strategy: Strategy,
    threads: usize,
    options: Options,
) -> Result<Executed, ExecuteError<P::Error>>
where
    P: DatabaseRef + Sync,
{
    if options.adaptive && strategy != Strategy::Sequential {
        let mut choice = sequential_choice(block, threads).map(|why| (why, None));
        // A real block's header has already told (`sequential_choice`); the probe is for
        // blocks without one: time the first few transactions, since a block of cheap
        // ones loses more to the parallel machinery than a second core gives back.
        if choice.is_none() && block.header.is_none() {
            let mut probe = SequentialRun::new(block, pre);
            probe.run_until(probe_size(block.txs.len()))?;
            let per_tx = probe.elapsed() / probe.done().max(1) as u32;
            choice = cost_choice(per_tx, block.txs.len()).map(|why| (why, Some(probe)));
        }
        if let Some((reason, probe)) = choice {
            let mut metrics = Metrics {
                chose_sequential: Some(reason),
                ..Metrics::default()
            };
            // The probe's transactions are kept: the run goes on from where it stopped.
            let run = probe.unwrap_or_else(|| SequentialRun::new(block, pre));
            let output = run.finish(&mut metrics)?;
            return Ok(Executed { output, metrics });
        }
    }
    // The block runs in parallel: the kept threads may start waking while it is prepared.
    crate::core::pool::wake_installed();
    let txns = EvmTxns::new(block, pre).with_conflicts(options.conflicts);
    execute_txns(block, pre, strategy, threads, &txns)
}

/// `execute_block` over any executor of the block's EVM transactions (tests wrap
/// `EvmTxns` to inject faults).
///
/// Only a broken engine invariant falls back to sequential execution: the parallel path
/// has a bug, the sequential one is the reference. A failing pre-block state is the
/// caller's error and returns at once (running the block again would read it again). A
/// worker that panics (a panicking transaction or state source among them) is an
/// invariant too (`Invariant::WorkerPanicked`): a panic carries no typed error, and the
/// engine cannot tell one of its own from the source's.
fn execute_txns<P, T>(
    block: &Block,
    pre: &P,
    strategy: Strategy,
    threads: usize,
    txns: &T,
) -> Result<Executed, ExecuteError<P::Error>>
where
    P: DatabaseRef + Sync,
    T: TxnExecutor<
        Key = Location,
        Value = EvmValue,
        Output = EvmTxOutput,
        Error = EvmTxnError<P::Error>,
    >,
{
    let mut metrics = Metrics::default();
    let m = &mut metrics;
    let assembled = match strategy {
        Strategy::Sequential => {
            let output = sequential::execute(block, pre, m)?;
            return Ok(Executed { output, metrics });
        }
        Strategy::Sv => strategies::sv::execute(txns, threads, m)
            .map_err(ExecuteError::from)
            .and_then(|results| assemble_results(block, pre, results, threads, m)),
        Strategy::Dag => strategies::dag::execute(txns, threads, m)
            .map_err(ExecuteError::from)
            .and_then(|results| assemble_results(block, pre, results, threads, m)),
        Strategy::BlockStm if threads >= 2 && txns.num_txns() >= FREE_BESIDE_COLLECTION_TXNS => {
            // A large block: its memory is freed while the results are collected, and
            // assembly (sharded when large enough) then has both workers to itself.
            strategies::block_stm::run_block::<_, LockFreeMvMemory<_, _>>(txns, threads, m)
                .and_then(|run| run.finish_freeing_beside(m))
                .map_err(ExecuteError::from)
                .and_then(|results| assemble_results(block, pre, results, threads, m))
        }
        Strategy::BlockStm => {
            strategies::block_stm::execute_unreleased::<_, LockFreeMvMemory<_, _>>(txns, threads, m)
                .map_err(ExecuteError::from)
                .and_then(|(results, memory)| {
                    assemble_freeing(block, pre, results, memory, threads, m)
                })
        }
    };
    match assembled {
        Ok(output) => Ok(Executed { output, metrics }),
        Err(ExecuteError::Engine(EngineError::Invariant(invariant))) => {
            fall_back(block, pre, invariant)
        }
        Err(other) => Err(other),
    }
}

/// The output of a strategy that hands back every transaction's committed writes.
fn assemble_results<P: DatabaseRef + Sync>(
    block: &Block,
    pre: &P,
    results: EvmResults,
    threads: usize,
    metrics: &mut Metrics,
) -> Result<BlockOutput, ExecuteError<P::Error>> {
    let start = Instant::now();
    let (writes, outputs) = unzip_results(results);
    let output = assemble_on(block, pre, &writes, outputs, threads);
    metrics.phase(crate::core::phase::Phase::Assemble, start.elapsed());
    output
}

/// Write sets and outputs, in block order.
fn unzip_results(results: EvmResults) -> (Vec<Vec<(Location, EvmValue)>>, Vec<EvmTxOutput>) {
    results.into_iter().map(|r| (r.writes, r.output)).unzip()
}

/// Blocks of at least this many transactions have Block-STM's memory freed beside the
/// collection of their results (`BlockStm::finish_freeing_beside`), at 2 threads or more;
/// smaller ones beside their assembly (`assemble_freeing`), when it takes one thread.
/// Below it, a block's memory is freed faster than a worker is woken for it (2,000
/// chained transfers: 0.1 ms).
const FREE_BESIDE_COLLECTION_TXNS: usize = 4096;

/// Assembles Block-STM's output and frees its multi-version memory. When assembly takes
/// one thread (`assemble_shards`: a block of fewer than 20,000 written entries at 2
/// threads) and there is a second worker, that worker frees the memory meanwhile, so
/// freeing costs the block nothing (on the bundled mainnet blocks it was 5-8% of a
/// 2-thread run); otherwise the memory is freed first and assembly sharded. (Blocks of
/// `FREE_BESIDE_COLLECTION_TXNS` or more, at 2 threads or more, have had their memory
/// freed beside the collection of their results and do not come here.)
fn assemble_freeing<P: DatabaseRef + Sync>(
    block: &Block,
    pre: &P,
    results: EvmResults,
    memory: LockFreeMvMemory<Location, EvmValue>,
    threads: usize,
    metrics: &mut Metrics,
) -> Result<BlockOutput, ExecuteError<P::Error>> {
    let (writes, outputs) = unzip_results(results);
    if threads < 2 || assemble_shards(&writes, threads) > 1 {
        // Freed first: the memory and the assembled state are then never held at once (peak heap of
        // 10,000 ERC-20 transfers: 30.3 MiB, against 32.6 the other way).
        let start = Instant::now();
        drop(memory);
        metrics.phase(crate::core::phase::Phase::FreeMemory, start.elapsed());
        let start = Instant::now();
        let output = assemble_on(block, pre, &writes, outputs, threads);
        metrics.phase(crate::core::phase::Phase::Assemble, start.elapsed());
        return output;
    }
    let start = Instant::now();
    // Each part is taken by the one worker that needs it (uncontended locks).
    let outputs = std::sync::Mutex::new(Some(outputs));
    let memory = std::sync::Mutex::new(Some(memory));
    fn take<X>(m: &std::sync::Mutex<Option<X>>) -> Option<X> {
        m.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
    let mut parts = crate::core::pool::run_workers(2, |worker| {
        if worker == 0 {
            take(&outputs).map(|outputs| assemble_on(block, pre, &writes, outputs, 1))
        } else {
            drop(take(&memory));
            None
        }
    })?;
    // The wall time of assembly, which the freeing ran beside.
    metrics.phase(crate::core::phase::Phase::Assemble, start.elapsed());
    parts
        .swap_remove(0)
        .unwrap_or_else(|| Err(Invariant::AssemblyNeverRan.into()))
}

fn fall_back<P: DatabaseRef>(
    block: &Block,
    pre: &P,
    invariant: Invariant,
) -> Result<Executed, ExecuteError<P::Error>> {
    tracing::warn!(block = %block.label, reason = %invariant, "falling back to sequential execution");
    let mut metrics = Metrics {
        fell_back: Some(invariant),
        ..Metrics::default()
    };
    let output = sequential::execute(block, pre, &mut metrics)?;
    Ok(Executed { output, metrics })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::core::txn::{Execution, StateView, TxnIndex};
    use crate::evm::mainnet;

    /// `EvmTxns` with one transaction made to report an impossible state: it claims to be
    /// blocked on itself (on its first execution only, so a strategy that somehow went on
    /// would still finish).
    struct Faulty<'a, T> {
        inner: &'a T,
        bad: TxnIndex,
    }

    impl<T: TxnExecutor> TxnExecutor for Faulty<'_, T> {
        type Key = T::Key;
        type Value = T::Value;
        type Output = T::Output;
        type Error = T::Error;
        fn num_txns(&self) -> usize {
            self.inner.num_txns()
        }
        fn execute<S: StateView<T::Key, T::Value>>(
            &self,
            txn_idx: TxnIndex,
            view: &mut S,
        ) -> Execution<T::Key, T::Value, T::Output, T::Error> {
            if txn_idx == self.bad {
                return Execution::Blocked { on: txn_idx };
            }
            self.inner.execute(txn_idx, view)
        }
    }

    #[test]
    fn broken_invariant_falls_back_to_sequential() {
        // A bundled mainnet block of 119 transactions.
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/mainnet/13217637");
        let (block, state) = mainnet::load_block_dir(&dir).unwrap();
        // `execute_txns` runs the transactions alone (no block reward): so does this.
        let expected = sequential::execute(&block, &state, &mut Metrics::default()).unwrap();
        let txns = EvmTxns::new(&block, &state);
        let faulty = Faulty {
            inner: &txns,
            bad: 57,
        };
        for &strategy in Strategy::ALL.iter().filter(|s| **s != Strategy::Sequential) {
            for threads in [1, 2, 4] {
                let run = execute_txns(&block, &state, strategy, threads, &faulty).unwrap();
                // Block-STM's scheduler refuses the wait; the others never wait.
                let broke = match strategy {
                    Strategy::BlockStm => Invariant::WaitsOnLater {
                        txn: 57,
                        blocking: 57,
                    },
                    _ => Invariant::UnexpectedEstimate { txn: 57, on: 57 },
                };
                assert_eq!(
                    run.metrics.fell_back,
                    Some(broke),
                    "{strategy} at {threads} threads"
                );
                assert_eq!(run.output.first_difference(&expected), None, "{strategy}");
            }
        }
    }
}
