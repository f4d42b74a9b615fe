//! `amm`: swaps on constant-product pools, the pair contract of `contracts/Pair.sol`
//! (Uniswap-V2-style, x*y=k with a 0.3% fee) over tokens of `contracts/ERC20.sol`.
//!
//! Knobs: `txs` (default 1000), `pools` (default `txs`), `hot` (fraction of swaps sent to
//! the hot pool, pool 0, default 0), `seed` (default 1).
//!
//! Pool `p` is a pair over its own two tokens, with seeded reserves of 10^24 to 9 x 10^24
//! units each, set in storage (the pair's token balances equal its reserves). Swap `i` is
//! sent by its own trader (a fresh EOA with 1000 ether and nonce 0) holding 10^21 units of
//! the input token with an infinite allowance to the pair; it calls
//! `swapExactIn(zeroForOne, amountIn, 1)` on pool `i % pools`, or on pool 0 with probability
//! `hot`, with a seeded direction and an amount of about 10^15 to 10^18 units (far below
//! the reserves, so no swap runs out of liquidity). Gas limit 150,000 (a swap uses about
//! 70,000 to 90,000).
//!
//! Two swaps on the same pool conflict: both read and write the pair's reserves (slot 2)
//! and its balances in the two tokens, and the later one's output depends on the earlier
//! one. Swaps on different pools share nothing, so with `pools=txs` and `hot=0` every swap
//! is independent; `pools=1` (or `hot=1`) chains the whole block on one pool.

use revm::bytecode::Bytecode;
use revm::context::TxEnv;
use revm::primitives::{Address, U256};
use revm::state::AccountInfo;

use super::common::{
    address_word, block, call_data, contract, eoa, initial_balance, runtime_code, tx, Rng,
};
use super::erc20::deploy_token_with;
use super::spec::{SpecError, WorkloadSpec};
use stmlab::evm::block::Block;
use stmlab::evm::state::InMemoryState;

pub const KNOBS: &[&str] = &["txs", "pools", "hot", "seed"];

/// Runtime bytecode of `contracts/Pair.sol`, built by `contracts/build.sh`.
const PAIR_RUNTIME: &str = include_str!("../../../contracts/out/Pair.runtime.hex");
/// `swapExactIn(bool,uint256,uint256)`.
const SWAP_EXACT_IN: [u8; 4] = [0x1d, 0x21, 0x05, 0xba];
/// Gas limit of a generated swap.
pub const SWAP_GAS: u64 = 150_000;
/// Slot of the packed `reserve0 | reserve1 << 112 | blockTimestampLast << 224`.
pub const RESERVES_SLOT: u64 = 2;
/// What each trader holds of its input token.
const TRADER_TOKENS: u128 = 1_000_000_000_000_000_000_000; // 10^21

pub fn pair_code() -> Bytecode {
    runtime_code(PAIR_RUNTIME)
}

/// One pool: a pair contract and its two tokens, with the initial reserves.
#[derive(Clone, Debug)]
pub struct Pool {
    pub pair: Address,
    pub token0: Address,
    pub token1: Address,
    pub reserve0: U256,
    pub reserve1: U256,
}

/// One planned swap.
#[derive(Clone, Debug)]
pub struct Swap {
    /// Index into [`Market::pools`].
    pub pool: usize,
    pub trader: Address,
    /// Sells token0 for token1 (else token1 for token0).
    pub zero_for_one: bool,
    pub amount_in: U256,
}

/// Pools and the swaps planned on them: the part of the workload `mixed` reuses.
#[derive(Clone, Debug)]
pub struct Market {
    pub pools: Vec<Pool>,
    pub swaps: Vec<Swap>,
}

impl Market {
    /// Plans `swaps` swaps on `pools` pools (at least 1 when `swaps > 0`); swap `j` goes to
    /// pool `j % pools`, or to pool 0 with probability `hot`. Pool `p` takes contracts
    /// `first_contract + 3p ..= first_contract + 3p + 2` (pair, token0, token1); swap `j` is
    /// sent by `eoa(first_trader + j)`.
    pub fn plan(
        pools: usize,
        swaps: usize,
        hot: f64,
        first_contract: usize,
        first_trader: usize,
        rng: &mut Rng,
    ) -> Self {
        assert!(pools > 0 || swaps == 0, "swaps need a pool");
        let unit = U256::from(10u64).pow(U256::from(24u64));
        let pools: Vec<Pool> = (0..pools)
            .map(|p| {
                let base = first_contract + 3 * p;
                Pool {
                    pair: contract(base),
                    token0: contract(base + 1),
                    token1: contract(base + 2),
                    reserve0: unit * U256::from(1 + rng.below(9)),
                    reserve1: unit * U256::from(1 + rng.below(9)),
                }
            })
            .collect();
        let swaps = (0..swaps)
            .map(|j| {
                let pool = if rng.chance(hot) { 0 } else { j % pools.len() };
                let zero_for_one = rng.below(2) == 0;
                let amount_in =
                    U256::from(1_000_000_000_000_000 + rng.below(1_000_000_000_000_000_000));
                Swap {
                    pool,
                    trader: eoa(first_trader + j),
                    zero_for_one,
                    amount_in,
                }
            })
            .collect();
        Self { pools, swaps }
    }

    /// Puts the pairs, their tokens (reserves, trader balances and infinite allowances) and
    /// the traders (1000 ether each) into `state`.
    pub fn deploy(&self, state: &mut InMemoryState) {
        // Per pool, the traders selling token0 and those selling token1.
        let mut sellers: Vec<[Vec<Address>; 2]> = vec![Default::default(); self.pools.len()];
        for s in &self.swaps {
            sellers[s.pool][usize::from(!s.zero_for_one)].push(s.trader);
            state.insert_account(s.trader, AccountInfo::from_balance(initial_balance()));
        }
        for (pool, [sell0, sell1]) in self.pools.iter().zip(&sellers) {
            state.insert_account(
                pool.pair,
                AccountInfo {
                    code: Some(pair_code()),
                    ..AccountInfo::default()
                },
            );
            state.insert_storage(pool.pair, U256::ZERO, address_word(pool.token0));
            state.insert_storage(pool.pair, U256::from(1), address_word(pool.token1));
            state.insert_storage(
                pool.pair,
                U256::from(RESERVES_SLOT),
                pack_reserves(pool.reserve0, pool.reserve1),
            );
            for (token, reserve, traders) in [
                (pool.token0, pool.reserve0, sell0),
                (pool.token1, pool.reserve1, sell1),
            ] {
                let balances = std::iter::once((pool.pair, reserve))
                    .chain(traders.iter().map(|&t| (t, U256::from(TRADER_TOKENS))));
                let allowances = traders.iter().map(|&t| (t, pool.pair, U256::MAX));
                deploy_token_with(state, token, balances, allowances);
            }
        }
    }

    /// Swap `j` as a transaction (nonce 0: every trader sends one swap).
    pub fn swap_tx(&self, j: usize) -> TxEnv {
        let s = &self.swaps[j];
        let data = call_data(
            SWAP_EXACT_IN,
            &[U256::from(s.zero_for_one), s.amount_in, U256::from(1)],
        );
        tx(
            s.trader,
            self.pools[s.pool].pair,
            U256::ZERO,
            data,
            0,
            SWAP_GAS,
        )
    }
}

/// Slot 2 of a pair with these reserves and timestamp 0.
pub fn pack_reserves(reserve0: U256, reserve1: U256) -> U256 {
    reserve0 | (reserve1 << 112)
}

/// `(reserve0, reserve1)` of a pair's slot 2.
pub fn unpack_reserves(slot: U256) -> (U256, U256) {
    let mask = (U256::from(1) << 112) - U256::from(1);
    (slot & mask, (slot >> 112) & mask)
}

/// The pair's `getAmountOut`: `amountIn*997*rOut / (rIn*1000 + amountIn*997)`.
pub fn amount_out(amount_in: U256, r_in: U256, r_out: U256) -> U256 {
    let with_fee = amount_in * U256::from(997);
    with_fee * r_out / (r_in * U256::from(1000) + with_fee)
}

pub fn generate(spec: &WorkloadSpec) -> Result<(Block, InMemoryState), SpecError> {
    spec.check_knobs(KNOBS)?;
    let txs = spec.usize("txs", 1000)?;
    let pools = spec.usize("pools", txs.max(1))?;
    let hot = spec.fraction("hot", 0.0)?;
    let mut rng = Rng::new(spec.u64("seed", 1)?);
    if pools == 0 {
        return Err(spec.invalid("needs at least 1 pool"));
    }
    let market = Market::plan(pools, txs, hot, 0, 0, &mut rng);
    let mut state = InMemoryState::default();
    market.deploy(&mut state);
    let list = (0..txs).map(|j| market.swap_tx(j)).collect();
    Ok((
        block(format!("amm:txs={txs},pools={pools},hot={hot}"), list),
        state,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::erc20::balance_slot;
    use stmlab::evm::output::BlockOutput;
    use stmlab::{execute_block, Strategy};

    fn sequential(spec: &str) -> (Market, BlockOutput) {
        let spec = WorkloadSpec::parse(spec).unwrap();
        let (block, state) = generate(&spec).unwrap();
        let out = execute_block(&block, &state, Strategy::Sequential, 1)
            .unwrap()
            .output;
        // Rebuild the plan the generator drew (same seed, same draws).
        let txs = spec.usize("txs", 1000).unwrap();
        let pools = spec.usize("pools", txs).unwrap();
        let hot = spec.fraction("hot", 0.0).unwrap();
        let mut rng = Rng::new(spec.u64("seed", 1).unwrap());
        (Market::plan(pools, txs, hot, 0, 0, &mut rng), out)
    }

    /// `amountNOut` of a swap's `Swap` event (its last log).
    fn swap_output(out: &BlockOutput, i: usize) -> U256 {
        let r = out.txs[i].as_ref().unwrap();
        assert_eq!(r.logs.len(), 3, "tx {i}: Transfer, Transfer, Swap");
        let data = &r.logs[2].data.data;
        let word = |k: usize| U256::from_be_slice(&data[32 * k..32 * (k + 1)]);
        word(2) + word(3)
    }

    fn assert_all_succeed(out: &BlockOutput) {
        for (i, t) in out.txs.iter().enumerate() {
            let r = t
                .as_ref()
                .unwrap_or_else(|e| panic!("tx {i} rejected: {e}"));
            assert!(r.success, "tx {i} reverted");
            assert!(r.gas_used < SWAP_GAS, "tx {i} used {} gas", r.gas_used);
        }
    }

    #[test]
    fn every_swap_succeeds() {
        for spec in [
            "amm:txs=200",
            "amm:txs=200,pools=4",
            "amm:txs=200,pools=4,hot=0.5,seed=9",
            "amm:txs=100,pools=1",
        ] {
            let (_, out) = sequential(spec);
            assert_all_succeed(&out);
        }
    }

    #[test]
    fn independent_pools_share_nothing() {
        let (market, out) = sequential("amm:txs=100");
        assert_all_succeed(&out);
        let mut used = vec![false; market.pools.len()];
        for s in &market.swaps {
            assert!(!used[s.pool], "pool {} used twice", s.pool);
            used[s.pool] = true;
        }
        // Each swap gets exactly what it would get alone.
        for (i, s) in market.swaps.iter().enumerate() {
            let p = &market.pools[s.pool];
            let (r_in, r_out) = if s.zero_for_one {
                (p.reserve0, p.reserve1)
            } else {
                (p.reserve1, p.reserve0)
            };
            assert_eq!(swap_output(&out, i), amount_out(s.amount_in, r_in, r_out));
        }
    }

    /// Swaps on one pool really depend on each other: each one's output follows from the
    /// reserves the earlier ones left, differs from what it would get alone, and the final
    /// reserves (and the pair's token balances) are the chained result.
    #[test]
    fn swaps_on_one_pool_conflict() {
        let (market, out) = sequential("amm:txs=40,pools=1");
        assert_all_succeed(&out);
        let pool = &market.pools[0];
        let (mut r0, mut r1) = (pool.reserve0, pool.reserve1);
        let mut differs_from_alone = 0;
        for (i, s) in market.swaps.iter().enumerate() {
            let (alone, chained) = if s.zero_for_one {
                let chained = amount_out(s.amount_in, r0, r1);
                (
                    amount_out(s.amount_in, pool.reserve0, pool.reserve1),
                    chained,
                )
            } else {
                let chained = amount_out(s.amount_in, r1, r0);
                (
                    amount_out(s.amount_in, pool.reserve1, pool.reserve0),
                    chained,
                )
            };
            assert_eq!(swap_output(&out, i), chained, "swap {i}");
            if chained != alone {
                differs_from_alone += 1;
            }
            if s.zero_for_one {
                (r0, r1) = (r0 + s.amount_in, r1 - chained);
            } else {
                (r0, r1) = (r0 - chained, r1 + s.amount_in);
            }
        }
        assert!(
            differs_from_alone >= 30,
            "only {differs_from_alone} swaps saw the others"
        );
        let pair = &out.state.accounts[&pool.pair];
        let slot = pair.storage[&U256::from(RESERVES_SLOT)];
        assert_eq!(unpack_reserves(slot), (r0, r1));
        let balance = |token: Address| out.state.accounts[&token].storage[&balance_slot(pool.pair)];
        assert_eq!((balance(pool.token0), balance(pool.token1)), (r0, r1));
    }

    #[test]
    fn rejects_bad_knobs() {
        for spec in ["amm:pools=0", "amm:hot=2", "amm:txs=10,pool=3"] {
            assert!(
                generate(&WorkloadSpec::parse(spec).unwrap()).is_err(),
                "{spec}"
            );
        }
    }
}
