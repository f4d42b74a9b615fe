//! The predictions: each strategy at each virtual worker count from a block's recording
//! (`sim::simulate`), with the block's bound beside it; and the aggregate lines of a
//! folder of blocks (the blocks run one after the other).

use super::rows::SimRow;
use crate::inputs::Group;
use stmlab::evm::location::Location;
use stmlab::{ConflictModel, Strategy};
use stmlab_sim::{simulate, Analysis, BlockRecord, Prediction};

/// A row per (strategy, threads) of `rec`, named `label`; each printed as a JSON line as
/// it is made when `json`.
pub fn predictions(
    label: &str,
    conflicts: ConflictModel,
    rec: &BlockRecord<Location>,
    analysis: &Analysis,
    strategies: &[Strategy],
    threads: &[usize],
    json: bool,
) -> Result<Vec<SimRow>, String> {
    let mut rows = Vec::new();
    for &s in strategies {
        for &t in threads {
            let p = simulate(rec, s, t).map_err(|e| format!("{label}: {s} at {t}: {e}"))?;
            let row = SimRow {
                prediction: p,
                conflicts,
                kind: "block",
                sequential_ns: rec.model.sequential_ns,
                total_cost_ns: analysis.total_cost_ns,
                critical_path_ns: analysis.critical_path_ns,
                speedup_bound: analysis.speedup_bound,
            };
            if json {
                println!("{}", serde_json::to_string(&row).expect("rows serialize"));
            }
            rows.push(row);
        }
    }
    Ok(rows)
}

/// The aggregate row per (strategy, threads) of `group` from its blocks' rows, with the
/// group's analysis; each printed as a JSON line when `json`.
pub fn aggregate_rows(
    group: &Group,
    block_rows: &[SimRow],
    analysis: &Analysis,
    strategies: &[Strategy],
    threads: &[usize],
    json: bool,
) -> Vec<SimRow> {
    let mut rows = Vec::new();
    for &s in strategies {
        for &t in threads {
            let list: Vec<&SimRow> = block_rows
                .iter()
                .filter(|r| r.prediction.strategy == s && r.prediction.threads == t)
                .collect();
            let row = SimRow {
                prediction: aggregate_prediction(&group.label, &list),
                conflicts: list[0].conflicts,
                kind: "aggregate",
                sequential_ns: list.iter().map(|r| r.sequential_ns).sum(),
                total_cost_ns: analysis.total_cost_ns,
                critical_path_ns: analysis.critical_path_ns,
                speedup_bound: analysis.speedup_bound,
            };
            if json {
                println!("{}", serde_json::to_string(&row).expect("rows serialize"));
            }
            rows.push(row);
        }
    }
    rows
}

/// The blocks of `rows` run one after the other: times and counts summed.
fn aggregate_prediction(label: &str, rows: &[&SimRow]) -> Prediction {
    let first = &rows[0].prediction;
    let wall: u64 = rows.iter().map(|r| r.prediction.predicted_wall_ns).sum();
    let seq: u64 = rows.iter().map(|r| r.sequential_ns).sum();
    let sum = |f: fn(&Prediction) -> u64| rows.iter().map(|r| f(&r.prediction)).sum::<u64>();
    Prediction {
        block: label.to_string(),
        strategy: first.strategy,
        threads: first.threads,
        txs: rows.iter().map(|r| r.prediction.txs).sum(),
        predicted_wall_ns: wall,
        predicted_speedup: seq as f64 / wall.max(1) as f64,
        predicted_executions: sum(|p| p.predicted_executions),
        predicted_validations: sum(|p| p.predicted_validations),
        predicted_aborts: sum(|p| p.predicted_aborts),
        predicted_suspensions: sum(|p| p.predicted_suspensions),
        predicted_repairs: sum(|p| p.predicted_repairs),
        phases: Vec::new(),
    }
}
