//! `transfers`: plain ETH transfers.
//!
//! Knobs: `txs` (default 1000), `accounts` (default 10 x txs), `hot` (fraction of
//! transactions whose recipient is in a hot set, default 0), `hot_accounts` (size of the
//! hot set, default 4), `seed` (default 1).
//! Senders are accounts `0..txs` (wrapping when `accounts < txs`, which chains the
//! nonces of a reused sender); a cold recipient is drawn by a seeded permutation of the
//! other accounts, so with `hot=0` and enough accounts no two transactions touch the same
//! account.

use revm::primitives::{Bytes, U256};
use revm::state::AccountInfo;

use super::common::{block, eoa, initial_balance, tx, Rng};
use super::spec::{SpecError, WorkloadSpec};
use crate::evm::block::Block;
use crate::evm::state::InMemoryState;

pub const KNOBS: &[&str] = &["txs", "accounts", "hot", "hot_accounts", "seed"];

pub fn generate(spec: &WorkloadSpec) -> Result<(Block, InMemoryState), SpecError> {
    spec.check_knobs(KNOBS)?;
    let txs = spec.usize("txs", 1000)?;
    let accounts = spec.usize("accounts", txs.saturating_mul(10).max(2))?;
    let hot = spec.fraction("hot", 0.0)?;
    let hot_accounts = spec.usize("hot_accounts", 4)?;
    let mut rng = Rng::new(spec.u64("seed", 1)?);
    if accounts < 2 {
        return Err(spec.invalid("needs at least 2 accounts"));
    }
    if hot > 0.0 && (hot_accounts == 0 || hot_accounts >= accounts) {
        return Err(spec.invalid("hot_accounts must be between 1 and accounts - 1"));
    }

    let mut state = InMemoryState::default();
    for i in 0..accounts {
        state.insert_account(eoa(i), AccountInfo::from_balance(initial_balance()));
    }
    let senders = txs.min(accounts);
    // Cold recipients: the accounts that send nothing, in seeded order (all accounts when
    // every account sends).
    let cold: Vec<usize> = if senders < accounts {
        rng.permutation(accounts - senders)
            .into_iter()
            .map(|i| senders + i)
            .collect()
    } else {
        rng.permutation(accounts)
    };
    let mut nonces = vec![0u64; senders];
    let mut list = Vec::with_capacity(txs);
    for i in 0..txs {
        let sender = i % senders;
        let recipient = if rng.chance(hot) {
            accounts - 1 - rng.below(hot_accounts as u64) as usize
        } else {
            let mut r = cold[i % cold.len()];
            if r == sender {
                r = (r + 1) % accounts;
            }
            r
        };
        let value = U256::from(1 + rng.below(1_000_000_000));
        list.push(tx(
            eoa(sender),
            eoa(recipient),
            value,
            Bytes::new(),
            nonces[sender],
            21_000,
        ));
        nonces[sender] += 1;
    }
    Ok((
        block(
            format!("transfers:txs={txs},accounts={accounts},hot={hot}"),
            list,
        ),
        state,
    ))
}
