//! The library API a node calls: execute this block on this state with this strategy and
//! this many threads.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use revm::DatabaseRef;

use crate::core::metrics::Metrics;
use crate::core::mvmemory::lockfree::LockFreeMvMemory;
use crate::core::txn::{TxnExecutor, TxnResult};
use crate::error::EngineError;
use crate::evm::assemble::assemble_on;
use crate::evm::block::Block;
use crate::evm::executor::{EvmTxOutput, EvmTxns};
use crate::evm::location::{EvmValue, Location};
use crate::evm::output::BlockOutput;
use crate::evm::sequential::{self, SequentialRun};
use crate::evm::shape::Shape;
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
    /// gain: too few transactions, one sender's chain of them ([`sequential_choice`]), or
    /// too cheap ones, as timed on the first few ([`probe_size`], [`cost_choice`]);
    /// `metrics.chose_sequential` then says why. Off, every strategy runs as asked: what tests and research comparisons of
    /// the strategies themselves need.
    pub adaptive: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self { adaptive: true }
    }
}

/// Blocks with fewer transactions than this per worker thread run sequentially (adaptive
/// mode): starting workers and building the shared structures costs more than the few
/// transactions each would get.
pub const MIN_TXS_PER_THREAD: usize = 8;

/// Blocks whose parallelism bound (transactions over the longest same-sender chain) is
/// below this run sequentially (adaptive mode): at best they would gain a few percent, at
/// worst re-execute most transactions.
pub const MIN_PARALLELISM: f64 = 1.5;

/// Real blocks whose header's gas used averages less than this per transaction run
/// sequentially (adaptive mode). Measured on the bundled mainnet blocks (`--raw`
/// Block-STM at 2 threads, two runs): every block under 32,000 gas a transaction was
/// slower than sequential but one (1.04-1.06x); of the 12 blocks above 45,000 and 2 ms,
/// 10 were faster in both runs. The timed probe alone misjudges such blocks: their first
/// transactions are the expensive ones.
pub const MIN_GAS_PER_TX: u64 = 45_000;

/// Real blocks whose header's gas used is below this run sequentially (adaptive mode):
/// the header's stand-in for [`MIN_BLOCK_COST`]. Measured on the bundled mainnet blocks
/// (`--raw` Block-STM at 2 threads, three runs): of the blocks above [`MIN_GAS_PER_TX`],
/// those under 10 million gas (2-3 ms here) gained nothing reliably (0.87-1.17x), those
/// above gained in most runs (0.88-1.49x).
pub const MIN_BLOCK_GAS: u64 = 10_000_000;

/// Transactions adaptive mode executes sequentially, timed, before choosing on a block
/// without a header: one in [`PROBE_SHARE`] of them, at least [`PROBE_TXS`] and at most
/// [`MAX_PROBE_TXS`]; kept if it chooses sequential execution, thrown away otherwise (at
/// most 1/32 of the work done twice). The first transactions run on cold caches and cost
/// more than the rest: a probe of 8 on 10,000 ERC-20 transfers measured them above 8 µs
/// each where the block averages 5.
pub const PROBE_TXS: usize = 8;
pub const PROBE_SHARE: usize = 32;
pub const MAX_PROBE_TXS: usize = 64;

/// How many transactions adaptive mode probes in a block of `txs`.
pub fn probe_size(txs: usize) -> usize {
    (txs / PROBE_SHARE).clamp(PROBE_TXS, MAX_PROBE_TXS)
}

/// Blocks whose probed transactions took less than this each run sequentially (adaptive
/// mode): Block-STM's own cost per transaction at 2 threads on this machine is a few
/// microseconds (multi-version reads and writes, validation, scheduling), so cheaper
/// transactions lose more than a second core gives back. Measured: on the bundled
/// mainnet blocks, `--raw` Block-STM at 2 threads was slower than sequential on every
/// block averaging under 6 µs a transaction, faster on most above 8 µs.
pub const MIN_TX_COST: Duration = Duration::from_micros(8);

/// Blocks whose estimated sequential time (probed cost per transaction times their
/// number) is below this run sequentially (adaptive mode): starting the workers and
/// building the shared structures takes a good part of a millisecond here.
pub const MIN_BLOCK_COST: Duration = Duration::from_micros(1500);

/// Why a block of `txs` transactions costing `per_tx` each (as probed) should run
/// sequentially, if it should.
pub fn cost_choice(per_tx: Duration, txs: usize) -> Option<String> {
    let estimate = per_tx * txs as u32;
    if per_tx < MIN_TX_COST {
        return Some(format!(
            "probed {:.1} µs a transaction, under {} µs",
            per_tx.as_secs_f64() * 1e6,
            MIN_TX_COST.as_micros()
        ));
    }
    if estimate < MIN_BLOCK_COST {
        return Some(format!(
            "about {:.2} ms sequentially, under {:.1} ms",
            estimate.as_secs_f64() * 1e3,
            MIN_BLOCK_COST.as_secs_f64() * 1e3
        ));
    }
    None
}

/// Why `block` should run sequentially on `threads` threads in adaptive mode, if it
/// should: decided from the block alone, before anything executes.
pub fn sequential_choice(block: &Block, threads: usize) -> Option<String> {
    let shape = Shape::of(block);
    if shape.txs < MIN_TXS_PER_THREAD * threads {
        return Some(format!(
            "{} transactions, fewer than {MIN_TXS_PER_THREAD} per thread",
            shape.txs
        ));
    }
    if let Some(header) = &block.header {
        // A real block's header says how much gas its transactions used: a low average
        // means mostly transfers and other cheap calls.
        let per_tx = header.gas_used / shape.txs.max(1) as u64;
        if per_tx < MIN_GAS_PER_TX {
            return Some(format!(
                "header: {per_tx} gas a transaction on average, under {MIN_GAS_PER_TX}"
            ));
        }
        if header.gas_used < MIN_BLOCK_GAS {
            return Some(format!(
                "header: {} gas in all, under {MIN_BLOCK_GAS}",
                header.gas_used
            ));
        }
    }
    let bound = shape.parallelism_bound();
    if bound < MIN_PARALLELISM {
        let (sender, n) = shape.busiest_sender.unwrap_or_default();
        return Some(format!(
            "sender {sender} has {n} of {} transactions: at most {bound:.2}x from parallelism",
            shape.txs
        ));
    }
    None
}

/// Executes `block` on the pre-block state `pre` with `strategy` on `threads` threads, in
/// adaptive mode (see [`Options`]).
///
/// Every strategy returns exactly the output of sequential execution. If a parallel
/// strategy reports a broken engine invariant, the block is executed sequentially instead
/// and `metrics.fell_back` says why.
pub fn execute_block<P>(
    block: &Block,
    pre: &P,
    strategy: Strategy,
    threads: usize,
) -> Result<Executed, EngineError>
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
) -> Result<Executed, EngineError>
where
    P: DatabaseRef + Sync,
{
    if threads == 0 {
        return Err(EngineError::ZeroThreads);
    }
    if options.adaptive && strategy != Strategy::Sequential {
        let mut run = SequentialRun::new(block, pre);
        let reason = match sequential_choice(block, threads) {
            Some(reason) => Some(reason),
            // A real block's header has already told (above); the probe is for blocks
            // without one. (On a block of a hundred transactions, the probe's eight are
            // thrown away when the choice is parallel: 8% of the work done twice.)
            None if block.header.is_some() => None,
            None => {
                // Time the first few transactions: a block of cheap ones loses more to
                // the parallel machinery than a second core gives back.
                run.run_until(probe_size(block.txs.len()))?;
                cost_choice(run.elapsed() / run.done().max(1) as u32, block.txs.len())
            }
        };
        if let Some(reason) = reason {
            let mut metrics = Metrics {
                chose_sequential: Some(reason),
                ..Metrics::default()
            };
            let output = run.finish(&mut metrics)?;
            return Ok(Executed { output, metrics });
        }
    }
    execute_txns(block, pre, strategy, threads, &EvmTxns::new(block, pre))
}

/// `execute_block` over any executor of the block's EVM transactions (tests wrap
/// `EvmTxns` to inject faults).
fn execute_txns<P, T>(
    block: &Block,
    pre: &P,
    strategy: Strategy,
    threads: usize,
    txns: &T,
) -> Result<Executed, EngineError>
where
    P: DatabaseRef + Sync,
    T: TxnExecutor<Key = Location, Value = EvmValue, Output = EvmTxOutput>,
{
    let mut metrics = Metrics::default();
    let parallel: Result<EvmResults, EngineError> = match strategy {
        Strategy::Sequential => {
            let output = sequential::execute(block, pre, &mut metrics)?;
            return Ok(Executed { output, metrics });
        }
        Strategy::Sv => strategies::sv::execute(txns, threads, &mut metrics),
        Strategy::Dag => strategies::dag::execute(txns, threads, &mut metrics),
        Strategy::BlockStm => {
            strategies::block_stm::execute::<_, LockFreeMvMemory<_, _>>(txns, threads, &mut metrics)
        }
    };
    let start = Instant::now();
    let assembled = parallel.and_then(|results| {
        let (writes, outputs): (Vec<_>, Vec<_>) =
            results.into_iter().map(|r| (r.writes, r.output)).unzip();
        assemble_on(block, pre, &writes, outputs, threads)
    });
    match assembled {
        Ok(output) => {
            metrics.phase("assemble", start.elapsed());
            Ok(Executed { output, metrics })
        }
        Err(EngineError::Invariant(reason)) => fall_back(block, pre, reason),
        Err(other) => Err(other),
    }
}

fn fall_back<P: DatabaseRef>(
    block: &Block,
    pre: &P,
    reason: String,
) -> Result<Executed, EngineError> {
    tracing::warn!(block = %block.label, %reason, "falling back to sequential execution");
    let mut metrics = Metrics {
        fell_back: Some(reason),
        ..Metrics::default()
    };
    let output = sequential::execute(block, pre, &mut metrics)?;
    Ok(Executed { output, metrics })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_is_a_thirty_second_of_the_block_within_bounds() {
        assert_eq!(probe_size(10), PROBE_TXS);
        assert_eq!(probe_size(320), 10);
        assert_eq!(probe_size(100_000), MAX_PROBE_TXS);
    }

    #[test]
    fn cheap_or_small_blocks_are_chosen_sequential_by_cost() {
        let us = Duration::from_micros;
        // Cheap transactions: sequential whatever the block's size.
        assert!(cost_choice(us(2), 100_000)
            .unwrap()
            .contains("µs a transaction"));
        // Costly ones, but too few to pay for the workers.
        assert!(cost_choice(us(50), 20).unwrap().contains("ms sequentially"));
        // Costly enough, and enough of them.
        assert_eq!(cost_choice(us(50), 100), None);
        assert_eq!(cost_choice(MIN_TX_COST, 1_000), None);
    }
    use crate::core::txn::{Execution, StateView, TxnIndex};
    use crate::workloads;

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
        fn num_txns(&self) -> usize {
            self.inner.num_txns()
        }
        fn execute<S: StateView<T::Key, T::Value>>(
            &self,
            txn_idx: TxnIndex,
            view: &mut S,
        ) -> Execution<T::Key, T::Value, T::Output> {
            if txn_idx == self.bad {
                return Execution::Blocked { on: txn_idx };
            }
            self.inner.execute(txn_idx, view)
        }
    }

    #[test]
    fn broken_invariant_falls_back_to_sequential() {
        let (block, state) = workloads::from_spec("erc20:txs=200,accounts=400,hot=0.3").unwrap();
        let expected = execute_block(&block, &state, Strategy::Sequential, 1)
            .unwrap()
            .output;
        let txns = EvmTxns::new(&block, &state);
        let faulty = Faulty {
            inner: &txns,
            bad: 57,
        };
        for &strategy in Strategy::ALL.iter().filter(|s| **s != Strategy::Sequential) {
            for threads in [1, 2, 4] {
                let run = execute_txns(&block, &state, strategy, threads, &faulty).unwrap();
                let reason = run.metrics.fell_back.as_deref();
                assert!(
                    reason.is_some_and(|r| r.contains("57")),
                    "{strategy} at {threads} threads did not fall back: {reason:?}"
                );
                assert_eq!(run.output.first_difference(&expected), None, "{strategy}");
            }
        }
    }
}
