//! The Prague blocks of the execution spec tests (`/work/shared/forks`, see its README):
//! with the steps around the transactions (the EIP-4788 and EIP-2935 system calls before
//! them; withdrawals and the EIP-7002/7251 request dequeues after them), sequential
//! execution and every strategy at 1 and 2 threads reproduce each header (gasUsed,
//! logsBloom, receiptsRoot, requestsHash) and, where the folder has one, the expected
//! full post-state. Osaka blocks are skipped (this branch does not load them). The test
//! is skipped, saying so, when the folder is missing.

use std::fs;
use std::path::{Path, PathBuf};

use stmlab::evm::header::check_header;
use stmlab::evm::mainnet::{find_block_dirs, load_block_dir, load_post_state};
use stmlab::evm::post_state::check_post_state;
use stmlab::{Executor, Options, Strategy};

const FORKS: &str = "/work/shared/forks";

/// The Prague block folders of `folder`.
fn prague_dirs(folder: &str) -> Vec<PathBuf> {
    let root = Path::new(FORKS).join(folder);
    find_block_dirs(&root)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .filter(|d| fs::read_to_string(d.join("spec.txt")).is_ok_and(|s| s.trim() == "Prague"))
        .collect()
}

#[test]
fn prague_spec_test_blocks_match_header_and_post_state() {
    if !Path::new(FORKS).is_dir() {
        eprintln!("SKIPPED: {FORKS} is missing, no spec-test block checked");
        return;
    }
    let executors: Vec<Executor> = [1, 2]
        .iter()
        .map(|&t| Executor::with_options(t, Options { adaptive: false }).unwrap())
        .collect();
    let (mut blocks, mut post_states) = (0, 0);
    for folder in ["blocks", "needs_system_calls"] {
        for dir in prague_dirs(folder) {
            let name = dir.display().to_string();
            let (block, pre) = load_block_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
            let expected_post = load_post_state(&dir).unwrap_or_else(|e| panic!("{e}"));
            let reference = stmlab::execute_block(&block, &pre, Strategy::Sequential, 1)
                .unwrap_or_else(|e| panic!("{name}: {e}"))
                .output;
            let check = check_header(&block, &reference);
            assert!(check.is_match(), "{name}: {check}");
            assert!(!check.rewards_incomplete(), "{name}");
            if let Some(post) = &expected_post {
                if let Some(difference) = check_post_state(&pre, &reference.state, post, block.spec)
                {
                    panic!("{name}: post-state: {difference}");
                }
                post_states += 1;
            }
            for executor in &executors {
                for &strategy in Strategy::ALL {
                    let run = executor
                        .execute(&block, &pre, strategy)
                        .unwrap_or_else(|e| panic!("{name}: {strategy}: {e}"));
                    assert_eq!(
                        run.output.first_difference(&reference),
                        None,
                        "{name}: {strategy} at {} threads",
                        executor.threads()
                    );
                    assert_eq!(run.output, reference, "{name}: {strategy}");
                }
            }
            blocks += 1;
        }
    }
    eprintln!("{blocks} Prague blocks, {post_states} with a post-state: all match");
    assert_eq!(blocks, 128 + 16, "Prague blocks in {FORKS}");
}
