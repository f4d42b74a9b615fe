//! `stmlab ablation` end to end on a tiny run: two small workloads, every model, one
//! timed round. The result file has a row per (model, input) with consistent bounds,
//! `deltas` keeps fewer edges than `coarse` where recipients are hot and keeps the nonce
//! chains of hot senders, and the file names its commit; bad arguments are clear errors.

use std::path::PathBuf;

use clap::Parser;
use serde_json::Value;

const HOT: &str = "transfers:txs=400,accounts=4000,hot=0.3";
const SENDERS: &str = "transfers:txs=400,accounts=4000,senders=10";

fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stmlab-ablation-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn run(args: &[&str]) -> Result<bool, String> {
    let mut argv = vec!["stmlab", "ablation"];
    argv.extend_from_slice(args);
    let cli = stmlab_cli::Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
    stmlab_cli::run(cli)
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn row<'a>(rows: &'a [Value], input: &str, model: &str) -> &'a Value {
    let found: Vec<&Value> = rows
        .iter()
        .filter(|r| r["input"] == input && r["conflicts"] == model)
        .collect();
    assert_eq!(found.len(), 1, "rows of {input} under {model}");
    found[0]
}

#[test]
fn a_tiny_ablation_has_a_row_per_model_and_input() {
    let dir = out_dir("tiny");
    let (json, md, png) = (dir.join("a.json"), dir.join("a.md"), dir.join("a.png"));
    let ok = run(&[
        "--no-blocks",
        "--workload",
        HOT,
        "--workload",
        SENDERS,
        "--repeat",
        "1",
        "--passes",
        "1",
        "--workers",
        "2,4",
        "--out",
        json.to_str().unwrap(),
        "--md",
        md.to_str().unwrap(),
        "--plot",
        png.to_str().unwrap(),
    ])
    .unwrap();
    assert!(ok, "some block-stm run differed from sequential");

    let file: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let commit = file["machine"]["commit"].as_str().unwrap();
    assert!(
        commit.len() >= 7 && commit.chars().all(|c| c.is_ascii_hexdigit()),
        "commit {commit:?}"
    );
    let rows = file["rows"].as_array().unwrap();
    let models = ["coarse", "fields", "deltas"];
    assert_eq!(rows.len(), models.len() * 2);
    for input in [HOT, SENDERS] {
        for model in models {
            let r = row(rows, input, model);
            assert_eq!(r["txs"], 400);
            let (two, bound) = (f(&r["two_worker_bound"]), f(&r["bound"]));
            assert!(two <= 2.0 + 1e-9, "{input} {model}: two-worker bound {two}");
            assert!(
                two <= bound + 1e-9,
                "{input} {model}: {two} above the bound {bound}"
            );
            assert!(two >= 1.0 - 1e-9, "{input} {model}: two-worker bound {two}");
            let unweighted = f(&r["unweighted_bound"]);
            assert!((1.0..=400.0).contains(&unweighted), "{unweighted}");
            // Every kind is present; an edge through two kinds counts under both.
            let kinds = r["edges_by_kind"].as_object().unwrap();
            assert_eq!(kinds.len(), 7, "{kinds:?}");
            let by_kind: u64 = kinds.values().map(|v| v.as_u64().unwrap()).sum();
            let edges = r["edges"].as_u64().unwrap();
            assert!(by_kind >= edges && (by_kind == 0) == (edges == 0));
            let workers: Vec<u64> = r["simulated"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["workers"].as_u64().unwrap())
                .collect();
            assert_eq!(workers, [2, 4]);
            let measured = r["measured"].as_array().unwrap();
            let threads: Vec<u64> = measured
                .iter()
                .map(|p| p["threads"].as_u64().unwrap())
                .collect();
            assert_eq!(threads, [1, 2]);
            assert!(measured.iter().all(|p| f(&p["speedup"]) > 0.0));
            assert!(f(&r["executions_per_tx"]) >= 1.0);
            // Every abort runs its transaction again: at most executions - txs of them.
            let aborts: u64 = r["aborts_by_kind"]
                .as_object()
                .expect("aborts by kind")
                .values()
                .map(|v| v.as_u64().unwrap())
                .sum();
            let txs = r["txs"].as_f64().unwrap();
            let extra = (f(&r["executions_per_tx"]) * txs - txs).round() as u64;
            assert!(
                aborts <= extra,
                "{input} {model}: {aborts} aborts, {extra} re-executions"
            );
        }
    }
    // Hot recipients: credits are deltas, so deltas has fewer edges than coarse.
    let coarse = row(rows, HOT, "coarse")["edges"].as_u64().unwrap();
    let deltas = row(rows, HOT, "deltas")["edges"].as_u64().unwrap();
    assert!(deltas < coarse, "deltas {deltas} edges, coarse {coarse}");
    // Hot senders: the nonce chains are real dependencies, kept by every model.
    for model in ["fields", "deltas"] {
        let nonce = row(rows, SENDERS, model)["edges_by_kind"]["nonce"]
            .as_u64()
            .unwrap();
        assert!(nonce > 0, "{model}: no nonce edge");
    }

    let table = std::fs::read_to_string(&md).unwrap();
    assert!(table.contains(commit));
    assert_eq!(
        table
            .lines()
            .filter(|l| l.starts_with(&format!("| {HOT} |")))
            .count(),
        3
    );
    assert!(std::fs::metadata(&png).unwrap().len() > 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_arguments_are_clear_errors() {
    let err = run(&["--conflicts", "coarse,lazy", "--no-blocks"]).unwrap_err();
    assert!(err.contains("lazy"), "{err}");
    let err = run(&["--blocks", "/nonexistent/stmlab-blocks", "--no-workloads"]).unwrap_err();
    assert!(err.contains("/nonexistent/stmlab-blocks"), "{err}");
    let err = run(&["--no-blocks", "--workload", "transfers:txs=10,senders=0"]).unwrap_err();
    assert!(
        err.contains("senders must be between 1 and accounts"),
        "{err}"
    );
    let err = run(&["--no-blocks", "--no-workloads"]).unwrap_err();
    assert!(err.contains("nothing to run"), "{err}");
}
