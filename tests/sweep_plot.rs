//! `stmlab sweep --preset quick` then `stmlab plot` on its output: the JSON has the machine,
//! the commit and a point per input, strategy and thread count with every measured field,
//! and every plot is a PNG. Runs the real binary (with its counting allocator) in a
//! temporary folder; a few seconds.

use std::path::{Path, PathBuf};
use std::process::Command;

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn stmlab(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_stmlab"))
        .args(args)
        .output()
        .expect("stmlab runs");
    assert!(
        out.status.success(),
        "stmlab {args:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn is_png(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|b| b.len() > 1000 && b.starts_with(b"\x89PNG\r\n\x1a\n"))
}

#[test]
fn quick_sweep_then_plot() {
    let dir =
        TempDir(std::env::temp_dir().join(format!("stmlab-sweep-plot-{}", std::process::id())));
    let json = dir.0.join("results/sweep.json");
    let plots = dir.0.join("results/plots");
    let (json_s, plots_s) = (json.to_str().unwrap(), plots.to_str().unwrap());

    stmlab(&["sweep", "--preset", "quick", "--out", json_s]);
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("sweep wrote its file"))
            .expect("the sweep file is JSON");
    for key in ["cpu_model", "cores", "memory_gib", "commit"] {
        assert!(!file["machine"][key].is_null(), "machine.{key} recorded");
    }
    assert_eq!(file["preset"], "quick");
    assert_eq!(file["peak_memory_counted"], true);
    assert!(file["mismatches"].as_array().unwrap().is_empty());
    let points = file["points"].as_array().expect("points");
    assert!(points.iter().any(|p| p["source"] == "mainnet"));
    assert!(points.iter().any(|p| p["source"] == "workload"));
    for p in points {
        for key in [
            "wall_ns",
            "wall_ns_min",
            "wall_ns_max",
            "speedup_vs_sequential",
            "txs_per_sec",
            "gas_per_sec",
            "executions_per_tx",
            "validations",
            "aborts",
            "suspensions",
            "peak_mem_bytes",
        ] {
            assert!(p[key].is_number(), "{key} in {p}");
        }
        assert_eq!(p["identical_to_sequential"], true);
    }

    stmlab(&["plot", "--input", json_s, "--out", plots_s]);
    let pngs: Vec<String> = std::fs::read_dir(&plots)
        .expect("plot wrote its folder")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for name in [
        "threads-mainnet-all.png",
        "contention-transfers-hot.png",
        "contention-erc20-hot.png",
        "wasted-transfers-hot.png",
        "wasted-erc20-hot.png",
        "mainnet-blocks.png",
        "mainnet-distribution.png",
    ] {
        assert!(pngs.iter().any(|p| p == name), "{name} in {pngs:?}");
    }
    assert!(pngs.iter().any(|p| p.starts_with("threads-chain")));
    for p in &pngs {
        assert!(is_png(&plots.join(p)), "{p} is a PNG");
    }
}
