//! Generated workloads, deterministic from a seed, with knobs for size and contention.
pub mod amm;
pub mod chain;
pub mod common;
pub mod compute;
pub mod erc20;
pub mod mixed;
pub mod pairs;
pub mod spec;
pub mod transfers;

pub use spec::{SpecError, WorkloadSpec};

use stmlab::evm::block::Block;
use stmlab::evm::state::InMemoryState;

/// Memory a generated block may need per transaction, at most, while any strategy runs
/// it (the block, its share of the pre-state, and the heaviest strategy's structures):
/// 10,000 ERC-20 transfers over 100,000 accounts peak at 21 MiB sequentially and 2.6
/// times that under `dag`, about 5.5 KiB a transaction.
const BYTES_PER_TX: u64 = 8 * 1024;

/// The same for each account or pool of the pre-state beyond the transactions' own.
const BYTES_PER_ACCOUNT: u64 = 1024;

/// Builds the block and pre-state a spec describes. A spec whose sizes this machine
/// cannot hold is refused before anything is allocated, rather than killed by the
/// kernel halfway through.
pub fn generate(spec: &WorkloadSpec) -> Result<(Block, InMemoryState), SpecError> {
    check_size(spec, available_memory())?;
    match spec.name.as_str() {
        "transfers" => transfers::generate(spec),
        "erc20" => erc20::generate(spec),
        "chain" => chain::generate(spec),
        "amm" => amm::generate(spec),
        "compute" => compute::generate(spec),
        "mixed" => mixed::generate(spec),
        other => Err(SpecError::UnknownWorkload(other.into())),
    }
}

/// Refuses a spec whose transactions, accounts and pools need more than `available`
/// bytes (no check when the machine does not say what it has).
fn check_size(spec: &WorkloadSpec, available: Option<u64>) -> Result<(), SpecError> {
    let Some(available) = available else {
        return Ok(());
    };
    let txs = spec.usize("txs", 0)? as u64;
    let accounts = spec.usize("accounts", 0)? as u64;
    let pools = spec.usize("pools", 0)? as u64;
    let need = txs.saturating_mul(BYTES_PER_TX).saturating_add(
        accounts
            .saturating_add(pools)
            .saturating_mul(BYTES_PER_ACCOUNT),
    );
    if need > available {
        let sizes: Vec<String> = [
            (txs, "transactions"),
            (accounts, "accounts"),
            (pools, "pools"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        return Err(spec.invalid(format!(
            "{} need about {:.1} GiB, more than the {:.1} GiB this machine has available",
            sizes.join(", "),
            need as f64 / GIB,
            available as f64 / GIB
        )));
    }
    Ok(())
}

const GIB: f64 = (1u64 << 30) as f64;

/// The memory the system says it can give this process (`MemAvailable` of
/// `/proc/meminfo`), when it says.
fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib.saturating_mul(1024))
}

/// Parses and builds in one step.
pub fn from_spec(text: &str) -> Result<(Block, InMemoryState), SpecError> {
    generate(&WorkloadSpec::parse(text)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_beyond_the_machine_are_refused_before_generating() {
        let spec = WorkloadSpec::parse("transfers:txs=100000000000").unwrap();
        let refused = check_size(&spec, Some(24 << 30)).unwrap_err();
        assert!(
            refused.to_string().contains("more than the 24.0 GiB"),
            "{refused}"
        );
        // Accounts and pools count too; a block this machine holds passes.
        let spec = WorkloadSpec::parse("amm:txs=10,pools=100000000000").unwrap();
        assert!(check_size(&spec, Some(24 << 30)).is_err());
        let spec = WorkloadSpec::parse("erc20:txs=10000,accounts=100000").unwrap();
        assert_eq!(check_size(&spec, Some(24 << 30)), Ok(()));
        // Without a figure from the system, nothing is refused.
        let spec = WorkloadSpec::parse("transfers:txs=100000000000").unwrap();
        assert_eq!(check_size(&spec, None), Ok(()));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_real_check_runs_in_generate() {
        // This machine has far less than the 745 TiB this needs.
        let err = from_spec("transfers:txs=100000000000").unwrap_err();
        assert!(
            err.to_string().contains("GiB this machine has available"),
            "{err}"
        );
    }
}
