//! A revm handler identical to mainnet's but for one step: the fee is not credited to the
//! beneficiary inside the transaction; it is computed exactly as revm's
//! `post_execution::reward_beneficiary` would and handed back, to be written to the
//! transaction's own `Fee` location (see `location.rs`).

use std::cell::Cell;
use std::marker::PhantomData;

use revm::context::result::{EVMError, HaltReason, InvalidTransaction};
use revm::context::{BlockEnv, CfgEnv, Context, Evm, Journal, TxEnv};
use revm::context_interface::journaled_state::account::JournaledAccountTr;
use revm::context_interface::{Block, Cfg, ContextTr, JournalTr, Transaction};
use revm::handler::instructions::InstructionProvider;
use revm::handler::{EthFrame, EthPrecompiles, EvmTr, FrameResult, Handler};
use revm::interpreter::instructions::{instruction_table, GasTable, InstructionTable};
use revm::interpreter::interpreter::EthInterpreter;
use revm::interpreter::Host;
use revm::primitives::hardfork::SpecId;
use revm::primitives::U256;
use revm::Database;

use super::observe::{observing_table, Observe};

/// The context of one parallel execution: the block and cfg environments and the
/// transaction borrowed from the block for `'e`, the state read through `DB`.
pub type BorrowedContext<'e, DB> =
    Context<&'e BlockEnv, &'e TxEnv, &'e CfgEnv, DB, Journal<DB>, ()>;

/// The EVM over a [`BorrowedContext`], with mainnet's instructions and precompiles.
pub type BorrowedEvm<'e, DB> = Evm<
    BorrowedContext<'e, DB>,
    (),
    SharedInstructions<'e, BorrowedContext<'e, DB>>,
    EthPrecompiles,
    EthFrame<EthInterpreter>,
>;

/// Mainnet's instructions, as revm's `EthInstructions` gives them, without building them:
/// `EthInstructions` allocates and fills a 2 KiB table per EVM, so per execution here; this
/// lends the one table the compiler builds for the context type (`mainnet_table`) and
/// the block's gas table (built once per block, `gas_table_spec`).
pub struct SharedInstructions<'t, H> {
    table: &'t InstructionTable<EthInterpreter, H>,
    gas: &'t GasTable,
}

impl<'t, H: Host + 't> SharedInstructions<'t, H> {
    pub fn new(gas: &'t GasTable) -> Self {
        Self {
            // A constant, evaluated at compile time for each context type: a reference to
            // it is promoted to a static.
            table: &const { instruction_table::<EthInterpreter, H>() },
            gas,
        }
    }
}

impl<'t, 'e, DB: Database + Observe + 'e> SharedInstructions<'t, BorrowedContext<'e, DB>> {
    /// The same, with the instructions that observe balances and nonces wrapped
    /// (`observe.rs`): for the `fields` and `deltas` conflict models.
    pub fn observing(gas: &'t GasTable) -> Self {
        Self {
            table: &const { observing_table::<'e, DB>() },
            gas,
        }
    }
}

impl<H: Host> InstructionProvider for SharedInstructions<'_, H> {
    type Context = H;
    type InterpreterTypes = EthInterpreter;

    fn instruction_table(&self) -> &InstructionTable<EthInterpreter, H> {
        self.table
    }

    fn gas_table(&self) -> &GasTable {
        self.gas
    }
}

pub struct DeferredFeeHandler<'e, DB> {
    fee: Cell<U256>,
    _env: PhantomData<(&'e BlockEnv, DB)>,
}

impl<DB> Default for DeferredFeeHandler<'_, DB> {
    fn default() -> Self {
        Self {
            fee: Cell::new(U256::ZERO),
            _env: PhantomData,
        }
    }
}

impl<DB> DeferredFeeHandler<'_, DB> {
    /// The fee the last run owed the beneficiary.
    pub fn fee(&self) -> U256 {
        self.fee.get()
    }
}

impl<'e, DB: Database + Observe + 'e> Handler for DeferredFeeHandler<'e, DB> {
    type Evm = BorrowedEvm<'e, DB>;
    type Error = EVMError<DB::Error, InvalidTransaction>;
    type HaltReason = HaltReason;

    /// revm's, with every account loaded meanwhile observed whole (`observe.rs`): an
    /// authority's nonce, code and emptiness decide what the authorisation does.
    fn apply_eip7702_auth_list(
        &self,
        evm: &mut Self::Evm,
        gas: &mut revm::interpreter::GasTracker,
    ) -> Result<Option<u64>, Self::Error> {
        evm.ctx().journal_mut().db_mut().observe_loads(true);
        let refund = revm::handler::pre_execution::apply_eip7702_auth_list(evm.ctx_mut(), gas);
        evm.ctx().journal_mut().db_mut().observe_loads(false);
        refund
    }

    fn reward_beneficiary(
        &self,
        evm: &mut Self::Evm,
        exec_result: &mut FrameResult,
    ) -> Result<(), Self::Error> {
        let ctx = evm.ctx_ref();
        if ctx.cfg().is_fee_charge_disabled() {
            self.fee.set(U256::ZERO);
            return Ok(());
        }
        // The same arithmetic as revm's `reward_beneficiary`, so the credit is identical.
        let basefee = ctx.block().basefee() as u128;
        let effective_gas_price = ctx.tx().effective_gas_price(basefee);
        let coinbase_gas_price = if ctx.cfg().spec().is_enabled_in(SpecId::LONDON) {
            effective_gas_price.saturating_sub(basefee)
        } else {
            effective_gas_price
        };
        let gas = exec_result.gas();
        let effective_used = gas.used().saturating_sub(gas.reservoir());
        let fee = U256::from(coinbase_gas_price.wrapping_mul(effective_used as u128));
        self.fee.set(fee);
        if fee.is_zero() && !ctx.cfg().spec().is_enabled_in(SpecId::SPURIOUS_DRAGON) {
            // Before Spurious Dragon, revm's zero reward still touches the beneficiary,
            // which creates it if absent: do the same (a read of the beneficiary, so this
            // rare case waits for the fees before it; a non-zero fee is what it defers).
            let beneficiary = ctx.block().beneficiary();
            evm.ctx()
                .journal_mut()
                .load_account_mut(beneficiary)?
                .data
                .incr_balance(U256::ZERO);
        }
        Ok(())
    }
}
