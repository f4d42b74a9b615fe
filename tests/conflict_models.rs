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

/// A transaction that creates and then fails ends with its creator's nonce unchanged, but
/// the address it created at came from that nonce: the nonce must be read (recorded), or a
/// run that peeked a stale nonce validates. Block 2462997 under London (a fuzz case: one
/// contract creates in each of six transactions): transaction 3 run with transaction 2's
/// writes visible except the creator's new nonce (what a parallel execution can see while
/// 2's nonce write is not yet there) creates at 2's address, collides and fails; its read
/// set must hold the creator's nonce, so that validation sees the nonce 2 wrote.
#[test]
fn a_failed_creation_reads_its_creators_nonce() {
    use std::collections::HashMap;
    use stmlab::core::read_set::{ReadSet, RecordingView};
    use stmlab::core::txn::{Execution, ReadResult, TxnExecutor, Version};
    use stmlab::evm::location::EvmValue;
    use stmlab::evm::mainnet::load_block_dir;

    let dir = std::env::temp_dir().join(format!("stmlab-create-nonce-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/mainnet/2462997");
    for entry in std::fs::read_dir(&src).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    std::fs::write(dir.join("spec.txt"), "London").unwrap();
    let (block, state) = load_block_dir(&dir).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let creator = Location::Nonce(
        "0x7c20218efc2e07c8fe2532ff860d4a5d8287cb31"
            .parse()
            .unwrap(),
    );
    for model in [ConflictModel::Fields, ConflictModel::Deltas] {
        let txns = EvmTxns::new(&block, &state).with_conflicts(model);
        // Every write so far, per key in block order: a read by `t`, or below `t`, finds
        // the last one before `t`; `hidden` keys read as before the block.
        let mut written: HashMap<Location, Vec<(usize, EvmValue)>> = HashMap::new();
        for idx in 0..4 {
            let hidden = if idx == 3 { Some(&creator) } else { None };
            let mut reads = ReadSet::for_execution();
            let execution = {
                let resolve = |key: &Location, below: Option<usize>| -> ReadResult<EvmValue> {
                    let bound = below.map_or(idx, |b| b.min(idx));
                    let last = written
                        .get(key)
                        .filter(|_| hidden != Some(key))
                        .and_then(|w| w.iter().rev().find(|(t, _)| *t < bound));
                    match last {
                        Some((t, value)) => ReadResult::Written {
                            version: Version::new(*t, 0),
                            value: value.clone(),
                        },
                        None => ReadResult::Base,
                    }
                };
                let mut view = RecordingView::new(resolve, &mut reads);
                txns.execute(idx, &mut view)
            };
            let Execution::Done { output, writes } = execution else {
                panic!("{model}: transaction {idx} did not run to its end");
            };
            let success = output.as_ref().is_ok_and(|s| s.success);
            if idx < 3 {
                assert!(success, "{model}: transaction {idx} failed in block order");
            } else {
                // The stale nonce gives 2's address: the creation collides.
                assert!(!success, "{model}: the stale creation did not fail");
                assert!(
                    reads.iter().any(|(key, _)| *key == creator),
                    "{model}: the failed creation did not read its creator's nonce"
                );
            }
            for (key, value) in writes {
                written.entry(key).or_default().push((idx, value));
            }
        }
    }
}
