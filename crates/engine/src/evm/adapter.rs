//! The revm `Database` one execution reads through: the strategy's view of earlier
//! transactions' writes over the read-only pre-block state.

use std::collections::HashMap;

use revm::bytecode::Bytecode;
use revm::database_interface::DBErrorMarker;
use revm::primitives::map::AddressMap;
use revm::primitives::{Address, B256, U256};
use revm::state::AccountInfo;
use revm::{Database, DatabaseRef};

use super::lazy::{Lazy, LazyFields, PendingRead};
use super::location::{AccountValue, EvmValue, Location};
use super::observe::{Observe, Observed};
use crate::core::txn::{ReadResult, StateView, TxnIndex, Version};
use crate::core::Invariant;

/// Why a read through the adapter failed (`E`: the pre-block state's own error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdapterError<E> {
    /// The read hit an ESTIMATE of this transaction: the execution must wait for it.
    #[error("read an estimate of transaction {0}")]
    Blocked(TxnIndex),
    /// A view returned a value of the wrong kind for its key: an engine bug.
    #[error("engine invariant broken: {0}")]
    Invariant(Invariant),
    /// The pre-block state failed to answer: its error, as it is.
    #[error("pre-block state: {0}")]
    State(E),
}
impl<E: DBErrorMarker> DBErrorMarker for AdapterError<E> {}

/// Reads of transaction `txn_idx` through a strategy's view.
pub struct TxnDb<'a, S, P> {
    view: &'a mut S,
    pre: &'a P,
    txn_idx: TxnIndex,
    beneficiary: Address,
    /// The accounts this execution read, as returned to revm (the beneficiary with its
    /// fees added): storage reads need the account's storage epoch, and the write set
    /// leaves out accounts whose value did not change.
    accounts: AddressMap<AccountValue>,
    /// Under the `fields` and `deltas` models, the peeked balances and nonces and what the
    /// execution observed of them (`lazy.rs`); unused under `coarse`.
    lazy: Lazy,
}

impl<'a, S, P> TxnDb<'a, S, P>
where
    S: StateView<Location, EvmValue>,
    P: DatabaseRef,
{
    pub fn new(view: &'a mut S, pre: &'a P, txn_idx: TxnIndex, beneficiary: Address) -> Self {
        Self::with_accounts(
            view,
            pre,
            txn_idx,
            beneficiary,
            HashMap::default(),
            Lazy::default(),
        )
    }

    /// `new`, with a map to hold the accounts read and the lazy state (both emptied here;
    /// `lazy` keeps its model): a worker lends the same ones to every execution it runs,
    /// so they are allocated once.
    pub fn with_accounts(
        view: &'a mut S,
        pre: &'a P,
        txn_idx: TxnIndex,
        beneficiary: Address,
        mut accounts: AddressMap<AccountValue>,
        mut lazy: Lazy,
    ) -> Self {
        accounts.clear();
        lazy.reset(lazy.model);
        Self {
            view,
            pre,
            txn_idx,
            beneficiary,
            accounts,
            lazy,
        }
    }

    /// The map of accounts read and the lazy state, to be lent to the next execution.
    pub fn into_parts(self) -> (AddressMap<AccountValue>, Lazy) {
        (self.accounts, self.lazy)
    }

    /// The lazy state (`fields`, `deltas`).
    pub fn lazy(&self) -> &Lazy {
        &self.lazy
    }

    /// After a run that ended with `state` (`None`: the transaction was rejected, nothing
    /// changed), completes what each loaded account's fields were observed to need
    /// (`Lazy::observed_at_end`) and records those peeks as reads.
    ///
    /// Returns true, recording nothing, when the run observed a balance it had left
    /// unresolved (`LazyFields::unresolved`): the run may have used the lower bound, so it
    /// must run again, with those balances resolved at load (`Lazy::eager`); the accounts
    /// read are emptied for it.
    pub fn finish_observations(
        &mut self,
        state: Option<&revm::state::EvmState>,
        spurious_dragon: bool,
    ) -> bool {
        use super::observe::BALANCE;
        let model = self.lazy.model;
        let mut again = false;
        // By position: `eager` is pushed to while the loaded accounts are updated.
        for i in 0..self.lazy.loaded().len() {
            let (address, fields) = &self.lazy.loaded()[i];
            let address = *address;
            let observed = match state {
                Some(state) => {
                    Lazy::observed_at_end(model, fields, state.get(&address), spurious_dragon)
                }
                None => fields.observed,
            };
            if observed & BALANCE != 0 && fields.unresolved {
                self.lazy.eager.push(address);
                again = true;
            }
            self.lazy.set_observed(i, observed);
        }
        if again {
            self.accounts.clear();
            self.lazy.reset(model);
            return true;
        }
        for (_, fields) in self.lazy.loaded() {
            record_observed(self.view, &self.lazy.pending, fields);
        }
        false
    }

    /// The accounts read, for building the write set.
    pub fn accounts_read(&self) -> &AddressMap<AccountValue> {
        &self.accounts
    }

    fn account(&mut self, address: Address) -> Result<&AccountValue, AdapterError<P::Error>> {
        if self.lazy.is_lazy() {
            return self.account_by_fields(address);
        }
        // One hash of the address for the lookup and the insertion (the map is a field of
        // its own, so the view can be read while its entry is held).
        let entry = match self.accounts.entry(address) {
            std::collections::hash_map::Entry::Occupied(e) => return Ok(e.into_mut()),
            std::collections::hash_map::Entry::Vacant(e) => e,
        };
        let (mut value, writer) = match self.view.read(&Location::Account(address)) {
            ReadResult::Written {
                version,
                value: EvmValue::Account(value),
            } => (*value, Some(version.txn_idx)),
            ReadResult::Written { value, .. } => {
                return Err(AdapterError::Invariant(Invariant::WrongValue {
                    key: format!("account {address}"),
                    value: format!("{value:?}"),
                }))
            }
            ReadResult::Base => (
                AccountValue {
                    info: pre_account(self.pre, address)?,
                    storage_epoch: None,
                },
                None,
            ),
            ReadResult::Estimate(blocking) => return Err(AdapterError::Blocked(blocking)),
        };
        if address == self.beneficiary {
            // The fees of the writer itself and of every transaction after it.
            let fees = fees_since(self.view, writer.unwrap_or(0), self.txn_idx)?;
            if !fees.is_zero() {
                let info = value.info.get_or_insert_with(AccountInfo::default);
                info.balance = info.balance.saturating_add(fees);
            }
        }
        Ok(entry.insert(value))
    }
}

impl<S, P> TxnDb<'_, S, P>
where
    S: StateView<Location, EvmValue>,
    P: DatabaseRef,
{
    /// `account` under the `fields` and `deltas` models: the account's `Code` location is
    /// read (its existence and code are used by any load); its balance and nonce are
    /// peeked, exact but not recorded until observed (`lazy.rs`).
    fn account_by_fields(
        &mut self,
        address: Address,
    ) -> Result<&AccountValue, AdapterError<P::Error>> {
        if self.accounts.contains_key(&address) {
            return Ok(&self.accounts[&address]);
        }
        // The pre-block balance and nonce, read at most once for the three fields.
        let mut pre: Option<PreFields> = None;
        let mut value = match self.view.read(&Location::Code(address)) {
            ReadResult::Written {
                value: EvmValue::Account(value),
                ..
            } => *value,
            ReadResult::Written { value, .. } => return Err(wrong(address, "code", &value)),
            ReadResult::Base => {
                let info = pre_account(self.pre, address)?;
                pre = Some(info.as_ref().map(|i| (i.balance, i.nonce)));
                AccountValue {
                    info,
                    storage_epoch: None,
                }
            }
            ReadResult::Estimate(blocking) => return Err(AdapterError::Blocked(blocking)),
        };
        let mut fields = LazyFields::default();
        // The beneficiary exists once fees are credited to it, whatever its `Code`
        // location says: absent there, it is loaded like an existing account, and whether
        // it exists depends on its balance and nonce, which are observed.
        let beneficiary_absent = value.info.is_none() && address == self.beneficiary;
        if beneficiary_absent {
            value.info = Some(AccountInfo::default());
            fields.observed = super::observe::ALL;
        }
        if let Some(info) = value.info.as_mut() {
            fields.existed = true;
            fields.no_code = info.code_hash == revm::primitives::KECCAK_EMPTY;
            let start = self.lazy.pending.len() as u32;
            let resolve = self.lazy.resolves(&address) || beneficiary_absent;
            let (balance, unresolved) = self.peek_balance(address, &mut pre, resolve)?;
            fields.unresolved = unresolved;
            fields.balance_reads = (start, self.lazy.pending.len() as u32);
            fields.nonce_read = Some(self.lazy.pending.len() as u32);
            let nonce = match self.view.peek(&Location::Nonce(address), None) {
                ReadResult::Written {
                    version,
                    value: EvmValue::Nonce(nonce),
                } => {
                    self.pend(Location::Nonce(address), None, Some(version));
                    nonce
                }
                ReadResult::Written { value, .. } => return Err(wrong(address, "nonce", &value)),
                ReadResult::Base => {
                    self.pend(Location::Nonce(address), None, None);
                    self.pre_fields(address, &mut pre)?
                        .map_or(0, |(_, nonce)| nonce)
                }
                ReadResult::Estimate(blocking) => return Err(AdapterError::Blocked(blocking)),
            };
            info.balance = balance;
            info.nonce = nonce;
            fields.balance = balance;
            fields.nonce = nonce;
        }
        if beneficiary_absent && fields.balance.is_zero() && fields.nonce == 0 {
            value.info = None;
        }
        fields.existed = value.info.is_some();
        self.lazy.insert(address, fields);
        Ok(self.accounts.entry(address).or_insert(value))
    }

    fn pend(&mut self, key: Location, below: Option<TxnIndex>, origin: Option<Version>) {
        self.lazy.pending.push((key, below, origin));
    }

    /// The pre-block balance and nonce of `address`, read once into `pre`.
    fn pre_fields(
        &self,
        address: Address,
        pre: &mut Option<PreFields>,
    ) -> Result<PreFields, AdapterError<P::Error>> {
        if let Some(fields) = pre {
            return Ok(*fields);
        }
        let info = self.pre.basic_ref(address).map_err(AdapterError::State)?;
        let fields = info.map(|i| (i.balance, i.nonce));
        *pre = Some(fields);
        Ok(fields)
    }

    /// The balance of `address` as this transaction would read it: the full value below it
    /// plus every credit above that (`deltas`: a chain of reads, each below the last
    /// credit's writer), plus, for the beneficiary, the fees since that full value.
    fn peek_balance(
        &mut self,
        address: Address,
        pre: &mut Option<PreFields>,
        resolve: bool,
    ) -> Result<(U256, bool), AdapterError<P::Error>> {
        let key = Location::Balance(address);
        let mut below = None;
        let mut credits = U256::ZERO;
        let (base, floor) = loop {
            match self.view.peek(&key, below) {
                ReadResult::Written {
                    version,
                    value: EvmValue::Balance(balance),
                } => {
                    self.pend(key, below, Some(version));
                    break (balance, version.txn_idx);
                }
                ReadResult::Written {
                    version,
                    value: EvmValue::Credit(credit),
                } => {
                    if !resolve {
                        // Unresolved: the top credit is a lower bound (credits and full
                        // values are never negative).
                        return Ok((credit, true));
                    }
                    self.pend(key, below, Some(version));
                    credits = add(credits, credit, address)?;
                    below = Some(version.txn_idx);
                }
                ReadResult::Written { value, .. } => return Err(wrong(address, "balance", &value)),
                ReadResult::Base => {
                    self.pend(key, below, None);
                    let balance = self
                        .pre_fields(address, pre)?
                        .map_or(U256::ZERO, |(balance, _)| balance);
                    break (balance, 0);
                }
                ReadResult::Estimate(blocking) => return Err(AdapterError::Blocked(blocking)),
            }
        };
        let mut balance = add(base, credits, address)?;
        if address == self.beneficiary && floor < self.txn_idx {
            if !resolve {
                return Ok((balance, true));
            }
            for i in floor..self.txn_idx {
                match self.view.peek(&Location::Fee(i), None) {
                    ReadResult::Written {
                        version,
                        value: EvmValue::Fee(fee),
                    } => {
                        self.pend(Location::Fee(i), None, Some(version));
                        balance = add(balance, fee, address)?;
                    }
                    ReadResult::Written { value, .. } => return Err(wrong(address, "fee", &value)),
                    ReadResult::Base => self.pend(Location::Fee(i), None, None),
                    ReadResult::Estimate(blocking) => return Err(AdapterError::Blocked(blocking)),
                }
            }
        }
        Ok((balance, false))
    }
}

/// An account's pre-block balance and nonce (`None`: it did not exist).
type PreFields = Option<(U256, u64)>;

/// Records the peeked reads of what `fields.observed` names (after the execution:
/// `Lazy::observed_at_end`).
fn record_observed<S: StateView<Location, EvmValue>>(
    view: &mut S,
    pending: &[PendingRead],
    fields: &LazyFields,
) {
    let observed = fields.observed;
    use super::observe::{BALANCE, NONCE};
    if observed & BALANCE != 0 {
        let (start, end) = fields.balance_reads;
        for (key, below, origin) in &pending[start as usize..end as usize] {
            view.record(key, *below, *origin);
        }
    }
    if observed & NONCE != 0 {
        if let Some(i) = fields.nonce_read {
            let (key, below, origin) = &pending[i as usize];
            view.record(key, *below, *origin);
        }
    }
}

/// A balance plus a credit; an overflow (no real chain reaches one: every credit moved
/// existing ether) is an invariant broken, on which the engine runs the block
/// sequentially.
fn add<E>(a: U256, b: U256, address: Address) -> Result<U256, AdapterError<E>> {
    a.checked_add(b).ok_or_else(|| {
        AdapterError::Invariant(Invariant::WrongValue {
            key: format!("balance of {address}"),
            value: "a sum of credits beyond 2^256".into(),
        })
    })
}

fn wrong<E>(address: Address, field: &str, value: &EvmValue) -> AdapterError<E> {
    AdapterError::Invariant(Invariant::WrongValue {
        key: format!("{field} of {address}"),
        value: format!("{value:?}"),
    })
}

impl<S, P> Observe for TxnDb<'_, S, P> {
    fn observe(&mut self, address: Address, what: Observed) {
        self.lazy.observe(address, what);
    }

    /// While `on` (the EIP-7702 authorisations), every account loaded is observed whole.
    fn observe_loads(&mut self, on: bool) {
        self.lazy.observe_loads = on;
    }
}

/// The pre-block account at `address`, with its code.
fn pre_account<P: DatabaseRef>(
    pre: &P,
    address: Address,
) -> Result<Option<AccountInfo>, AdapterError<P::Error>> {
    let info = pre.basic_ref(address).map_err(AdapterError::State)?;
    info.map(|mut info| {
        if info.code.is_none() {
            info.code = Some(
                pre.code_by_hash_ref(info.code_hash)
                    .map_err(AdapterError::State)?,
            );
        }
        Ok(info)
    })
    .transpose()
}

/// The fees of transactions `first..reader` (the beneficiary's credits since its last
/// explicit write).
fn fees_since<S: StateView<Location, EvmValue>, E>(
    view: &mut S,
    first: TxnIndex,
    reader: TxnIndex,
) -> Result<U256, AdapterError<E>> {
    let mut sum = U256::ZERO;
    for i in first..reader {
        match view.read(&Location::Fee(i)) {
            ReadResult::Written {
                value: EvmValue::Fee(fee),
                ..
            } => sum = sum.saturating_add(fee),
            ReadResult::Written { value, .. } => {
                return Err(AdapterError::Invariant(Invariant::WrongValue {
                    key: format!("fee {i}"),
                    value: format!("{value:?}"),
                }))
            }
            ReadResult::Base => {}
            ReadResult::Estimate(blocking) => return Err(AdapterError::Blocked(blocking)),
        }
    }
    Ok(sum)
}

impl<S, P> Database for TxnDb<'_, S, P>
where
    S: StateView<Location, EvmValue>,
    P: DatabaseRef,
{
    type Error = AdapterError<P::Error>;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        Ok(self.account(address)?.info.clone())
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        // Accounts carry their code; revm asks only for code the pre-state left out.
        self.pre
            .code_by_hash_ref(code_hash)
            .map_err(AdapterError::State)
    }

    fn storage(&mut self, address: Address, slot: U256) -> Result<U256, Self::Error> {
        let epoch = self.account(address)?.storage_epoch;
        match self.view.read(&Location::Storage(address, slot)) {
            ReadResult::Written {
                version,
                value: EvmValue::Storage(value),
            } => Ok(match epoch {
                Some(epoch) if version.txn_idx < epoch => U256::ZERO,
                _ => value,
            }),
            ReadResult::Written { value, .. } => {
                Err(AdapterError::Invariant(Invariant::WrongValue {
                    key: format!("slot {slot} of {address}"),
                    value: format!("{value:?}"),
                }))
            }
            ReadResult::Base if epoch.is_some() => Ok(U256::ZERO),
            ReadResult::Base => self
                .pre
                .storage_ref(address, slot)
                .map_err(AdapterError::State),
            ReadResult::Estimate(blocking) => Err(AdapterError::Blocked(blocking)),
        }
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, Self::Error> {
        self.pre.block_hash_ref(number).map_err(AdapterError::State)
    }
}
