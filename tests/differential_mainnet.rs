//! The bundled mainnet blocks (Frontier to Cancun): sequential execution reproduces each
//! header's gasUsed, logsBloom and (from Byzantium on) receiptsRoot, and every strategy at
//! every thread count gives exactly the sequential output. Runs repeat, since races show
//! up only sometimes.

use std::path::Path;
use std::time::Instant;

use stmlab::evm::header::check_header;
use stmlab::evm::mainnet::{find_block_dirs, load_block_dir};
use stmlab::{execute_block, Strategy};

const THREADS: [usize; 4] = [1, 2, 4, 8];
const REPEATS: usize = 2;
const BUNDLED_BLOCKS: usize = 32;

#[test]
fn mainnet_blocks_match_headers_and_sequential() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/mainnet");
    let dirs = find_block_dirs(&root).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        dirs.len(),
        BUNDLED_BLOCKS,
        "bundled blocks under {}",
        root.display()
    );
    let start = Instant::now();
    let mut total_txs = 0;
    for dir in &dirs {
        let (block, state) = load_block_dir(dir).unwrap_or_else(|e| panic!("{e}"));
        let label = &block.label;
        assert!(
            block.header.is_some(),
            "{label}: a real block carries its header"
        );
        total_txs += block.txs.len();

        let expected = execute_block(&block, &state, Strategy::Sequential, 1)
            .unwrap_or_else(|e| panic!("{label}: sequential: {e}"))
            .output;
        assert_eq!(expected.txs.len(), block.txs.len(), "{label}");
        let check = check_header(&block, &expected.txs);
        assert!(check.is_match(), "{label}: header check: {check:?}");
        // Every transaction of a mined block is valid.
        for (i, tx) in expected.txs.iter().enumerate() {
            assert!(tx.is_ok(), "{label}: tx {i} rejected: {tx:?}");
        }

        for &strategy in Strategy::ALL.iter().filter(|s| **s != Strategy::Sequential) {
            for threads in THREADS {
                for repeat in 0..REPEATS {
                    let got = execute_block(&block, &state, strategy, threads)
                        .unwrap_or_else(|e| panic!("{label}: {strategy} at {threads}: {e}"));
                    if let Some(diff) = got.output.first_difference(&expected) {
                        panic!(
                            "{label}: {strategy} at {threads} threads (repeat {repeat}): {diff}"
                        );
                    }
                    assert!(
                        got.output == expected,
                        "{label}: {strategy} at {threads} threads (repeat {repeat}): outputs differ"
                    );
                    assert!(
                        got.metrics.fell_back.is_none(),
                        "{label}: {strategy} at {threads} threads fell back: {:?}",
                        got.metrics.fell_back
                    );
                }
            }
        }
    }
    eprintln!(
        "{} blocks, {total_txs} transactions, every strategy: {:.1?}",
        dirs.len(),
        start.elapsed()
    );
}
