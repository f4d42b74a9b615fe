//! From the committed write sets and outputs of a block's transactions, in block order, to
//! the block's output: receipts with cumulative gas, and the canonical state changes.

use std::collections::{BTreeMap, HashMap};

use revm::primitives::hardfork::SpecId;
use revm::primitives::{Address, U256};
use revm::state::AccountInfo;
use revm::DatabaseRef;

use super::block::Block;
use super::executor::EvmTxOutput;
use super::location::{AccountValue, EvmValue, Location};
use super::output::{AccountChange, AccountSummary, BlockOutput, Receipt, StateChanges};
use crate::core::txn::TxnIndex;
use crate::core::FastHash;
use crate::error::EngineError;
use crate::strategies::pool::run_workers;

/// The block's state at its end, built by applying write sets in block order.
#[derive(Default)]
pub struct FinalState {
    accounts: HashMap<Address, (AccountValue, TxnIndex), FastHash>,
    slots: HashMap<(Address, U256), (U256, TxnIndex), FastHash>,
    fees: Vec<(TxnIndex, U256)>,
}

impl FinalState {
    /// Applies transaction `txn_idx`'s writes (write sets must come in block order).
    /// A key paired with a value of another kind is an engine bug (write sets are built by
    /// `writes::write_set`, which pairs them right): an invariant error.
    pub fn apply(
        &mut self,
        txn_idx: TxnIndex,
        writes: &[(Location, EvmValue)],
    ) -> Result<(), EngineError> {
        self.apply_where(txn_idx, writes, |_| true)
    }

    /// `apply` for the writes whose location `keep` accepts.
    fn apply_where(
        &mut self,
        txn_idx: TxnIndex,
        writes: &[(Location, EvmValue)],
        keep: impl Fn(&Location) -> bool,
    ) -> Result<(), EngineError> {
        for (key, value) in writes.iter().filter(|(key, _)| keep(key)) {
            match (key, value) {
                (Location::Account(a), EvmValue::Account(v)) => {
                    self.accounts.insert(*a, ((**v).clone(), txn_idx));
                }
                (Location::Storage(a, s), EvmValue::Storage(v)) => {
                    self.slots.insert((*a, *s), (*v, txn_idx));
                }
                (Location::Fee(i), EvmValue::Fee(f)) => self.fees.push((*i, *f)),
                // Write sets are built by `writes::write_set`, which pairs them right.
                _ => {
                    return Err(EngineError::Invariant(format!(
                        "transaction {txn_idx} wrote {value:?} to {key:?}"
                    )))
                }
            }
        }
        Ok(())
    }

    /// The storage epoch of an account so far (for building the next write set).
    pub fn storage_epoch(&self, address: &Address) -> Option<TxnIndex> {
        self.accounts
            .get(address)
            .and_then(|(v, _)| v.storage_epoch)
    }

    /// The canonical changes relative to `pre`.
    pub fn changes<P: DatabaseRef>(
        &self,
        pre: &P,
        beneficiary: Address,
        spec: SpecId,
    ) -> Result<StateChanges, P::Error> {
        let spurious_dragon = spec.is_enabled_in(SpecId::SPURIOUS_DRAGON);
        let summary = |info: &Option<AccountInfo>| {
            info.as_ref()
                .filter(|i| !(spurious_dragon && i.is_empty()))
                .map(|i| AccountSummary {
                    balance: i.balance,
                    nonce: i.nonce,
                    code_hash: i.code_hash,
                })
        };
        let mut finals: BTreeMap<Address, AccountValue> = self
            .accounts
            .iter()
            .map(|(a, (v, _))| (*a, v.clone()))
            .collect();
        // Deferred fees: those of the beneficiary's last explicit writer and after.
        let since = self.accounts.get(&beneficiary).map_or(0, |(_, w)| *w);
        let fees = self
            .fees
            .iter()
            .filter(|(i, _)| *i >= since)
            .fold(U256::ZERO, |s, (_, f)| s.saturating_add(*f));
        if !fees.is_zero() {
            let entry = match finals.remove(&beneficiary) {
                Some(v) => v,
                None => AccountValue {
                    info: pre.basic_ref(beneficiary)?,
                    storage_epoch: None,
                },
            };
            let mut entry = entry;
            let info = entry.info.get_or_insert_with(AccountInfo::default);
            info.balance = info.balance.saturating_add(fees);
            finals.insert(beneficiary, entry);
        }
        let mut changes = StateChanges::default();
        for (address, value) in &finals {
            let before = summary(&pre.basic_ref(*address)?);
            let after = summary(&value.info);
            let change = AccountChange {
                info: after,
                storage_wiped: value.storage_epoch.is_some(),
                storage: BTreeMap::new(),
            };
            if after != before || change.storage_wiped {
                changes.accounts.insert(*address, change);
            }
        }
        for ((address, slot), (value, writer)) in &self.slots {
            let epoch = self.storage_epoch(address);
            let value = match epoch {
                Some(e) if *writer < e => U256::ZERO,
                _ => *value,
            };
            let changed = if epoch.is_some() {
                !value.is_zero()
            } else {
                value != pre.storage_ref(*address, *slot)?
            };
            if changed {
                let entry = match changes.accounts.entry(*address) {
                    std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::btree_map::Entry::Vacant(e) => {
                        // Storage changed but the account itself did not.
                        let info = match finals.get(address) {
                            Some(v) => summary(&v.info),
                            None => summary(&pre.basic_ref(*address)?),
                        };
                        e.insert(AccountChange {
                            info,
                            storage_wiped: epoch.is_some(),
                            storage: BTreeMap::new(),
                        })
                    }
                };
                entry.storage.insert(*slot, value);
            }
        }
        Ok(changes)
    }
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
) -> Result<BlockOutput, EngineError> {
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

/// `assemble` on `threads` workers. The address space is cut into one shard per worker
/// (by an address's last byte); each worker applies, in block order, the writes to the
/// accounts of its shard and their slots (and the fees, if the beneficiary is in its
/// shard), then computes those accounts' changes. Shards share no account, so their
/// changes are disjoint and merge without conflict; each worker scans every write set but
/// hashes and stores only its own part.
pub fn assemble_on<P: DatabaseRef + Sync>(
    block: &Block,
    pre: &P,
    writes: &[Vec<(Location, EvmValue)>],
    outputs: Vec<EvmTxOutput>,
    threads: usize,
) -> Result<BlockOutput, EngineError> {
    // A shard's worth of work must pay for the thread that runs it.
    let shards = assemble_shards(writes, threads);
    let shard_of = |address: &Address| usize::from(address[19]) % shards;
    let beneficiary = block.env.beneficiary;
    let per_shard = run_workers(shards, |shard| {
        let mine = |location: &Location| match location {
            Location::Account(a) | Location::Storage(a, _) => shard_of(a) == shard,
            Location::Fee(_) => shard_of(&beneficiary) == shard,
        };
        let mut state = FinalState::default();
        for (i, set) in writes.iter().enumerate() {
            state.apply_where(i, set, mine)?;
        }
        state
            .changes(pre, beneficiary, block.spec)
            .map_err(|e| EngineError::PreState(e.to_string()))
    })?;
    let mut state = StateChanges::default();
    for changes in per_shard {
        state.accounts.append(&mut changes?.accounts);
    }
    Ok(BlockOutput {
        txs: receipts(block, outputs),
        state,
    })
}
