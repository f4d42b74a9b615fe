//! Strategy `sequential`: plain revm, one transaction after another, each committed to a
//! `CacheDB` over the pre-block state before the next runs. The reference every other
//! strategy is checked and measured against.
//!
//! [`SequentialRun`] can stop after a prefix of the block and go on later: the engine's
//! adaptive mode times a few transactions this way before deciding, and keeps the work
//! when it decides to run the block sequentially.

use std::time::{Duration, Instant};

use revm::context::result::EVMError;
use revm::database::CacheDB;
use revm::handler::{MainnetContext, MainnetEvm};
use revm::primitives::map::AddressMap;
use revm::{DatabaseCommit, DatabaseRef, ExecuteEvm, MainBuilder};

use super::assemble::{receipts, FinalState};
use super::block::Block;
use super::executor::{cfg_env, summarize, EvmTxOutput};
use super::location::AccountValue;
use super::output::BlockOutput;
use super::writes::write_set;
use crate::core::metrics::Metrics;
use crate::error::ExecuteError;

pub fn execute<P: DatabaseRef>(
    block: &Block,
    pre: &P,
    metrics: &mut Metrics,
) -> Result<BlockOutput, ExecuteError<P::Error>> {
    SequentialRun::new(block, pre).finish(metrics)
}

/// A sequential execution of `block` in progress.
pub struct SequentialRun<'a, P: DatabaseRef> {
    block: &'a Block,
    pre: &'a P,
    evm: MainnetEvm<MainnetContext<CacheDB<&'a P>>>,
    final_state: FinalState,
    outputs: Vec<EvmTxOutput>,
    /// Time spent executing transactions so far (building the EVM is not counted: the
    /// engine's probe divides this by the transactions done).
    elapsed: Duration,
}

impl<'a, P: DatabaseRef> SequentialRun<'a, P> {
    pub fn new(block: &'a Block, pre: &'a P) -> Self {
        let evm = MainnetContext::new(CacheDB::new(pre), block.spec)
            .with_block(block.env.clone())
            .with_cfg(cfg_env(block))
            .build_mainnet();
        Self {
            block,
            pre,
            evm,
            final_state: FinalState::default(),
            outputs: Vec::with_capacity(block.txs.len()),
            elapsed: Duration::ZERO,
        }
    }

    /// Transactions executed so far.
    pub fn done(&self) -> usize {
        self.outputs.len()
    }

    /// Time spent executing so far.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// Executes the transactions up to (not including) `end`.
    pub fn run_until(&mut self, end: usize) -> Result<(), ExecuteError<P::Error>> {
        let start = Instant::now();
        let end = end.min(self.block.txs.len());
        while self.outputs.len() < end {
            let i = self.outputs.len();
            match self.evm.transact(self.block.txs[i].clone()) {
                Ok(result_and_state) => {
                    let state = result_and_state.state;
                    // Only the storage epochs matter to the write set here: revm's own
                    // state already holds the fee credit, and no account write is skipped.
                    let epochs: AddressMap<AccountValue> = state
                        .keys()
                        .map(|a| {
                            (
                                *a,
                                AccountValue {
                                    info: None,
                                    storage_epoch: self.final_state.storage_epoch(a),
                                },
                            )
                        })
                        .collect();
                    let writes = write_set(i, &state, |a| epochs.get(a), None);
                    self.final_state.apply(i, writes)?;
                    self.evm.ctx.journaled_state.database.commit(state);
                    self.outputs.push(Ok(summarize(result_and_state.result)));
                }
                // The state source failed: no receipt can say that.
                Err(EVMError::Database(error)) => {
                    return Err(ExecuteError::State {
                        txn: Some(i),
                        error,
                    })
                }
                // Invalid transactions are rejected and the block goes on.
                Err(error) => self.outputs.push(Err(error.to_string())),
            }
        }
        self.elapsed += start.elapsed();
        Ok(())
    }

    /// Executes the rest of the block and assembles its output.
    pub fn finish(mut self, metrics: &mut Metrics) -> Result<BlockOutput, ExecuteError<P::Error>> {
        self.run_until(self.block.txs.len())?;
        metrics.executions += self.outputs.len() as u64;
        metrics.phase(crate::core::phase::Phase::Execute, self.elapsed);
        let start = Instant::now();
        let block = self.block;
        let output = BlockOutput {
            txs: receipts(block, self.outputs),
            state: self
                .final_state
                .changes(self.pre, block.env.beneficiary, block.spec)
                .map_err(|error| ExecuteError::State { txn: None, error })?,
            ..BlockOutput::default()
        };
        metrics.phase(crate::core::phase::Phase::Assemble, start.elapsed());
        Ok(output)
    }
}

/// revm's bare loop over the block: transact and commit every transaction to a `CacheDB`
/// over the pre-block state, and build nothing else (no receipts, no state changes). Not
/// a strategy: the goals table times it beside [`execute`] to show what the canonical
/// output costs.
pub fn bare_revm<P: DatabaseRef>(block: &Block, pre: &P) -> Result<usize, ExecuteError<P::Error>> {
    use revm::ExecuteCommitEvm;
    let mut evm = MainnetContext::new(CacheDB::new(pre), block.spec)
        .with_block(block.env.clone())
        .with_cfg(cfg_env(block))
        .build_mainnet();
    let mut included = 0;
    for (i, tx) in block.txs.iter().enumerate() {
        match evm.transact_commit(tx.clone()) {
            Ok(_) => included += 1,
            Err(EVMError::Database(error)) => {
                return Err(ExecuteError::State {
                    txn: Some(i),
                    error,
                })
            }
            Err(_) => {}
        }
    }
    Ok(included)
}
