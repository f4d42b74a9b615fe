//! The bundled blocks of today's forks (Prague and Osaka, from the Ethereum execution spec
//! tests, `data/forks/`, README there), both folders: every block loads; sequential
//! execution, with the steps around the transactions (the EIP-4788 and EIP-2935 system
//! calls before them; withdrawals and the EIP-7002/7251 request dequeues after them),
//! reproduces each header (gasUsed, logsBloom, receiptsRoot, requestsHash) and, where the
//! folder has one, the expected full post-state; and every strategy at 1, 2, 4 and 8
//! threads gives exactly the sequential output.

mod common;

use std::path::Path;
use std::time::Instant;

use stmlab::evm::header::check_header;
use stmlab::evm::mainnet::{find_block_dirs, load_block_dir, load_post_state};
use stmlab::evm::post_state::check_post_state;

const REPEATS: usize = 2;

/// Every block of `data/forks/<folder>`, checked; returns how many blocks there were and
/// how many of them had a post-state.
fn check_folder(folder: &str) -> (usize, usize) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/forks")
        .join(folder);
    let dirs = find_block_dirs(&root).unwrap_or_else(|e| panic!("{e}"));
    let start = Instant::now();
    let mut post_states = 0;
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_string_lossy();
        let (block, state) = load_block_dir(dir).unwrap_or_else(|e| panic!("{e}"));
        let expected = common::check_all_strategies(&block, &state, REPEATS);
        let check = check_header(&block, &expected);
        assert!(check.is_match(), "{name}: header check: {check}");
        assert!(!check.rewards_incomplete(), "{name}");
        if let Some(post) = load_post_state(dir).unwrap_or_else(|e| panic!("{e}")) {
            if let Some(difference) = check_post_state(&state, &expected.state, &post, block.spec) {
                panic!("{name}: post-state: {difference}");
            }
            post_states += 1;
        }
    }
    eprintln!(
        "data/forks/{folder}: {} blocks ({post_states} with a post-state), every strategy: {:.1?}",
        dirs.len(),
        start.elapsed()
    );
    (dirs.len(), post_states)
}

#[test]
fn fork_blocks_match_headers_post_states_and_sequential() {
    let (blocks, with_post) = check_folder("blocks");
    assert_eq!(blocks, 355);
    let (system, with_post_system) = check_folder("needs_system_calls");
    assert_eq!(system, 38);
    // The README's count of blocks with a post_state.json.
    assert_eq!(with_post + with_post_system, 350);
}
