//! The `fields` and `deltas` models' side of one execution: for every account it loaded,
//! the balance and nonce as peeked (`adapter.rs`: exact values, not yet reads), the
//! reads each peek would record, and what the execution observed of them (`observe.rs`).
//! At the end, [`Lazy::observed_at_end`] adds what the final state shows was used, and
//! the adapter records exactly the peeks of observed fields.
//!
//! Why a peek that is never recorded is exact: the execution's behaviour did not depend on
//! the value (that is what *unobserved* means, `observe.rs`), and the write set does not
//! contain it: an unchanged field is not written, and under `deltas` a changed unobserved
//! balance is written as the credit `final - peeked`, which is the same whatever the
//! peeked value was. Under `fields` a changed balance is written in full, so it is
//! observed.

use revm::primitives::map::AddressMap;
use revm::primitives::{Address, KECCAK_EMPTY, U256};
use revm::state::Account;

use super::conflicts::ConflictModel;
use super::location::Location;
use super::observe::{Observed, BALANCE, EMPTY, HUGE, NONCE};
use crate::core::txn::{TxnIndex, Version};

/// A read a peek made, recorded only if its field is observed: the key, the bound it was
/// read below (`None`: as the transaction itself), the origin it resolved to.
pub type PendingRead = (Location, Option<TxnIndex>, Option<Version>);

/// One loaded account's lazy fields.
#[derive(Clone, Debug, Default)]
pub struct LazyFields {
    /// The account existed when loaded. When it did not, its balance and nonce are zero by
    /// the read of its `Code` location, which is recorded: they need no read of their own.
    pub existed: bool,
    pub balance: U256,
    pub nonce: u64,
    /// Loaded with empty code.
    pub no_code: bool,
    /// `deltas`: the balance was not resolved at load (a credit on top of its chain, or
    /// the beneficiary's fees not summed): `balance` is then a lower bound (the top
    /// credit, or the value below the fees), exact enough to tell the account is not
    /// empty, and an execution that observes it runs again with it resolved.
    pub unresolved: bool,
    pub observed: Observed,
    /// The balance's reads, `pending[balance_reads.0..balance_reads.1]`.
    pub balance_reads: (u32, u32),
    /// The nonce's read, `pending[nonce_read]`, when it has one.
    pub nonce_read: Option<u32>,
}

/// The lazy state of one execution; a worker lends the same one to every execution it
/// runs, so its vectors are allocated once.
///
/// The loaded accounts are a vector searched linearly (a transaction loads a handful: an
/// address compare is cheaper than hashing it), with a hash index built only when a
/// transaction loads more than [`Lazy::INDEXED`] of them, so a transaction touching
/// thousands of accounts stays linear in them.
#[derive(Debug, Default)]
pub struct Lazy {
    pub model: ConflictModel,
    fields: Vec<(Address, LazyFields)>,
    /// Position in `fields` by address, once `fields` outgrows `INDEXED`.
    index: AddressMap<u32>,
    pub pending: Vec<PendingRead>,
    /// Observations of accounts not loaded yet (`BALANCE` notes the address before revm
    /// loads it).
    early: Vec<(Address, Observed)>,
    /// While set (the EIP-7702 authorisation list being applied), every account loaded is
    /// observed whole.
    pub observe_loads: bool,
    /// Accounts whose balance an earlier run of this execution observed unresolved: this
    /// run resolves them at load. Kept across runs of one execution.
    pub eager: Vec<Address>,
}

impl Lazy {
    /// Emptied for the next execution, under `model`.
    pub fn reset(&mut self, model: ConflictModel) {
        self.model = model;
        self.fields.clear();
        self.index.clear();
        self.pending.clear();
        self.early.clear();
        self.observe_loads = false;
    }

    /// Whether a load of `address` resolves its balance in full: under `fields` always
    /// (its chain is one full value); under `deltas` when the balance is observed before
    /// the load (the caller's), was observed unresolved by an earlier run, or every load
    /// is observed.
    pub fn resolves(&self, address: &Address) -> bool {
        self.model != ConflictModel::Deltas
            || self.observe_loads
            || self
                .early
                .iter()
                .any(|(a, o)| a == address && o & BALANCE != 0)
            || self.eager.contains(address)
    }

    /// Beyond this many loaded accounts, `fields` is indexed by a hash map.
    pub const INDEXED: usize = 16;

    fn position(&self, address: &Address) -> Option<usize> {
        if self.fields.len() > Self::INDEXED {
            return self.index.get(address).map(|&i| i as usize);
        }
        self.fields.iter().position(|(a, _)| a == address)
    }

    /// The lazy fields of a loaded account.
    pub fn get(&self, address: &Address) -> Option<&LazyFields> {
        self.position(address).map(|i| &self.fields[i].1)
    }

    /// The loaded accounts, in the order loaded.
    pub fn loaded(&self) -> &[(Address, LazyFields)] {
        &self.fields
    }

    /// Sets what was observed of the `i`th loaded account.
    pub fn set_observed(&mut self, i: usize, observed: Observed) {
        self.fields[i].1.observed = observed;
    }

    pub fn is_lazy(&self) -> bool {
        self.model != ConflictModel::Coarse
    }

    pub fn observe(&mut self, address: Address, what: Observed) {
        if let Some(i) = self.position(&address) {
            self.fields[i].1.observed |= what;
        } else if let Some((_, o)) = self.early.iter_mut().find(|(a, _)| *a == address) {
            *o |= what;
        } else {
            self.early.push((address, what));
        }
    }

    /// Adds `account`'s entry once loaded (with any observation made before).
    /// An account is loaded once per execution (the adapter keeps what it loaded).
    pub fn insert(&mut self, address: Address, mut fields: LazyFields) {
        if let Some(i) = self.early.iter().position(|(a, _)| *a == address) {
            fields.observed |= self.early.swap_remove(i).1;
        }
        if self.observe_loads {
            fields.observed |= BALANCE | NONCE | EMPTY;
        }
        debug_assert!(self.position(&address).is_none(), "{address} loaded twice");
        self.fields.push((address, fields));
        let len = self.fields.len();
        if len == Self::INDEXED + 1 {
            // Emptied by `reset`; extended, so its capacity is kept from one execution to
            // the next.
            let entries = self.fields.iter().enumerate();
            self.index.extend(entries.map(|(i, (a, _))| (*a, i as u32)));
        } else if len > Self::INDEXED + 1 {
            self.index.insert(address, (len - 1) as u32);
        }
    }

    /// What the final state of `account` shows the execution used of `fields` (the
    /// bottom row of the table in `observe.rs`), with an `EMPTY` observation resolved into
    /// the fields emptiness depends on.
    pub fn observed_at_end(
        model: ConflictModel,
        fields: &LazyFields,
        account: Option<&Account>,
        spurious_dragon: bool,
    ) -> Observed {
        let mut observed = fields.observed;
        if let Some(account) = account {
            if account.is_created() || account.is_selfdestructed() {
                observed |= BALANCE | NONCE | EMPTY;
            }
            let info = &account.info;
            if info.nonce != fields.nonce {
                observed |= NONCE;
            }
            if info.balance != fields.balance {
                // Under `fields` the new balance is written in full, so it depends on the
                // old one; under `deltas` an unobserved change is a credit.
                if model == ConflictModel::Fields || info.balance < fields.balance {
                    observed |= BALANCE;
                }
            } else if spurious_dragon && account.is_touched() {
                // A touched account left empty is deleted (EIP-161): whether it is empty.
                observed |= EMPTY;
            }
            if info.code_hash != KECCAK_EMPTY && !fields.no_code {
                // Code is never removed but by destruction (observed above): the account
                // is not empty whatever its balance and nonce.
                observed &= !EMPTY;
            }
        }
        if fields.balance >= HUGE {
            observed |= BALANCE;
        }
        if observed & EMPTY != 0 && fields.no_code {
            // Empty code: emptiness depends on the nonce, and, when that is zero, on the
            // balance.
            observed |= NONCE;
            // An unresolved balance's lower bound, when not zero, already says the account
            // is not empty.
            let known_not_empty = fields.unresolved && !fields.balance.is_zero();
            if fields.nonce == 0 && !known_not_empty {
                observed |= BALANCE;
            }
        }
        observed
    }
}
