//! The instruction-count goal: Block-STM's instructions at 1 thread over sequential's,
//! counted by valgrind's callgrind, which counts exactly where wall times on a shared VM
//! do not. Each count runs this very binary as `stmlab exec` under callgrind, collecting
//! only inside `engine::run_block` (the block's execution: not loading or generating the
//! input), `RUNS` blocks through one kept executor as a node runs them.

use std::path::Path;
use std::process::Command;

/// Blocks per count: the first pays for the per-thread code copies, as a node's first
/// block does; the others show the steady state.
pub const RUNS: usize = 3;

/// Whether valgrind can be run here.
pub fn valgrind_available() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Instructions executed inside `engine::run_block` by `stmlab exec <input> --strategy
/// <strategy> --threads 1 --runs RUNS`; `input` is `["--workload", spec]` or
/// `["--block", dir]`.
pub fn count(input: &[&str], strategy: &str) -> Result<u64, String> {
    let exe = std::env::current_exe().map_err(|e| format!("this binary: {e}"))?;
    let dir = std::env::temp_dir().join(format!("stmlab-callgrind-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let out = dir.join(format!("{strategy}.out"));
    let status = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg("--toggle-collect=stmlab::engine::run_block*")
        .arg(&exe)
        .arg("exec")
        .args(input)
        .args(["--strategy", strategy, "--threads", "1", "--runs"])
        .arg(RUNS.to_string())
        .output()
        .map_err(|e| format!("valgrind: {e}"))?;
    if !status.status.success() {
        return Err(format!(
            "valgrind on {input:?} {strategy}: {}",
            String::from_utf8_lossy(&status.stderr)
                .lines()
                .last()
                .unwrap_or("failed")
        ));
    }
    let counted = totals(&out);
    let _ = std::fs::remove_dir_all(&dir);
    match counted? {
        // Nothing collected: `engine::run_block` was not found to toggle on.
        0 => Err(format!(
            "callgrind counted nothing inside engine::run_block on {input:?} {strategy}"
        )),
        n => Ok(n),
    }
}

/// The instruction total of a callgrind output file (its `totals:` or `summary:` line).
pub fn totals(path: &Path) -> Result<u64, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .find_map(|l| {
            l.strip_prefix("totals:")
                .or_else(|| l.strip_prefix("summary:"))
        })
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| format!("{}: no instruction total", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_total_of_a_callgrind_file() {
        let dir = std::env::temp_dir().join(format!("stmlab-totals-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("cg.out");
        std::fs::write(
            &file,
            "version: 1\nevents: Ir\nfn=main\n1 5\nsummary: 12345\ntotals: 12345\n",
        )
        .unwrap();
        assert_eq!(totals(&file).unwrap(), 12345);
        std::fs::write(&file, "events: Ir\n").unwrap();
        assert!(totals(&file).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
