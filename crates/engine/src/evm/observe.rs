//! What an execution *used* of the accounts it loaded, for the `fields` and `deltas`
//! conflict models (`conflicts.rs`).
//!
//! revm loads an account whole (balance, nonce, code), but most executions use only part
//! of what they load: a contract called for its code, a recipient whose balance is only
//! credited. Under those models an account's balance and nonce are loaded as *peeks*
//! (not yet reads, `lazy.rs`), and become reads only when the execution observes them.
//! An observation is one of the places where revm's behaviour depends on the value:
//!
//! | where | observes |
//! |---|---|
//! | the transaction's caller (nonce check, balance check, fee) | its balance and nonce |
//! | `BALANCE a`, `SELFBALANCE` | the balance of `a`, of the running contract |
//! | `CALL`/`CALLCODE` with value, `CREATE`/`CREATE2` with value | the sender's balance (is it enough) |
//! | `CREATE`/`CREATE2` | the creator's nonce (the new address; the nonce's limit) |
//! | `CALL` with value to `t` | `t`'s emptiness (new-account gas), and its balance if the value is huge (overflow) |
//! | `SELFDESTRUCT t` | the running contract's balance, `t`'s balance and emptiness |
//! | `EXTCODEHASH a` | `a`'s emptiness (zero hash) |
//! | an EIP-7702 authority | everything loaded while the authorisation list is applied |
//! | at the end (`lazy.rs`) | created accounts; a changed nonce; a changed balance under `fields`; a touched account left with an unchanged balance (EIP-161 deletes it if empty) |
//!
//! *Emptiness* (balance, nonce and code all zero) is observed lazily: it depends on the
//! nonce only when the code is empty, and on the balance only when the nonce is zero too,
//! so `lazy.rs` resolves an `EMPTY` observation at the end against the loaded values.
//!
//! Observing more than needed is always exact (a peek that becomes a read is validated
//! like any other); observing less would not be. So every case here errs on the side of
//! observing, and one check catches a place this table missed: an unobserved balance can
//! only grow (every debit passes a balance check, which observes), so an unobserved
//! balance that shrank is an engine invariant broken (`lazy.rs`), on which the engine
//! falls back to sequential execution.
//!
//! The observations are made by wrapping the few instructions above in the instruction
//! table (`observing_table`): the wrapper notes the address and runs revm's own
//! instruction. Every other instruction is revm's, untouched, and the `coarse` model uses
//! revm's table as it is.

use revm::bytecode::opcode;
use revm::context::{Context, Journal};
use revm::interpreter::instructions::utility::IntoAddress;
use revm::interpreter::instructions::{contract, host, instruction_table};
use revm::interpreter::interpreter::EthInterpreter;
use revm::interpreter::{Instruction, InstructionContext, InstructionExecResult, InstructionTable};
use revm::primitives::{Address, U256};
use revm::Database;

/// What an observation needs of an account, as bits.
pub type Observed = u8;
/// The balance's full value.
pub const BALANCE: Observed = 1;
/// The nonce's value.
pub const NONCE: Observed = 2;
/// Whether the account is empty (resolved at the end against the loaded values).
pub const EMPTY: Observed = 4;
/// Everything.
pub const ALL: Observed = BALANCE | NONCE | EMPTY;

/// A value transfer this large could overflow the recipient's balance: the recipient's
/// balance is then observed. (A balance below 2^200 with credits below 2^200 each, of
/// which a block's gas allows a few thousand, cannot overflow 256 bits.)
pub const HUGE: U256 = U256::from_limbs([0, 0, 0, 1 << 8]);

/// A database that is told what an execution observed.
pub trait Observe {
    fn observe(&mut self, address: Address, what: Observed);
    /// While `on`, every account loaded is observed whole.
    fn observe_loads(&mut self, on: bool);
}

type Ctx<'e, DB> = Context<
    &'e revm::context::BlockEnv,
    &'e revm::context::TxEnv,
    &'e revm::context::CfgEnv,
    DB,
    Journal<DB>,
    (),
>;
type Ictx<'a, 'e, DB> = InstructionContext<'a, Ctx<'e, DB>, EthInterpreter>;

fn note<DB: Database + Observe>(ctx: &mut Ictx<'_, '_, DB>, address: Address, what: Observed) {
    ctx.host.journaled_state.database.observe(address, what);
}

/// The `n`th stack word from the top, if the stack holds it (if not, revm's instruction
/// fails on its own and nothing was observed).
fn stack(ctx: &Ictx<'_, '_, impl Database + Observe>, n: usize) -> Option<U256> {
    ctx.interpreter.stack.peek(n).ok()
}

fn this(ctx: &Ictx<'_, '_, impl Database + Observe>) -> Address {
    use revm::interpreter::interpreter_types::InputsTr;
    ctx.interpreter.input.target_address()
}

fn balance<DB: Database + Observe>(mut ctx: Ictx<'_, '_, DB>) -> InstructionExecResult {
    if let Some(a) = stack(&ctx, 0) {
        note(&mut ctx, a.into_address(), BALANCE);
    }
    host::balance(ctx)
}

fn selfbalance<DB: Database + Observe>(mut ctx: Ictx<'_, '_, DB>) -> InstructionExecResult {
    let me = this(&ctx);
    note(&mut ctx, me, BALANCE);
    host::selfbalance(ctx)
}

fn extcodehash<DB: Database + Observe>(mut ctx: Ictx<'_, '_, DB>) -> InstructionExecResult {
    if let Some(a) = stack(&ctx, 0) {
        note(&mut ctx, a.into_address(), EMPTY);
    }
    host::extcodehash(ctx)
}

fn selfdestruct<DB: Database + Observe>(mut ctx: Ictx<'_, '_, DB>) -> InstructionExecResult {
    let me = this(&ctx);
    note(&mut ctx, me, ALL);
    if let Some(t) = stack(&ctx, 0) {
        note(&mut ctx, t.into_address(), ALL);
    }
    host::selfdestruct(ctx)
}

/// `CALL` (gas, to, value, ...) and `CALLCODE` (the same; the value goes to the running
/// contract itself).
fn call<const KIND: u8, DB: Database + Observe>(
    mut ctx: Ictx<'_, '_, DB>,
) -> InstructionExecResult {
    if let (Some(to), Some(value)) = (stack(&ctx, 1), stack(&ctx, 2)) {
        if !value.is_zero() {
            let me = this(&ctx);
            note(&mut ctx, me, BALANCE);
            if KIND == opcode::CALL {
                let to = to.into_address();
                note(&mut ctx, to, EMPTY);
                if value >= HUGE {
                    note(&mut ctx, to, BALANCE);
                }
            }
        }
    }
    contract::call::<KIND, _, _>(ctx)
}

/// `CREATE` (value, ...) and `CREATE2`: the creator's nonce (`CREATE` derives the new
/// address from it, and both fail on a nonce at its maximum), and its balance when it
/// endows the new account (the new account itself is observed whole at the end,
/// `lazy.rs`).
///
/// The nonce is observed here, not only at the end as a changed nonce: when the frame
/// that created reverts (an out-of-gas transaction), the creator's nonce ends unchanged,
/// and the address the execution created at, which decided what it did, would have come
/// from a nonce never recorded. (The fuzz run found it: block 2462997 under London,
/// where one contract creates in every transaction and some of them run out of gas;
/// block-stm under `fields` and `deltas` gave a different receipt about once in 400 runs
/// at 4 threads, a peek of the creator's nonce from an incarnation later re-executed.)
fn create<const IS_CREATE2: bool, DB: Database + Observe>(
    mut ctx: Ictx<'_, '_, DB>,
) -> InstructionExecResult {
    let me = this(&ctx);
    if stack(&ctx, 0).is_some_and(|v| !v.is_zero()) {
        note(&mut ctx, me, BALANCE | NONCE);
    } else {
        note(&mut ctx, me, NONCE);
    }
    contract::create::<IS_CREATE2, _, _>(ctx)
}

/// revm's mainnet table with the observing instructions in place of its own.
pub const fn observing_table<'e, DB: Database + Observe + 'e>(
) -> InstructionTable<EthInterpreter, Ctx<'e, DB>> {
    let mut table = instruction_table::<EthInterpreter, Ctx<'e, DB>>();
    table[opcode::BALANCE as usize] = Instruction::new(balance::<DB>);
    table[opcode::SELFBALANCE as usize] = Instruction::new(selfbalance::<DB>);
    table[opcode::EXTCODEHASH as usize] = Instruction::new(extcodehash::<DB>);
    table[opcode::SELFDESTRUCT as usize] = Instruction::new(selfdestruct::<DB>);
    table[opcode::CALL as usize] = Instruction::new(call::<{ opcode::CALL }, DB>);
    table[opcode::CALLCODE as usize] = Instruction::new(call::<{ opcode::CALLCODE }, DB>);
    table[opcode::CREATE as usize] = Instruction::new(create::<false, DB>);
    table[opcode::CREATE2 as usize] = Instruction::new(create::<true, DB>);
    table
}
