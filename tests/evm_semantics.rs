//! Hand-made blocks that exercise the corners of EVM semantics a parallel executor can get
//! wrong: contract creation and calls to the new contract in the same block, self-destruct
//! before and after EIP-6780, reverts and out-of-gas, precompiles, invalid transactions,
//! the beneficiary (whose fees are deferred by the parallel strategies), and touch
//! semantics around Spurious Dragon.
//!
//! Every block runs with every strategy at 1, 2, 4 and 8 threads, three times, and must give
//! exactly the sequential output. Each test also checks that the sequential output is what
//! the case is about (the transaction was rejected, the receipt says failure, the contract
//! exists, ...), so that no test passes vacuously.

mod common;

use revm::bytecode::Bytecode;
use revm::context::TxEnv;
use revm::primitives::hardfork::SpecId;
use revm::primitives::{hex, keccak256, Address, Bytes, TxKind, B256, KECCAK_EMPTY, U256};
use revm::state::AccountInfo;

use stmlab::evm::block::Block;
use stmlab::evm::output::{AccountChange, AccountSummary, BlockOutput, Receipt};
use stmlab::evm::state::InMemoryState;
use stmlab_workloads::common::{block, contract, eoa, initial_balance, tx, BENEFICIARY, GAS_PRICE};

const REPEATS: usize = 3;

/// Every strategy against sequential (see `common`); returns the sequential output.
fn check(block: &Block, state: &InMemoryState) -> BlockOutput {
    common::check_all_strategies(block, state, REPEATS)
}

// ---------------------------------------------------------------------------------------
// Building blocks and state
// ---------------------------------------------------------------------------------------

/// Bytecode from hex pieces, one instruction per piece (commented where it is written).
fn asm(pieces: &[&str]) -> Bytes {
    let text: String = pieces.concat();
    Bytes::from(hex::decode(&text).unwrap_or_else(|e| panic!("bad hex {text:?}: {e}")))
}

/// `PUSH20 address`.
fn push20(a: Address) -> String {
    format!("73{}", hex::encode(a))
}

/// Init code: `constructor`, then return `runtime` as the contract's code.
fn init_code(constructor: &[u8], runtime: &[u8]) -> Bytes {
    assert!(runtime.len() < 256);
    let offset = constructor.len() + 12;
    assert!(offset < 256);
    let len = runtime.len() as u8;
    let mut code = constructor.to_vec();
    code.extend_from_slice(&[
        0x60,
        len, // PUSH1 len
        0x60,
        offset as u8, // PUSH1 offset of the runtime in this code
        0x60,
        0x00, // PUSH1 0 (memory destination)
        0x39, // CODECOPY
        0x60,
        len, // PUSH1 len
        0x60,
        0x00, // PUSH1 0
        0xf3, // RETURN
    ]);
    code.extend_from_slice(runtime);
    Bytes::from(code)
}

/// A 32-byte big-endian word.
fn word(x: u64) -> [u8; 32] {
    U256::from(x).to_be_bytes()
}

fn addr_word(a: Address) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(a.as_slice());
    w
}

fn calldata(words: &[[u8; 32]]) -> Bytes {
    Bytes::from(words.concat())
}

fn ether(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18u64))
}

fn precompile(n: u8) -> Address {
    let mut b = [0u8; 20];
    b[19] = n;
    Address::from(b)
}

/// An address no generator uses.
fn fresh(n: u8) -> Address {
    let mut b = [0xAAu8; 20];
    b[19] = n;
    Address::from(b)
}

fn fund(state: &mut InMemoryState, a: Address, balance: U256) {
    state.insert_account(
        a,
        AccountInfo {
            balance,
            ..Default::default()
        },
    );
}

fn deploy(state: &mut InMemoryState, a: Address, code: &Bytes, balance: U256) {
    state.insert_account(
        a,
        AccountInfo {
            balance,
            nonce: 1,
            code: Some(Bytecode::new_raw(code.clone())),
            ..Default::default()
        },
    );
}

/// The first `n` EOAs with the usual balance.
fn funded_eoas(n: usize) -> InMemoryState {
    let mut state = InMemoryState::default();
    for i in 0..n {
        fund(&mut state, eoa(i), initial_balance());
    }
    state
}

fn call(from: Address, to: Address, value: U256, data: Bytes, nonce: u64) -> TxEnv {
    tx(from, to, value, data, nonce, 300_000)
}

fn create_tx(from: Address, init: Bytes, value: U256, nonce: u64, gas_limit: u64) -> TxEnv {
    TxEnv {
        kind: TxKind::Create,
        ..tx(from, Address::ZERO, value, init, nonce, gas_limit)
    }
}

/// A block with `txs` on `spec`; before London there is no base fee.
fn spec_block(spec: SpecId, label: &str, txs: Vec<TxEnv>) -> Block {
    let mut b = block(format!("{label} ({spec:?})"), txs);
    b.spec = spec;
    if !spec.is_enabled_in(SpecId::LONDON) {
        b.env.basefee = 0;
    }
    b
}

/// What the beneficiary earns per unit of gas from a transaction paying `GAS_PRICE`.
fn priority(b: &Block) -> U256 {
    U256::from(GAS_PRICE - b.env.basefee as u128)
}

// ---------------------------------------------------------------------------------------
// Reading the output
// ---------------------------------------------------------------------------------------

fn receipt<'a>(out: &'a BlockOutput, b: &Block, i: usize) -> &'a Receipt {
    out.txs[i]
        .as_ref()
        .unwrap_or_else(|e| panic!("{}: tx {i} rejected ({e}), expected included", b.label))
}

fn rejection<'a>(out: &'a BlockOutput, b: &Block, i: usize) -> &'a str {
    match &out.txs[i] {
        Err(reason) => reason,
        Ok(r) => panic!("{}: tx {i} included ({r:?}), expected rejected", b.label),
    }
}

fn change<'a>(out: &'a BlockOutput, b: &Block, a: Address) -> &'a AccountChange {
    out.state.accounts.get(&a).unwrap_or_else(|| {
        panic!(
            "{}: {a} did not change; changes: {:#?}",
            b.label, out.state.accounts
        )
    })
}

/// The account at the end of the block: from the changes, else as in the pre-state.
fn account(out: &BlockOutput, state: &InMemoryState, a: Address) -> Option<AccountSummary> {
    match out.state.accounts.get(&a) {
        Some(c) => c.info,
        None => state.accounts.get(&a).map(|i| AccountSummary {
            balance: i.balance,
            nonce: i.nonce,
            code_hash: i.code_hash,
        }),
    }
}

fn balance(out: &BlockOutput, state: &InMemoryState, a: Address) -> U256 {
    account(out, state, a).map_or(U256::ZERO, |i| i.balance)
}

/// A storage slot at the end of the block.
fn slot(out: &BlockOutput, state: &InMemoryState, a: Address, s: u64) -> U256 {
    let s = U256::from(s);
    let pre = state
        .storage
        .get(&a)
        .and_then(|m| m.get(&s))
        .copied()
        .unwrap_or_default();
    match out.state.accounts.get(&a) {
        Some(c) => match c.storage.get(&s) {
            Some(v) => *v,
            None if c.storage_wiped => U256::ZERO,
            None => pre,
        },
        None => pre,
    }
}

// ---------------------------------------------------------------------------------------
// Bytecode used by several tests
// ---------------------------------------------------------------------------------------

/// Runtime: `slot0 += 1`.
fn counter_runtime() -> Bytes {
    asm(&[
        "6000", // PUSH1 0
        "54",   // SLOAD
        "6001", // PUSH1 1
        "01",   // ADD
        "6000", // PUSH1 0
        "55",   // SSTORE
        "00",   // STOP
    ])
}

/// Stores `BALANCE(COINBASE)` in the slot named by the first calldata word.
fn coinbase_reader() -> Bytes {
    asm(&[
        "41",   // COINBASE
        "31",   // BALANCE
        "6000", // PUSH1 0
        "35",   // CALLDATALOAD            (slot)
        "55",   // SSTORE                  slot = balance
        "00",   // STOP
    ])
}

/// Measures the gas of `CALL(addr = calldata[0], value = calldata[2])` with 10000 gas and
/// stores it in slot `calldata[1]`. Needs a balance for value calls.
fn gas_probe() -> Bytes {
    asm(&[
        "5a",     // GAS                   [g0]
        "6000",   // PUSH1 0  retSize
        "6000",   // PUSH1 0  retOffset
        "6000",   // PUSH1 0  argsSize
        "6000",   // PUSH1 0  argsOffset
        "6040",   // PUSH1 64
        "35",     // CALLDATALOAD          value = calldata[2]
        "6000",   // PUSH1 0
        "35",     // CALLDATALOAD          addr = calldata[0]
        "612710", // PUSH2 10000           gas
        "f1",     // CALL                  [ok g0]
        "50",     // POP                   [g0]
        "5a",     // GAS                   [g1 g0]
        "90",     // SWAP1                 [g0 g1]
        "03",     // SUB                   [g0-g1]
        "6020",   // PUSH1 32
        "35",     // CALLDATALOAD          slot = calldata[1]
        "55",     // SSTORE
        "00",     // STOP
    ])
}

const OLD_AND_NEW: [SpecId; 4] = [
    SpecId::FRONTIER,
    SpecId::SPURIOUS_DRAGON,
    SpecId::LONDON,
    SpecId::CANCUN,
];

// ---------------------------------------------------------------------------------------
// Contract creation
// ---------------------------------------------------------------------------------------

#[test]
fn creation_then_calls_in_the_same_block() {
    for spec in OLD_AND_NEW {
        let deployer = eoa(0);
        let factory = contract(1);
        let mut state = funded_eoas(8);
        // The factory CREATEs with its calldata as init code and stores the new address.
        let factory_code = asm(&[
            "36",   // CALLDATASIZE
            "6000", // PUSH1 0
            "6000", // PUSH1 0
            "37",   // CALLDATACOPY            mem[0..] = calldata
            "36",   // CALLDATASIZE            size
            "6000", // PUSH1 0                 offset
            "6000", // PUSH1 0                 value
            "f0",   // CREATE
            "6000", // PUSH1 0
            "55",   // SSTORE                  slot0 = new address
            "00",   // STOP
        ]);
        deploy(&mut state, factory, &factory_code, U256::ZERO);

        let runtime1 = counter_runtime();
        let init1 = init_code(&[], &runtime1);
        // Constructor writes slot1 = 42; runtime copies slot1 to slot2 and increments slot1.
        let constructor2 = asm(&[
            "602a", // PUSH1 42
            "6001", // PUSH1 1
            "55",   // SSTORE
        ]);
        let runtime2 = asm(&[
            "6001", // PUSH1 1
            "54",   // SLOAD                   [v]
            "80",   // DUP1                    [v v]
            "6002", // PUSH1 2
            "55",   // SSTORE                  slot2 = v
            "6001", // PUSH1 1
            "01",   // ADD                     [v+1]
            "6001", // PUSH1 1
            "55",   // SSTORE                  slot1 = v+1
            "00",   // STOP
        ]);
        let init2 = init_code(&constructor2, &runtime2);
        let c1 = deployer.create(0);
        let c2 = deployer.create(1);
        let failed = deployer.create(2);
        let from_factory = factory.create(1);
        let none = Bytes::new();

        let txs = vec![
            // 0: a call to c1 before it exists
            call(eoa(1), c1, U256::ZERO, none.clone(), 0),
            // 1, 2: the creations
            create_tx(deployer, init1.clone(), U256::ZERO, 0, 300_000),
            create_tx(deployer, init2, U256::from(1000), 1, 300_000),
            // 3..6: calls to the new contracts, from several senders
            call(eoa(1), c1, U256::ZERO, none.clone(), 1),
            call(eoa(2), c2, U256::ZERO, none.clone(), 0),
            call(eoa(3), c1, U256::ZERO, none.clone(), 0),
            call(eoa(2), c2, U256::ZERO, none.clone(), 1),
            // 7: a contract creates a contract; 8: a call to it
            call(eoa(4), factory, U256::ZERO, init1, 0),
            call(eoa(5), from_factory, U256::ZERO, none.clone(), 0),
            // 9: a creation whose init code fails (INVALID): all gas used, nothing created
            create_tx(deployer, asm(&["fe"]), U256::from(77), 2, 100_000),
            // 10: a value transfer to the address the failed creation would have had
            call(eoa(6), failed, U256::from(5), none.clone(), 0),
            // 11: the deployer again (nonce 3 after the failed creation)
            call(deployer, c1, U256::ZERO, none, 3),
        ];
        let b = spec_block(spec, "creation", txs);
        let out = check(&b, &state);

        for i in 0..b.txs.len() {
            let r = receipt(&out, &b, i);
            assert_eq!(r.success, i != 9, "{}: tx {i} success", b.label);
        }
        assert_eq!(
            receipt(&out, &b, 9).gas_used,
            100_000,
            "{}: failed creation",
            b.label
        );
        let contract_nonce = if spec.is_enabled_in(SpecId::SPURIOUS_DRAGON) {
            1
        } else {
            0
        };
        let c1_info = change(&out, &b, c1).info.expect("c1 exists");
        assert_eq!(c1_info.code_hash, keccak256(&runtime1), "{}", b.label);
        assert_eq!(c1_info.nonce, contract_nonce, "{}", b.label);
        assert_eq!(
            slot(&out, &state, c1, 0),
            U256::from(3),
            "{}: three calls",
            b.label
        );
        let c2_change = change(&out, &b, c2);
        assert!(
            c2_change.storage_wiped,
            "{}: a created account starts empty",
            b.label
        );
        assert_eq!(
            c2_change.info.unwrap().balance,
            U256::from(1000),
            "{}",
            b.label
        );
        assert_eq!(
            c2_change.info.unwrap().code_hash,
            keccak256(&runtime2),
            "{}",
            b.label
        );
        assert_eq!(slot(&out, &state, c2, 1), U256::from(44), "{}", b.label);
        assert_eq!(slot(&out, &state, c2, 2), U256::from(43), "{}", b.label);
        assert_eq!(
            slot(&out, &state, factory, 0),
            U256::from_be_bytes(addr_word(from_factory)),
            "{}: the factory stored the new address",
            b.label
        );
        let ff = change(&out, &b, from_factory)
            .info
            .expect("factory's contract exists");
        assert_eq!(ff.code_hash, keccak256(&runtime1), "{}", b.label);
        assert_eq!(
            slot(&out, &state, from_factory, 0),
            U256::ONE,
            "{}",
            b.label
        );
        let f = change(&out, &b, failed)
            .info
            .expect("the transfer created an account");
        assert_eq!(
            (f.balance, f.nonce, f.code_hash),
            (U256::from(5), 0, KECCAK_EMPTY)
        );
        let d = change(&out, &b, deployer).info.unwrap();
        assert_eq!(
            d.nonce, 4,
            "{}: 3 creations (one failed) and a call",
            b.label
        );
    }
}

// ---------------------------------------------------------------------------------------
// SELFDESTRUCT
// ---------------------------------------------------------------------------------------

/// A contract that self-destructs to `target` when called without calldata, and returns
/// its slot 0 when called with some.
fn destructible(target: Address) -> Bytes {
    let push_target = push20(target);
    asm(&[
        "36",         // 0  CALLDATASIZE
        "601a",       // 1  PUSH1 26 (the JUMPDEST)
        "57",         // 3  JUMPI
        &push_target, // 4  PUSH20 target
        "ff",         // 25 SELFDESTRUCT
        "5b",         // 26 JUMPDEST
        "6000",       // PUSH1 0
        "54",         // SLOAD
        "6000",       // PUSH1 0
        "52",         // MSTORE
        "6020",       // PUSH1 32
        "6000",       // PUSH1 0
        "f3",         // RETURN                 mem[0..32]
    ])
}

/// Calls `victim` with one byte of calldata, storing: slot0 = the returned word, slot1 =
/// the call's success, slot2 = EXTCODESIZE(victim), slot3 = BALANCE(victim).
fn reader(victim: Address) -> Bytes {
    let push_victim = push20(victim);
    asm(&[
        "6020",       // PUSH1 32  retSize
        "6000",       // PUSH1 0   retOffset
        "6001",       // PUSH1 1   argsSize
        "6000",       // PUSH1 0   argsOffset
        "6000",       // PUSH1 0   value
        &push_victim, // PUSH20 victim
        "620186a0",   // PUSH3 100000 gas
        "f1",         // CALL
        "6001",       // PUSH1 1
        "55",         // SSTORE                 slot1 = success
        "6000",       // PUSH1 0
        "51",         // MLOAD
        "6000",       // PUSH1 0
        "55",         // SSTORE                 slot0 = returned word
        &push_victim, // PUSH20 victim
        "3b",         // EXTCODESIZE
        "6002",       // PUSH1 2
        "55",         // SSTORE                 slot2 = code size
        &push_victim, // PUSH20 victim
        "31",         // BALANCE
        "6003",       // PUSH1 3
        "55",         // SSTORE                 slot3 = balance
        "00",         // STOP
    ])
}

#[test]
fn selfdestruct_then_reads_in_the_same_block() {
    for spec in OLD_AND_NEW {
        let victim = contract(10);
        let target = fresh(1);
        let target2 = fresh(2);
        let readers = [contract(11), contract(12), contract(13)];
        let mut state = funded_eoas(8);
        let victim_code = destructible(target);
        deploy(&mut state, victim, &victim_code, ether(1));
        state.insert_storage(victim, U256::ZERO, U256::from(7));
        state.insert_storage(victim, U256::ONE, U256::from(9));
        for r in readers {
            deploy(&mut state, r, &reader(victim), U256::ZERO);
        }
        // Create-and-destroy in one transaction: the constructor writes slot0 = 42 and
        // self-destructs, sending the value to target2.
        let short_lived = asm(&[
            "602a",           // PUSH1 42
            "6000",           // PUSH1 0
            "55",             // SSTORE
            &push20(target2), // PUSH20 target2
            "ff",             // SELFDESTRUCT
        ]);
        let short_lived_addr = eoa(5).create(0);
        // A contract that self-destructs to itself: before Cancun its balance is burned.
        let burner = contract(14);
        deploy(&mut state, burner, &asm(&["30", "ff"]), ether(1)); // ADDRESS; SELFDESTRUCT
        let none = Bytes::new();
        let txs = vec![
            // 0: read the victim before
            call(eoa(0), readers[0], U256::ZERO, none.clone(), 0),
            // 1: destroy it
            call(eoa(1), victim, U256::ZERO, none.clone(), 0),
            // 2: read it after
            call(eoa(2), readers[1], U256::ZERO, none.clone(), 0),
            // 3: send it value (Cancun: its code runs and self-destructs again)
            call(eoa(3), victim, U256::from(5), none.clone(), 0),
            // 4: read it again
            call(eoa(4), readers[2], U256::ZERO, none.clone(), 0),
            // 5: create and destroy in one transaction
            create_tx(eoa(5), short_lived, U256::from(1000), 0, 200_000),
            // 6: value to the address of the short-lived contract
            call(eoa(6), short_lived_addr, U256::from(7), none.clone(), 0),
            // 7: self-destruct to itself
            call(eoa(7), burner, U256::ZERO, none, 0),
        ];
        let b = spec_block(spec, "selfdestruct", txs);
        let out = check(&b, &state);

        for i in 0..b.txs.len() {
            assert!(receipt(&out, &b, i).success, "{}: tx {i} succeeds", b.label);
        }
        let code_len = U256::from(victim_code.len());
        // Before the self-destruct everything is as in the pre-state.
        assert_eq!(
            slot(&out, &state, readers[0], 0),
            U256::from(7),
            "{}",
            b.label
        );
        assert_eq!(slot(&out, &state, readers[0], 1), U256::ONE, "{}", b.label);
        assert_eq!(slot(&out, &state, readers[0], 2), code_len, "{}", b.label);
        assert_eq!(slot(&out, &state, readers[0], 3), ether(1), "{}", b.label);
        assert_eq!(slot(&out, &state, readers[1], 1), U256::ONE, "{}", b.label);
        let v = change(&out, &b, victim);
        if spec.is_enabled_in(SpecId::CANCUN) {
            // EIP-6780: the account, its code and its storage stay; only the balance moves.
            assert!(!v.storage_wiped, "{}", b.label);
            let info = v.info.expect("the victim survives");
            assert_eq!((info.balance, info.nonce), (U256::ZERO, 1), "{}", b.label);
            assert_eq!(info.code_hash, keccak256(&victim_code), "{}", b.label);
            assert_eq!(
                slot(&out, &state, readers[1], 0),
                U256::from(7),
                "{}",
                b.label
            );
            assert_eq!(slot(&out, &state, readers[1], 2), code_len, "{}", b.label);
            assert_eq!(slot(&out, &state, readers[1], 3), U256::ZERO, "{}", b.label);
            assert_eq!(
                slot(&out, &state, readers[2], 0),
                U256::from(7),
                "{}",
                b.label
            );
            assert_eq!(slot(&out, &state, readers[2], 3), U256::ZERO, "{}", b.label);
            assert_eq!(slot(&out, &state, victim, 1), U256::from(9), "{}", b.label);
            assert_eq!(
                balance(&out, &state, target),
                ether(1) + U256::from(5),
                "{}",
                b.label
            );
        } else {
            // Destroyed: code and storage gone; the later transfer makes a plain account.
            assert!(v.storage_wiped, "{}: storage wiped", b.label);
            assert!(v.storage.is_empty(), "{}", b.label);
            let info = v.info.expect("the later transfer recreates it");
            assert_eq!(
                (info.balance, info.nonce, info.code_hash),
                (U256::from(5), 0, KECCAK_EMPTY),
                "{}",
                b.label
            );
            assert_eq!(slot(&out, &state, readers[1], 0), U256::ZERO, "{}", b.label);
            assert_eq!(slot(&out, &state, readers[1], 2), U256::ZERO, "{}", b.label);
            assert_eq!(slot(&out, &state, readers[1], 3), U256::ZERO, "{}", b.label);
            assert_eq!(slot(&out, &state, readers[2], 0), U256::ZERO, "{}", b.label);
            assert_eq!(
                slot(&out, &state, readers[2], 3),
                U256::from(5),
                "{}",
                b.label
            );
            assert_eq!(slot(&out, &state, victim, 1), U256::ZERO, "{}", b.label);
            assert_eq!(balance(&out, &state, target), ether(1), "{}", b.label);
        }
        // Created and destroyed in one transaction: gone on every spec; the value moved.
        assert_eq!(
            balance(&out, &state, target2),
            U256::from(1000),
            "{}",
            b.label
        );
        let sl = change(&out, &b, short_lived_addr);
        let info = sl.info.expect("recreated by the transfer");
        assert_eq!(
            (info.balance, info.code_hash),
            (U256::from(7), KECCAK_EMPTY),
            "{}",
            b.label
        );
        assert_eq!(
            slot(&out, &state, short_lived_addr, 0),
            U256::ZERO,
            "{}",
            b.label
        );
        if spec.is_enabled_in(SpecId::CANCUN) {
            assert!(
                !out.state.accounts.contains_key(&burner),
                "{}: unchanged",
                b.label
            );
        } else {
            let c = change(&out, &b, burner);
            assert!(
                c.info.is_none() && c.storage_wiped,
                "{}: burned: {c:?}",
                b.label
            );
        }
    }
}

/// CREATE2 at the same address before and after a self-destruct: a "metamorphic" contract.
/// Before Cancun the second CREATE2 recreates the contract with fresh storage; from Cancun
/// on the first one survives and the second collides.
#[test]
fn selfdestruct_and_recreate_with_create2() {
    for spec in [SpecId::PETERSBURG, SpecId::LONDON, SpecId::CANCUN] {
        let factory = contract(20);
        let sink = fresh(3);
        let mut state = funded_eoas(6);
        let factory_code = asm(&[
            "36",   // CALLDATASIZE
            "6000", // PUSH1 0
            "6000", // PUSH1 0
            "37",   // CALLDATACOPY            mem[0..] = calldata
            "6000", // PUSH1 0                 salt
            "36",   // CALLDATASIZE            size
            "6000", // PUSH1 0                 offset
            "34",   // CALLVALUE               value
            "f5",   // CREATE2
            "6000", // PUSH1 0
            "55",   // SSTORE                  slot0 = address (0 on failure)
            "00",   // STOP
        ]);
        deploy(&mut state, factory, &factory_code, U256::ZERO);
        // Runtime: with calldata slot1 += 1, without it self-destruct to `sink`.
        let push_sink = push20(sink);
        let runtime = asm(&[
            "36",       // 0  CALLDATASIZE
            "601a",     // 1  PUSH1 26
            "57",       // 3  JUMPI
            &push_sink, // 4  PUSH20 sink
            "ff",       // 25 SELFDESTRUCT
            "5b",       // 26 JUMPDEST
            "6001",     // PUSH1 1
            "54",       // SLOAD
            "6001",     // PUSH1 1
            "01",       // ADD
            "6001",     // PUSH1 1
            "55",       // SSTORE
            "00",       // STOP
        ]);
        let constructor = asm(&[
            "602a", // PUSH1 42
            "6000", // PUSH1 0
            "55",   // SSTORE                  slot0 = 42
        ]);
        let init = init_code(&constructor, &runtime);
        let meta = factory.create2_from_code(B256::ZERO, &init);
        let poke = Bytes::from_static(&[1]);
        // A colliding CREATE2 burns the gas it was given (all but 1/64): the factory needs
        // enough left over for its SSTORE.
        let txs = vec![
            tx(eoa(0), factory, U256::ZERO, init.clone(), 0, 1_000_000),
            call(eoa(1), meta, U256::ZERO, poke.clone(), 0),
            call(eoa(2), meta, U256::from(3), Bytes::new(), 0),
            tx(eoa(3), factory, U256::ZERO, init, 0, 1_000_000),
            call(eoa(4), meta, U256::ZERO, poke, 0),
        ];
        let b = spec_block(spec, "create2 metamorphic", txs);
        let out = check(&b, &state);
        for i in 0..b.txs.len() {
            assert!(receipt(&out, &b, i).success, "{}: tx {i} succeeds", b.label);
        }
        let m = change(&out, &b, meta);
        assert!(m.storage_wiped, "{}: created in the block", b.label);
        assert_eq!(
            m.info.unwrap().code_hash,
            keccak256(&runtime),
            "{}",
            b.label
        );
        assert_eq!(slot(&out, &state, meta, 0), U256::from(42), "{}", b.label);
        assert_eq!(balance(&out, &state, sink), U256::from(3), "{}", b.label);
        if spec.is_enabled_in(SpecId::CANCUN) {
            assert_eq!(slot(&out, &state, meta, 1), U256::from(2), "{}", b.label);
            assert_eq!(
                slot(&out, &state, factory, 0),
                U256::ZERO,
                "{}: collision",
                b.label
            );
        } else {
            assert_eq!(
                slot(&out, &state, meta, 1),
                U256::ONE,
                "{}: fresh storage",
                b.label
            );
            assert_eq!(
                slot(&out, &state, factory, 0),
                U256::from_be_bytes(addr_word(meta)),
                "{}: recreated",
                b.label
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Reverts and out-of-gas
// ---------------------------------------------------------------------------------------

#[test]
fn reverts_and_out_of_gas() {
    for spec in [
        SpecId::BYZANTIUM,
        SpecId::ISTANBUL,
        SpecId::LONDON,
        SpecId::CANCUN,
    ] {
        let reverter = contract(30);
        let looper = contract(31);
        let invalid = contract(32);
        let catcher = contract(33);
        let mut state = funded_eoas(6);
        deploy(
            &mut state,
            reverter,
            &asm(&[
                "6001", // PUSH1 1
                "6000", // PUSH1 0
                "55",   // SSTORE                 slot0 = 1 (undone by the revert)
                "6000", // PUSH1 0
                "6000", // PUSH1 0
                "fd",   // REVERT
            ]),
            U256::ZERO,
        );
        deploy(
            &mut state,
            looper,
            &asm(&[
                "5b",   // 0 JUMPDEST
                "6000", // PUSH1 0
                "54",   // SLOAD
                "6001", // PUSH1 1
                "01",   // ADD
                "6000", // PUSH1 0
                "55",   // SSTORE                 slot0 += 1, forever
                "6000", // PUSH1 0
                "56",   // JUMP
            ]),
            U256::ZERO,
        );
        deploy(&mut state, invalid, &asm(&["fe"]), U256::ZERO); // INVALID
        let push_reverter = push20(reverter);
        deploy(
            &mut state,
            catcher,
            &asm(&[
                "6000",         // PUSH1 0 retSize
                "6000",         // PUSH1 0 retOffset
                "6000",         // PUSH1 0 argsSize
                "6000",         // PUSH1 0 argsOffset
                "6000",         // PUSH1 0 value
                &push_reverter, // PUSH20 reverter
                "61c350",       // PUSH2 50000 gas
                "f1",           // CALL                   [0]
                "6002",         // PUSH1 2
                "01",           // ADD
                "6000",         // PUSH1 0
                "55",           // SSTORE                 slot0 = success + 2
                "6001",         // PUSH1 1
                "6001",         // PUSH1 1
                "55",           // SSTORE                 slot1 = 1
                "00",           // STOP
            ]),
            U256::ZERO,
        );
        state.insert_storage(looper, U256::ZERO, U256::from(100));
        let none = Bytes::new();
        let txs = vec![
            tx(eoa(0), reverter, ether(1), none.clone(), 0, 100_000),
            tx(eoa(0), looper, U256::ZERO, none.clone(), 1, 100_000),
            tx(eoa(1), invalid, U256::ZERO, none.clone(), 0, 60_000),
            tx(eoa(2), catcher, U256::ZERO, none.clone(), 0, 200_000),
            // eoa(0) again: depends on the nonce and balance the failures left
            tx(eoa(0), eoa(3), U256::ONE, none.clone(), 2, 21_000),
            // the looper's storage is unchanged for a later reader
            tx(eoa(4), looper, U256::ZERO, none, 0, 60_000),
        ];
        let b = spec_block(spec, "reverts", txs);
        let out = check(&b, &state);
        let r0 = receipt(&out, &b, 0);
        assert!(!r0.success, "{}: REVERT fails", b.label);
        assert!(
            r0.gas_used > 21_000 && r0.gas_used < 100_000,
            "{}: {r0:?}",
            b.label
        );
        for (i, limit) in [(1, 100_000), (2, 60_000), (5, 60_000)] {
            let r = receipt(&out, &b, i);
            assert!(!r.success, "{}: tx {i} fails", b.label);
            assert_eq!(r.gas_used, limit, "{}: tx {i} uses all its gas", b.label);
        }
        assert!(receipt(&out, &b, 3).success, "{}", b.label);
        assert!(receipt(&out, &b, 4).success, "{}", b.label);
        assert_eq!(slot(&out, &state, catcher, 0), U256::from(2), "{}", b.label);
        assert_eq!(slot(&out, &state, catcher, 1), U256::ONE, "{}", b.label);
        assert!(
            !out.state.accounts.contains_key(&reverter),
            "{}: reverted",
            b.label
        );
        assert!(
            !out.state.accounts.contains_key(&looper),
            "{}: out of gas",
            b.label
        );
        let spent: u64 = [0, 1, 4]
            .iter()
            .map(|&i| receipt(&out, &b, i).gas_used)
            .sum();
        let sender = change(&out, &b, eoa(0)).info.unwrap();
        assert_eq!(sender.nonce, 3, "{}", b.label);
        assert_eq!(
            sender.balance,
            initial_balance() - U256::from(spent) * U256::from(GAS_PRICE) - U256::ONE,
            "{}: gas paid, reverted value returned",
            b.label
        );
        let total: u64 = (0..b.txs.len())
            .map(|i| receipt(&out, &b, i).gas_used)
            .sum();
        assert_eq!(out.gas_used(), total, "{}", b.label);
    }
}

// ---------------------------------------------------------------------------------------
// Precompiles
// ---------------------------------------------------------------------------------------

#[test]
fn precompiles() {
    for spec in [
        SpecId::SPURIOUS_DRAGON,
        SpecId::ISTANBUL,
        SpecId::LONDON,
        SpecId::CANCUN,
    ] {
        let hasher = contract(40);
        let mut state = funded_eoas(8);
        // sha256(calldata) into slot0 and identity(calldata) into slot1.
        deploy(
            &mut state,
            hasher,
            &asm(&[
                "36",       // CALLDATASIZE
                "6000",     // PUSH1 0
                "6000",     // PUSH1 0
                "37",       // CALLDATACOPY           mem[0..] = calldata
                "6020",     // PUSH1 32   retSize
                "610100",   // PUSH2 256  retOffset
                "36",       // CALLDATASIZE argsSize
                "6000",     // PUSH1 0    argsOffset
                "6000",     // PUSH1 0    value
                "6002",     // PUSH1 2    sha256
                "620186a0", // PUSH3 100000 gas
                "f1",       // CALL
                "50",       // POP
                "6020",     // PUSH1 32   retSize
                "610200",   // PUSH2 512  retOffset
                "36",       // CALLDATASIZE argsSize
                "6000",     // PUSH1 0    argsOffset
                "6000",     // PUSH1 0    value
                "6004",     // PUSH1 4    identity
                "620186a0", // PUSH3 100000 gas
                "f1",       // CALL
                "50",       // POP
                "610100",   // PUSH2 256
                "51",       // MLOAD
                "6000",     // PUSH1 0
                "55",       // SSTORE                 slot0 = sha256
                "610200",   // PUSH2 512
                "51",       // MLOAD
                "6001",     // PUSH1 1
                "55",       // SSTORE                 slot1 = identity
                "00",       // STOP
            ]),
            U256::ZERO,
        );
        let abc = Bytes::from_static(b"abc");
        let txs = vec![
            call(eoa(0), hasher, U256::ZERO, abc.clone(), 0),
            // ecrecover on garbage: succeeds with empty output
            call(
                eoa(1),
                precompile(1),
                U256::ZERO,
                Bytes::from(vec![0x11; 128]),
                0,
            ),
            call(eoa(2), precompile(2), U256::ZERO, abc, 0),
            // value transfers to precompiles, two senders to the same one
            call(
                eoa(3),
                precompile(4),
                ether(1),
                Bytes::from_static(b"hello"),
                0,
            ),
            call(eoa(4), precompile(4), ether(2), Bytes::new(), 0),
            call(eoa(5), precompile(1), U256::ONE, Bytes::new(), 0),
            // zero-value touch of an absent precompile (ripemd160)
            call(eoa(6), precompile(3), U256::ZERO, Bytes::new(), 0),
            call(eoa(7), hasher, U256::ZERO, Bytes::from_static(b"abc"), 0),
        ];
        let b = spec_block(spec, "precompiles", txs);
        let out = check(&b, &state);
        for i in 0..b.txs.len() {
            assert!(receipt(&out, &b, i).success, "{}: tx {i}", b.label);
        }
        let sha_abc = U256::from_be_bytes::<32>(
            hex::decode("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
                .unwrap()
                .try_into()
                .unwrap(),
        );
        assert_eq!(
            slot(&out, &state, hasher, 0),
            sha_abc,
            "{}: sha256(abc)",
            b.label
        );
        let mut padded = [0u8; 32];
        padded[..3].copy_from_slice(b"abc");
        assert_eq!(
            slot(&out, &state, hasher, 1),
            U256::from_be_bytes(padded),
            "{}",
            b.label
        );
        assert_eq!(
            balance(&out, &state, precompile(4)),
            ether(3),
            "{}",
            b.label
        );
        assert_eq!(
            balance(&out, &state, precompile(1)),
            U256::ONE,
            "{}",
            b.label
        );
        assert!(
            out.state
                .accounts
                .get(&precompile(3))
                .is_none_or(|c| c.info.is_none()),
            "{}: an empty touched account does not exist from Spurious Dragon on",
            b.label
        );
    }
}

// ---------------------------------------------------------------------------------------
// Invalid transactions
// ---------------------------------------------------------------------------------------

#[test]
fn invalid_transactions_are_rejected_identically() {
    for spec in [SpecId::FRONTIER, SpecId::LONDON, SpecId::CANCUN] {
        let poor = fresh(10);
        let exact = fresh(11);
        let late = fresh(12);
        let mut state = funded_eoas(8);
        fund(&mut state, poor, U256::from(1000));
        let coded = contract(50);
        deploy(&mut state, coded, &asm(&["00"]), ether(1));
        // Exactly enough for one 21000-gas transfer of 5 wei.
        fund(
            &mut state,
            exact,
            U256::from(21_000u64) * U256::from(GAS_PRICE) + U256::from(5),
        );
        let none = Bytes::new();
        let t = |from, to, nonce| call(from, to, U256::ONE, Bytes::new(), nonce);
        let mut below_base = tx(eoa(5), eoa(6), U256::ONE, none.clone(), 0, 21_000);
        below_base.gas_price = 1;
        let mut wrong_chain = tx(eoa(4), eoa(6), U256::ONE, none.clone(), 0, 21_000);
        wrong_chain.chain_id = Some(5);
        let txs = vec![
            /* 0 */ t(eoa(0), eoa(1), 0),
            /* 1 */ t(eoa(0), eoa(1), 0), // nonce too low
            /* 2 */ t(eoa(0), eoa(1), 2), // nonce too high (skips 1)
            /* 3 */ t(eoa(0), eoa(1), 1),
            /* 4 */ t(poor, eoa(1), 0), // cannot pay the fee
            /* 5 */
            tx(eoa(1), eoa(2), U256::ONE, none.clone(), 0, 20_000), // < intrinsic gas
            /* 6 */ t(eoa(2), eoa(3), 0),
            /* 7 */ t(eoa(2), eoa(3), 5), // the invalid middle one
            /* 8 */ t(eoa(2), eoa(3), 1),
            /* 9 */ t(late, eoa(3), 0), // no funds yet
            /* 10 */ call(eoa(3), late, ether(1), none.clone(), 0),
            /* 11 */ t(late, eoa(3), 0), // funded by tx 10
            /* 12 */ tx(exact, eoa(3), U256::from(5), none.clone(), 0, 21_000),
            /* 13 */
            tx(exact, eoa(3), U256::ZERO, none.clone(), 1, 21_000), // now broke
            /* 14 */ wrong_chain,
            /* 15 */ below_base,
            /* 16 */
            tx(eoa(6), eoa(3), U256::ONE, none.clone(), 0, 30_000_001), // > block
            /* 17 */
            t(eoa(1), eoa(2), 0), // tx 5 was rejected, so nonce 0 is still next
            /* 18 */ create_tx(eoa(7), asm(&["00"]), U256::ZERO, 0, 40_000), // < 53000
            /* 19 */ t(coded, eoa(1), 1), // EIP-3607: a sender with code
        ];
        let mut b = spec_block(spec, "invalid txs", txs);
        b.env.gas_limit = 30_000_000;
        let out = check(&b, &state);

        let mut rejected = vec![1, 2, 4, 5, 7, 9, 13, 14, 16, 19];
        if spec.is_enabled_in(SpecId::LONDON) {
            rejected.push(15); // gas price below the base fee
        }
        if spec.is_enabled_in(SpecId::HOMESTEAD) {
            rejected.push(18); // creation intrinsic gas is 53000 from Homestead on
        }
        for i in 0..b.txs.len() {
            if rejected.contains(&i) {
                rejection(&out, &b, i);
            } else {
                receipt(&out, &b, i);
            }
        }
        // The reasons are revm's, e.g. "transaction validation error: nonce 0 too low, expected 1".
        let mut reasons = vec![
            (1, "nonce 0 too low"),
            (2, "nonce 2 too high"),
            (4, "lack of funds"),
            (5, "exceeds the gas limit"),
            (7, "nonce 5 too high"),
            (9, "lack of funds"),
            (13, "lack of funds"),
            (14, "chain ID"),
            (16, "block gas limit"),
        ];
        if spec.is_enabled_in(SpecId::LONDON) {
            reasons.push((15, "less than basefee"));
        }
        for (i, reason) in reasons {
            let got = rejection(&out, &b, i);
            assert!(
                got.contains(reason),
                "{}: tx {i}: {got:?} lacks {reason:?}",
                b.label
            );
        }
        // A rejected transaction uses no block gas and changes nothing.
        let total: u64 = out.txs.iter().flatten().map(|r| r.gas_used).sum();
        assert_eq!(out.gas_used(), total, "{}", b.label);
        assert!(!out.state.accounts.contains_key(&poor), "{}", b.label);
        assert_eq!(
            change(&out, &b, eoa(0)).info.unwrap().nonce,
            2,
            "{}",
            b.label
        );
        assert_eq!(
            change(&out, &b, eoa(2)).info.unwrap().nonce,
            2,
            "{}",
            b.label
        );
        assert_eq!(change(&out, &b, late).info.unwrap().nonce, 1, "{}", b.label);
        let e = change(&out, &b, exact).info.unwrap();
        assert_eq!((e.nonce, e.balance), (1, U256::ZERO), "{}", b.label);
    }
}

// ---------------------------------------------------------------------------------------
// The beneficiary
// ---------------------------------------------------------------------------------------

/// One step of the beneficiary model: what a transaction does to its balance.
enum Effect {
    /// A transaction not involving the beneficiary but paying the fee.
    Plain,
    /// Reads `BALANCE(COINBASE)` into slot `k` of the reader.
    Read(u64),
    /// Sends it this much.
    Pay(U256),
    /// Sent by the beneficiary, with this value and gas limit; `Some(k)`: it also calls
    /// the reader with slot k.
    From(U256, u64, Option<u64>),
    /// Rejected: no effect at all.
    Rejected,
}

/// Checks every recorded read and the final balance of the beneficiary against a model
/// that applies the transactions one after another.
fn check_beneficiary_model(
    b: &Block,
    out: &BlockOutput,
    state: &InMemoryState,
    reader: Address,
    effects: &[Effect],
) {
    let beneficiary = b.env.beneficiary;
    let price = U256::from(GAS_PRICE);
    let mut bal = state
        .accounts
        .get(&beneficiary)
        .map_or(U256::ZERO, |i| i.balance);
    for (i, effect) in effects.iter().enumerate() {
        if let Effect::Rejected = effect {
            rejection(out, b, i);
            continue;
        }
        let r = receipt(out, b, i);
        let gas = U256::from(r.gas_used);
        match effect {
            Effect::Plain | Effect::Rejected => {}
            Effect::Read(k) => {
                assert_eq!(
                    slot(out, state, reader, *k),
                    bal,
                    "{}: read {k} (tx {i})",
                    b.label
                )
            }
            Effect::Pay(v) => bal += *v,
            Effect::From(v, limit, read) => {
                if let Some(k) = read {
                    // The gas limit is charged up front; the refund comes after execution.
                    let during = bal - U256::from(*limit) * price - *v;
                    assert_eq!(
                        slot(out, state, reader, *k),
                        during,
                        "{}: read {k}",
                        b.label
                    );
                }
                bal = bal - gas * price - *v;
            }
        }
        bal += gas * priority(b);
    }
    assert_eq!(
        balance(out, state, beneficiary),
        bal,
        "{}: final beneficiary balance",
        b.label
    );
}

#[test]
fn beneficiary_balance_reads_payments_and_own_transactions() {
    for spec in [
        SpecId::FRONTIER,
        SpecId::ISTANBUL,
        SpecId::LONDON,
        SpecId::CANCUN,
    ] {
        let reader = contract(60);
        let forwarder = contract(61);
        let donor = contract(62);
        let mut state = funded_eoas(10);
        fund(&mut state, BENEFICIARY, ether(10));
        deploy(&mut state, reader, &coinbase_reader(), U256::ZERO);
        deploy(
            &mut state,
            forwarder,
            &asm(&[
                "6000",     // PUSH1 0 retSize
                "6000",     // PUSH1 0 retOffset
                "6000",     // PUSH1 0 argsSize
                "6000",     // PUSH1 0 argsOffset
                "34",       // CALLVALUE
                "41",       // COINBASE
                "620186a0", // PUSH3 100000 gas
                "f1",       // CALL                   forward the value to the coinbase
                "6000",     // PUSH1 0
                "55",       // SSTORE                 slot0 = success
                "00",       // STOP
            ]),
            U256::ZERO,
        );
        deploy(
            &mut state,
            donor,
            &asm(&[
                "41", // COINBASE
                "ff", // SELFDESTRUCT               its balance goes to the coinbase
            ]),
            ether(1),
        );
        let read = |from, k, nonce| call(from, reader, U256::ZERO, calldata(&[word(k)]), nonce);
        let none = Bytes::new();
        let mut txs = Vec::new();
        let mut effects = Vec::new();
        let mut push = |t, e| {
            txs.push(t);
            effects.push(e);
        };
        push(
            call(eoa(0), eoa(1), ether(1), none.clone(), 0),
            Effect::Plain,
        );
        push(read(eoa(1), 1, 0), Effect::Read(1));
        push(
            call(eoa(2), BENEFICIARY, ether(1), none.clone(), 0),
            Effect::Pay(ether(1)),
        );
        push(read(eoa(3), 2, 0), Effect::Read(2));
        push(
            call(BENEFICIARY, eoa(4), ether(2), none.clone(), 0),
            Effect::From(ether(2), 300_000, None),
        );
        push(read(eoa(4), 3, 0), Effect::Read(3));
        push(
            call(eoa(5), forwarder, ether(3), none.clone(), 0),
            Effect::Pay(ether(3)),
        );
        push(read(eoa(6), 4, 0), Effect::Read(4));
        push(
            call(eoa(7), donor, U256::ZERO, none.clone(), 0),
            Effect::Pay(ether(1)),
        );
        push(read(eoa(8), 5, 0), Effect::Read(5));
        push(
            read(BENEFICIARY, 6, 1),
            Effect::From(U256::ZERO, 300_000, Some(6)),
        );
        push(
            call(eoa(9), eoa(0), U256::ONE, none.clone(), 0),
            Effect::Plain,
        );
        push(read(eoa(0), 7, 1), Effect::Read(7));
        // Back-to-back reads with nothing but fees in between.
        push(read(eoa(1), 8, 1), Effect::Read(8));
        push(read(eoa(2), 9, 1), Effect::Read(9));
        let b = spec_block(spec, "beneficiary", txs);
        let out = check(&b, &state);
        for i in 0..b.txs.len() {
            assert!(receipt(&out, &b, i).success, "{}: tx {i}", b.label);
        }
        assert!(
            slot(&out, &state, reader, 1) > ether(10),
            "{}: fees were added",
            b.label
        );
        check_beneficiary_model(&b, &out, &state, reader, &effects);
    }
}

#[test]
fn beneficiary_absent_from_the_pre_state() {
    for spec in [
        SpecId::FRONTIER,
        SpecId::SPURIOUS_DRAGON,
        SpecId::LONDON,
        SpecId::CANCUN,
    ] {
        let reader = contract(60);
        let mut state = funded_eoas(8);
        deploy(&mut state, reader, &coinbase_reader(), U256::ZERO);
        assert!(!state.accounts.contains_key(&BENEFICIARY));
        let read = |from, k, nonce| call(from, reader, U256::ZERO, calldata(&[word(k)]), nonce);
        let none = Bytes::new();
        // The beneficiary's own transfer, valid only once the fees cover its gas.
        let own = || tx(BENEFICIARY, eoa(7), U256::ONE, Bytes::new(), 0, 21_000);
        let txs = vec![
            own(), // rejected: no funds yet
            read(eoa(0), 1, 0),
            call(eoa(1), eoa(2), U256::ONE, none.clone(), 0),
            read(eoa(2), 2, 0),
            // a zero-value touch of the beneficiary
            call(eoa(3), BENEFICIARY, U256::ZERO, none.clone(), 0),
            read(eoa(4), 3, 0),
            call(eoa(5), BENEFICIARY, U256::from(9), none, 0),
            read(eoa(6), 4, 0),
            own(), // paid for by the fees of the transactions above
            read(eoa(7), 5, 0),
        ];
        let effects = [
            Effect::Rejected,
            Effect::Read(1),
            Effect::Plain,
            Effect::Read(2),
            Effect::Plain,
            Effect::Read(3),
            Effect::Pay(U256::from(9)),
            Effect::Read(4),
            Effect::From(U256::ONE, 21_000, None),
            Effect::Read(5),
        ];
        let b = spec_block(spec, "absent beneficiary", txs);
        let out = check(&b, &state);
        assert_eq!(
            slot(&out, &state, reader, 1),
            U256::ZERO,
            "{}: nothing yet",
            b.label
        );
        assert!(slot(&out, &state, reader, 2) > U256::ZERO, "{}", b.label);
        check_beneficiary_model(&b, &out, &state, reader, &effects);
        assert!(
            rejection(&out, &b, 0).contains("lack of funds"),
            "{}",
            b.label
        );
        let info = change(&out, &b, BENEFICIARY)
            .info
            .expect("the beneficiary exists");
        assert_eq!(
            (info.nonce, info.code_hash),
            (1, KECCAK_EMPTY),
            "{}",
            b.label
        );
    }
}

/// Before Spurious Dragon a touched empty account is created. A transaction with gas price
/// zero pays the beneficiary nothing, but revm still touches (and so creates) it; a later
/// CALL to the beneficiary then costs no new-account gas.
/// The parallel strategies defer fees, so their handler touches the beneficiary itself
/// for a zero fee before Spurious Dragon (`evm/handler.rs`).
#[test]
fn zero_fee_touches_absent_beneficiary_before_spurious_dragon() {
    for spec in [
        SpecId::FRONTIER,
        SpecId::HOMESTEAD,
        SpecId::SPURIOUS_DRAGON,
        SpecId::LONDON,
    ] {
        let probe = contract(81);
        let mut state = funded_eoas(4);
        deploy(&mut state, probe, &gas_probe(), ether(1));
        let mut free = call(eoa(0), eoa(1), U256::ONE, Bytes::new(), 0);
        free.gas_price = 0;
        let probe_call = |from, slot| {
            let data = calldata(&[addr_word(BENEFICIARY), word(slot), word(0)]);
            call(from, probe, U256::ZERO, data, 0)
        };
        let mut probe_tx = probe_call(eoa(2), 1);
        probe_tx.gas_price = 0;
        let mut b = spec_block(spec, "zero fee", vec![free, probe_tx]);
        if spec.is_enabled_in(SpecId::LONDON) {
            b.env.basefee = 0;
        }
        let out = check(&b, &state);
        assert!(
            receipt(&out, &b, 0).success && receipt(&out, &b, 1).success,
            "{}",
            b.label
        );
        let exists = out
            .state
            .accounts
            .get(&BENEFICIARY)
            .is_some_and(|c| c.info.is_some());
        assert_eq!(
            exists,
            !spec.is_enabled_in(SpecId::SPURIOUS_DRAGON),
            "{}: a touched empty beneficiary exists exactly before Spurious Dragon",
            b.label
        );
    }
}

/// Before Cancun a beneficiary that self-destructs in a transaction loses that
/// transaction's fee (the account is deleted at the end of the transaction, after the
/// reward); a later transaction's fee recreates it. From Cancun on it keeps its code and
/// both fees.
#[test]
fn beneficiary_selfdestructs() {
    for spec in [
        SpecId::FRONTIER,
        SpecId::SPURIOUS_DRAGON,
        SpecId::LONDON,
        SpecId::CANCUN,
    ] {
        let coinbase = contract(70);
        let sink = fresh(20);
        let mut state = funded_eoas(4);
        deploy(&mut state, coinbase, &asm(&[&push20(sink), "ff"]), ether(1));
        let txs = vec![
            call(eoa(0), coinbase, U256::ZERO, Bytes::new(), 0),
            call(eoa(1), eoa(2), U256::ONE, Bytes::new(), 0),
        ];
        let mut b = spec_block(spec, "self-destructing beneficiary", txs);
        b.env.beneficiary = coinbase;
        let out = check(&b, &state);
        let fee0 = U256::from(receipt(&out, &b, 0).gas_used) * priority(&b);
        let fee1 = U256::from(receipt(&out, &b, 1).gas_used) * priority(&b);
        assert_eq!(balance(&out, &state, sink), ether(1), "{}", b.label);
        let c = change(&out, &b, coinbase);
        if spec.is_enabled_in(SpecId::CANCUN) {
            assert!(!c.storage_wiped, "{}", b.label);
            let info = c.info.expect("survives");
            assert_eq!(info.balance, fee0 + fee1, "{}: both fees", b.label);
            assert_ne!(info.code_hash, KECCAK_EMPTY, "{}: keeps its code", b.label);
        } else {
            assert!(c.storage_wiped, "{}", b.label);
            assert_eq!(
                c.info,
                Some(AccountSummary {
                    balance: fee1,
                    nonce: 0,
                    code_hash: KECCAK_EMPTY
                }),
                "{}: only the second fee",
                b.label
            );
        }
    }
}

/// The Cancun version: the beneficiary is created and destroyed in the same transaction.
#[test]
fn beneficiary_created_and_destroyed_in_one_transaction() {
    let sink = fresh(21);
    let state = funded_eoas(4);
    let coinbase = eoa(0).create(0);
    let init = asm(&[&push20(sink), "ff"]); // PUSH20 sink; SELFDESTRUCT
    let txs = vec![
        create_tx(eoa(0), init, U256::from(50), 0, 100_000),
        call(eoa(1), eoa(2), U256::ONE, Bytes::new(), 0),
    ];
    let mut b = spec_block(SpecId::CANCUN, "beneficiary created and destroyed", txs);
    b.env.beneficiary = coinbase;
    let out = check(&b, &state);
    let fee1 = U256::from(receipt(&out, &b, 1).gas_used) * priority(&b);
    assert_eq!(balance(&out, &state, sink), U256::from(50));
    assert_eq!(balance(&out, &state, coinbase), fee1, "only the second fee");
}

/// The beneficiary is the address a contract is created at in the middle of the block: it
/// collects fees before (a balance-only account, no collision), keeps them through the
/// creation, and its code reads its own balance afterwards.
#[test]
fn beneficiary_created_mid_block() {
    for spec in [
        SpecId::FRONTIER,
        SpecId::SPURIOUS_DRAGON,
        SpecId::LONDON,
        SpecId::CANCUN,
    ] {
        let state = funded_eoas(6);
        let creator = eoa(5);
        let coinbase = creator.create(0);
        // Runtime: slot[calldata[0]] = BALANCE(ADDRESS) (no SELFBALANCE before Istanbul).
        let runtime = asm(&[
            "30",   // ADDRESS
            "31",   // BALANCE
            "6000", // PUSH1 0
            "35",   // CALLDATALOAD
            "55",   // SSTORE                   slot[calldata[0]] = own balance
            "00",   // STOP
        ]);
        let constructor = asm(&[
            "30",   // ADDRESS
            "31",   // BALANCE
            "6000", // PUSH1 0
            "55",   // SSTORE                   slot0 = balance at creation
        ]);
        let none = Bytes::new();
        let txs = vec![
            call(eoa(0), eoa(1), U256::ONE, none.clone(), 0),
            call(eoa(1), coinbase, U256::from(3), none.clone(), 0),
            create_tx(
                creator,
                init_code(&constructor, &runtime),
                U256::from(100),
                0,
                300_000,
            ),
            call(eoa(2), coinbase, U256::ZERO, calldata(&[word(1)]), 0),
            call(eoa(3), eoa(4), U256::ONE, none.clone(), 0),
            call(eoa(4), coinbase, U256::ZERO, calldata(&[word(2)]), 0),
        ];
        let mut b = spec_block(spec, "beneficiary created mid-block", txs);
        b.env.beneficiary = coinbase;
        let out = check(&b, &state);
        let fee = |i| U256::from(receipt(&out, &b, i).gas_used) * priority(&b);
        for i in 0..b.txs.len() {
            assert!(receipt(&out, &b, i).success, "{}: tx {i}", b.label);
        }
        let at_creation = fee(0) + fee(1) + U256::from(3 + 100);
        assert_eq!(slot(&out, &state, coinbase, 0), at_creation, "{}", b.label);
        assert_eq!(
            slot(&out, &state, coinbase, 1),
            at_creation + fee(2),
            "{}",
            b.label
        );
        let at_5 = at_creation + fee(2) + fee(3) + fee(4);
        assert_eq!(slot(&out, &state, coinbase, 2), at_5, "{}", b.label);
        let c = change(&out, &b, coinbase);
        assert_eq!(
            c.info.unwrap().code_hash,
            keccak256(&runtime),
            "{}",
            b.label
        );
        assert_eq!(c.info.unwrap().balance, at_5 + fee(5), "{}", b.label);
    }
}

// ---------------------------------------------------------------------------------------
// Touch semantics
// ---------------------------------------------------------------------------------------

#[test]
fn zero_value_calls_and_fresh_accounts() {
    for spec in [
        SpecId::FRONTIER,
        SpecId::TANGERINE,
        SpecId::SPURIOUS_DRAGON,
        SpecId::LONDON,
        SpecId::CANCUN,
    ] {
        let toucher = contract(80);
        let probe = contract(81);
        let (n1, n2, empty, recipient, never) =
            (fresh(30), fresh(31), fresh(32), fresh(33), fresh(34));
        let mut state = funded_eoas(10);
        // An account that exists but is empty.
        fund(&mut state, empty, U256::ZERO);
        deploy(
            &mut state,
            toucher,
            &asm(&[
                "6000",     // PUSH1 0 retSize
                "6000",     // PUSH1 0 retOffset
                "6000",     // PUSH1 0 argsSize
                "6000",     // PUSH1 0 argsOffset
                "6000",     // PUSH1 0 value
                "6000",     // PUSH1 0
                "35",       // CALLDATALOAD           addr = calldata[0]
                "620186a0", // PUSH3 100000 gas
                "f1",       // CALL
                "6000",     // PUSH1 0
                "55",       // SSTORE                 slot0 = success
                "00",       // STOP
            ]),
            U256::ZERO,
        );
        deploy(&mut state, probe, &gas_probe(), ether(1));
        let touch = |from, a| call(from, toucher, U256::ZERO, calldata(&[addr_word(a)]), 0);
        let measure = |from, a, slot, value| {
            let data = calldata(&[addr_word(a), word(slot), word(value)]);
            call(from, probe, U256::ZERO, data, 0)
        };
        let txs = vec![
            /* 0 */ call(eoa(0), n1, U256::ZERO, Bytes::new(), 0), // EOA touches n1
            /* 1 */ touch(eoa(1), n2), // a contract touches n2
            /* 2 */
            touch(eoa(2), empty), // a contract touches an existing empty account
            /* 3 */ call(eoa(3), recipient, ether(1), Bytes::new(), 0), // fresh account
            /* 4 */ measure(eoa(4), n1, 1, 0),
            /* 5 */ measure(eoa(5), n2, 2, 1),
            /* 6 */ measure(eoa(6), recipient, 3, 1),
            /* 7 */ measure(eoa(7), never, 4, 0),
            /* 8 */ measure(eoa(8), recipient, 5, 0),
            /* 9 */ call(eoa(9), eoa(9), ether(1), Bytes::new(), 0), // to itself
        ];
        let b = spec_block(spec, "touch", txs);
        let out = check(&b, &state);
        for i in 0..b.txs.len() {
            assert!(receipt(&out, &b, i).success, "{}: tx {i}", b.label);
        }
        let gas = |s| slot(&out, &state, probe, s).to::<u64>();
        let r = change(&out, &b, recipient).info.unwrap();
        assert_eq!(r.balance, ether(1) + U256::ONE, "{}", b.label);
        assert_eq!(balance(&out, &state, n2), U256::ONE, "{}", b.label);
        let own = U256::from(receipt(&out, &b, 9).gas_used) * U256::from(GAS_PRICE);
        assert_eq!(
            balance(&out, &state, eoa(9)),
            initial_balance() - own,
            "{}",
            b.label
        );
        if spec.is_enabled_in(SpecId::SPURIOUS_DRAGON) {
            // EIP-161: touching creates nothing; value to a dead account costs 25000.
            assert!(
                out.state.accounts.get(&n1).is_none_or(|c| c.info.is_none()),
                "{}: n1 not created",
                b.label
            );
            assert_eq!(gas(2) - gas(3), 25_000, "{}: n2 is dead", b.label);
            assert_eq!(gas(4), gas(1), "{}", b.label);
        } else {
            // Touching creates an empty account; calling a missing one costs 25000.
            let n1_info = change(&out, &b, n1).info.expect("n1 created by the touch");
            assert_eq!(
                (n1_info.balance, n1_info.nonce),
                (U256::ZERO, 0),
                "{}",
                b.label
            );
            assert_eq!(gas(2), gas(3), "{}: n2 exists", b.label);
            assert_eq!(
                gas(4) - gas(1),
                25_000,
                "{}: n1 exists, `never` does not",
                b.label
            );
        }
    }
}
