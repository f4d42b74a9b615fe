//! `EvmTxns`: a block of EVM transactions as the core's `TxnExecutor`.

use std::cell::Cell;
use std::collections::HashMap;

use revm::context::result::{EVMError, ExecutionResult};
use revm::context::{CfgEnv, Evm};
use revm::context_interface::{FrameStack, JournalTr};
use revm::handler::instructions::EthInstructions;
use revm::handler::{EthFrame, EthPrecompiles, Handler, MainnetContext};
use revm::interpreter::interpreter::EthInterpreter;
use revm::primitives::{Address, Log, U256};
use revm::DatabaseRef;

use super::adapter::{AdapterError, TxnDb};
use super::block::Block;
use super::code_copies::ThreadCodeCopies;
use super::handler::DeferredFeeHandler;
use super::location::{EvmValue, Location};
use super::writes::write_set;
use crate::core::txn::{Execution, StateView, TxnExecutor, TxnIndex};
use crate::core::FastHash;

/// What one transaction did, as far as its receipt goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecSummary {
    pub success: bool,
    pub gas_used: u64,
    pub logs: Vec<Log>,
}

/// A transaction's output: its execution summary, or why revm rejects it.
pub type EvmTxOutput = Result<ExecSummary, String>;

pub(crate) fn summarize(result: ExecutionResult) -> ExecSummary {
    ExecSummary {
        success: result.is_success(),
        gas_used: result.tx_gas_used(),
        logs: result.into_logs(),
    }
}

/// The configuration revm runs a block's transactions with.
pub fn cfg_env(block: &Block) -> CfgEnv {
    let mut cfg = CfgEnv::new_with_spec(block.spec);
    cfg.chain_id = block.chain_id;
    cfg
}

/// revm's call-frame stack: one interpreter stack (1024 words, 32 KiB) and memory buffer
/// per frame, eight frames preallocated. It does not depend on the database, so each worker
/// thread keeps one and lends it to every execution it runs, as sequential revm keeps its
/// one `Evm` for the whole block: building a fresh one per execution allocated and zeroed
/// about 300 KiB per transaction, which cost more than a token transfer's execution.
type Frames = FrameStack<EthFrame<EthInterpreter>>;

thread_local! {
    static FRAMES: Cell<Option<Frames>> = const { Cell::new(None) };
}

/// The transactions of `block` over the pre-block state `pre`.
pub struct EvmTxns<'a, P> {
    block: &'a Block,
    /// The pre-block state, read with each worker thread's own copies of the code.
    pre: ThreadCodeCopies<'a, P>,
    cfg: CfgEnv,
    /// For each transaction, the previous one from the same sender.
    same_sender_before: Vec<Option<TxnIndex>>,
}

impl<'a, P: DatabaseRef + Sync> EvmTxns<'a, P> {
    pub fn new(block: &'a Block, pre: &'a P) -> Self {
        let mut last: HashMap<Address, TxnIndex, FastHash> = HashMap::default();
        let same_sender_before = block
            .txs
            .iter()
            .enumerate()
            .map(|(i, tx)| last.insert(tx.caller, i))
            .collect();
        Self {
            block,
            pre: ThreadCodeCopies::new(pre),
            cfg: cfg_env(block),
            same_sender_before,
        }
    }
}

impl<P: DatabaseRef + Sync> TxnExecutor for EvmTxns<'_, P> {
    type Key = Location;
    type Value = EvmValue;
    type Output = EvmTxOutput;

    fn num_txns(&self) -> usize {
        self.block.txs.len()
    }

    fn dependency_hint(&self, txn_idx: TxnIndex) -> Option<TxnIndex> {
        self.same_sender_before.get(txn_idx).copied().flatten()
    }

    fn execute<S: StateView<Location, EvmValue>>(
        &self,
        txn_idx: TxnIndex,
        view: &mut S,
    ) -> Execution<Location, EvmValue, EvmTxOutput> {
        let db = TxnDb::new(view, &self.pre, txn_idx, self.block.env.beneficiary);
        let spec = self.block.spec;
        let ctx = MainnetContext::new(db, spec)
            .with_block(self.block.env.clone())
            .with_cfg(self.cfg.clone())
            .with_tx(self.block.txs[txn_idx].clone());
        // What `MainBuilder::build_mainnet` builds, but with this thread's frame stack.
        let mut evm = Evm {
            ctx,
            inspector: (),
            instruction: EthInstructions::new_mainnet_with_spec(spec.into()),
            precompiles: EthPrecompiles::new(spec.into()),
            frame_stack: FRAMES.take().unwrap_or_else(|| FrameStack::new_prealloc(8)),
        };
        let mut handler = DeferredFeeHandler::default();
        let result = handler.run(&mut evm);
        // Lent back whatever happened (a panic above just loses it; the next execution
        // builds a new one).
        FRAMES.set(Some(std::mem::take(&mut evm.frame_stack)));
        let state = evm.ctx.journaled_state.finalize();
        match result {
            Ok(result) => {
                let db = &evm.ctx.journaled_state.database;
                // A beneficiary that self-destructed in this transaction is deleted after the
                // reward, as in revm's own commit: the fee is burned.
                let beneficiary = state.get(&self.block.env.beneficiary);
                let burned = beneficiary.is_some_and(|a| a.is_selfdestructed());
                let writes = write_set(
                    txn_idx,
                    &state,
                    |a| db.accounts_read().get(a),
                    Some(if burned { U256::ZERO } else { handler.fee() }),
                );
                Execution::Done {
                    writes,
                    output: Ok(summarize(result)),
                }
            }
            Err(EVMError::Database(AdapterError::Blocked(on))) => Execution::Blocked { on },
            // The state source failed, or the view broke an invariant: not the
            // transaction's fault, and no receipt can say it.
            Err(EVMError::Database(error)) => Execution::Failed {
                reason: error.to_string(),
            },
            // Invalid transactions: rejected, exactly as sequential revm rejects them.
            Err(error) => Execution::Done {
                writes: Vec::new(),
                output: Err(error.to_string()),
            },
        }
    }
}
