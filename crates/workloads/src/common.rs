//! What the generators share: a seeded RNG, account addresses, the block environment,
//! and the few ABI pieces the contract workloads need (runtime code, calldata, mapping slots).

use revm::bytecode::Bytecode;
use revm::context::{BlockEnv, TxEnv};
use revm::primitives::hardfork::SpecId;
use revm::primitives::{keccak256, Address, Bytes, TxKind, U256};

use stmlab::evm::block::Block;

/// SplitMix64: small, fast, and the same sequence on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x5DEE_CE66_D1CE_5EED)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    /// Uniform in `[0, 1)`, 53 bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// True with probability `p`. Draws nothing when `p` is 0, so a knob left at 0 does
    /// not shift the rest of the sequence.
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() <= p
    }
    /// A seeded permutation of `0..n` (Fisher-Yates).
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut v: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = self.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
        v
    }
}

/// The `i`-th externally owned account of a workload.
pub fn eoa(i: usize) -> Address {
    let mut bytes = [0u8; 20];
    bytes[0] = 0xEE;
    bytes[12..].copy_from_slice(&(i as u64).to_be_bytes());
    Address::from(bytes)
}

/// The `i`-th contract of a workload.
pub fn contract(i: usize) -> Address {
    let mut bytes = [0u8; 20];
    bytes[0] = 0xCC;
    bytes[12..].copy_from_slice(&(i as u64).to_be_bytes());
    Address::from(bytes)
}

/// The beneficiary of generated blocks: an account no workload uses otherwise.
pub const BENEFICIARY: Address = Address::new([0xBE; 20]);
pub const BASE_FEE: u64 = 1_000_000_000;
pub const GAS_PRICE: u128 = 2_000_000_000;
/// What every generated account starts with: 1000 ether.
pub fn initial_balance() -> U256 {
    U256::from(1000u64) * U256::from(10u64).pow(U256::from(18u64))
}

/// A Cancun block holding `txs`.
pub fn block(label: String, txs: Vec<TxEnv>) -> Block {
    let gas_limit = txs.iter().map(|t| t.gas_limit).sum::<u64>().max(30_000_000);
    let env = BlockEnv {
        number: U256::from(20_000_000u64),
        beneficiary: BENEFICIARY,
        timestamp: U256::from(1_720_000_000u64),
        gas_limit,
        basefee: BASE_FEE,
        difficulty: U256::ZERO,
        prevrandao: Some(Default::default()),
        ..Default::default()
    };
    Block {
        label,
        env,
        spec: SpecId::CANCUN,
        chain_id: 1,
        txs,
        header: None,
        level: Default::default(),
    }
}

/// A legacy transaction with chain id 1.
pub fn tx(
    caller: Address,
    to: Address,
    value: U256,
    data: Bytes,
    nonce: u64,
    gas_limit: u64,
) -> TxEnv {
    TxEnv {
        tx_type: 0,
        caller,
        gas_limit,
        gas_price: GAS_PRICE,
        kind: TxKind::Call(to),
        value,
        data,
        nonce,
        chain_id: Some(1),
        ..Default::default()
    }
}

/// Runtime bytecode from the hex text of `contracts/out/<Name>.runtime.hex`.
pub fn runtime_code(hex: &str) -> Bytecode {
    let bytes = alloy_primitives::hex::decode(hex.trim())
        .expect("contracts/out/*.runtime.hex is hex (checked by the workloads' tests)");
    Bytecode::new_raw(Bytes::from(bytes))
}

/// An address as an ABI word (left-padded with zeros).
pub fn address_word(a: Address) -> U256 {
    U256::from_be_slice(a.as_slice())
}

/// Calldata: a 4-byte selector followed by static 32-byte arguments.
pub fn call_data(selector: [u8; 4], args: &[U256]) -> Bytes {
    let mut data = Vec::with_capacity(4 + 32 * args.len());
    data.extend_from_slice(&selector);
    for a in args {
        data.extend_from_slice(&a.to_be_bytes::<32>());
    }
    Bytes::from(data)
}

/// Solidity's slot of `mapping(address => ..)` at `slot`, key `key`:
/// `keccak256(abi.encode(key, slot))`.
pub fn mapping_slot(key: Address, slot: U256) -> U256 {
    word_mapping_slot(address_word(key), slot)
}

/// The same for a key that is already a word (nested mappings).
pub fn word_mapping_slot(key: U256, slot: U256) -> U256 {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(&key.to_be_bytes::<32>());
    buf[32..].copy_from_slice(&slot.to_be_bytes::<32>());
    U256::from_be_bytes(keccak256(buf).0)
}
