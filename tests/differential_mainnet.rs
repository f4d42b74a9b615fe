//! The bundled mainnet blocks (Frontier to Cancun): sequential execution reproduces each
//! header's gasUsed, logsBloom and (from Byzantium on) receiptsRoot, and every strategy at
//! every thread count gives exactly the sequential output. Runs repeat, since races show
//! up only sometimes.

mod common;

use std::path::Path;
use std::time::Instant;

use stmlab::evm::header::check_header;
use stmlab::evm::mainnet::{find_block_dirs, load_block_dir};

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

        let expected = common::check_all_strategies(&block, &state, REPEATS);
        let check = check_header(&block, &expected);
        assert!(check.is_match(), "{label}: header check: {check:?}");
        // Every transaction of a mined block is valid.
        for (i, tx) in expected.txs.iter().enumerate() {
            assert!(tx.is_ok(), "{label}: tx {i} rejected: {tx:?}");
        }
    }
    eprintln!(
        "{} blocks, {total_txs} transactions, every strategy: {:.1?}",
        dirs.len(),
        start.elapsed()
    );
}

/// Adaptive mode reads a real block's header: a block of cheap transactions (14396881,
/// 22,303 gas each on average) runs sequentially and says why; a block of costly ones
/// (16257471, 206,815) is not turned away by the header. Both give the sequential output.
#[test]
fn adaptive_mode_reads_the_header_gas() {
    use stmlab::{execute_block, Strategy};
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/mainnet");
    for (number, cheap) in [("14396881", true), ("16257471", false)] {
        let (block, state) = load_block_dir(&root.join(number)).unwrap();
        let expected = execute_block(&block, &state, Strategy::Sequential, 1).unwrap();
        let run = execute_block(&block, &state, Strategy::BlockStm, 2).unwrap();
        assert_eq!(
            run.output.first_difference(&expected.output),
            None,
            "{number}"
        );
        let by_header = run
            .metrics
            .chose_sequential
            .as_deref()
            .is_some_and(|why| why.starts_with("header:"));
        assert_eq!(
            by_header, cheap,
            "{number}: {:?}",
            run.metrics.chose_sequential
        );
    }
}
