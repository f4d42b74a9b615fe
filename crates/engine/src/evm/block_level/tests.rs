//! Unit tests of the block-level steps.

use alloy_eips::eip4788::{BEACON_ROOTS_ADDRESS, BEACON_ROOTS_CODE};
use alloy_eips::eip4895::Withdrawal;
use alloy_eips::eip7685::EMPTY_REQUESTS_HASH;
use revm::bytecode::Bytecode;
use revm::context::BlockEnv;
use revm::primitives::hardfork::SpecId;
use revm::primitives::{b256, Address, Bytes, Log, LogData, B256, U256};
use revm::state::AccountInfo;

use super::*;
use crate::evm::block::{UncleHeader, Uncles};
use crate::evm::output::{AccountChange, AccountSummary, Receipt};
use crate::evm::state::InMemoryState;

const ETHER: u64 = 1_000_000_000_000_000_000;

fn block(spec: SpecId, number: u64, level: BlockLevel) -> Block {
    Block {
        label: "test".into(),
        env: BlockEnv {
            number: U256::from(number),
            beneficiary: Address::repeat_byte(0xbe),
            timestamp: U256::from(1_000),
            ..BlockEnv::default()
        },
        spec,
        chain_id: 1,
        txs: vec![],
        header: None,
        level,
    }
}

fn ether(n: u64) -> U256 {
    U256::from(n) * U256::from(ETHER)
}

#[test]
fn a_withdrawal_creates_a_new_account() {
    let to = Address::repeat_byte(7);
    let level = BlockLevel {
        withdrawals: vec![Withdrawal {
            index: 0,
            validator_index: 1,
            address: to,
            amount: 3,
        }],
        ..BlockLevel::default()
    };
    let b = block(SpecId::SHANGHAI, 1, level);
    assert_eq!(
        withdrawal_credits(&b),
        vec![(to, U256::from(3_000_000_000u64))]
    );
    let pre = InMemoryState::default();
    let out = post_block(&b, &pre, StateChanges::default(), BlockOutput::default()).unwrap();
    let change = &out.state.accounts[&to];
    assert_eq!(change.info.unwrap().balance, U256::from(3_000_000_000u64));
    assert_eq!(change.info.unwrap().nonce, 0);
    assert_eq!(out.state.accounts.len(), 1);
    // Before Shanghai there are no withdrawals (and, before Paris, a reward instead).
    assert!(withdrawal_credits(&block(SpecId::MERGE, 1, b.level.clone())).is_empty());
}

#[test]
fn a_zero_withdrawal_deletes_an_existing_empty_account_only() {
    let (empty, absent) = (Address::repeat_byte(1), Address::repeat_byte(2));
    let mut pre = InMemoryState::default();
    pre.insert_account(empty, AccountInfo::default());
    let changes = credit(
        &pre,
        [(empty, U256::ZERO), (absent, U256::ZERO)],
        SpecId::SHANGHAI,
    )
    .unwrap();
    assert_eq!(changes.accounts.len(), 1);
    assert_eq!(changes.accounts[&empty].info, None);
}

#[test]
fn block_rewards_by_fork() {
    assert_eq!(block_reward(SpecId::FRONTIER), Some(ether(5)));
    assert_eq!(block_reward(SpecId::SPURIOUS_DRAGON), Some(ether(5)));
    assert_eq!(block_reward(SpecId::BYZANTIUM), Some(ether(3)));
    assert_eq!(block_reward(SpecId::PETERSBURG), Some(ether(2)));
    assert_eq!(block_reward(SpecId::LONDON), Some(ether(2)));
    assert_eq!(block_reward(SpecId::MERGE), None);
    assert_eq!(block_reward(SpecId::CANCUN), None);
}

#[test]
fn mining_rewards_with_and_without_uncles() {
    let beneficiary = Address::repeat_byte(0xbe);
    let b = block(SpecId::BYZANTIUM, 100, BlockLevel::default());
    assert_eq!(
        mining_rewards(&b).credits,
        vec![(beneficiary, ether(3))],
        "no uncle"
    );
    let (m1, m2) = (Address::repeat_byte(1), Address::repeat_byte(2));
    let level = BlockLevel {
        uncles: Uncles {
            count: 2,
            headers: Some(vec![
                UncleHeader {
                    number: 99,
                    miner: m1,
                },
                UncleHeader {
                    number: 94,
                    miner: m2,
                },
            ]),
        },
        ..BlockLevel::default()
    };
    let rewards = mining_rewards(&block(SpecId::FRONTIER, 100, level.clone()));
    assert_eq!(rewards.missing_uncles, 0);
    // 5 ETH: the beneficiary gets 5 + 2 * 5/32; uncles 7/8 and 2/8 of 5.
    assert_eq!(
        rewards.credits,
        vec![
            (beneficiary, ether(5) + ether(5) / U256::from(16)),
            (m1, ether(5) * U256::from(7) / U256::from(8)),
            (m2, ether(5) * U256::from(2) / U256::from(8)),
        ]
    );
    // Headers unknown: the beneficiary's share is paid, the miners' are missing.
    let unknown = BlockLevel {
        uncles: Uncles {
            count: 2,
            headers: None,
        },
        ..BlockLevel::default()
    };
    let rewards = mining_rewards(&block(SpecId::PETERSBURG, 100, unknown));
    assert_eq!(rewards.missing_uncles, 2);
    assert_eq!(
        rewards.credits,
        vec![(beneficiary, ether(2) + ether(2) / U256::from(16))]
    );
    // From Paris on, nothing.
    assert_eq!(
        mining_rewards(&block(SpecId::MERGE, 100, level)),
        Rewards::default()
    );
}

#[test]
fn requests_hash_of_known_values() {
    assert_eq!(
        block_requests(vec![], []).requests_hash(),
        EMPTY_REQUESTS_HASH
    );
    assert_eq!(
        EMPTY_REQUESTS_HASH,
        b256!("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
    // sha256(sha256(0x00 ++ 0xaa * 192) ++ sha256(0x01 ++ 0xbb * 76)), computed apart; the
    // empty consolidation requests are left out.
    let requests = block_requests(
        vec![0xaa; 192],
        [(1, Bytes::from(vec![0xbb; 76])), (2, Bytes::new())],
    );
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests.requests_hash(),
        b256!("bb46b7e132dd80b7ea030075eb171db7378e09c0865c239e0517366be0c9d1f3")
    );
}

/// The ABI encoding of a DepositEvent with fields filled with 1, 2, 3, 4, 5.
fn deposit_event_data() -> Vec<u8> {
    let mut data = vec![0u8; 576];
    let fields = [(160, 48), (256, 32), (320, 8), (384, 96), (512, 8)];
    for (i, (offset, size)) in fields.iter().enumerate() {
        data[i * 32 + 31] = *offset as u8;
        data[i * 32 + 30] = (*offset >> 8) as u8;
        data[offset + 31] = *size as u8;
        data[offset + 32..offset + 32 + size].fill(i as u8 + 1);
    }
    data
}

fn receipt_with(log: Log) -> crate::evm::output::TxOutcome {
    Ok(Receipt {
        tx_type: 2,
        success: true,
        gas_used: 0,
        cumulative_gas_used: 0,
        logs: vec![log],
    })
}

#[test]
fn deposits_are_parsed_from_the_deposit_contracts_logs() {
    let log = |address, data: Vec<u8>| Log {
        address,
        data: LogData::new_unchecked(vec![DEPOSIT_EVENT_TOPIC], data.into()),
    };
    let txs = vec![
        receipt_with(log(DEPOSIT_CONTRACT, deposit_event_data())),
        Err("rejected".into()),
        // Another contract's log with the same topic is no deposit.
        receipt_with(log(Address::repeat_byte(9), vec![1, 2, 3])),
    ];
    let deposits = deposit_requests(&txs).unwrap();
    let mut want = Vec::new();
    for (i, size) in [48, 32, 8, 96, 8].into_iter().enumerate() {
        want.extend(std::iter::repeat_n(i as u8 + 1, size));
    }
    assert_eq!(deposits, want);
    let mut bad = deposit_event_data();
    bad[31] = 0x40;
    let err = deposit_requests(&[receipt_with(log(DEPOSIT_CONTRACT, bad))]).unwrap_err();
    assert!(err.to_string().contains("receipt 0, log 0"), "{err}");
    assert!(deposit_requests(&[receipt_with(log(DEPOSIT_CONTRACT, vec![0; 10]))]).is_err());
    assert_eq!(
        DEPOSIT_EVENT_TOPIC,
        revm::primitives::keccak256("DepositEvent(bytes,bytes,bytes,bytes,bytes)")
    );
}

#[test]
fn the_beacon_root_call_writes_its_two_slots() {
    let root = B256::repeat_byte(0x42);
    let mut pre = InMemoryState::default();
    pre.insert_account(
        BEACON_ROOTS_ADDRESS,
        AccountInfo::default().with_code(Bytecode::new_raw(BEACON_ROOTS_CODE.clone())),
    );
    let level = BlockLevel {
        parent_beacon_block_root: Some(root),
        parent_hash: Some(B256::repeat_byte(1)),
        ..BlockLevel::default()
    };
    let b = block(SpecId::CANCUN, 1, level);
    let changes = pre_block(&b, &pre).unwrap();
    // Only the contract changes (not SYSTEM_ADDRESS, not the beneficiary), and no
    // EIP-2935 call before Prague.
    assert_eq!(changes.accounts.len(), 1, "{changes:?}");
    let change = &changes.accounts[&BEACON_ROOTS_ADDRESS];
    let timestamp = U256::from(1_000);
    let buffer = U256::from(8191);
    assert_eq!(
        change.storage,
        [
            (timestamp % buffer, timestamp),
            (timestamp % buffer + buffer, U256::from_be_bytes(root.0)),
        ]
        .into_iter()
        .collect()
    );
    // Without the root, or before Cancun, or without the contract: no call.
    let mut no_root = b.clone();
    no_root.level.parent_beacon_block_root = None;
    assert!(pre_block(&no_root, &pre).unwrap().accounts.is_empty());
    let mut shanghai = b.clone();
    shanghai.spec = SpecId::SHANGHAI;
    assert!(pre_block(&shanghai, &pre).unwrap().accounts.is_empty());
    assert!(pre_block(&b, &InMemoryState::default())
        .unwrap()
        .accounts
        .is_empty());
    // The transactions read the written slots through the layered view.
    let view = Layered::new(&pre, &changes);
    assert_eq!(
        view.storage_ref(BEACON_ROOTS_ADDRESS, timestamp).unwrap(),
        timestamp
    );
}

#[test]
fn compose_drops_what_returns_to_the_pre_block_value() {
    let a = Address::repeat_byte(1);
    let mut pre = InMemoryState::default();
    pre.insert_account(a, AccountInfo::from_balance(U256::from(10)));
    pre.insert_storage(a, U256::from(1), U256::from(5));
    let info = |balance: u64| {
        Some(AccountSummary {
            balance: U256::from(balance),
            nonce: 0,
            code_hash: revm::primitives::KECCAK_EMPTY,
        })
    };
    let change = |balance, slot: u64, value: u64| StateChanges {
        accounts: [(
            a,
            AccountChange {
                info: info(balance),
                storage: [(U256::from(slot), U256::from(value))]
                    .into_iter()
                    .collect(),
                ..AccountChange::default()
            },
        )]
        .into_iter()
        .collect(),
    };
    // Up and back: no change at all.
    let back = compose(&pre, change(11, 1, 6), change(10, 1, 5), SpecId::CANCUN).unwrap();
    assert!(back.accounts.is_empty(), "{back:?}");
    // The lower's other slots stay, the upper's overlay them.
    let both = compose(&pre, change(11, 1, 6), change(12, 2, 7), SpecId::CANCUN).unwrap();
    let got = &both.accounts[&a];
    assert_eq!(got.info, info(12));
    assert_eq!(got.storage.len(), 2);
    // A wipe by the lower stays, its zero slots dropped.
    let mut wiped = change(11, 3, 0);
    wiped.accounts.get_mut(&a).unwrap().storage_wiped = true;
    let after = compose(&pre, wiped, change(13, 2, 7), SpecId::CANCUN).unwrap();
    let got = &after.accounts[&a];
    assert!(got.storage_wiped);
    assert_eq!(
        got.storage,
        [(U256::from(2), U256::from(7))].into_iter().collect()
    );
}

#[test]
fn a_block_without_block_level_facts_has_no_step() {
    let b = block(SpecId::FRONTIER, 5, BlockLevel::default());
    assert!(!has_steps(&b));
    let pre = InMemoryState::default();
    assert!(pre_block(&b, &pre).unwrap().accounts.is_empty());
    let out = post_block(&b, &pre, StateChanges::default(), BlockOutput::default()).unwrap();
    assert_eq!(out, BlockOutput::default());
}

/// Checked calls (EIP-7002/7251) make the block invalid without code or when they revert;
/// unchecked ones (EIP-4788/2935) are skipped or ignored.
#[test]
fn checked_and_unchecked_system_calls() {
    let contract = Address::repeat_byte(0x77);
    let b = block(SpecId::PRAGUE, 1, BlockLevel::default());
    let empty = InMemoryState::default();
    assert!(matches!(
        system_call(&b, &empty, contract, Bytes::new(), Checked::No),
        Ok(None)
    ));
    assert!(matches!(
        system_call(&b, &empty, contract, Bytes::new(), Checked::Yes),
        Err(crate::error::ExecuteError::InvalidBlock(_))
    ));
    // PUSH0 PUSH0 REVERT: a contract that always reverts.
    let mut reverting = InMemoryState::default();
    reverting.insert_account(
        contract,
        AccountInfo::default()
            .with_code(Bytecode::new_raw(Bytes::from_static(&[0x5f, 0x5f, 0xfd]))),
    );
    assert!(matches!(
        system_call(&b, &reverting, contract, Bytes::new(), Checked::No),
        Ok(None)
    ));
    assert!(matches!(
        system_call(&b, &reverting, contract, Bytes::new(), Checked::Yes),
        Err(crate::error::ExecuteError::InvalidBlock(_))
    ));
}
