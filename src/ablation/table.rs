//! The ablation table as markdown: one line per (input, model), under a line naming the
//! machine, the commit and the settings.

use super::file::AblationFile;
use super::rows::EDGE_KINDS;

fn speedup(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.2}×"))
}

/// The table, with its heading and a key to the columns.
pub fn markdown(file: &AblationFile) -> String {
    let m = &file.machine;
    let mut out = String::new();
    out.push_str("## Conflict models: the ablation table\n\n");
    out.push_str(&format!(
        "Commit {}{}, {} ({} cores), {}; `{}`; timed rounds: {}; recording passes: {}.\n\n",
        m.commit,
        if file.tree_dirty { " (dirty tree)" } else { "" },
        m.cpu_model,
        m.cores,
        file.date_utc,
        file.command,
        file.repeat,
        file.passes,
    ));
    let mut head: Vec<String> = ["input", "model", "txs", "edges"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    head.extend(EDGE_KINDS.iter().map(|k| k.to_string()));
    head.extend(
        ["dep %", "bound", "tx bound", "2-worker"]
            .iter()
            .map(|s| s.to_string()),
    );
    head.extend(file.workers.iter().map(|w| format!("sim {w}")));
    head.extend(file.threads.iter().map(|t| format!("meas {t}")));
    head.push("execs/tx".into());
    head.push("aborts (kind)".into());
    out.push_str(&format!("| {} |\n", head.join(" | ")));
    let align: Vec<&str> = head
        .iter()
        .enumerate()
        .map(|(i, _)| if i < 2 { ":---" } else { "---:" })
        .collect();
    out.push_str(&format!("| {} |\n", align.join(" | ")));
    for r in &file.rows {
        let input = if r.kind == "blocks" {
            format!("{} ({} blocks)", r.input, r.blocks)
        } else {
            r.input.clone()
        };
        let mut cells = vec![
            input,
            r.conflicts.to_string(),
            r.txs.to_string(),
            r.edges.to_string(),
        ];
        cells.extend(
            EDGE_KINDS
                .iter()
                .map(|k| r.edges_by_kind.get(*k).copied().unwrap_or(0).to_string()),
        );
        cells.push(format!("{:.1}", r.dependent_fraction * 100.0));
        cells.push(format!("{:.2}×", r.bound));
        cells.push(format!("{:.2}×", r.unweighted_bound));
        cells.push(format!("{:.2}×", r.two_worker_bound));
        cells.extend(file.workers.iter().map(|&w| speedup(r.simulated_at(w))));
        cells.extend(file.threads.iter().map(|&t| speedup(r.measured_at(t))));
        cells.push(
            r.executions_per_tx
                .map_or_else(|| "-".to_string(), |e| format!("{e:.3}")),
        );
        cells.push(
            r.aborts_by_kind
                .as_ref()
                .map_or_else(|| "-".to_string(), aborts),
        );
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out.push('\n');
    out.push_str(KEY);
    out
}

/// Aborts in all, then by kind where any: `12 (nonce 8, balance 4)`.
fn aborts(by_kind: &std::collections::BTreeMap<String, u64>) -> String {
    let total: u64 = by_kind.values().sum();
    let kinds: Vec<String> = by_kind
        .iter()
        .filter(|(_, &n)| n > 0)
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    if kinds.is_empty() {
        total.to_string()
    } else {
        format!("{total} ({})", kinds.join(", "))
    }
}

const KEY: &str = "edges: dependency edges (j read a key whose sequential value i wrote), \
then by kind of key read (delta: a balance read that resolved commutative credits); dep %: \
transactions with at least one dependency; bound: total cost over the cost-weighted critical \
path; tx bound: transactions over the longest chain counted in transactions (no timing in it); \
2-worker: total cost over the makespan of a greedy list schedule on 2 workers; sim N: the \
simulator's block-stm speedup on N virtual workers; meas N: block-stm measured over sequential \
at N threads (raw mode, medians of interleaved rounds); execs/tx: block-stm executions per \
transaction at 2 threads; aborts (kind): block-stm's failed validations at 2 threads, by \
the kind of the first stale read (delta: a link of a delta chain). A folder of blocks is one row: its blocks run one after the other \
(costs, paths and times add up).\n";
