//! `compute`: contract-heavy transactions on `contracts/Compute.sol`, whose cost is real
//! execution (a keccak, a multiply-xor mix, one SLOAD and one SSTORE per iteration), so
//! that executing, not scheduling, dominates.
//!
//! Knobs: `txs` (default 1000), `iters` (loop iterations per transaction, default 200:
//! about 200,000 gas a transaction), `shared` (fraction of transactions that also
//! increment the one shared counter, default 0; `hot` is accepted as its synonym), `seed`
//! (default 1).
//!
//! Transaction `i` is sent by its own EOA (1000 ether, nonce 0) and calls
//! `work(iters, seed_i)` with a seeded `seed_i`, which reads and writes only the sender's
//! 16 private words: with `shared=0` no two transactions share storage. With probability
//! `shared` it calls `workShared(iters)` instead, which also does `counter += 1`, so every
//! two such transactions conflict. The senders' 16 words and the counter start nonzero
//! (seeded), so the loop's stores cost the same for every transaction (about 510 gas an
//! iteration plus 5,000 for each of the first 16) instead of being dominated by
//! zero-to-nonzero stores. Gas limit `120,000 + 1,000 x iters`.

use revm::primitives::{Address, U256};
use revm::state::AccountInfo;

use super::common::{
    block, call_data, contract, eoa, initial_balance, mapping_slot, runtime_code, tx, Rng,
};
use super::spec::{SpecError, WorkloadSpec};
use stmlab::evm::block::Block;
use stmlab::evm::state::InMemoryState;

pub const KNOBS: &[&str] = &["txs", "iters", "shared", "hot", "seed"];

/// Runtime bytecode of `contracts/Compute.sol`, built by `contracts/build.sh`.
const COMPUTE_RUNTIME: &str = include_str!("../../../contracts/out/Compute.runtime.hex");
/// `work(uint256,uint256)`.
const WORK: [u8; 4] = [0x08, 0xf1, 0x57, 0xf6];
/// `workShared(uint256)`.
const WORK_SHARED: [u8; 4] = [0x8c, 0xc8, 0xb8, 0xe7];
/// Slot of the shared `counter`.
pub const COUNTER_SLOT: u64 = 0;

/// Storage slot of `scratch[caller][j]` (`mapping(address => uint256[16])` at slot 1).
pub fn scratch_slot(caller: Address, j: u64) -> U256 {
    mapping_slot(caller, U256::from(1)) + U256::from(j)
}

/// Gas limit of a transaction running `iters` iterations.
pub fn gas_limit(iters: u64) -> u64 {
    120_000u64.saturating_add(iters.saturating_mul(1_000))
}

pub fn generate(spec: &WorkloadSpec) -> Result<(Block, InMemoryState), SpecError> {
    spec.check_knobs(KNOBS)?;
    let txs = spec.usize("txs", 1000)?;
    let iters = spec.u64("iters", 200)?;
    let hot = spec.fraction("hot", 0.0)?;
    let shared = spec.fraction("shared", hot)?;
    let mut rng = Rng::new(spec.u64("seed", 1)?);
    if spec.fraction("hot", shared)? != shared {
        return Err(spec.invalid("hot and shared are synonyms: give one, or the same value"));
    }
    let gas = gas_limit(iters);
    if gas > 30_000_000 {
        return Err(spec.invalid("iters too large: a transaction must fit 30,000,000 gas"));
    }
    let compute = contract(0);
    let mut state = InMemoryState::default();
    state.insert_account(
        compute,
        AccountInfo {
            code: Some(runtime_code(COMPUTE_RUNTIME)),
            ..AccountInfo::default()
        },
    );
    state.insert_storage(compute, U256::from(COUNTER_SLOT), U256::from(1));
    let mut list = Vec::with_capacity(txs);
    for i in 0..txs {
        let sender = eoa(i);
        state.insert_account(sender, AccountInfo::from_balance(initial_balance()));
        for j in 0..16 {
            let word = U256::from(rng.next_u64() | 1);
            state.insert_storage(compute, scratch_slot(sender, j), word);
        }
        let data = if rng.chance(shared) {
            call_data(WORK_SHARED, &[U256::from(iters)])
        } else {
            call_data(WORK, &[U256::from(iters), U256::from(rng.next_u64())])
        };
        list.push(tx(sender, compute, U256::ZERO, data, 0, gas));
    }
    Ok((
        block(
            format!("compute:txs={txs},iters={iters},shared={shared}"),
            list,
        ),
        state,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use stmlab::{execute_block, Strategy};

    fn run(spec: &str) -> (Block, stmlab::evm::output::BlockOutput) {
        let (block, state) = generate(&WorkloadSpec::parse(spec).unwrap()).unwrap();
        let out = execute_block(&block, &state, Strategy::Sequential, 1)
            .unwrap()
            .output;
        (block, out)
    }

    #[test]
    fn every_call_succeeds_at_the_intended_cost() {
        let (block, out) = run("compute:txs=50");
        for (i, t) in out.txs.iter().enumerate() {
            let r = t
                .as_ref()
                .unwrap_or_else(|e| panic!("tx {i} rejected: {e}"));
            assert!(r.success, "tx {i} reverted");
            assert!(
                (100_000..300_000).contains(&r.gas_used),
                "tx {i} used {} gas",
                r.gas_used
            );
            assert!(r.gas_used < block.txs[i].gas_limit);
        }
        // Every sender's 16 words changed; nothing else of the contract did.
        let storage = &out.state.accounts[&contract(0)].storage;
        assert_eq!(storage.len(), 50 * 16);
    }

    #[test]
    fn shared_calls_increment_one_counter() {
        let (block, out) = run("compute:txs=100,iters=20,shared=0.3");
        let shared = block
            .txs
            .iter()
            .filter(|t| t.data[..4] == WORK_SHARED)
            .count();
        assert!((15..=45).contains(&shared), "{shared} shared calls");
        for (i, t) in out.txs.iter().enumerate() {
            let r = t
                .as_ref()
                .unwrap_or_else(|e| panic!("tx {i} rejected: {e}"));
            assert!(r.success, "tx {i} reverted");
            assert!(r.gas_used < block.txs[i].gas_limit);
        }
        let storage = &out.state.accounts[&contract(0)].storage;
        assert_eq!(
            storage[&U256::from(COUNTER_SLOT)],
            U256::from(1 + shared as u64)
        );
    }

    #[test]
    fn hot_is_a_synonym_of_shared() {
        let parse = |s| generate(&WorkloadSpec::parse(s).unwrap());
        assert_eq!(
            parse("compute:txs=30,hot=0.5").unwrap().0.txs,
            parse("compute:txs=30,shared=0.5").unwrap().0.txs
        );
        assert!(parse("compute:hot=0.5,shared=0.2").is_err());
        assert!(parse("compute:iter=5").is_err());
    }
}
