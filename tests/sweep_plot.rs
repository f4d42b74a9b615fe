//! `stmlab sweep --preset quick` then `stmlab plot` on its output: the JSON has the machine,
//! the commit and a point per input, strategy and thread count with every measured field,
//! and every plot is a PNG. Runs the real binary (with its counting allocator) in a
//! temporary folder; a few seconds. Then `--preset goals` on tiny inputs: the table, the
//! JSON and `--from` agree, and every ratio and verdict follows from the medians.

use std::path::{Path, PathBuf};
use std::process::Command;

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn stmlab(args: &[&str]) -> String {
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
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
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

#[test]
fn goals_preset_on_tiny_inputs() {
    let dir = TempDir(std::env::temp_dir().join(format!("stmlab-goals-{}", std::process::id())));
    // Two blocks with transactions and one without (19910734), which is skipped.
    let mainnet = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/mainnet");
    for block in ["46147", "2675000", "19910734"] {
        copy_dir(&mainnet.join(block), &dir.0.join("blocks").join(block));
    }
    let blocks = dir.0.join("blocks");
    let json = dir.0.join("results/goals.json");
    let (blocks_s, json_s) = (blocks.to_str().unwrap(), json.to_str().unwrap());

    let printed = stmlab(&[
        "sweep",
        "--preset",
        "goals",
        "--repeat",
        "1",
        "--max-txs",
        "60",
        "--blocks",
        blocks_s,
        "--no-instructions",
        "--out",
        json_s,
    ]);
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("goals wrote its file"))
            .expect("the goals file is JSON");
    for key in ["cpu_model", "cores", "memory_gib", "commit", "date_unix"] {
        assert!(!file["machine"][key].is_null(), "machine.{key} recorded");
    }
    assert!(file["date"].as_str().unwrap().ends_with("UTC"));
    assert_eq!(file["preset"], "goals");
    assert_eq!(file["repeat"], 1);
    assert_eq!(file["max_txs"], 60);
    assert!(file["mismatches"].as_array().unwrap().is_empty());
    assert_eq!(file["skipped_blocks"], serde_json::json!(["19910734"]));

    let blocks = file["mainnet_blocks"].as_array().unwrap();
    let names: Vec<&str> = blocks
        .iter()
        .map(|b| b["block"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["46147", "2675000"]);
    let ns = |v: &serde_json::Value| v.as_u64().unwrap();
    let ratio = |b: &serde_json::Value| {
        ns(&b["sequential_wall_ns"]) as f64 / ns(&b["block_stm_wall_ns"]) as f64
    };
    for b in blocks {
        assert!(
            (b["speedup"].as_f64().unwrap() - ratio(b)).abs() < 1e-9,
            "{b}"
        );
    }

    let rows = file["rows"].as_array().unwrap();
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "mainnet-total",
            "mainnet-total-1-thread",
            "mainnet-worst-block",
            "erc20",
            "erc20-1-thread",
            "transfers",
            "amm",
            "chain",
            "peak-memory",
            "instructions-1-thread",
            "baseline"
        ]
    );
    let threads: Vec<u64> = rows
        .iter()
        .map(|r| r["threads"].as_u64().unwrap())
        .collect();
    assert_eq!(threads, [2, 1, 2, 2, 1, 2, 2, 2, 2, 1, 1]);
    // The totals are summed raw times over summed raw times (at 2 threads and at 1); the
    // worst block is the smallest adaptive ratio.
    let sum = |key: &str| -> u64 { blocks.iter().map(|b| ns(&b[key])).sum() };
    let (seq_sum, stm_sum) = (sum("raw_sequential_wall_ns"), sum("raw_block_stm_wall_ns"));
    assert_eq!(ns(&rows[0]["raw_sequential_wall_ns"]), seq_sum);
    assert_eq!(ns(&rows[0]["raw_block_stm_wall_ns"]), stm_sum);
    let total = rows[0]["measured"].as_f64().unwrap();
    assert!((total - seq_sum as f64 / stm_sum as f64).abs() < 1e-9);
    let (seq1, stm1) = (
        sum("raw_1_thread_sequential_wall_ns"),
        sum("raw_1_thread_block_stm_wall_ns"),
    );
    assert!(seq1 > 0 && stm1 > 0);
    let total1 = rows[1]["measured"].as_f64().unwrap();
    assert!((total1 - seq1 as f64 / stm1 as f64).abs() < 1e-9);
    let worst = blocks
        .iter()
        .min_by(|a, b| ratio(a).total_cmp(&ratio(b)))
        .unwrap();
    let worst_name = worst["block"].as_str().unwrap();
    assert!(rows[2]["input"].as_str().unwrap().contains(worst_name));
    assert!((rows[2]["measured"].as_f64().unwrap() - ratio(worst)).abs() < 1e-9);
    // Every workload row ran its capped input, adaptive and raw, and is judged on the raw
    // run; the 2-thread rows carry the machine's ceiling.
    let raw_ratio = |b: &serde_json::Value| {
        ns(&b["raw_sequential_wall_ns"]) as f64 / ns(&b["raw_block_stm_wall_ns"]) as f64
    };
    for r in &rows[3..8] {
        assert!(r["input"].as_str().unwrap().contains("txs=60"), "{r}");
        assert!(
            (r["raw"].as_f64().unwrap() - raw_ratio(r)).abs() < 1e-9,
            "{r}"
        );
        assert_eq!(r["judged_raw"], true, "{r}");
        assert!(
            (r["measured"].as_f64().unwrap() - raw_ratio(r)).abs() < 1e-9,
            "{r}"
        );
        assert_eq!(r["ceiling"].is_number(), r["threads"] == 2, "{r}");
    }
    assert_eq!(rows[3]["input"], rows[8]["input"]);
    let (seq_peak, stm_peak) = (
        ns(&rows[8]["sequential_peak_bytes"]),
        ns(&rows[8]["block_stm_peak_bytes"]),
    );
    assert!(seq_peak > 0 && stm_peak > 0);
    assert!(
        (rows[8]["measured"].as_f64().unwrap() - stm_peak as f64 / seq_peak as f64).abs() < 1e-9
    );
    // Instructions were not counted (--no-instructions), and the row says so.
    assert!(rows[9]["measured"].is_null(), "{}", rows[9]);
    assert_eq!(rows[9]["note"], "--no-instructions");
    // The baseline: our sequential over revm's bare loop, both timed on the blocks.
    let (ours, bare) = (
        ns(&rows[10]["sequential_wall_ns"]),
        ns(&rows[10]["block_stm_wall_ns"]),
    );
    assert!(ours > 0 && bare > 0);
    assert!((rows[10]["measured"].as_f64().unwrap() - ours as f64 / bare as f64).abs() < 1e-9);
    // Each verdict follows from its measurement and goal.
    let mut met = 0;
    for r in rows.iter().filter(|r| !r["measured"].is_null()) {
        let (m, goal) = (
            r["measured"].as_f64().unwrap(),
            r["goal"]["value"].as_f64().unwrap(),
        );
        let expected = match r["goal"]["cmp"].as_str().unwrap() {
            ">=" => m >= goal,
            "<=" => m <= goal,
            other => panic!("goal comparison {other}"),
        };
        assert_eq!(r["met"], expected, "{r}");
        met += usize::from(expected);
    }
    assert_eq!(file["goals_met"], met);

    // The printed table: a header, a separator and a line per row, then the summary.
    let table: Vec<&str> = printed.lines().filter(|l| l.starts_with('|')).collect();
    assert_eq!(
        table[0],
        "| work | input | threads | sequential ms | block-stm ms | measured | raw block-stm | ceiling | goal | met |"
    );
    assert_eq!(table.len(), 2 + rows.len());
    for (line, r) in table[2..].iter().zip(rows) {
        let verdict = if r["met"] == true {
            "| yes |"
        } else if r["met"] == false {
            "| no |"
        } else {
            "| – |"
        };
        assert!(line.ends_with(verdict), "{line} for {r}");
    }
    assert!(table[4].contains(worst_name), "{}", table[4]);
    assert!(
        printed.contains(&format!("\n{met} of 10 goals met (1 not measured)\n")),
        "{printed}"
    );
    // What callgrind counts: one input, one strategy, nothing else.
    let out = stmlab(&[
        "exec",
        "--workload",
        "erc20:txs=20,accounts=40",
        "--strategy",
        "block-stm",
        "--runs",
        "2",
    ]);
    assert!(out.is_empty(), "{out}");

    // --from prints the same report again, measuring nothing.
    let again = stmlab(&["sweep", "--preset", "goals", "--from", json_s]);
    assert!(again.contains("goals met"), "{again}");
    assert!(printed.starts_with(&again), "{printed}\n---\n{again}");

    // Threads are fixed per row.
    let status = Command::new(env!("CARGO_BIN_EXE_stmlab"))
        .args([
            "sweep",
            "--preset",
            "goals",
            "--threads",
            "4",
            "--out",
            json_s,
        ])
        .output()
        .expect("stmlab runs")
        .status;
    assert!(!status.success());
}
