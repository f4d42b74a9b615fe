//! Bad input gets a clear error, never a panic: the library refuses zero threads, and the
//! `stmlab` binary exits non-zero with a message on stderr for bad flags, workload specs and
//! block folders. Also checks the `--json` output a script relies on.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use stmlab::{execute_block, execute_block_with, EngineError, ExecuteError, Options, Strategy};
use stmlab_workloads as workloads;

const RAW: Options = Options::RAW;

#[test]
fn zero_threads_is_an_error_for_every_strategy() {
    let (block, state) = workloads::from_spec("transfers:txs=10").unwrap();
    for &strategy in Strategy::ALL {
        match execute_block(&block, &state, strategy, 0) {
            Err(ExecuteError::Engine(EngineError::ZeroThreads)) => {}
            Err(other) => panic!("{strategy}: expected ZeroThreads, got {other}"),
            Ok(_) => panic!("{strategy}: ran on zero threads"),
        }
        // And one thread works.
        assert!(
            execute_block(&block, &state, strategy, 1).is_ok(),
            "{strategy}"
        );
    }
}

fn stmlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stmlab"))
        .args(args)
        .output()
        .expect("the stmlab binary runs")
}

/// Runs `stmlab run <args>` and checks it fails cleanly with a message containing each of
/// `expected` on stderr.
fn fails_with(args: &[&str], expected: &[&str]) {
    let mut full = vec!["run"];
    full.extend_from_slice(args);
    let out = stmlab(&full);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let shown = format!(
        "stmlab {}: status {:?}, stderr:\n{stderr}",
        full.join(" "),
        out.status
    );
    assert!(!out.status.success(), "{shown}");
    assert_ne!(
        out.status.code(),
        Some(101),
        "exit code 101 is a panic: {shown}"
    );
    assert!(out.status.code().is_some(), "killed by a signal: {shown}");
    assert!(!stderr.contains("panicked"), "{shown}");
    assert!(!stderr.trim().is_empty(), "no message: {shown}");
    for e in expected {
        assert!(stderr.contains(e), "stderr lacks {e:?}: {shown}");
    }
}

const SMALL: &str = "transfers:txs=10";

#[test]
fn too_many_threads_is_an_error_before_any_thread_starts() {
    let (block, state) = workloads::from_spec("transfers:txs=10").unwrap();
    let limit = stmlab::core::pool::MAX_THREADS;
    for &strategy in Strategy::ALL {
        for asked in [limit + 1, 100_000, usize::MAX] {
            match execute_block_with(&block, &state, strategy, asked, RAW) {
                Err(ExecuteError::Engine(EngineError::TooManyThreads { asked: a, limit: l })) => {
                    assert_eq!((a, l), (asked, limit), "{strategy}")
                }
                Err(other) => panic!("{strategy}: expected TooManyThreads, got {other}"),
                Ok(_) => panic!("{strategy}: started {asked} threads"),
            }
        }
    }
    assert!(matches!(
        stmlab::Executor::new(100_000),
        Err(EngineError::TooManyThreads { .. })
    ));
}

#[test]
fn cli_rejects_bad_threads() {
    // Found by hand: 100,000 threads used to abort the process inside the standard
    // library (out of memory mappings at about 16,000 threads).
    fails_with(
        &["--workload", SMALL, "--threads", "100000"],
        &["--threads", "100000 threads", "at most 1024"],
    );
    fails_with(
        &["--workload", SMALL, "--threads", "0"],
        &["--threads", "at least 1"],
    );
    fails_with(
        &["--workload", SMALL, "--threads", "abc"],
        &["--threads", "\"abc\"", "whole number"],
    );
    fails_with(&["--workload", SMALL, "--threads", "2,0"], &["at least 1"]);
    fails_with(&["--workload", SMALL, "--threads", "-1"], &[]);
}

#[test]
fn cli_rejects_bad_strategy_and_repeat() {
    fails_with(
        &["--workload", SMALL, "--strategy", "nosuch"],
        &["unknown strategy", "nosuch", "sequential"],
    );
    fails_with(
        &["--workload", SMALL, "--strategy", "sv,nosuch"],
        &["nosuch"],
    );
    fails_with(
        &["--workload", SMALL, "--repeat", "0"],
        &["--repeat", "at least 1"],
    );
    fails_with(&["--workload", SMALL, "--repeat", "abc"], &["--repeat"]);
}

#[test]
fn cli_rejects_bad_workload_specs() {
    fails_with(
        &["--workload", "nosuch:txs=1"],
        &["unknown workload", "nosuch"],
    );
    fails_with(
        &["--workload", "transfers:txs=abc"],
        &["txs", "abc", "whole number"],
    );
    fails_with(
        &["--workload", "transfers:bogus=1"],
        &["unknown knob", "bogus"],
    );
    fails_with(
        &["--workload", "transfers:txs"],
        &["expected name:key=value"],
    );
    fails_with(&["--workload", "transfers:hot=2"], &["hot", "fraction"]);
    // Sizes the machine cannot hold: refused before anything is allocated (this was
    // killed by the kernel for memory).
    #[cfg(target_os = "linux")]
    fails_with(
        &["--workload", "transfers:txs=100000000000"],
        &[
            "100000000000 transactions",
            "GiB this machine has available",
        ],
    );
}

#[test]
fn cli_rejects_missing_or_conflicting_inputs() {
    fails_with(&[], &["--block"]);
    fails_with(
        &["--block", "/nonexistent", "--workload", SMALL],
        &["--block"],
    );
}

/// A fresh, empty temporary folder for one test.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("stmlab-bad-input-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn bundled(block: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/mainnet")
        .join(block)
}

#[test]
fn cli_rejects_bad_block_folders() {
    fails_with(&["--block", "/nonexistent"], &["/nonexistent"]);

    // A folder with no block in it.
    let empty = TempDir::new("empty");
    fails_with(
        &["--block", empty.0.to_str().unwrap()],
        &["no block folder"],
    );

    // Malformed block.json: the message names the file.
    let malformed = TempDir::new("malformed");
    fs::write(malformed.0.join("block.json"), "{ \"number\": ").unwrap();
    let path = malformed.0.join("block.json");
    fails_with(
        &["--block", malformed.0.to_str().unwrap()],
        &[path.to_str().unwrap(), "JSON"],
    );

    // Well-formed JSON that is not a block.
    let not_a_block = TempDir::new("not-a-block");
    fs::write(not_a_block.0.join("block.json"), "[1, 2, 3]").unwrap();
    let path = not_a_block.0.join("block.json");
    fails_with(
        &["--block", not_a_block.0.to_str().unwrap()],
        &[path.to_str().unwrap()],
    );

    // A real block without its pre_state.json.
    let missing = TempDir::new("missing-pre-state");
    for file in ["block.json.gz", "bytecodes.json.gz", "block_hashes.json.gz"] {
        fs::copy(bundled("46147").join(file), missing.0.join(file)).unwrap();
    }
    fails_with(
        &["--block", missing.0.to_str().unwrap()],
        &["pre_state.json"],
    );

    // A real block with a bad field in a transaction: the message names the file and
    // the field, below alloy's tagged transaction types.
    let bad_tx = TempDir::new("bad-tx-field");
    for file in [
        "pre_state.json.gz",
        "bytecodes.json.gz",
        "block_hashes.json.gz",
    ] {
        fs::copy(bundled("46147").join(file), bad_tx.0.join(file)).unwrap();
    }
    let mut text = String::new();
    let gz = fs::read(bundled("46147").join("block.json.gz")).unwrap();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut text).unwrap();
    let mut block: serde_json::Value = serde_json::from_str(&text).unwrap();
    block["transactions"][0]["gas"] = "0xzz".into();
    fs::write(bad_tx.0.join("block.json"), block.to_string()).unwrap();
    let path = bad_tx.0.join("block.json");
    fails_with(
        &["--block", bad_tx.0.to_str().unwrap()],
        &[path.to_str().unwrap(), "transactions[0].gas", "\"0xzz\""],
    );

    // A corrupt gzip file.
    let corrupt = TempDir::new("corrupt-gz");
    for file in ["block.json.gz", "bytecodes.json.gz", "block_hashes.json.gz"] {
        fs::copy(bundled("46147").join(file), corrupt.0.join(file)).unwrap();
    }
    fs::write(corrupt.0.join("pre_state.json.gz"), b"not gzip at all").unwrap();
    fails_with(
        &["--block", corrupt.0.to_str().unwrap()],
        &["pre_state.json.gz"],
    );
}

#[test]
fn cli_json_lines() {
    let out = stmlab(&[
        "run",
        "--workload",
        "chain:txs=50",
        "--strategy",
        "all",
        "--threads",
        "2",
        "--json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "status {:?}, stderr:\n{stderr}",
        out.status
    );
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
    let rows: Vec<serde_json::Value> = stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let names: Vec<&str> = Strategy::ALL.iter().map(|s| s.name()).collect();
    assert_eq!(rows.len(), names.len(), "one line per strategy:\n{stdout}");
    let mut gas = None;
    for (row, name) in rows.iter().zip(&names) {
        for field in [
            "block",
            "strategy",
            "threads",
            "txs",
            "gas_used",
            "wall_ns",
            "executions",
        ] {
            assert!(row.get(field).is_some(), "no {field} in {row}");
        }
        assert_eq!(row["strategy"], *name, "{row}");
        assert_eq!(row["block"], "chain:txs=50", "{row}");
        assert_eq!(row["threads"], 2, "{row}");
        assert_eq!(row["txs"], 50, "{row}");
        assert_eq!(row["identical_to_sequential"], true, "{row}");
        assert!(
            row["header_ok"].is_null(),
            "a workload has no header: {row}"
        );
        assert!(row["wall_ns"].as_u64().is_some_and(|w| w > 0), "{row}");
        assert!(row["executions"].as_u64().is_some_and(|e| e >= 50), "{row}");
        let g = row["gas_used"].as_u64().expect("gas_used is a number");
        assert!(g >= 50 * 21_000, "{row}");
        assert_eq!(
            *gas.get_or_insert(g),
            g,
            "every strategy uses the same gas: {row}"
        );
    }
}

/// A pre-block state that fails to answer for one account (an I/O error in a node's
/// database, say).
struct FailingState {
    inner: stmlab::evm::state::InMemoryState,
    broken: revm::primitives::Address,
}

#[derive(Debug, thiserror::Error)]
#[error("disk on fire")]
struct DiskError;
impl revm::database_interface::DBErrorMarker for DiskError {}

use revm::DatabaseRef;

impl DatabaseRef for FailingState {
    type Error = DiskError;
    fn basic_ref(
        &self,
        a: revm::primitives::Address,
    ) -> Result<Option<revm::state::AccountInfo>, DiskError> {
        if a == self.broken {
            return Err(DiskError);
        }
        Ok(self.inner.basic_ref(a).unwrap_or_default())
    }
    fn code_by_hash_ref(
        &self,
        h: revm::primitives::B256,
    ) -> Result<revm::bytecode::Bytecode, DiskError> {
        Ok(self.inner.code_by_hash_ref(h).unwrap_or_default())
    }
    fn storage_ref(
        &self,
        a: revm::primitives::Address,
        i: revm::primitives::U256,
    ) -> Result<revm::primitives::U256, DiskError> {
        Ok(self.inner.storage_ref(a, i).unwrap_or_default())
    }
    fn block_hash_ref(&self, n: u64) -> Result<revm::primitives::B256, DiskError> {
        Ok(self.inner.block_hash_ref(n).unwrap_or_default())
    }
}

/// A failing state source is an error of the whole block for every strategy, never a
/// transaction "rejected" with the error as its reason: the source's own error, typed.
/// (`tests/state_errors.rs` checks that nothing runs again after it.)
#[test]
fn failing_pre_state_is_an_engine_error() {
    let (block, inner) = workloads::from_spec("transfers:txs=40,accounts=400").unwrap();
    let broken = block.txs[17].caller;
    let state = FailingState { inner, broken };
    for &strategy in Strategy::ALL {
        for threads in [1, 2, 4, 8] {
            match execute_block_with(&block, &state, strategy, threads, RAW) {
                Err(
                    e @ ExecuteError::State {
                        error: DiskError, ..
                    },
                ) => assert!(e.to_string().contains("disk on fire"), "{e}"),
                other => panic!(
                    "{strategy} at {threads}: {:?}",
                    other.map(|r| r.output.txs.len())
                ),
            }
        }
    }
}

/// `stmlab run` over a folder of blocks ends its table with the summary, one line per
/// strategy and thread count; over one block it has none.
#[test]
fn cli_summary_after_several_blocks() {
    let all = bundled("46147");
    let folder = all.parent().unwrap().to_str().unwrap();
    let out = stmlab(&[
        "run",
        "--block",
        folder,
        "--strategy",
        "sv",
        "--threads",
        "1,2",
        "--raw",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "status {:?}:\n{stdout}", out.status);
    let summary = stdout
        .split("\nsummary: ")
        .nth(1)
        .unwrap_or_else(|| panic!("no summary:\n{stdout}"));
    let lines: Vec<&str> = summary.lines().collect();
    assert!(lines[1].starts_with("strategy"), "{summary}");
    let blocks = fs::read_dir(folder)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().join("block.json.gz").is_file())
        .count();
    for (line, threads) in lines[2..4].iter().zip(["1", "2"]) {
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(
            words[..4],
            [
                "sv",
                stmlab::ConflictModel::default().name(),
                threads,
                &blocks.to_string()
            ],
            "{summary}"
        );
        assert_eq!(words.last(), Some(&"yes"), "{summary}");
    }
    assert!(
        summary.contains("every output identical to sequential; every block header ok"),
        "{summary}"
    );

    let one = stmlab(&["run", "--block", all.to_str().unwrap(), "--strategy", "sv"]);
    assert!(one.status.success());
    assert!(!String::from_utf8_lossy(&one.stdout).contains("summary:"));
}

/// The post-state check of `stmlab run`: a spec-test block with its `post_state.json`
/// passes (`post_state_ok` true in JSON); with one balance of the expected state changed,
/// the run exits 1 and names the account on stderr.
#[test]
fn cli_checks_the_post_state() {
    let forks = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/forks/needs_system_calls");
    let source = fs::read_dir(&forks)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|d| d.join("post_state.json.gz").is_file())
        .min()
        .expect("a bundled spec-test block with a post-state");
    let dir = TempDir::new("post-state");
    for entry in fs::read_dir(&source).unwrap() {
        let path = entry.unwrap().path();
        fs::copy(&path, dir.0.join(path.file_name().unwrap())).unwrap();
    }
    let block = dir.0.to_str().unwrap();
    let args = [
        "run",
        "--block",
        block,
        "--strategy",
        "block-stm",
        "--threads",
        "2",
    ];
    let ok = stmlab(&[&args[..], &["--json"]].concat());
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let first: serde_json::Value = serde_json::from_str(
        String::from_utf8_lossy(&ok.stdout)
            .lines()
            .find(|l| l.starts_with('{'))
            .expect("a JSON row"),
    )
    .unwrap();
    assert_eq!(first["post_state_ok"], serde_json::Value::Bool(true));

    // One account of the expected state one wei richer.
    let gz = dir.0.join("post_state.json.gz");
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(fs::File::open(&gz).unwrap()),
        &mut text,
    )
    .unwrap();
    let mut post: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text).unwrap();
    let (address, account) = post.iter_mut().next().unwrap();
    let address = address.clone();
    let balance = account["balance"].as_str().unwrap();
    let richer = u128::from_str_radix(balance.trim_start_matches("0x"), 16).unwrap() + 1;
    account["balance"] = serde_json::Value::String(format!("{richer:#x}"));
    fs::remove_file(&gz).unwrap();
    fs::write(
        dir.0.join("post_state.json"),
        serde_json::to_string(&post).unwrap(),
    )
    .unwrap();
    let bad = stmlab(&args);
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("POST-STATE CHECK FAILED"), "{stderr}");
    assert!(
        stderr.to_lowercase().contains(&address.to_lowercase()),
        "{address}: {stderr}"
    );
}
