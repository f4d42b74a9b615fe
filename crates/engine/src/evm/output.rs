//! What executing a block produces: per transaction a receipt or the reason it was
//! rejected, and the block's state changes in one canonical form, so that the outputs of
//! two strategies compare with `==`.

use std::collections::BTreeMap;

use alloy_eips::eip7685::Requests;
use revm::primitives::hardfork::SpecId;
use revm::primitives::{Address, Bytes, Log, B256, U256};
use revm::state::AccountInfo;
use serde::Serialize;

/// The receipt of an included transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Receipt {
    /// EIP-2718 type of the transaction (0 for legacy).
    pub tx_type: u8,
    pub success: bool,
    pub gas_used: u64,
    /// Gas used by this and all earlier included transactions of the block.
    pub cumulative_gas_used: u64,
    #[serde(skip)]
    pub logs: Vec<Log>,
}

/// A transaction's outcome: a receipt, or why sequential revm rejects it (nonce, balance, ...).
/// A rejected transaction changes no state and uses no block gas.
pub type TxOutcome = Result<Receipt, String>;

/// An account's state at the end of the block, as far as it is observable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct AccountSummary {
    pub balance: U256,
    pub nonce: u64,
    pub code_hash: B256,
}

impl AccountSummary {
    /// An account as the state changes show it: `None` when it does not exist, or is
    /// empty from Spurious Dragon on (EIP-161: an empty account counts as none).
    pub fn of(info: Option<&AccountInfo>, spec: SpecId) -> Option<AccountSummary> {
        let spurious_dragon = spec.is_enabled_in(SpecId::SPURIOUS_DRAGON);
        info.filter(|i| !(spurious_dragon && i.is_empty()))
            .map(|i| AccountSummary {
                balance: i.balance,
                nonce: i.nonce,
                code_hash: i.code_hash,
            })
    }
}

/// How one account changed over the block.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AccountChange {
    /// The account at the end of the block; `None` when it does not exist (never created,
    /// destroyed, or empty from Spurious Dragon on). An account listed as `None` that
    /// existed before the block (even empty: a touch deletes an empty account, EIP-161) is
    /// one the block deleted.
    pub info: Option<AccountSummary>,
    /// The account's storage was wiped during the block (self-destruct or creation):
    /// every slot not listed in `storage` is zero.
    pub storage_wiped: bool,
    /// Slots whose value at the end differs from the pre-block value (for a wiped
    /// account: every non-zero slot).
    pub storage: BTreeMap<U256, U256>,
    /// The account's code, when the block gave it code it did not have before: a contract
    /// the block created, or an EIP-7702 delegation it set (the designator is the code).
    /// What a node must store beside `info.code_hash` to persist the block; `None` when
    /// the code hash is unchanged (the node has that code already) or has no code.
    pub code: Option<Bytes>,
}

/// The block's state changes: only accounts that changed appear.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StateChanges {
    pub accounts: BTreeMap<Address, AccountChange>,
}

/// Everything a block's execution produces.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockOutput {
    pub txs: Vec<TxOutcome>,
    /// The whole block's state changes: its transactions' and, for a block with
    /// block-level facts, those of the steps around them (`evm::block_level`).
    pub state: StateChanges,
    /// The block's EIP-7685 requests (from Prague, for a block with block-level facts;
    /// `None` otherwise).
    pub requests: Option<Requests>,
    /// Uncles whose miner's reward `state` leaves out: the block names them, but their
    /// headers were not given (no `uncles.json`). Non-zero means the state changes are
    /// incomplete.
    pub missing_uncle_rewards: usize,
}

impl BlockOutput {
    /// Gas used by the block (the last cumulative gas).
    pub fn gas_used(&self) -> u64 {
        self.txs
            .iter()
            .rev()
            .find_map(|t| t.as_ref().ok().map(|r| r.cumulative_gas_used))
            .unwrap_or(0)
    }

    /// The first difference from `expected`, described for a person, or `None` when equal.
    pub fn first_difference(&self, expected: &BlockOutput) -> Option<String> {
        if self.txs.len() != expected.txs.len() {
            return Some(format!(
                "{} transaction outcomes, expected {}",
                self.txs.len(),
                expected.txs.len()
            ));
        }
        for (i, (got, want)) in self.txs.iter().zip(&expected.txs).enumerate() {
            if got != want {
                return Some(format!("transaction {i}: got {got:?}, expected {want:?}"));
            }
        }
        if self.requests != expected.requests {
            return Some(format!(
                "requests: got {:?}, expected {:?}",
                self.requests, expected.requests
            ));
        }
        if self.missing_uncle_rewards != expected.missing_uncle_rewards {
            return Some(format!(
                "missing uncle rewards: got {}, expected {}",
                self.missing_uncle_rewards, expected.missing_uncle_rewards
            ));
        }
        if self.state != expected.state {
            let got = &self.state.accounts;
            let want = &expected.state.accounts;
            for (addr, change) in want {
                match got.get(addr) {
                    None => return Some(format!("state of {addr}: no change, expected a change")),
                    Some(g) if g.info != change.info => {
                        return Some(format!(
                            "account {addr}: got {:?}, expected {:?}",
                            g.info, change.info
                        ))
                    }
                    Some(g) if g.storage_wiped != change.storage_wiped => {
                        return Some(format!(
                            "account {addr}: storage wiped {}, expected {}",
                            g.storage_wiped, change.storage_wiped
                        ))
                    }
                    Some(g) => {
                        let slots = g.storage.keys().chain(change.storage.keys());
                        for slot in slots {
                            let (a, b) = (g.storage.get(slot), change.storage.get(slot));
                            if a != b {
                                return Some(format!(
                                    "slot {slot} of {addr}: got {a:?}, expected {b:?}"
                                ));
                            }
                        }
                    }
                }
            }
            if let Some(addr) = got.keys().find(|a| !want.contains_key(*a)) {
                return Some(format!("state of {addr}: changed, expected no change"));
            }
        }
        None
    }
}
