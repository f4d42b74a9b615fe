//! Checks contracts/out/*.runtime.hex under revm, with the pre-state set up
//! exactly as contracts/README.md tells the generator to. Not part of the
//! stmlab workspace; run with
//!   cargo run --release --manifest-path contracts/check/Cargo.toml
use revm::bytecode::Bytecode;
use revm::context::result::ExecutionResult;
use revm::context::{Context, TxEnv};
use revm::database::{CacheDB, EmptyDB};
use revm::primitives::hardfork::SpecId;
use revm::primitives::{address, hex, keccak256, Address, Bytes, B256, U256};
use revm::state::AccountInfo;
use revm::{ExecuteCommitEvm, MainBuilder, MainContext};

const OUT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../out");
type Db = CacheDB<EmptyDB>;

fn code(name: &str) -> Bytecode {
    let h = std::fs::read_to_string(format!("{OUT}/{name}.runtime.hex")).unwrap();
    Bytecode::new_raw(Bytes::from(hex::decode(h.trim()).unwrap()))
}
fn sel(s: &str) -> Vec<u8> {
    keccak256(s.as_bytes())[..4].to_vec()
}
fn w_addr(a: Address) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(a.as_slice());
    w
}
fn w_u(x: U256) -> [u8; 32] {
    x.to_be_bytes::<32>()
}
fn calldata(sig: &str, words: &[[u8; 32]]) -> Bytes {
    let mut v = sel(sig);
    for w in words {
        v.extend_from_slice(w);
    }
    v.into()
}
/// keccak256(abi.encode(key, uint256(slot)))
fn map_slot(key: [u8; 32], slot: U256) -> U256 {
    let mut b = [0u8; 64];
    b[..32].copy_from_slice(&key);
    b[32..].copy_from_slice(&w_u(slot));
    U256::from_be_bytes(keccak256(b).0)
}
fn bal_slot(holder: Address) -> U256 {
    map_slot(w_addr(holder), U256::ZERO)
}
fn allow_slot(owner: Address, spender: Address) -> U256 {
    map_slot(w_addr(spender), map_slot(w_addr(owner), U256::from(1)))
}
fn sload(db: &Db, a: Address, slot: U256) -> U256 {
    db.cache
        .accounts
        .get(&a)
        .and_then(|acc| acc.storage.get(&slot).copied())
        .unwrap_or_default()
}

struct Chain {
    db: Db,
    spec: SpecId,
    nonce: std::collections::HashMap<Address, u64>,
}
impl Chain {
    fn call(&mut self, from: Address, to: Address, data: Bytes) -> ExecutionResult {
        let n = self.nonce.entry(from).or_default();
        let tx = TxEnv::builder()
            .caller(from)
            .call(to)
            .data(data)
            .gas_limit(10_000_000)
            .nonce(*n)
            .build_fill();
        *n += 1;
        let db = std::mem::replace(&mut self.db, CacheDB::new(EmptyDB::new()));
        let mut evm = Context::mainnet()
            .with_db(db)
            .modify_cfg_chained(|c| c.spec = self.spec)
            .modify_block_chained(|b| b.timestamp = U256::from(1_700_000_123u64))
            .build_mainnet();
        let r = evm.transact_commit(tx).unwrap();
        self.db = evm.ctx.journaled_state.database;
        r
    }
}
fn out_word(r: &ExecutionResult, i: usize) -> U256 {
    let o = r.output().expect("output");
    U256::from_be_slice(&o[32 * i..32 * i + 32])
}
fn ok(r: &ExecutionResult, what: &str) {
    assert!(r.is_success(), "{what} failed: {r:?}");
}

fn run(spec: SpecId) {
    let t0 = address!("00000000000000000000000000000000000a0000");
    let t1 = address!("00000000000000000000000000000000000b0000");
    let pair = address!("00000000000000000000000000000000000c0000");
    let comp = address!("00000000000000000000000000000000000d0000");
    let trader = address!("1000000000000000000000000000000000000001");
    let other = address!("2000000000000000000000000000000000000002");
    let mut db = CacheDB::new(EmptyDB::new());
    for (a, n) in [
        (t0, "ERC20"),
        (t1, "ERC20"),
        (pair, "Pair"),
        (comp, "Compute"),
    ] {
        let c = code(n);
        db.insert_account_info(
            a,
            AccountInfo {
                code_hash: c.hash_slow(),
                code: Some(c),
                nonce: 1,
                ..Default::default()
            },
        );
    }
    for a in [trader, other] {
        db.insert_account_info(
            a,
            AccountInfo {
                balance: U256::from(10u128.pow(24)),
                ..Default::default()
            },
        );
    }
    let e18 = U256::from(10u128.pow(18));
    let (r0, r1) = (
        U256::from(1_000_000u64) * e18,
        U256::from(2_000_000u64) * e18,
    );
    let max = U256::MAX;
    for t in [t0, t1] {
        db.insert_account_storage(t, bal_slot(trader), U256::from(1000u64) * e18)
            .unwrap();
        db.insert_account_storage(t, U256::from(2), U256::from(10u64.pow(9)) * e18)
            .unwrap();
    }
    db.insert_account_storage(t0, bal_slot(pair), r0).unwrap();
    db.insert_account_storage(t1, bal_slot(pair), r1).unwrap();
    db.insert_account_storage(t0, allow_slot(trader, pair), max)
        .unwrap(); // infinite
    db.insert_account_storage(t1, allow_slot(trader, pair), U256::from(500u64) * e18)
        .unwrap(); // finite
    db.insert_account_storage(pair, U256::ZERO, U256::from_be_slice(t0.as_slice()))
        .unwrap();
    db.insert_account_storage(pair, U256::from(1), U256::from_be_slice(t1.as_slice()))
        .unwrap();
    let packed = r0 | (r1 << 112) | (U256::from(42u64) << 224);
    db.insert_account_storage(pair, U256::from(2), packed)
        .unwrap();
    let mut ch = Chain {
        db,
        spec,
        nonce: Default::default(),
    };

    // views
    let r = ch.call(trader, pair, calldata("getReserves()", &[]));
    ok(&r, "getReserves");
    assert_eq!(
        (out_word(&r, 0), out_word(&r, 1), out_word(&r, 2)),
        (r0, r1, U256::from(42))
    );
    let r = ch.call(
        trader,
        t0,
        calldata("balanceOf(address)", &[w_addr(trader)]),
    );
    assert_eq!(out_word(&r, 0), U256::from(1000u64) * e18);
    let r = ch.call(
        trader,
        t0,
        calldata(
            "allowance(address,address)",
            &[w_addr(trader), w_addr(pair)],
        ),
    );
    assert_eq!(out_word(&r, 0), max);

    // swapExactIn token0 -> token1, infinite allowance
    let amt = U256::from(10u64) * e18;
    let expect = amt * U256::from(997) * r1 / (r0 * U256::from(1000) + amt * U256::from(997));
    let r = ch.call(
        trader,
        pair,
        calldata(
            "swapExactIn(bool,uint256,uint256)",
            &[w_u(U256::from(1)), w_u(amt), w_u(U256::ZERO)],
        ),
    );
    ok(&r, "swapExactIn 0->1");
    println!(
        "  swapExactIn(0->1): gas {} out {}",
        r.tx_gas_used(),
        out_word(&r, 0)
    );
    assert_eq!(out_word(&r, 0), expect);
    assert_eq!(r.logs().len(), 3);
    assert_eq!(
        r.logs()[2].topics()[0],
        keccak256("Swap(address,uint256,uint256,uint256,uint256,address)")
    );
    assert_eq!(
        sload(&ch.db, t0, bal_slot(trader)),
        U256::from(990u64) * e18
    );
    assert_eq!(
        sload(&ch.db, t1, bal_slot(trader)),
        U256::from(1000u64) * e18 + expect
    );
    assert_eq!(sload(&ch.db, t0, bal_slot(pair)), r0 + amt);
    assert_eq!(sload(&ch.db, t1, bal_slot(pair)), r1 - expect);
    assert_eq!(
        sload(&ch.db, t0, allow_slot(trader, pair)),
        max,
        "infinite allowance untouched"
    );
    let (nr0, nr1) = (r0 + amt, r1 - expect);
    let mask = (U256::from(1) << 112) - U256::from(1);
    let s2 = sload(&ch.db, pair, U256::from(2));
    assert_eq!(s2 & mask, nr0);
    assert_eq!((s2 >> 112) & mask, nr1);
    assert_eq!(s2 >> 224, U256::from(1_700_000_123u64));

    // swapExactIn token1 -> token0, finite allowance decreases
    let amt1 = U256::from(20u64) * e18;
    let expect1 = amt1 * U256::from(997) * nr0 / (nr1 * U256::from(1000) + amt1 * U256::from(997));
    let r = ch.call(
        trader,
        pair,
        calldata(
            "swapExactIn(bool,uint256,uint256)",
            &[w_u(U256::ZERO), w_u(amt1), w_u(expect1)],
        ),
    );
    ok(&r, "swapExactIn 1->0");
    println!(
        "  swapExactIn(1->0, finite allowance): gas {}",
        r.tx_gas_used()
    );
    assert_eq!(out_word(&r, 0), expect1);
    assert_eq!(
        sload(&ch.db, t1, allow_slot(trader, pair)),
        U256::from(480u64) * e18
    );
    let (nr0, nr1) = (nr0 - expect1, nr1 + amt1);
    let s2 = sload(&ch.db, pair, U256::from(2));
    assert_eq!((s2 & mask, (s2 >> 112) & mask), (nr0, nr1));

    // minOut too high reverts; no allowance reverts
    let r = ch.call(
        trader,
        pair,
        calldata(
            "swapExactIn(bool,uint256,uint256)",
            &[w_u(U256::from(1)), w_u(amt), w_u(U256::MAX)],
        ),
    );
    assert!(!r.is_success());
    let r = ch.call(
        other,
        pair,
        calldata(
            "swapExactIn(bool,uint256,uint256)",
            &[w_u(U256::from(1)), w_u(amt), w_u(U256::ZERO)],
        ),
    );
    assert!(!r.is_success(), "no allowance/balance must revert");

    // two-step V2 swap: transfer token0 in, then swap(0, out, other)
    let r = ch.call(
        trader,
        t0,
        calldata("transfer(address,uint256)", &[w_addr(pair), w_u(amt)]),
    );
    ok(&r, "transfer");
    let out = amt * U256::from(997) * nr1 / (nr0 * U256::from(1000) + amt * U256::from(997));
    let r = ch.call(
        trader,
        pair,
        calldata(
            "swap(uint256,uint256,address)",
            &[w_u(U256::ZERO), w_u(out + U256::from(1)), w_addr(other)],
        ),
    );
    assert!(!r.is_success(), "k check must reject out+1");
    let r = ch.call(
        trader,
        pair,
        calldata(
            "swap(uint256,uint256,address)",
            &[w_u(U256::ZERO), w_u(out), w_addr(other)],
        ),
    );
    ok(&r, "swap");
    println!("  swap(V2-style): gas {}", r.tx_gas_used());
    assert_eq!(sload(&ch.db, t1, bal_slot(other)), out);
    let s2 = sload(&ch.db, pair, U256::from(2));
    assert_eq!((s2 & mask, (s2 >> 112) & mask), (nr0 + amt, nr1 - out));

    // ERC20 approve / transferFrom / insufficient balance
    let r = ch.call(
        other,
        t1,
        calldata(
            "approve(address,uint256)",
            &[w_addr(trader), w_u(U256::from(5))],
        ),
    );
    ok(&r, "approve");
    assert_eq!(sload(&ch.db, t1, allow_slot(other, trader)), U256::from(5));
    let r = ch.call(
        trader,
        t1,
        calldata(
            "transferFrom(address,address,uint256)",
            &[w_addr(other), w_addr(trader), w_u(U256::from(6))],
        ),
    );
    assert!(!r.is_success());
    let r = ch.call(
        trader,
        t1,
        calldata(
            "transferFrom(address,address,uint256)",
            &[w_addr(other), w_addr(trader), w_u(U256::from(5))],
        ),
    );
    ok(&r, "transferFrom");
    assert_eq!(sload(&ch.db, t1, allow_slot(other, trader)), U256::ZERO);
    let r = ch.call(
        other,
        t0,
        calldata(
            "transfer(address,uint256)",
            &[w_addr(trader), w_u(U256::from(1))],
        ),
    );
    assert!(!r.is_success(), "no balance");
    let r = ch.call(
        trader,
        t0,
        calldata(
            "transfer(address,uint256)",
            &[w_addr(trader), w_u(U256::from(7))],
        ),
    );
    ok(&r, "self transfer");
    println!("  ERC20 transfer (self): gas {}", r.tx_gas_used());
    let b = sload(&ch.db, t0, bal_slot(trader));
    let r = ch.call(
        trader,
        t0,
        calldata(
            "transfer(address,uint256)",
            &[w_addr(other), w_u(U256::from(7))],
        ),
    );
    ok(&r, "transfer");
    println!("  ERC20 transfer (to new holder): gas {}", r.tx_gas_used());
    assert_eq!(sload(&ch.db, t0, bal_slot(trader)), b - U256::from(7));
    assert_eq!(
        r.logs()[0].topics()[0],
        keccak256("Transfer(address,address,uint256)")
    );

    // Compute
    // Model of Compute.work: returns acc and updates the caller's 16 words.
    let model = |iters: u64, seed: U256, s: &mut [U256; 16]| -> U256 {
        let mut acc: U256 = seed;
        for i in 0..iters {
            let mut b = [0u8; 64];
            b[..32].copy_from_slice(&w_u(acc));
            b[32..].copy_from_slice(&w_u(U256::from(i)));
            acc = U256::from_be_bytes(keccak256(b).0);
            let hi: U256 = acc >> 64usize;
            acc ^= hi.wrapping_mul(U256::from(0x9E3779B97F4A7C15u64));
            s[(i & 15) as usize] = s[(i & 15) as usize].wrapping_add(acc);
        }
        acc
    };
    let base = |a: Address| map_slot(w_addr(a), U256::from(1));
    let mut st = [U256::ZERO; 16];
    let acc = model(37, U256::from(5), &mut st);
    let r = ch.call(
        trader,
        comp,
        calldata(
            "work(uint256,uint256)",
            &[w_u(U256::from(37)), w_u(U256::from(5))],
        ),
    );
    ok(&r, "work");
    assert_eq!(out_word(&r, 0), acc);
    for j in 0..16 {
        assert_eq!(sload(&ch.db, comp, base(trader) + U256::from(j)), st[j]);
    }
    assert_eq!(sload(&ch.db, comp, U256::ZERO), U256::ZERO);
    let r = ch.call(
        trader,
        comp,
        calldata(
            "scratch(address,uint256)",
            &[w_addr(trader), w_u(U256::from(3))],
        ),
    );
    assert_eq!(out_word(&r, 0), st[3]);
    let mut st2 = [U256::ZERO; 16];
    let acc2 = model(20, U256::from_be_slice(other.as_slice()), &mut st2);
    let r = ch.call(
        other,
        comp,
        calldata("workShared(uint256)", &[w_u(U256::from(20))]),
    );
    ok(&r, "workShared");
    assert_eq!(out_word(&r, 0), acc2);
    for j in 0..16 {
        assert_eq!(sload(&ch.db, comp, base(other) + U256::from(j)), st2[j]);
    }
    let r = ch.call(
        trader,
        comp,
        calldata("workShared(uint256)", &[w_u(U256::from(0))]),
    );
    ok(&r, "workShared 0");
    assert_eq!(sload(&ch.db, comp, U256::ZERO), U256::from(2));
    for it in [0u64, 1, 16, 100, 1000] {
        let who = Address::from_word(B256::from(U256::from(0xbeef00u64 + it)));
        ch.db.insert_account_info(
            who,
            AccountInfo {
                balance: U256::from(10u128.pow(24)),
                ..Default::default()
            },
        );
        let r = ch.call(
            who,
            comp,
            calldata(
                "work(uint256,uint256)",
                &[w_u(U256::from(it)), w_u(U256::from(9))],
            ),
        );
        ok(&r, "work gas");
        let r2 = ch.call(
            who,
            comp,
            calldata(
                "work(uint256,uint256)",
                &[w_u(U256::from(it)), w_u(U256::from(9))],
            ),
        );
        println!(
            "  work({it}): gas {} first call (fresh slots), {} second call",
            r.tx_gas_used(),
            r2.tx_gas_used()
        );
    }
}

fn main() {
    for spec in [
        SpecId::MERGE,
        SpecId::SHANGHAI,
        SpecId::CANCUN,
        SpecId::PRAGUE,
    ] {
        println!("spec {spec:?}");
        run(spec);
    }
    println!("all checks passed");
}
