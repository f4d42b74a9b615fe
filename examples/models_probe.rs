use stmlab::evm::executor::EvmTxns;
use stmlab::evm::location::Location;
use stmlab::ConflictModel;
use stmlab_sim::{analyze_with, record_txns, Analysis, RecordOptions};
fn main() {
    let mut dirs: Vec<_> = std::fs::read_dir("data/mainnet")
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let blocks: Vec<_> = dirs
        .iter()
        .filter_map(|d| stmlab::evm::mainnet::load_block_dir(d).ok())
        .collect();
    for model in ConflictModel::ALL {
        let opts = RecordOptions {
            passes: 3,
            strategy_costs: false,
        };
        let parts: Vec<Analysis> = blocks
            .iter()
            .filter(|(b, _)| !b.txs.is_empty())
            .map(|(b, s)| {
                let txns = EvmTxns::new(b, s).with_conflicts(model);
                let (r, _) = record_txns(&txns, &opts).unwrap();
                analyze_with(&b.label, &r, Location::kind)
            })
            .collect();
        let a = Analysis::aggregate("mainnet", &parts);
        println!(
            "{model}: bound {:.2} dependent {:.2} edges {} kinds {:?}",
            a.speedup_bound, a.dependent_fraction, a.edges, a.edges_by_kind
        );
    }
}
