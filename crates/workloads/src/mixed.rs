//! `mixed`: one block interleaving ETH transfers, ERC-20 transfers and AMM swaps, built
//! from the pieces of `transfers`/`erc20` (the `pairs.rs` plan) and `amm` (its market),
//! all in one pre-state.
//!
//! Knobs: `txs` (default 1000); `transfers`, `erc20`, `amm` (the weight of each kind, each
//! a number in [0, 1], normalised by their sum; default 1 each, i.e. a third each);
//! `accounts`, `hot_accounts` (as in `transfers`, for the transfers of both first kinds;
//! `accounts` defaults to 10 x their number); `pools` (default: one per swap); `hot`
//! (default 0: the fraction of transfers whose recipient is in the hot set and the
//! fraction of swaps sent to the hot pool, pool 0); `seed` (default 1).
//!
//! The block holds exactly the weights' share of each kind (rounded by largest
//! remainder), in a seeded order. The ETH and ERC-20 transfers together follow one
//! `pairs.rs` plan over accounts `0..accounts` (all funded with ether; every sender holds
//! the token, contract 0), in plan order, so a reused sender's nonces stay in sequence.
//! Swap `j` is sent by its own trader, account `accounts + j`, on the pools of `amm`
//! (contracts from 1 on).

use super::amm::Market;
use super::common::{block, contract, eoa, initial_balance, Rng};
use super::erc20;
use super::pairs::Plan;
use super::spec::{SpecError, WorkloadSpec};
use revm::state::AccountInfo;
use stmlab::evm::block::Block;
use stmlab::evm::state::InMemoryState;

pub const KNOBS: &[&str] = &[
    "txs",
    "transfers",
    "erc20",
    "amm",
    "accounts",
    "hot_accounts",
    "pools",
    "hot",
    "seed",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Eth,
    Erc20,
    Swap,
}

/// Splits `txs` by `weights` (largest remainder; ties go to the earlier kind).
fn split(txs: usize, weights: [f64; 3]) -> [usize; 3] {
    let total: f64 = weights.iter().sum();
    let exact = weights.map(|w| w / total * txs as f64);
    let mut counts = exact.map(|e| (e.floor() as usize).min(txs));
    let mut order = [0, 1, 2];
    order.sort_by(|&a, &b| {
        let frac = |k: usize| exact[k] - exact[k].floor();
        frac(b).total_cmp(&frac(a))
    });
    let mut rest = txs.saturating_sub(counts.iter().sum());
    for k in order.into_iter().cycle() {
        if rest == 0 {
            break;
        }
        if weights[k] > 0.0 {
            counts[k] += 1;
            rest -= 1;
        }
    }
    counts
}

pub fn generate(spec: &WorkloadSpec) -> Result<(Block, InMemoryState), SpecError> {
    spec.check_knobs(KNOBS)?;
    let txs = spec.usize("txs", 1000)?;
    let weights = [
        spec.fraction("transfers", 1.0)?,
        spec.fraction("erc20", 1.0)?,
        spec.fraction("amm", 1.0)?,
    ];
    let hot = spec.fraction("hot", 0.0)?;
    if weights.iter().sum::<f64>() <= 0.0 {
        return Err(spec.invalid("the weights transfers, erc20 and amm are all 0"));
    }
    let mut rng = Rng::new(spec.u64("seed", 1)?);
    let [n_eth, n_erc20, n_swap] = split(txs, weights);
    let unshuffled: Vec<Kind> = [
        (Kind::Eth, n_eth),
        (Kind::Erc20, n_erc20),
        (Kind::Swap, n_swap),
    ]
    .into_iter()
    .flat_map(|(k, n)| std::iter::repeat_n(k, n))
    .collect();
    let kinds: Vec<Kind> = rng
        .permutation(txs)
        .into_iter()
        .map(|i| unshuffled[i])
        .collect();

    let mut plan = Plan::build(spec, n_eth + n_erc20, rng)?;
    let pools = spec.usize("pools", n_swap.max(1))?;
    if pools == 0 && n_swap > 0 {
        return Err(spec.invalid("needs at least 1 pool"));
    }
    let market = Market::plan(pools, n_swap, hot, 1, plan.accounts, &mut plan.rng);

    let mut state = InMemoryState::default();
    for i in 0..plan.accounts {
        state.insert_account(eoa(i), AccountInfo::from_balance(initial_balance()));
    }
    let token = contract(0);
    erc20::deploy_plan_token(&mut state, token, &plan);
    market.deploy(&mut state);

    let (mut next_transfer, mut next_swap) = (0, 0);
    let mut list = Vec::with_capacity(txs);
    for kind in kinds {
        let tx = match kind {
            Kind::Swap => {
                next_swap += 1;
                market.swap_tx(next_swap - 1)
            }
            Kind::Eth | Kind::Erc20 => {
                let t = &plan.transfers[next_transfer];
                next_transfer += 1;
                if kind == Kind::Eth {
                    t.eth_tx(&mut plan.rng)
                } else {
                    erc20::transfer_tx(token, t, &mut plan.rng)
                }
            }
        };
        list.push(tx);
    }
    let [wt, we, wa] = weights;
    let accounts = plan.accounts;
    Ok((
        block(
            format!(
                "mixed:txs={txs},transfers={wt},erc20={we},amm={wa},accounts={accounts},pools={pools},hot={hot}"
            ),
            list,
        ),
        state,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use stmlab::{execute_block, Strategy};

    #[test]
    fn split_is_exact() {
        assert_eq!(split(3000, [1.0, 1.0, 1.0]), [1000, 1000, 1000]);
        assert_eq!(split(10, [1.0, 1.0, 1.0]), [4, 3, 3]);
        assert_eq!(split(7, [0.5, 0.0, 0.25]), [5, 0, 2]);
        assert_eq!(split(5, [0.0, 0.0, 0.3]), [0, 0, 5]);
        assert_eq!(split(0, [1.0, 1.0, 1.0]), [0, 0, 0]);
    }

    #[test]
    fn every_kind_appears_and_succeeds() {
        for (spec, txs) in [
            ("mixed:txs=300", 300),
            ("mixed:txs=300,accounts=100,pools=3,hot=0.3", 300),
            ("mixed:txs=100,transfers=0,erc20=0", 100),
            ("mixed:txs=100,amm=0", 100),
        ] {
            let (block, state) = generate(&WorkloadSpec::parse(spec).unwrap()).unwrap();
            assert_eq!(block.txs.len(), txs);
            let out = execute_block(&block, &state, Strategy::Sequential, 1)
                .unwrap()
                .output;
            for (i, t) in out.txs.iter().enumerate() {
                let r = t
                    .as_ref()
                    .unwrap_or_else(|e| panic!("{spec}: tx {i} rejected: {e}"));
                assert!(r.success, "{spec}: tx {i} reverted");
            }
        }
        let (block, _) = generate(&WorkloadSpec::parse("mixed:txs=300").unwrap()).unwrap();
        let to_token = block
            .txs
            .iter()
            .filter(|t| t.kind.to() == Some(&contract(0)))
            .count();
        let eth = block.txs.iter().filter(|t| t.data.is_empty()).count();
        assert_eq!((eth, to_token), (100, 100));
    }

    #[test]
    fn rejects_bad_knobs() {
        for spec in [
            "mixed:transfers=0,erc20=0,amm=0",
            "mixed:amm=2",
            "mixed:pools=0",
            "mixed:swaps=3",
        ] {
            assert!(
                generate(&WorkloadSpec::parse(spec).unwrap()).is_err(),
                "{spec}"
            );
        }
    }
}
