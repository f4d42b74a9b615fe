//! The bundled blocks of today's forks (Prague and Osaka, from the Ethereum execution spec
//! tests, `data/forks/`): every block loads, sequential execution reproduces each header,
//! and every strategy at 1, 2, 4 and 8 threads gives exactly the sequential output.

mod common;

use std::path::Path;
use std::time::Instant;

use stmlab::evm::header::check_header;
use stmlab::evm::mainnet::{find_block_dirs, load_block_dir};

const REPEATS: usize = 2;

/// Every block of `data/forks/<folder>`, checked; returns how many there were.
fn check_folder(folder: &str) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/forks")
        .join(folder);
    let dirs = find_block_dirs(&root).unwrap_or_else(|e| panic!("{e}"));
    let start = Instant::now();
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_string_lossy();
        let (block, state) = load_block_dir(dir).unwrap_or_else(|e| panic!("{e}"));
        let expected = common::check_all_strategies(&block, &state, REPEATS);
        let check = check_header(&block, &expected.txs);
        assert!(check.is_match(), "{name}: header check: {check}");
    }
    eprintln!(
        "data/forks/{folder}: {} blocks, every strategy: {:.1?}",
        dirs.len(),
        start.elapsed()
    );
    dirs.len()
}

#[test]
fn fork_blocks_match_headers_and_sequential() {
    assert_eq!(check_folder("blocks"), 355);
}
