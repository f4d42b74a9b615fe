//! What each conflict model removes, on recordings of the production transactions
//! (`stmlab_sim::record_txns` over `EvmTxns` under each model): exact outputs are the
//! differential tests' business (`tests/common`); here, that the finer models really do
//! remove the dependencies they are for, and keep the ones that are real.

use stmlab::evm::executor::EvmTxns;
use stmlab::evm::location::Location;
use stmlab::ConflictModel;
use stmlab_sim::{analyze_with, record_txns, Analysis, RecordOptions};
use stmlab_workloads as workloads;

fn analysis(spec: &str, model: ConflictModel) -> Analysis {
    let spec = workloads::WorkloadSpec::parse(spec).unwrap();
    let (block, state) = workloads::generate(&spec).unwrap();
    let txns = EvmTxns::new(&block, &state).with_conflicts(model);
    let opts = RecordOptions {
        passes: 1,
        strategy_costs: false,
    };
    let (records, _) = record_txns(&txns, &opts).unwrap();
    analyze_with(&block.label, &records, Location::kind)
}

/// ETH transfers to a few hot recipients: under `coarse` and `fields` each transfer to a
/// hot recipient reads the balance the one before wrote; under `deltas` a credit needs no
/// old balance, so what is left are the edges of senders that were paid earlier.
#[test]
fn deltas_remove_the_hot_recipients_edges() {
    let spec = "transfers:txs=2000,accounts=20000,hot=0.3";
    let coarse = analysis(spec, ConflictModel::Coarse);
    let fields = analysis(spec, ConflictModel::Fields);
    let deltas = analysis(spec, ConflictModel::Deltas);
    assert!(coarse.edges > 400, "coarse: {} edges", coarse.edges);
    assert!(fields.edges > 400, "fields: {} edges", fields.edges);
    assert!(
        deltas.edges * 10 < coarse.edges,
        "deltas: {} edges against coarse's {}",
        deltas.edges,
        coarse.edges
    );
    // Counted in transactions: the cost-weighted bound of a block without dependencies is
    // its total cost over its largest transaction's, which one timing hiccup moves.
    assert!(
        deltas.unweighted_bound > 2.0 * coarse.unweighted_bound,
        "deltas: {} against coarse's {}",
        deltas.unweighted_bound,
        coarse.unweighted_bound
    );
    assert_eq!(coarse.edges_by_kind.get("balance"), None);
    assert!(fields
        .edges_by_kind
        .get("balance")
        .is_some_and(|&e| e > 400));
}

/// One sender's chain: its nonce is a real dependency under every model.
#[test]
fn a_senders_chain_stays_a_chain() {
    for model in ConflictModel::ALL {
        let a = analysis("chain:txs=200", model);
        assert!(a.edges >= 199, "{model}: {} edges", a.edges);
        assert!(a.speedup_bound < 1.2, "{model}: bound {}", a.speedup_bound);
    }
}
