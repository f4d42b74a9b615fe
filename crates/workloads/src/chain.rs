//! `chain`: the worst case, every transaction depends on the one before it.
//!
//! One sender sends `txs` transfers with consecutive nonces: transaction `i` reads the
//! nonce and balance that transaction `i - 1` wrote. Knobs: `txs` (default 1000), `seed`.

use revm::primitives::{Bytes, U256};
use revm::state::AccountInfo;

use super::common::{block, eoa, initial_balance, tx, Rng};
use super::spec::{SpecError, WorkloadSpec};
use stmlab::evm::block::Block;
use stmlab::evm::state::InMemoryState;

pub const KNOBS: &[&str] = &["txs", "seed"];

pub fn generate(spec: &WorkloadSpec) -> Result<(Block, InMemoryState), SpecError> {
    spec.check_knobs(KNOBS)?;
    let txs = spec.usize("txs", 1000)?;
    let mut rng = Rng::new(spec.u64("seed", 1)?);
    let mut state = InMemoryState::default();
    state.insert_account(eoa(0), AccountInfo::from_balance(initial_balance()));
    let list = (0..txs)
        .map(|i| {
            let value = U256::from(1 + rng.below(1_000_000));
            tx(eoa(0), eoa(1 + i), value, Bytes::new(), i as u64, 21_000)
        })
        .collect();
    Ok((block(format!("chain:txs={txs}"), list), state))
}
