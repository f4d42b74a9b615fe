//! `EvmTxns`: a block of EVM transactions as the core's `TxnExecutor`.

use std::cell::Cell;
use std::collections::HashMap;

use revm::context::result::{EVMError, ExecutionResult};
use revm::context::JournalEntry;
use revm::context::{CfgEnv, Context, Evm, Journal, JournalInner, LocalContext};
use revm::context_interface::FrameStack;
use revm::handler::{EthFrame, EthPrecompiles, Handler};
use revm::interpreter::instructions::{gas_table_spec, GasTable};
use revm::interpreter::interpreter::EthInterpreter;
use revm::primitives::hardfork::SpecId;
use revm::primitives::map::AddressMap;
use revm::primitives::{Log, U256};
use revm::DatabaseRef;

use super::adapter::{AdapterError, TxnDb};
use super::block::Block;
use super::code_copies::ThreadCodeCopies;
use super::conflicts::ConflictModel;
use super::handler::{DeferredFeeHandler, SharedInstructions};
use super::lazy::Lazy;
use super::location::{AccountValue, EvmValue, Location};
use super::observe::{Observe, BALANCE, HUGE, NONCE};
use super::writes::{field_write_set, write_set};
use crate::core::txn::{Execution, StateView, TxnExecutor, TxnIndex};
use crate::core::Invariant;

/// What one transaction did, as far as its receipt goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecSummary {
    pub success: bool,
    pub gas_used: u64,
    pub logs: Vec<Log>,
}

/// A transaction's output: its execution summary, or why revm rejects it.
pub type EvmTxOutput = Result<ExecSummary, String>;

/// Why an EVM transaction could not run at all (`E`: the pre-block state's error): not
/// the transaction's fault, and no receipt can say it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvmTxnError<E> {
    /// The pre-block state failed to answer a read: its error, as it is. The engine
    /// returns it to the caller (`ExecuteError::State`).
    #[error("pre-block state: {0}")]
    State(E),
    /// The strategy's view returned a value of the wrong kind for its key: an engine bug,
    /// on which the engine falls back to sequential execution.
    #[error("engine invariant broken: {0}")]
    Invariant(Invariant),
}

pub(crate) fn summarize(result: ExecutionResult) -> ExecSummary {
    ExecSummary {
        success: result.is_success(),
        gas_used: result.tx_gas_used(),
        logs: result.into_logs(),
    }
}

/// The configuration revm runs a block's transactions with: the spec, the chain id and the
/// fork's limit on blobs per transaction (EIP-4844, EIP-7691, EIP-7594). The rest of the
/// blob schedule is in the block environment's blob gas price, computed with the block's
/// update fraction (`mainnet::mainnet_blob_params`); revm 43 reads the cfg's own update
/// fraction nowhere in execution. Osaka's transaction gas cap (EIP-7825) is revm's default
/// for the spec.
pub fn cfg_env(block: &Block) -> CfgEnv {
    let mut cfg = CfgEnv::new_with_spec(block.spec);
    cfg.chain_id = block.chain_id;
    cfg.max_blobs_per_tx = super::mainnet::max_blobs_per_tx(block.spec);
    cfg
}

/// revm's call-frame stack: one interpreter stack (1024 words, 32 KiB) and memory buffer
/// per frame, eight frames preallocated.
type Frames = FrameStack<EthFrame<EthInterpreter>>;

/// What sequential revm builds once per block and keeps from one transaction to the next,
/// kept by each worker thread the same way: none of it depends on the database an
/// execution reads through, so one worker lends it to every execution it runs.
///
/// - the frame stack (building one per execution allocated and zeroed about 300 KiB per
///   transaction, more than a token transfer's execution cost);
/// - the journal's inner state (its warmed precompile addresses stay warm: rebuilding
///   them cost 760 instructions a transaction, and the journal itself 1,400);
/// - the local context (a 4 KiB memory buffer).
///
/// The block and cfg environments and the transaction are not moved into the execution at
/// all: its context borrows them from the block (revm's traits for them hold for
/// references), so no transaction's data is cloned and no environment copied.
///
/// The journal is kept per block: a thread that starts on another block (`block` differs)
/// builds it anew, so no state or spec of one block leaks into the next; the frame stack,
/// the local context and the accounts map (emptied by every execution) go on from block
/// to block.
struct Reused {
    block: u64,
    journal: JournalInner<JournalEntry>,
    local: LocalContext,
    frames: Frames,
    /// The adapter's map of the accounts an execution read.
    accounts: AddressMap<AccountValue>,
    /// The adapter's lazy fields (`fields`, `deltas`).
    lazy: Lazy,
}

thread_local! {
    static REUSED: Cell<Option<Reused>> = const { Cell::new(None) };
}

/// The transactions of `block` over the pre-block state `pre`.
pub struct EvmTxns<'a, P> {
    block: &'a Block,
    /// The pre-block state, read with each worker thread's own copies of the code.
    pre: ThreadCodeCopies<'a, P>,
    cfg: CfgEnv,
    /// The static gas of every opcode under the block's spec (what revm's
    /// `EthInstructions` rebuilds per EVM).
    gas: GasTable,
    /// Tells this block's reused revm pieces from another block's (`Reused::block`).
    block_id: u64,
    /// For each transaction, the previous one from the same sender.
    same_sender_before: Vec<Option<TxnIndex>>,
    /// Which locations an account's fields are, and whether credits are deltas.
    conflicts: ConflictModel,
}

impl<'a, P: DatabaseRef + Sync> EvmTxns<'a, P> {
    pub fn new(block: &'a Block, pre: &'a P) -> Self {
        let mut last: AddressMap<TxnIndex> = HashMap::default();
        let same_sender_before = block
            .txs
            .iter()
            .enumerate()
            .map(|(i, tx)| last.insert(tx.caller, i))
            .collect();
        let pre = ThreadCodeCopies::new(pre);
        Self {
            block,
            block_id: pre.block_id(),
            pre,
            cfg: cfg_env(block),
            gas: gas_table_spec(block.spec),
            same_sender_before,
            conflicts: ConflictModel::default(),
        }
    }

    /// The same transactions under conflict model `conflicts`.
    pub fn with_conflicts(mut self, conflicts: ConflictModel) -> Self {
        self.conflicts = conflicts;
        self
    }

    pub fn conflicts(&self) -> ConflictModel {
        self.conflicts
    }
}

impl<P: DatabaseRef + Sync> TxnExecutor for EvmTxns<'_, P> {
    type Key = Location;
    type Value = EvmValue;
    type Output = EvmTxOutput;
    type Error = EvmTxnError<P::Error>;

    fn num_txns(&self) -> usize {
        self.block.txs.len()
    }

    fn dependency_hint(&self, txn_idx: TxnIndex) -> Option<TxnIndex> {
        self.same_sender_before.get(txn_idx).copied().flatten()
    }

    /// For a block with a header, an estimate (not a bound): a few keys per transaction
    /// (its sender's balance and nonce, a recipient, a fee), and a storage slot per 2,900
    /// gas the header says the block used, what a first write of a slot costs since Berlin
    /// when it was read before (a write that changes nothing costs less, refunds lower the
    /// gas used, and older forks priced writes otherwise). So a block of many storage
    /// writes plans for them beyond the memory's minimum table. A block of the 2016
    /// attacks, whose self-destructs touched accounts at next to no gas, writes far more
    /// than its gas says (2462997: 9 transactions, 1,946 keys; the minimum table holds
    /// them). The memory caps the hint, so a header's gas used, checked only after the
    /// block ran, cannot make it reserve more than it can hold.
    fn expected_keys(&self) -> Option<usize> {
        const KEYS_PER_TXN: usize = 4;
        const LEAST_GAS_PER_SLOT_WRITE: u64 = 2_900;
        let header = self.block.header.as_ref()?;
        let slots = usize::try_from(header.gas_used / LEAST_GAS_PER_SLOT_WRITE).ok()?;
        Some(
            self.num_txns()
                .saturating_mul(KEYS_PER_TXN)
                .saturating_add(slots),
        )
    }

    fn execute<S: StateView<Location, EvmValue>>(
        &self,
        txn_idx: TxnIndex,
        view: &mut S,
    ) -> Execution<Location, EvmValue, EvmTxOutput, EvmTxnError<P::Error>> {
        let spec = self.block.spec;
        // The frame stack, local context and accounts map serve any block; the journal
        // (whose warmed precompiles follow the spec) is this block's, built anew when the
        // thread's last block was another.
        let reused = match REUSED.take() {
            Some(r) if r.block == self.block_id => r,
            kept => {
                let (local, frames, accounts, lazy) = match kept {
                    Some(r) => (r.local, r.frames, r.accounts, r.lazy),
                    None => (
                        LocalContext::default(),
                        FrameStack::new_prealloc(8),
                        HashMap::default(),
                        Lazy::default(),
                    ),
                };
                Reused {
                    block: self.block_id,
                    journal: JournalInner::new(),
                    local,
                    frames,
                    accounts,
                    lazy,
                }
            }
        };
        let Reused {
            block,
            mut journal,
            mut local,
            mut frames,
            accounts,
            mut lazy,
        } = reused;
        let beneficiary = self.block.env.beneficiary;
        lazy.model = self.conflicts;
        let lazy_fields = lazy.is_lazy();
        let tx = &self.block.txs[txn_idx];
        lazy.eager.clear();
        let mut db = TxnDb::with_accounts(view, &self.pre, txn_idx, beneficiary, accounts, lazy);
        let spurious_dragon = spec.is_enabled_in(SpecId::SPURIOUS_DRAGON);
        // Under `deltas` a balance is resolved only if observed: a run that observed one it
        // left unresolved runs again with it resolved (`TxnDb::finish_observations`).
        let (result, state, handler, frame_stack) = loop {
            if lazy_fields {
                // The nonce check, the balance check and the fee.
                db.observe(tx.caller, BALANCE | NONCE);
                if tx.value >= HUGE {
                    if let revm::primitives::TxKind::Call(to) = tx.kind {
                        db.observe(to, BALANCE);
                    }
                }
            }
            let ctx = Context {
                block: &self.block.env,
                tx,
                cfg: &self.cfg,
                journaled_state: Journal::new_with_inner(db, journal),
                chain: (),
                local,
                error: Ok(()),
            };
            // What `MainBuilder::build_mainnet` builds, but from this thread's reused pieces.
            let mut evm = Evm {
                ctx,
                inspector: (),
                instruction: if lazy_fields {
                    SharedInstructions::observing(&self.gas)
                } else {
                    SharedInstructions::new(&self.gas)
                },
                precompiles: EthPrecompiles::new(spec.into()),
                frame_stack: frames,
            };
            let mut handler = DeferredFeeHandler::default();
            let result = handler.run(&mut evm);
            // As `ExecuteEvm::transact` does after every transaction: the journal is left
            // empty for the next one (after an error too: the handler discarded it).
            let state = evm.ctx.journaled_state.finalize();
            let Evm {
                ctx, frame_stack, ..
            } = evm;
            let Context {
                journaled_state,
                local: ctx_local,
                ..
            } = ctx;
            let Journal { database, inner } = journaled_state;
            db = database;
            journal = inner;
            local = ctx_local;
            let rejected = result.is_err();
            let failed = matches!(result, Err(EVMError::Database(_)));
            if lazy_fields
                && !failed
                && db.finish_observations((!rejected).then_some(&state), spurious_dragon)
            {
                frames = frame_stack;
                continue;
            }
            break (result, state, handler, frame_stack);
        };
        let execution = match result {
            Ok(result) => {
                // A beneficiary that self-destructed in this transaction is deleted after the
                // reward, as in revm's own commit: the fee is burned.
                let beneficiary = state.get(&self.block.env.beneficiary);
                let burned = beneficiary.is_some_and(|a| a.is_selfdestructed());
                let fee = Some(if burned { U256::ZERO } else { handler.fee() });
                let writes = if lazy_fields {
                    let deltas = self.conflicts == ConflictModel::Deltas;
                    field_write_set(
                        txn_idx,
                        &state,
                        |a| {
                            let fields = db.lazy().get(a)?;
                            Some((db.accounts_read().get(a)?, fields, fields.observed))
                        },
                        deltas,
                        fee,
                    )
                } else {
                    Ok(write_set(
                        txn_idx,
                        &state,
                        |a| db.accounts_read().get(a),
                        fee,
                    ))
                };
                match writes {
                    Ok(writes) => Execution::Done {
                        writes,
                        output: Ok(summarize(result)),
                    },
                    Err(invariant) => Execution::Failed {
                        error: EvmTxnError::Invariant(invariant),
                    },
                }
            }
            Err(EVMError::Database(AdapterError::Blocked(on))) => Execution::Blocked { on },
            // The state source failed, or the view broke an invariant: not the
            // transaction's fault, and no receipt can say it.
            Err(EVMError::Database(AdapterError::State(error))) => Execution::Failed {
                error: EvmTxnError::State(error),
            },
            Err(EVMError::Database(AdapterError::Invariant(invariant))) => Execution::Failed {
                error: EvmTxnError::Invariant(invariant),
            },
            // Invalid transactions: rejected, exactly as sequential revm rejects them (on
            // what the execution observed: the caller's nonce and balance).
            Err(error) => Execution::Done {
                writes: Vec::new(),
                output: Err(error.to_string()),
            },
        };
        // Lent back whatever happened (a panic above just loses them; the next execution
        // builds new ones).
        let (accounts, lazy) = db.into_parts();
        REUSED.set(Some(Reused {
            block,
            journal,
            local,
            frames: frame_stack,
            accounts,
            lazy,
        }));
        execution
    }
}

/// A strategy's error over EVM transactions: the state's error stays the caller's, an
/// invariant broken in the adapter is the engine's.
impl<E> From<crate::error::BlockError<EvmTxnError<E>>> for crate::error::ExecuteError<E> {
    fn from(error: crate::error::BlockError<EvmTxnError<E>>) -> Self {
        use crate::error::{BlockError, ExecuteError};
        match error {
            BlockError::Txn {
                txn,
                error: EvmTxnError::State(error),
            } => ExecuteError::State {
                txn: Some(txn),
                error,
            },
            BlockError::Txn {
                error: EvmTxnError::Invariant(invariant),
                ..
            } => invariant.into(),
            BlockError::Engine(e) => ExecuteError::Engine(e),
        }
    }
}
