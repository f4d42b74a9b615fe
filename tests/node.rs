//! A node's use of the engine, end to end: one kept executor runs the bundled mainnet
//! blocks; each block's output is converted to the ecosystem's types (alloy's receipts,
//! revm's bundle state) and persisted into a store, as a node's database would take it.
//!
//! Checked against independent references: the receipts root of the converted receipts
//! against the real header; the converted bundle against the bundle revm's own `State`
//! builds while plain sequential revm executes the block; the persisted store, read back
//! through `DatabaseRef`, against the state plain revm leaves in its `CacheDB`, and the
//! code of every contract the block created is there to read.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use alloy_consensus::ReceiptEnvelope;
use alloy_eips::eip2718::{Decodable2718, Encodable2718};
use alloy_eips::eip2935::HISTORY_STORAGE_ADDRESS;
use alloy_eips::eip4788::{BEACON_ROOTS_ADDRESS, SYSTEM_ADDRESS};
use alloy_eips::eip7002::WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS;
use alloy_eips::eip7251::CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS;
use revm::bytecode::Bytecode;
use revm::context::result::EVMError;
use revm::database::states::bundle_state::BundleRetention;
use revm::database::states::StateChangeset;
use revm::database::{BundleState, CacheDB, OriginalValuesKnown, State};
use revm::handler::{MainnetContext, MainnetEvm, SystemCallEvm};
use revm::primitives::hardfork::SpecId;
use revm::primitives::{Address, Bytes, B256, KECCAK_EMPTY, U256};
use revm::state::{Account, AccountInfo};
use revm::{DatabaseCommit, DatabaseRef, ExecuteCommitEvm, MainBuilder};

use stmlab::evm::block::Block;
use stmlab::evm::convert::{alloy_receipts, bundle_state, ConvertError, StateConvertError};
use stmlab::evm::executor::cfg_env;
use stmlab::evm::header::receipts_root;
use stmlab::evm::mainnet::{find_block_dirs, load_block_dir};
use stmlab::evm::state::{InMemoryState, NoError};
use stmlab::{Executor, Options, Strategy};

/// What a node keeps on disk, in memory here: plain accounts, storage and code by hash,
/// and each block's receipts as their EIP-2718 encodings.
#[derive(Default)]
struct Store {
    accounts: HashMap<Address, AccountInfo>,
    storage: HashMap<Address, BTreeMap<U256, U256>>,
    code: HashMap<B256, Bytecode>,
    receipts: Vec<Vec<u8>>,
}

impl Store {
    /// A store holding a block's pre-block state (the node's state before the block).
    fn from_pre_state(pre: &InMemoryState) -> Self {
        Self {
            accounts: pre.accounts.iter().map(|(a, i)| (*a, i.clone())).collect(),
            storage: pre
                .storage
                .iter()
                .map(|(a, s)| (*a, s.iter().map(|(k, v)| (*k, *v)).collect()))
                .collect(),
            code: pre.bytecodes.iter().map(|(h, c)| (*h, c.clone())).collect(),
            receipts: Vec::new(),
        }
    }

    /// Writes a block's plain state changes and its receipts.
    fn write(&mut self, changes: StateChangeset, receipts: &[ReceiptEnvelope]) {
        for (address, info) in changes.accounts {
            match info {
                Some(info) => self.accounts.insert(address, info.without_code()),
                None => self.accounts.remove(&address),
            };
        }
        for slots in changes.storage {
            let storage = self.storage.entry(slots.address).or_default();
            if slots.wipe_storage {
                storage.clear();
            }
            for (slot, value) in slots.storage {
                if value.is_zero() {
                    storage.remove(&slot);
                } else {
                    storage.insert(slot, value);
                }
            }
        }
        self.code.extend(changes.contracts);
        self.receipts = receipts.iter().map(|r| r.encoded_2718()).collect();
    }
}

impl DatabaseRef for Store {
    type Error = NoError;
    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, NoError> {
        Ok(self.accounts.get(&address).cloned())
    }
    fn code_by_hash_ref(&self, hash: B256) -> Result<Bytecode, NoError> {
        Ok(self.code.get(&hash).cloned().unwrap_or_default())
    }
    fn storage_ref(&self, address: Address, slot: U256) -> Result<U256, NoError> {
        Ok(self
            .storage
            .get(&address)
            .and_then(|s| s.get(&slot))
            .copied()
            .unwrap_or_default())
    }
    fn block_hash_ref(&self, _: u64) -> Result<B256, NoError> {
        Ok(B256::ZERO)
    }
}

/// Plain sequential revm over `pre`, every transaction committed, both to a revm `State`
/// with bundle updates (its bundle, merged once at the end of the block) and to a
/// `CacheDB` (the state it leaves), with the block's steps around its transactions done
/// with revm's own API (`block_steps`).
fn revm_reference<'a>(
    block: &Block,
    pre: &'a InMemoryState,
) -> (BundleState, CacheDB<&'a InMemoryState>) {
    let state = State::builder()
        .with_database_ref(pre)
        .with_bundle_update()
        .build();
    let mut evm = MainnetContext::new(state, block.spec)
        .with_block(block.env.clone())
        .with_cfg(cfg_env(block))
        .build_mainnet();
    let mut cache = MainnetContext::new(CacheDB::new(pre), block.spec)
        .with_block(block.env.clone())
        .with_cfg(cfg_env(block))
        .build_mainnet();
    block_steps(&mut evm, block, Steps::Before);
    block_steps(&mut cache, block, Steps::Before);
    for tx in &block.txs {
        match evm.transact_commit(tx.clone()) {
            Ok(_) | Err(EVMError::Transaction(_)) => {}
            Err(e) => panic!("{}: {e}", block.label),
        }
        let _ = cache.transact_commit(tx.clone());
    }
    block_steps(&mut evm, block, Steps::After);
    block_steps(&mut cache, block, Steps::After);
    let mut state = evm.ctx.journaled_state.database;
    state.merge_transitions(BundleRetention::Reverts);
    (state.take_bundle(), cache.ctx.journaled_state.database)
}

/// Which of a block's steps around its transactions.
#[derive(PartialEq)]
enum Steps {
    Before,
    After,
}

/// The block's steps before or after its transactions, as a node does them on revm: the
/// system calls through revm's `SystemCallEvm` (SYSTEM_ADDRESS and the beneficiary left
/// out of what is committed unless changed), withdrawals and mining rewards as balance
/// increments committed to the database. Uncles without headers pay only the
/// beneficiary's share (the engine's output says their miners' rewards are missing).
fn block_steps<DB>(evm: &mut MainnetEvm<MainnetContext<DB>>, block: &Block, steps: Steps)
where
    DB: revm::Database + DatabaseCommit,
    DB::Error: std::fmt::Debug,
{
    let level = &block.level;
    let mut calls: Vec<(Address, Bytes)> = Vec::new();
    if steps == Steps::Before {
        if let Some(root) = level.parent_beacon_block_root {
            if block.spec.is_enabled_in(SpecId::CANCUN) {
                calls.push((BEACON_ROOTS_ADDRESS, root.0.to_vec().into()));
            }
        }
        if let Some(parent) = level.parent_hash {
            if block.spec.is_enabled_in(SpecId::PRAGUE) {
                calls.push((HISTORY_STORAGE_ADDRESS, parent.0.to_vec().into()));
            }
        }
    } else {
        let mut credits: Vec<(Address, U256)> = Vec::new();
        if block.spec.is_enabled_in(SpecId::SHANGHAI) {
            for w in &level.withdrawals {
                credits.push((
                    w.address,
                    U256::from(w.amount) * U256::from(1_000_000_000u64),
                ));
            }
        }
        if !block.spec.is_enabled_in(SpecId::MERGE) && level != &Default::default() {
            let ether = U256::from(10u64).pow(U256::from(18));
            let reward = ether
                * U256::from(if block.spec.is_enabled_in(SpecId::PETERSBURG) {
                    2
                } else if block.spec.is_enabled_in(SpecId::BYZANTIUM) {
                    3
                } else {
                    5
                });
            let number = block.env.number.to::<u64>();
            let uncles = level.uncles.count;
            credits.push((
                block.env.beneficiary,
                reward + reward * U256::from(uncles) / U256::from(32),
            ));
            for uncle in level.uncles.headers.iter().flatten() {
                let share = U256::from(8 + uncle.number - number) * reward / U256::from(8);
                credits.push((uncle.miner, share));
            }
        }
        for (address, amount) in credits {
            let db = &mut evm.ctx.journaled_state.database;
            let info = db.basic(address).unwrap().unwrap_or_default();
            if amount.is_zero() && !info.is_empty() {
                continue;
            }
            let mut account = Account::from(AccountInfo {
                balance: info.balance + amount,
                ..info
            });
            account.mark_touch();
            db.commit([(address, account)].into_iter().collect());
        }
        if block.spec.is_enabled_in(SpecId::PRAGUE) {
            calls.push((WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS, Bytes::new()));
            calls.push((CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS, Bytes::new()));
        }
    }
    for (contract, data) in calls {
        let db = &mut evm.ctx.journaled_state.database;
        if db
            .basic(contract)
            .unwrap()
            .is_none_or(|i| i.is_empty_code_hash())
        {
            continue;
        }
        let mut result = evm
            .system_call_with_caller(SYSTEM_ADDRESS, contract, data)
            .unwrap_or_else(|e| panic!("{}: system call: {e:?}", block.label));
        assert!(result.result.is_success(), "{}: {contract}", block.label);
        for bystander in [SYSTEM_ADDRESS, block.env.beneficiary] {
            let untouched = result.state.get(&bystander).is_some_and(|a| {
                a.storage.values().all(|s| !s.is_changed())
                    && evm
                        .ctx
                        .journaled_state
                        .database
                        .basic(bystander)
                        .unwrap()
                        .map_or(a.info.is_empty(), |b| {
                            (b.balance, b.nonce, b.code_hash)
                                == (a.info.balance, a.info.nonce, a.info.code_hash)
                        })
            });
            if untouched && bystander != contract {
                result.state.remove(&bystander);
            }
        }
        evm.ctx.journaled_state.database.commit(result.state);
    }
}

/// A plain state changeset in a comparable form: accounts (without their code, which is
/// kept by hash), slots that changed by account with the wipe flag, code hashes.
type Plain = (
    BTreeMap<Address, Option<(U256, u64, B256)>>,
    BTreeMap<Address, (bool, BTreeMap<U256, U256>)>,
    Vec<B256>,
);

fn plain(changes: &StateChangeset) -> Plain {
    let accounts = changes
        .accounts
        .iter()
        .map(|(a, i)| (*a, i.as_ref().map(|i| (i.balance, i.nonce, i.code_hash))))
        .collect();
    let storage = changes
        .storage
        .iter()
        .filter(|s| s.wipe_storage || !s.storage.is_empty())
        .map(|s| {
            (
                s.address,
                (s.wipe_storage, s.storage.iter().copied().collect()),
            )
        })
        .collect();
    let mut code: Vec<B256> = changes.contracts.iter().map(|(h, _)| *h).collect();
    code.sort();
    (accounts, storage, code)
}

#[test]
fn a_node_persists_each_block_in_the_ecosystems_types() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/mainnet");
    let executor = Executor::with_options(2, Options::RAW).unwrap();
    let (mut receipt_blocks, mut bundle_blocks, mut created) = (0, 0, 0);
    for dir in find_block_dirs(&root).unwrap() {
        let (block, pre) = load_block_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
        let label = block.label.clone();
        let executed = executor
            .execute(&block, &pre, Strategy::BlockStm)
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        let output = &executed.output;

        // Receipts: alloy's, whose root is the header's; before Byzantium, a clear error.
        let receipts = match alloy_receipts(&block, &output.txs) {
            Ok(receipts) => {
                let header = block.header.as_ref().expect("a real block has its header");
                assert_eq!(receipts_root(&receipts), header.receipts_root, "{label}");
                receipt_blocks += 1;
                receipts
            }
            Err(ConvertError::PreByzantiumReceipts { .. }) => {
                assert!(!block.spec.is_enabled_in(SpecId::BYZANTIUM), "{label}");
                Vec::new()
            }
            Err(e) => panic!("{label}: {e}"),
        };

        // State: revm's bundle, equal to the one revm builds itself.
        let bundle = match bundle_state(&block, &output.state, &pre) {
            Ok(bundle) => bundle,
            Err(StateConvertError::Convert(ConvertError::PreSpuriousDragonState { .. })) => {
                assert!(
                    !block.spec.is_enabled_in(SpecId::SPURIOUS_DRAGON),
                    "{label}"
                );
                continue;
            }
            Err(e) => panic!("{label}: {e}"),
        };
        bundle_blocks += 1;
        let (revm_bundle, revm_final) = revm_reference(&block, &pre);
        let ours = bundle.to_plain_state(OriginalValuesKnown::Yes);
        let theirs = revm_bundle.to_plain_state(OriginalValuesKnown::Yes);
        assert_eq!(plain(&ours), plain(&theirs), "{label}: plain state");
        assert_eq!(
            bundle.reverts.len(),
            revm_bundle.reverts.len(),
            "{label}: reverts"
        );

        // Persisted, then read back as a node would read its database.
        let mut store = Store::from_pre_state(&pre);
        store.write(ours, &receipts);
        for (address, account) in &revm_final.cache.accounts {
            let want = account.info().filter(|i| !i.is_empty());
            let got = store.basic_ref(*address).unwrap();
            assert_eq!(
                got.as_ref().map(|i| (i.balance, i.nonce, i.code_hash)),
                want.as_ref().map(|i| (i.balance, i.nonce, i.code_hash)),
                "{label}: account {address}"
            );
            if let Some(info) = &want {
                if info.code_hash != KECCAK_EMPTY {
                    let code = store.code_by_hash_ref(info.code_hash).unwrap();
                    assert_eq!(
                        code.hash_slow(),
                        info.code_hash,
                        "{label}: code of {address}"
                    );
                }
            }
            for (slot, value) in &account.storage {
                assert_eq!(
                    store.storage_ref(*address, *slot).unwrap(),
                    *value,
                    "{label}: slot {slot} of {address}"
                );
            }
        }
        // The code of every contract the block created is in the output itself.
        for (address, change) in &output.state.accounts {
            if let Some(code) = &change.code {
                let info = change.info.as_ref().expect("an account with code exists");
                assert_eq!(
                    Bytecode::new_raw(code.clone()).hash_slow(),
                    info.code_hash,
                    "{label}: {address}"
                );
                created += 1;
            }
        }
        // Receipts read back decode to what was written.
        for (bytes, receipt) in store.receipts.iter().zip(&receipts) {
            let decoded = ReceiptEnvelope::decode_2718(&mut bytes.as_slice()).unwrap();
            assert_eq!(&decoded, receipt, "{label}");
        }
    }
    assert!(
        receipt_blocks >= 20,
        "{receipt_blocks} blocks with receipts"
    );
    assert!(bundle_blocks >= 25, "{bundle_blocks} blocks with bundles");
    assert!(created > 0, "some bundled block creates a contract");
}
