//! Strategy `sequential`: plain revm, one transaction after another, each committed to a
//! `CacheDB` over the pre-block state before the next runs. The reference every other
//! strategy is checked and measured against.

use revm::context::result::EVMError;
use revm::database::CacheDB;
use revm::handler::MainnetContext;
use revm::primitives::Address;
use revm::{DatabaseCommit, DatabaseRef, ExecuteEvm, MainBuilder};

use super::assemble::{receipts, FinalState};
use super::block::Block;
use super::executor::{cfg_env, summarize};
use super::location::AccountValue;
use super::output::BlockOutput;
use super::writes::write_set;
use crate::core::metrics::Metrics;
use crate::core::FastHash;
use crate::error::EngineError;

pub fn execute<P: DatabaseRef>(
    block: &Block,
    pre: &P,
    metrics: &mut Metrics,
) -> Result<BlockOutput, EngineError> {
    let start = std::time::Instant::now();
    let mut evm = MainnetContext::new(CacheDB::new(pre), block.spec)
        .with_block(block.env.clone())
        .with_cfg(cfg_env(block))
        .build_mainnet();
    let mut final_state = FinalState::default();
    let mut outputs = Vec::with_capacity(block.txs.len());
    for (i, tx) in block.txs.iter().enumerate() {
        metrics.executions += 1;
        match evm.transact(tx.clone()) {
            Ok(result_and_state) => {
                let state = result_and_state.state;
                // Only the storage epochs matter to the write set here: revm's own state
                // already holds the fee credit, and no account write is skipped.
                let epochs: std::collections::HashMap<Address, AccountValue, FastHash> = state
                    .keys()
                    .map(|a| {
                        (
                            *a,
                            AccountValue {
                                info: None,
                                storage_epoch: final_state.storage_epoch(a),
                            },
                        )
                    })
                    .collect();
                let writes = write_set(i, &state, |a| epochs.get(a), None);
                final_state.apply(i, &writes)?;
                evm.ctx.journaled_state.database.commit(state);
                outputs.push(Ok(summarize(result_and_state.result)));
            }
            // The state source failed: no receipt can say that.
            Err(EVMError::Database(error)) => return Err(EngineError::PreState(error.to_string())),
            // Invalid transactions are rejected and the block goes on.
            Err(error) => outputs.push(Err(error.to_string())),
        }
    }
    metrics.phase("execute", start.elapsed());
    let start = std::time::Instant::now();
    let output = BlockOutput {
        txs: receipts(block, outputs),
        state: final_state
            .changes(pre, block.env.beneficiary, block.spec)
            .map_err(|e| EngineError::PreState(e.to_string()))?,
    };
    metrics.phase("assemble", start.elapsed());
    Ok(output)
}
