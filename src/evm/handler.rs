//! A revm handler identical to mainnet's but for one step: the fee is not credited to the
//! beneficiary inside the transaction; it is computed exactly as revm's
//! `post_execution::reward_beneficiary` would and handed back, to be written to the
//! transaction's own `Fee` location (see `location.rs`).

use std::cell::Cell;
use std::marker::PhantomData;

use revm::context::result::{EVMError, HaltReason, InvalidTransaction};
use revm::context_interface::journaled_state::account::JournaledAccountTr;
use revm::context_interface::{Block, Cfg, ContextTr, JournalTr, Transaction};
use revm::handler::{EvmTr, FrameResult, Handler, MainnetContext, MainnetEvm};
use revm::primitives::hardfork::SpecId;
use revm::primitives::U256;
use revm::Database;

pub struct DeferredFeeHandler<DB> {
    fee: Cell<U256>,
    _db: PhantomData<DB>,
}

impl<DB> Default for DeferredFeeHandler<DB> {
    fn default() -> Self {
        Self {
            fee: Cell::new(U256::ZERO),
            _db: PhantomData,
        }
    }
}

impl<DB> DeferredFeeHandler<DB> {
    /// The fee the last run owed the beneficiary.
    pub fn fee(&self) -> U256 {
        self.fee.get()
    }
}

impl<DB: Database> Handler for DeferredFeeHandler<DB> {
    type Evm = MainnetEvm<MainnetContext<DB>>;
    type Error = EVMError<DB::Error, InvalidTransaction>;
    type HaltReason = HaltReason;

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
