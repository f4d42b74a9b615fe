//! Who sends to whom: the sender/recipient plan that `transfers` and `erc20` share.
//!
//! Knobs: `txs` (default 1000), `accounts` (default 10 x txs), `hot` (fraction of
//! transactions whose recipient is in a hot set, default 0), `hot_accounts` (size of the
//! hot set, the last accounts, default 4), `senders` (hot senders: each transaction's
//! sender drawn, seeded, from accounts `0..senders`, so a sender's transactions form a
//! nonce chain; default: no draw, as below), `seed` (default 1).
//! Without `senders`, senders are accounts `0..txs` (wrapping when `accounts < txs`, which
//! chains the nonces of a reused sender); a cold recipient comes from a seeded permutation of the accounts
//! that send nothing, so with `hot=0` and enough accounts no two transactions touch the
//! same account.

use revm::context::TxEnv;
use revm::primitives::{Bytes, U256};

use super::common::{eoa, tx, Rng};
use super::spec::{SpecError, WorkloadSpec};

pub const KNOBS: &[&str] = &["txs", "accounts", "hot", "hot_accounts", "senders", "seed"];

/// One planned transfer.
#[derive(Clone, Copy, Debug)]
pub struct Transfer {
    pub sender: usize,
    pub recipient: usize,
    pub nonce: u64,
}

impl Transfer {
    /// This transfer as a plain ETH transfer of 1 to 10^9 wei drawn from `rng` (what
    /// `transfers` sends).
    pub fn eth_tx(&self, rng: &mut Rng) -> TxEnv {
        let value = U256::from(1 + rng.below(1_000_000_000));
        tx(
            eoa(self.sender),
            eoa(self.recipient),
            value,
            Bytes::new(),
            self.nonce,
            21_000,
        )
    }
}

pub struct Plan {
    pub txs: usize,
    pub accounts: usize,
    pub hot: f64,
    /// Accounts `0..senders` send.
    pub senders: usize,
    /// The `senders` knob when given: senders drawn from `0..senders` (hot senders).
    pub hot_senders: Option<usize>,
    pub transfers: Vec<Transfer>,
    /// The generator, positioned after the plan, for the workload's own draws.
    pub rng: Rng,
}

impl Plan {
    /// The plan of a `transfers` or `erc20` spec: checks the knobs, then [`Plan::build`]
    /// with `txs` and an RNG seeded from `seed`.
    pub fn from_spec(spec: &WorkloadSpec) -> Result<Self, SpecError> {
        spec.check_knobs(KNOBS)?;
        let txs = spec.usize("txs", 1000)?;
        let rng = Rng::new(spec.u64("seed", 1)?);
        Self::build(spec, txs, rng)
    }

    /// Plans `txs` transfers with `spec`'s `accounts`, `hot`, `hot_accounts` and `senders` knobs
    /// (defaults as above, `accounts` from this `txs`), drawing from `rng`. Checks no
    /// knob: the caller does, so a workload that embeds this plan (`mixed`) has its own list.
    pub fn build(spec: &WorkloadSpec, txs: usize, mut rng: Rng) -> Result<Self, SpecError> {
        let accounts = spec.usize("accounts", txs.saturating_mul(10).max(2))?;
        let hot = spec.fraction("hot", 0.0)?;
        let hot_accounts = spec.usize("hot_accounts", 4)?;
        if accounts < 2 {
            return Err(spec.invalid("needs at least 2 accounts"));
        }
        if hot > 0.0 && (hot_accounts == 0 || hot_accounts >= accounts) {
            return Err(spec.invalid("hot_accounts must be between 1 and accounts - 1"));
        }
        let hot_senders = spec.optional_usize("senders")?;
        if let Some(n) = hot_senders {
            if n == 0 || n > accounts {
                return Err(spec.invalid("senders must be between 1 and accounts"));
            }
        }
        let senders = hot_senders.unwrap_or(txs.min(accounts));
        let cold: Vec<usize> = if senders < accounts {
            rng.permutation(accounts - senders)
                .into_iter()
                .map(|i| senders + i)
                .collect()
        } else {
            rng.permutation(accounts)
        };
        let mut nonces = vec![0u64; senders];
        let mut transfers = Vec::with_capacity(txs);
        for i in 0..txs {
            let sender = match hot_senders {
                Some(n) => rng.below(n as u64) as usize,
                None => i % senders,
            };
            let recipient = if rng.chance(hot) {
                accounts - 1 - rng.below(hot_accounts as u64) as usize
            } else {
                let r = cold[i % cold.len()];
                if r == sender {
                    (r + 1) % accounts
                } else {
                    r
                }
            };
            transfers.push(Transfer {
                sender,
                recipient,
                nonce: nonces[sender],
            });
            nonces[sender] += 1;
        }
        Ok(Self {
            txs,
            accounts,
            hot,
            senders,
            hot_senders,
            transfers,
            rng,
        })
    }
}
