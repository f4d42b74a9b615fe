//! Models of the DAG strategy's dependency graph (`stmlab_core::dep_graph`): concurrent
//! commits and wake-ups of dependents, 2 workers, 3 transactions.
#![cfg(all(stmlab_loom, not(stmlab_mutant_double_abort)))]

use loom_tests::fixtures::commit_with_two_workers;

/// Transaction 2 depends on both 0 and 1, which two workers commit concurrently: 2 is
/// released exactly once, after both, and no worker waits forever.
#[test]
fn concurrent_commits_release_a_dependent_once() {
    loom::model(|| {
        let (g, log) = commit_with_two_workers(vec![vec![], vec![], vec![0, 1]]);
        assert_eq!(log.len(), 3, "{log:?}");
        assert_eq!(log.iter().filter(|&&j| j == 2).count(), 1, "{log:?}");
        assert_eq!(log.last(), Some(&2), "{log:?}");
        assert!(g.is_done());
    });
}

/// A chain 0 -> 1 -> 2: each wake-up reaches a waiting worker.
#[test]
fn chain_wakes_waiting_worker() {
    loom::model(|| {
        let (_, log) = commit_with_two_workers(vec![vec![], vec![0], vec![1]]);
        assert_eq!(log, vec![0, 1, 2]);
    });
}
