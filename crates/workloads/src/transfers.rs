//! `transfers`: plain ETH transfers, planned by `pairs.rs` (its knobs). Every account
//! exists with a balance. `senders=N` (hot senders) draws each transfer's sender from the
//! first `N` accounts, so a sender's transfers form a nonce chain, e.g.
//! `transfers:txs=10000,accounts=100000,senders=100`.

use revm::state::AccountInfo;

use super::common::{block, eoa, initial_balance};
use super::pairs::Plan;
use super::spec::{SpecError, WorkloadSpec};
use stmlab::evm::block::Block;
use stmlab::evm::state::InMemoryState;

pub fn generate(spec: &WorkloadSpec) -> Result<(Block, InMemoryState), SpecError> {
    let mut plan = Plan::from_spec(spec)?;
    let mut state = InMemoryState::default();
    for i in 0..plan.accounts {
        state.insert_account(eoa(i), AccountInfo::from_balance(initial_balance()));
    }
    let list = plan
        .transfers
        .iter()
        .map(|t| t.eth_tx(&mut plan.rng))
        .collect();
    let (txs, accounts, hot) = (plan.txs, plan.accounts, plan.hot);
    let senders = plan
        .hot_senders
        .map_or(String::new(), |n| format!(",senders={n}"));
    Ok((
        block(
            format!("transfers:txs={txs},accounts={accounts},hot={hot}{senders}"),
            list,
        ),
        state,
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::*;

    fn generate_spec(text: &str) -> Result<(Block, InMemoryState), SpecError> {
        generate(&WorkloadSpec::parse(text)?)
    }

    /// `senders=N`: every sender is one of the first `N` accounts, and each sender's
    /// transactions carry the nonces 0, 1, 2, ... in block order (a nonce chain).
    #[test]
    fn hot_senders_chain_their_nonces() {
        let (block, _) = generate_spec("transfers:txs=300,accounts=3000,senders=10").unwrap();
        assert_eq!(
            block.label,
            "transfers:txs=300,accounts=3000,hot=0,senders=10"
        );
        let allowed: HashSet<_> = (0..10).map(eoa).collect();
        let mut next: HashMap<_, u64> = HashMap::new();
        for tx in &block.txs {
            assert!(allowed.contains(&tx.caller), "sender {} not hot", tx.caller);
            let nonce = next.entry(tx.caller).or_default();
            assert_eq!(tx.nonce, *nonce, "nonces of {} out of sequence", tx.caller);
            *nonce += 1;
        }
        // 300 transactions over 10 senders: every sender reused.
        assert!(next.values().all(|&n| n > 1), "{next:?}");
        assert_eq!(next.values().sum::<u64>(), 300);
    }

    /// Without the knob, senders are distinct accounts (one transaction each) and the
    /// label does not name the knob.
    #[test]
    fn without_hot_senders_each_sender_sends_once() {
        let (block, _) = generate_spec("transfers:txs=300,accounts=3000").unwrap();
        assert_eq!(block.label, "transfers:txs=300,accounts=3000,hot=0");
        let senders: HashSet<_> = block.txs.iter().map(|t| t.caller).collect();
        assert_eq!(senders.len(), 300);
        assert!(block.txs.iter().all(|t| t.nonce == 0));
    }

    #[test]
    fn hot_senders_out_of_range_are_refused() {
        for spec in [
            "transfers:txs=10,accounts=100,senders=0",
            "transfers:txs=10,accounts=100,senders=101",
            "transfers:txs=10,accounts=100,senders=many",
        ] {
            assert!(generate_spec(spec).is_err(), "{spec}");
        }
    }
}
