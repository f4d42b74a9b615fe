//! Mock blocks with teeth (`core::mock::Teeth`: transactions of random length, reading
//! what they write, crowding one hot key, crediting keys by deltas and resolving their
//! chains) through every strategy and both memories,
//! under perturbed schedules when built with `--features perturb` (`crates/core/src/perturb.rs`), and
//! the `stress` command end to end.

use std::process::Command;
use std::sync::Mutex;

use proptest::prelude::*;
use stmlab::core::metrics::Metrics;
use stmlab::core::mock::{same_results, MockBlock, Teeth};
use stmlab::core::mvmemory::locked::LockedMvMemory;
use stmlab::core::mvmemory::lockfree::LockFreeMvMemory;
use stmlab::perturb;
use stmlab::strategies::{block_stm, dag, sv};

/// The perturbation settings are process-wide: the tests that set them take turns.
static PERTURB: Mutex<()> = Mutex::new(());

fn check_all(block: &MockBlock, threads: usize) {
    let expected = block.sequential();
    let mut m = Metrics::default();
    let got = block_stm::execute::<_, LockFreeMvMemory<u64, u64>>(block, threads, &mut m).unwrap();
    assert!(
        same_results(&got, &expected),
        "lock-free block-stm, {threads} threads"
    );
    let got = block_stm::execute::<_, LockedMvMemory<u64, u64>>(block, threads, &mut m).unwrap();
    assert!(
        same_results(&got, &expected),
        "locked block-stm, {threads} threads"
    );
    let got = dag::execute(block, threads, &mut m).unwrap();
    assert!(same_results(&got, &expected), "dag, {threads} threads");
    let got = sv::execute(block, threads, &mut m).unwrap();
    assert!(same_results(&got, &expected), "sv, {threads} threads");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn blocks_with_teeth_equal_sequential_under_perturbation(
        n in 20usize..600,
        keys in 2u64..40,
        hot in 0u64..70,
        read_own_writes in 0u64..100,
        max_spin in 0u32..20_000,
        threads in 1usize..9,
        seed in any::<u64>(),
        deltas in prop_oneof![Just(0u64), 1u64..80],
    ) {
        let _turn = PERTURB.lock().unwrap_or_else(|e| e.into_inner());
        perturb::configure(Some(seed));
        let teeth = Teeth { max_spin, read_own_writes, hot, deltas };
        check_all(&MockBlock::generate_with(n, keys, seed, teeth), threads);
        perturb::configure(None);
    }
}

/// Nearly every transaction reads and writes one hot key, each spinning: whenever two
/// workers overlap, later transactions fail validation over and over. (How often they
/// overlap is up to the machine: one worker may run the block alone. The block's shape is
/// asserted, the conflicts are not.)
#[test]
fn a_hot_key_block_matches_sequential() {
    let _turn = PERTURB.lock().unwrap_or_else(|e| e.into_inner());
    for seed in 0..3 {
        perturb::configure(Some(seed));
        let teeth = Teeth {
            max_spin: 5_000,
            read_own_writes: 100,
            hot: 90,
            deltas: 0,
        };
        let block = MockBlock::generate_with(400, 8, seed, teeth);
        let on_hot = block
            .txns
            .iter()
            .filter(|t| t.reads.contains(&0) && t.write_variants.iter().any(|w| w.contains(&0)))
            .count();
        assert!(
            on_hot > 200,
            "{on_hot} of 400 transactions read and write key 0"
        );
        let mut m = Metrics::default();
        let got = block_stm::execute::<_, LockFreeMvMemory<u64, u64>>(&block, 4, &mut m).unwrap();
        assert!(same_results(&got, &block.sequential()), "{m:?}");
        check_all(&block, 3);
    }
    perturb::configure(None);
}

/// With perturbation built in, a cancelled run unwinds from its next perturbation point,
/// the strategy returns an error (no hang), and Block-STM notes where its scheduler stood.
#[cfg(feature = "perturb")]
#[test]
fn a_cancelled_run_stops_and_notes_the_scheduler_state() {
    use std::convert::Infallible;
    use stmlab::core::txn::{Execution, ReadResult, StateView, TxnExecutor, TxnIndex};
    /// Transaction 1 never ends on its own: it reads its key again and again.
    struct Endless;
    impl TxnExecutor for Endless {
        type Key = u64;
        type Value = u64;
        type Output = ();
        type Error = Infallible;
        fn num_txns(&self) -> usize {
            3
        }
        fn execute<S: StateView<u64, u64>>(
            &self,
            i: TxnIndex,
            view: &mut S,
        ) -> Execution<u64, u64, (), Infallible> {
            loop {
                let _ = matches!(view.read(&7), ReadResult::Base);
                if i != 1 {
                    return Execution::Done {
                        writes: vec![(i as u64, 1)],
                        output: (),
                    };
                }
            }
        }
    }
    let _turn = PERTURB.lock().unwrap_or_else(|e| e.into_inner());
    perturb::configure(Some(1));
    let canceller = std::thread::spawn(|| {
        std::thread::sleep(std::time::Duration::from_millis(200));
        perturb::cancel();
    });
    let mut m = Metrics::default();
    let outcome = block_stm::execute::<_, LockFreeMvMemory<u64, u64>>(&Endless, 2, &mut m);
    canceller.join().unwrap();
    assert!(outcome.is_err(), "a cancelled run is an error");
    let state = perturb::take_state().expect("the scheduler's state was noted");
    assert!(state.contains("execution index"), "{state}");
    assert!(
        state.contains("1: "),
        "transaction 1 is named among the unfinished: {state}"
    );
    perturb::configure(None);
}

fn stmlab(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_stmlab"))
        .args(args)
        .output()
        .expect("the stmlab binary runs")
}

#[test]
fn stress_command_runs_and_reports() {
    let out = stmlab(&[
        "stress",
        "--workload",
        "chain:txs=40",
        "--workload",
        "erc20:txs=60,accounts=80,hot=0.4",
        "--runs",
        "30",
        "--seed",
        "5",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("stress: 30 runs"), "{stdout}");
    assert!(
        stdout.contains("mismatches: 0, hangs: 0, errors: 0"),
        "{stdout}"
    );
}

/// A run slower than the stall limit is reported as a hang, with the seed and a command
/// that reproduces it, and the command exits 1 after going on with the remaining runs.
#[test]
fn stress_command_reports_a_stalled_run_and_goes_on() {
    let out = stmlab(&[
        "stress",
        "--workload",
        "transfers:txs=3000",
        "--strategy",
        "block-stm",
        "--threads",
        "2",
        "--runs",
        "2",
        "--stall-seconds",
        "0.000001",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("HANG at run 0"), "{stderr}");
    assert!(
        stderr.contains("reproduce: cargo run --release"),
        "{stderr}"
    );
    assert!(stderr.contains("--seed 1"), "{stderr}");
    assert!(stdout.contains("stress: 2 runs"), "{stdout}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn stress_command_rejects_bad_arguments() {
    for (args, expected) in [
        (&["stress"][..], "give --block PATH or --workload SPEC"),
        (
            &["stress", "--workload", "chain:txs=5", "--runs", "0"][..],
            "--runs must be at least 1",
        ),
        (
            &["stress", "--workload", "chain:txs=5", "--threads", "0"][..],
            "at least 1",
        ),
        (
            &[
                "stress",
                "--workload",
                "chain:txs=5",
                "--strategy",
                "sequential",
            ][..],
            "parallel strategy",
        ),
        (
            &[
                "stress",
                "--workload",
                "chain:txs=5",
                "--stall-seconds",
                "0",
            ][..],
            "--stall-seconds",
        ),
    ] {
        let out = stmlab(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}: {stderr}");
        assert_ne!(out.status.code(), Some(101), "{args:?} panicked: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[test]
fn fuzz_command_finds_every_case_clear_or_identical() {
    let out = stmlab(&[
        "fuzz",
        "--block",
        "data/mainnet",
        "--cases",
        "400",
        "--seed",
        "77",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("fuzz: 400 cases"), "{stdout}");
    assert!(
        stdout.contains("panics: 0, hangs: 0, unclear errors: 0, mismatches: 0"),
        "{stdout}"
    );
    // Both ends are reached: some cases rejected, some executed.
    assert!(stdout.contains("rejected, malformed JSON"), "{stdout}");
    assert!(!stdout.contains(" 0 executed identically"), "{stdout}");
}

#[test]
fn fuzz_command_rejects_bad_arguments() {
    for (args, expected) in [
        (
            &["fuzz", "--block", "data/mainnet", "--cases", "0"][..],
            "--cases must be at least 1",
        ),
        (
            &["fuzz", "--block", "/nonexistent/blocks"][..],
            "/nonexistent/blocks",
        ),
        (
            &[
                "fuzz",
                "--block",
                "data/mainnet",
                "--max-source-bytes",
                "10",
            ][..],
            "no block folder of at most 10 bytes",
        ),
    ] {
        let out = stmlab(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}: {stderr}");
        assert_ne!(out.status.code(), Some(101), "{args:?} panicked: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}
