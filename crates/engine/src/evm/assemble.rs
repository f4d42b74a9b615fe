//! From the committed write sets and outputs of a block's transactions, in block order, to
//! the block's output: receipts with cumulative gas, and the canonical state changes.

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};

use revm::primitives::hardfork::SpecId;
use revm::primitives::map::AddressMap;
use revm::primitives::{Address, Bytes, KECCAK_EMPTY, U256};
use revm::state::AccountInfo;
use revm::DatabaseRef;

use super::block::Block;
use super::executor::EvmTxOutput;
use super::location::{AccountValue, EvmValue, Location};
use super::output::{AccountChange, AccountSummary, BlockOutput, Receipt, StateChanges};
use crate::core::pool::run_workers;
use crate::core::txn::TxnIndex;
use crate::core::FastHash;
use crate::error::{EngineError, ExecuteError, Invariant};

/// The block's state at its end, built by applying write sets in block order. Accounts
/// are held as `A`: owned (`Box<AccountValue>`, moved out of write sets that are then
/// gone, as sequential execution's are) or borrowed (`&AccountValue`, from committed write
/// sets that outlive the state, as a parallel strategy's do): never cloned.
///
/// Under the `fields` and `deltas` conflict models `accounts` holds what the `Code`
/// locations were written (existence, code, storage epoch; balance and nonce zero), and
/// the balances and nonces are kept apart (`fields`, one entry per account holding both)
/// and joined at the end.
pub struct FinalState<A = Box<AccountValue>> {
    accounts: AddressMap<(A, TxnIndex)>,
    slots: HashMap<(Address, U256), (U256, TxnIndex), FastHash>,
    fees: Vec<(TxnIndex, U256)>,
    /// Per account whose balance or nonce was written (field models), those writes.
    fields: AddressMap<Fields>,
    /// Some write was of a field model's location.
    by_fields: bool,
}

impl<A> Default for FinalState<A> {
    fn default() -> Self {
        Self {
            accounts: HashMap::default(),
            slots: HashMap::default(),
            fees: Vec::new(),
            fields: HashMap::default(),
            by_fields: false,
        }
    }
}

/// An account's balance and nonce as the field models' write sets left them: its last
/// full balance written (with its writer) and the credits since, if any was written; its
/// last nonce written, if any.
#[derive(Default)]
struct Fields {
    balance: Option<(Option<(U256, TxnIndex)>, U256)>,
    nonce: Option<u64>,
}

impl FinalState<Box<AccountValue>> {
    /// Applies transaction `txn_idx`'s writes (write sets must come in block order),
    /// taking its accounts.
    pub fn apply(
        &mut self,
        txn_idx: TxnIndex,
        writes: Vec<(Location, EvmValue)>,
    ) -> Result<(), EngineError> {
        for (key, value) in writes {
            match (key, value) {
                (Location::Account(a), EvmValue::Account(v)) => {
                    self.accounts.insert(a, (v, txn_idx));
                }
                (Location::Code(a), EvmValue::Account(v)) => {
                    self.by_fields = true;
                    self.accounts.insert(a, (v, txn_idx));
                }
                (key, value) => self.apply_unowned(txn_idx, &key, &value)?,
            }
        }
        Ok(())
    }
}

impl<'a> FinalState<&'a AccountValue> {
    /// `apply`, for the writes whose location `keep` accepts, borrowing the accounts.
    fn apply_where(
        &mut self,
        txn_idx: TxnIndex,
        writes: &'a [(Location, EvmValue)],
        keep: impl Fn(&Location) -> bool,
    ) -> Result<(), EngineError> {
        for (key, value) in writes.iter().filter(|(key, _)| keep(key)) {
            match (key, value) {
                (Location::Account(a), EvmValue::Account(v)) => {
                    self.accounts.insert(*a, (&**v, txn_idx));
                }
                (Location::Code(a), EvmValue::Account(v)) => {
                    self.by_fields = true;
                    self.accounts.insert(*a, (&**v, txn_idx));
                }
                (key, value) => self.apply_unowned(txn_idx, key, value)?,
            }
        }
        Ok(())
    }
}

impl<A: Borrow<AccountValue>> FinalState<A> {
    /// A slot's or a fee's write. A key paired with a value of another kind (an account
    /// key among them: accounts are applied by the callers) is an engine bug (write sets
    /// are built by `writes::write_set`, which pairs them right): an invariant error.
    fn apply_unowned(
        &mut self,
        txn_idx: TxnIndex,
        key: &Location,
        value: &EvmValue,
    ) -> Result<(), EngineError> {
        match (key, value) {
            (Location::Storage(a, s), EvmValue::Storage(v)) => {
                self.slots.insert((*a, *s), (*v, txn_idx));
            }
            (Location::Fee(i), EvmValue::Fee(f)) => self.fees.push((*i, *f)),
            (Location::Balance(a), EvmValue::Balance(v)) => {
                self.by_fields = true;
                self.fields.entry(*a).or_default().balance =
                    Some((Some((*v, txn_idx)), U256::ZERO));
            }
            (Location::Balance(a), EvmValue::Credit(c)) => {
                self.by_fields = true;
                let (_, credits) = self
                    .fields
                    .entry(*a)
                    .or_default()
                    .balance
                    .get_or_insert_default();
                // No real block overflows (every credit moves existing ether); one that
                // does would make the sequential run fail where this one cannot tell.
                *credits = credits
                    .checked_add(*c)
                    .ok_or_else(|| Invariant::WrongWrite {
                        txn: txn_idx,
                        key: format!("{key:?}"),
                        value: "credits beyond 2^256".into(),
                    })?;
            }
            (Location::Nonce(a), EvmValue::Nonce(n)) => {
                self.by_fields = true;
                self.fields.entry(*a).or_default().nonce = Some(*n);
            }
            _ => {
                return Err(Invariant::WrongWrite {
                    txn: txn_idx,
                    key: format!("{key:?}"),
                    value: format!("{value:?}"),
                }
                .into())
            }
        }
        Ok(())
    }

    /// The storage epoch of an account so far (for building the next write set).
    pub fn storage_epoch(&self, address: &Address) -> Option<TxnIndex> {
        self.accounts
            .get(address)
            .and_then(|(v, _)| v.borrow().storage_epoch)
    }

    /// The canonical changes relative to `pre`.
    pub fn changes<P: DatabaseRef>(
        &self,
        pre: &P,
        beneficiary: Address,
        spec: SpecId,
    ) -> Result<StateChanges, P::Error> {
        let mut accounts = self.account_changes(pre, beneficiary, spec)?;
        let slots = self.slot_changes(pre, |a| self.storage_epoch(a))?;
        add_slot_changes(&mut accounts, slots, |a| {
            self.unchanged_summary(pre, a, spec)
        })?;
        Ok(StateChanges { accounts })
    }

    /// The summary of an account whose storage changed and which is not among the account
    /// changes: as this state holds it (`coarse`), or, under the field models, where
    /// only a changed account is held whole, as it was before the block.
    fn unchanged_summary<P: DatabaseRef>(
        &self,
        pre: &P,
        address: &Address,
        spec: SpecId,
    ) -> Result<Option<AccountSummary>, P::Error> {
        Ok(match self.accounts.get(address) {
            Some((v, _)) if !self.by_fields => summary(&v.borrow().info, spec),
            _ => summary(&pre.basic_ref(*address)?, spec),
        })
    }

    /// The changes of the accounts this state holds (and of the beneficiary, when it holds
    /// fees), slots left out.
    fn account_changes<P: DatabaseRef>(
        &self,
        pre: &P,
        beneficiary: Address,
        spec: SpecId,
    ) -> Result<BTreeMap<Address, AccountChange>, P::Error> {
        if self.by_fields {
            return self.field_account_changes(pre, beneficiary, spec);
        }
        // Deferred fees: those of the beneficiary's last explicit writer and after.
        let since = self.accounts.get(&beneficiary).map_or(0, |(_, w)| *w);
        let fees = self
            .fees
            .iter()
            .filter(|(i, _)| *i >= since)
            .fold(U256::ZERO, |s, (_, f)| s.saturating_add(*f));
        let credited = if fees.is_zero() {
            None
        } else {
            let mut account = match self.accounts.get(&beneficiary) {
                Some((v, _)) => v.borrow().clone(),
                None => AccountValue {
                    info: pre.basic_ref(beneficiary)?,
                    storage_epoch: None,
                },
            };
            let info = account.info.get_or_insert_with(AccountInfo::default);
            info.balance = info.balance.saturating_add(fees);
            Some(account)
        };
        let finals = self
            .accounts
            .iter()
            .filter(|(a, _)| credited.is_none() || **a != beneficiary)
            .map(|(a, (v, _))| (*a, v.borrow()))
            .chain(credited.as_ref().map(|v| (beneficiary, v)));
        // Collected, then built into the map at once (sorted, then built in bulk): cheaper
        // than inserting one by one into a growing tree.
        let mut changes = Vec::new();
        for (address, value) in finals {
            let pre_info = pre.basic_ref(address)?;
            changes.extend(change_of(pre, address, pre_info, value, spec)?);
        }
        Ok(changes.into_iter().collect())
    }

    /// `account_changes` under the field models: each account held (in `accounts` or
    /// `fields`) joined from its parts, a part not written taken from before the block;
    /// the beneficiary's fees are those since its last full balance.
    fn field_account_changes<P: DatabaseRef>(
        &self,
        pre: &P,
        beneficiary: Address,
        spec: SpecId,
    ) -> Result<BTreeMap<Address, AccountChange>, P::Error> {
        let since = self
            .fields
            .get(&beneficiary)
            .and_then(|f| f.balance)
            .and_then(|(full, _)| full.map(|(_, w)| w))
            .unwrap_or(0);
        let fees = self
            .fees
            .iter()
            .filter(|(i, _)| *i >= since)
            .fold(U256::ZERO, |s, (_, f)| s.saturating_add(*f));
        // Every account held, once: those with a balance or nonce written, then those with
        // only their `Code` location written, then the beneficiary if it holds fees alone;
        // sorted by address here, where an entry is small, so that the changes come out in
        // the map's order (built in bulk from a sorted run without moving them again).
        let code_only = self
            .accounts
            .keys()
            .filter(|a| !self.fields.contains_key(*a))
            .map(|a| (*a, None));
        let fees_only = (!fees.is_zero()
            && !self.fields.contains_key(&beneficiary)
            && !self.accounts.contains_key(&beneficiary))
        .then_some((beneficiary, None));
        let mut held: Vec<(Address, Option<&Fields>)> = self
            .fields
            .iter()
            .map(|(a, f)| (*a, Some(f)))
            .chain(code_only)
            .chain(fees_only)
            .collect();
        held.sort_unstable_by_key(|(a, _)| *a);
        let mut changes = Vec::with_capacity(held.len());
        for (address, fields) in held {
            let pre_info = pre.basic_ref(address)?;
            let mut value = match self.accounts.get(&address) {
                Some((v, _)) => v.borrow().clone(),
                None => AccountValue {
                    info: pre_info.clone(),
                    storage_epoch: None,
                },
            };
            let balance = fields.and_then(|f| f.balance.as_ref());
            let nonce = fields.and_then(|f| f.nonce);
            // The beneficiary exists once it holds fees or a written balance or nonce,
            // whatever its `Code` location says (`adapter.rs`).
            let held = balance.is_some() || nonce.is_some();
            if value.info.is_none() && address == beneficiary && (held || !fees.is_zero()) {
                value.info = Some(AccountInfo::default());
            }
            if let Some(info) = value.info.as_mut() {
                let pre_balance = pre_info.as_ref().map_or(U256::ZERO, |i| i.balance);
                info.balance = match balance {
                    Some((Some((full, _)), credits)) => full.saturating_add(*credits),
                    Some((None, credits)) => pre_balance.saturating_add(*credits),
                    None => pre_balance,
                };
                if address == beneficiary {
                    info.balance = info.balance.saturating_add(fees);
                }
                info.nonce = match nonce {
                    Some(nonce) => nonce,
                    None => pre_info.as_ref().map_or(0, |i| i.nonce),
                };
            }
            changes.extend(change_of(pre, address, pre_info, &value, spec)?);
        }
        Ok(changes.into_iter().collect())
    }

    /// The slots this state holds whose value at the end differs from the pre-block one,
    /// by account. `epoch_of(address)`: the account's storage epoch at the end of the
    /// block (its state may be held elsewhere, by another shard).
    fn slot_changes<P: DatabaseRef>(
        &self,
        pre: &P,
        epoch_of: impl Fn(&Address) -> Option<TxnIndex>,
    ) -> Result<SlotChanges, P::Error> {
        let mut changed = Vec::new();
        for ((address, slot), (value, writer)) in &self.slots {
            let epoch = epoch_of(address);
            let value = match epoch {
                Some(e) if *writer < e => U256::ZERO,
                _ => *value,
            };
            let differs = if epoch.is_some() {
                !value.is_zero()
            } else {
                value != pre.storage_ref(*address, *slot)?
            };
            if differs {
                changed.push((*address, *slot, value));
            }
        }
        // Sorted, then each account's slots built into its map in bulk.
        changed.sort_unstable_by_key(|&(address, slot, _)| (address, slot));
        let mut changes = SlotChanges::new();
        for run in changed.chunk_by(|a, b| a.0 == b.0) {
            let storage = run.iter().map(|&(_, slot, value)| (slot, value)).collect();
            changes.insert(run[0].0, storage);
        }
        Ok(changes)
    }
}

/// The change of `address`, which was `pre_info` before the block and is `value` at its
/// end, if any.
fn change_of<P: DatabaseRef>(
    pre: &P,
    address: Address,
    pre_info: Option<AccountInfo>,
    value: &AccountValue,
    spec: SpecId,
) -> Result<Option<(Address, AccountChange)>, P::Error> {
    let before = summary(&pre_info, spec);
    let after = summary(&value.info, spec);
    let storage_wiped = value.storage_epoch.is_some();
    // An account that existed empty before the block and is gone at its end (a touch
    // deletes it, EIP-161): the summaries agree (both `None`), but a node must delete it.
    let deleted =
        spec.is_enabled_in(SpecId::SPURIOUS_DRAGON) && pre_info.is_some() && after.is_none();
    if after == before && !storage_wiped && !deleted {
        return Ok(None);
    }
    let code = new_code(pre, value.info.as_ref(), before.as_ref(), after.as_ref())?;
    Ok(Some((
        address,
        AccountChange {
            info: after,
            storage_wiped,
            storage: BTreeMap::new(),
            code,
        },
    )))
}

/// The code an account ends the block with, when its code hash changed to one with code
/// (a contract created, an EIP-7702 delegation set): the account's own code as the
/// execution left it, or, should it carry none, the pre-block state's code of that hash.
fn new_code<P: DatabaseRef>(
    pre: &P,
    info: Option<&AccountInfo>,
    before: Option<&AccountSummary>,
    after: Option<&AccountSummary>,
) -> Result<Option<Bytes>, P::Error> {
    let (Some(info), Some(after)) = (info, after) else {
        return Ok(None);
    };
    if after.code_hash == KECCAK_EMPTY || before.is_some_and(|b| b.code_hash == after.code_hash) {
        return Ok(None);
    }
    let code = match &info.code {
        Some(code) => code.original_bytes(),
        None => pre.code_by_hash_ref(after.code_hash)?.original_bytes(),
    };
    Ok(Some(code))
}

/// Changed slots by account.
type SlotChanges = BTreeMap<Address, BTreeMap<U256, U256>>;

/// An account as the state changes show it (`AccountSummary::of`).
fn summary(info: &Option<AccountInfo>, spec: SpecId) -> Option<AccountSummary> {
    AccountSummary::of(info.as_ref(), spec)
}

/// Adds changed slots to the account changes. An account whose storage changed but which
/// itself did not gets an entry with `info_of(address)`, its unchanged summary (its storage
/// was not wiped: a wiped account is among the changes already).
fn add_slot_changes<E>(
    accounts: &mut BTreeMap<Address, AccountChange>,
    slots: SlotChanges,
    info_of: impl Fn(&Address) -> Result<Option<AccountSummary>, E>,
) -> Result<(), E> {
    for (address, mut storage) in slots {
        match accounts.entry(address) {
            std::collections::btree_map::Entry::Occupied(e) => {
                e.into_mut().storage.append(&mut storage);
            }
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(AccountChange {
                    info: info_of(&address)?,
                    storage_wiped: false,
                    storage,
                    code: None,
                });
            }
        }
    }
    Ok(())
}

/// Receipts from outputs in block order: cumulative gas over included transactions.
pub fn receipts(
    block: &Block,
    outputs: impl IntoIterator<Item = EvmTxOutput>,
) -> Vec<super::output::TxOutcome> {
    let mut cumulative = 0u64;
    outputs
        .into_iter()
        .enumerate()
        .map(|(i, out)| {
            out.map(|s| {
                cumulative += s.gas_used;
                Receipt {
                    tx_type: block.txs[i].tx_type,
                    success: s.success,
                    gas_used: s.gas_used,
                    cumulative_gas_used: cumulative,
                    logs: s.logs,
                }
            })
        })
        .collect()
}

/// The block output from committed (writes, output) pairs in block order.
pub fn assemble<P: DatabaseRef + Sync>(
    block: &Block,
    pre: &P,
    results: impl IntoIterator<Item = (Vec<(Location, EvmValue)>, EvmTxOutput)>,
) -> Result<BlockOutput, ExecuteError<P::Error>> {
    let (writes, outputs): (Vec<_>, Vec<_>) = results.into_iter().unzip();
    assemble_on(block, pre, &writes, outputs, 1)
}

/// Fewer written entries than this per shard and `assemble_on` uses fewer shards (one, in
/// the calling thread, for a small block): on this machine a worker thread costs about
/// 0.1 ms to start, join and give a warm heap, about what assembling 10,000 entries saves
/// when split in two.
const MIN_ENTRIES_PER_SHARD: usize = 10_000;

/// How many shards `assemble_on` cuts these write sets into on `threads` workers.
pub fn assemble_shards(writes: &[Vec<(Location, EvmValue)>], threads: usize) -> usize {
    let entries: usize = writes.iter().map(Vec::len).sum();
    threads.clamp(1, (entries / MIN_ENTRIES_PER_SHARD).max(1))
}

/// `assemble` on `threads` workers, in two passes over the write sets, each cut into one
/// shard per worker: accounts (and the fees, with the beneficiary) by address, slots by
/// address and slot, so that a block whose writes are mostly one contract's storage (an
/// ERC-20 token's balances) still splits evenly. First each worker applies, in block
/// order, the writes of its shard; then each computes its shard's changes, looking up an
/// account's storage epoch in the shard that holds the account. Shards share no key, so
/// their changes merge without conflict.
pub fn assemble_on<P: DatabaseRef + Sync>(
    block: &Block,
    pre: &P,
    writes: &[Vec<(Location, EvmValue)>],
    outputs: Vec<EvmTxOutput>,
    threads: usize,
) -> Result<BlockOutput, ExecuteError<P::Error>> {
    // A shard's worth of work must pay for the thread that runs it.
    let shards = assemble_shards(writes, threads);
    let beneficiary = block.env.beneficiary;
    let spec = block.spec;
    if shards == 1 {
        let mut state = FinalState::default();
        for (i, set) in writes.iter().enumerate() {
            state.apply_where(i, set, |_| true)?;
        }
        let state = state.changes(pre, beneficiary, spec).map_err(pre_state)?;
        return Ok(BlockOutput {
            txs: receipts(block, outputs),
            state,
            ..BlockOutput::default()
        });
    }
    let account_shard = |address: &Address| usize::from(address[19]) % shards;
    let shard_of = |location: &Location| match location {
        Location::Account(a) | Location::Code(a) | Location::Balance(a) | Location::Nonce(a) => {
            account_shard(a)
        }
        Location::Storage(a, slot) => (usize::from(a[19]) + slot.as_limbs()[0] as usize) % shards,
        Location::Fee(_) => account_shard(&beneficiary),
    };
    let states = run_workers(shards, |shard| {
        let mut state = FinalState::default();
        for (i, set) in writes.iter().enumerate() {
            state.apply_where(i, set, |location| shard_of(location) == shard)?;
        }
        Ok(state)
    })?
    .into_iter()
    .collect::<Result<Vec<FinalState<&AccountValue>>, EngineError>>()?;
    let holder = |address: &Address| &states[account_shard(address)];
    let per_shard = run_workers(shards, |shard| {
        let state = &states[shard];
        let accounts = state.account_changes(pre, beneficiary, spec)?;
        let slots = state.slot_changes(pre, |a| holder(a).storage_epoch(a))?;
        Ok::<_, P::Error>((accounts, slots))
    })?;
    let mut accounts = BTreeMap::new();
    let mut slots = SlotChanges::new();
    for part in per_shard {
        let (mut shard_accounts, shard_slots) = part.map_err(pre_state)?;
        accounts.append(&mut shard_accounts);
        for (address, mut storage) in shard_slots {
            slots.entry(address).or_default().append(&mut storage);
        }
    }
    add_slot_changes(&mut accounts, slots, |a| {
        holder(a).unchanged_summary(pre, a, spec)
    })
    .map_err(pre_state)?;
    Ok(BlockOutput {
        txs: receipts(block, outputs),
        state: StateChanges { accounts },
        ..BlockOutput::default()
    })
}

/// A failure of the pre-block state source while assembling, as the engine reports it.
fn pre_state<E>(error: E) -> ExecuteError<E> {
    ExecuteError::State { txn: None, error }
}
