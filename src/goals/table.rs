//! The report the goals print, after a run and for `--from`: a heading line, the markdown
//! table, and "N of M goals met".

use super::rows::{GoalRow, Metric};

fn ms(ns: Option<u64>) -> String {
    ns.map_or_else(|| "–".into(), |ns| format!("{:.3}", ns as f64 / 1e6))
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// The markdown table.
pub fn render_table(rows: &[GoalRow]) -> String {
    let mut out = String::from(
        "| work | input | threads | sequential ms | block-stm ms | measured | raw block-stm | ceiling | goal | met |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---|---|\n",
    );
    for r in rows {
        let measured = match (r.measured, r.metric) {
            (None, _) => format!("not measured ({})", r.note.as_deref().unwrap_or("?")),
            (Some(m), Metric::Speedup) if r.judged_raw => format!("{m:.3}× (raw)"),
            (Some(m), Metric::Speedup) => match &r.chose_sequential {
                Some(why) => format!("{m:.3}× ({why})"),
                None => format!("{m:.3}×"),
            },
            (Some(m), Metric::PeakMemoryRatio) => format!(
                "{m:.3}× ({} / {}, raw)",
                mib(r.block_stm_peak_bytes.unwrap_or(0)),
                mib(r.sequential_peak_bytes.unwrap_or(0))
            ),
            (Some(m), Metric::InstructionRatio) => format!("{m:.3}× (the larger)"),
            (Some(m), Metric::BaselineRatio) => {
                format!("{m:.3}× (bare revm {} ms)", ms(r.block_stm_wall_ns))
            }
        };
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "no",
            None => "–",
        };
        let raw = match (r.raw, r.raw_block_stm_wall_ns) {
            (Some(x), Some(ns)) => format!("{x:.3}× ({} ms)", ms(Some(ns))),
            _ => "–".into(),
        };
        let ceiling = r.ceiling.map_or_else(|| "–".into(), |c| format!("{c:.2}×"));
        out.push_str(&format!(
            "| {} | `{}` | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.work,
            r.input,
            r.threads,
            ms(r.sequential_wall_ns),
            ms(r.block_stm_wall_ns),
            measured,
            raw,
            ceiling,
            r.goal.text(),
            met
        ));
    }
    out
}

/// "N of M goals met" (M counts the measured goals; the unmeasured are named after it).
pub fn summary(rows: &[GoalRow]) -> String {
    let met = rows.iter().filter(|r| r.met == Some(true)).count();
    let measured = rows.iter().filter(|r| r.met.is_some()).count();
    let mut line = format!("{met} of {measured} goals met");
    if measured < rows.len() {
        line.push_str(&format!(" ({} not measured)", rows.len() - measured));
    }
    line
}

/// The report printed after a run and by `--from`: a heading line, the table, the summary.
pub fn report(
    date: &str,
    cpu: &str,
    cores: u64,
    commit: &str,
    repeat: usize,
    rows: &[GoalRow],
) -> String {
    format!(
        "Speed goals (issue 12), Block-STM vs sequential, medians of {repeat} interleaved runs; \
         {date}, {cpu} ({cores} cores), commit {commit}\n\n{}\n{}\n",
        render_table(rows),
        summary(rows)
    )
}

#[cfg(test)]
mod tests {
    use super::super::rows::tests::block;
    use super::super::rows::{baseline_row, mainnet_rows, memory_row};
    use super::*;

    #[test]
    fn table_and_summary() {
        let mut rows: Vec<GoalRow> = mainnet_rows(
            &[block("7", 300, 100), block("8", 100, 200)],
            "data/mainnet",
            1,
            "",
        )
        .into();
        rows.push(memory_row("erc20:txs=10", None, None, "--no-memory"));
        let text = render_table(&rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "| work | input | threads | sequential ms | block-stm ms | measured | raw block-stm | ceiling | goal | met |"
        );
        assert_eq!(lines.len(), 2 + rows.len());
        // 400 / 300 = 1.333 < 1.4: not met (judged raw).
        assert!(
            lines[2].starts_with(
                "| mainnet total | `data/mainnet: 2 blocks with transactions (1 without, skipped)` | 2 | 0.000 | 0.000 |"
            ),
            "{}",
            lines[2]
        );
        assert!(
            lines[2].contains("| 1.333× (raw) | 1.333× (0.000 ms) | – | ≥ 1.4× | no |"),
            "{}",
            lines[2]
        );
        assert!(lines[3].contains("| 0.667× (raw) |"), "{}", lines[3]);
        assert!(lines[4].contains("block 8"), "{}", lines[4]);
        assert!(
            lines[4].contains("| 0.500× | 0.500× (0.000 ms) | – | ≥ 0.95× | no |"),
            "{}",
            lines[4]
        );
        assert!(
            lines[5].contains("not measured (--no-memory)"),
            "{}",
            lines[5]
        );
        assert!(lines[5].ends_with("| ≤ 1.5× | – |"), "{}", lines[5]);
        assert_eq!(summary(&rows), "0 of 3 goals met (1 not measured)");
        rows[0].met = Some(true);
        rows.pop();
        assert_eq!(summary(&rows), "1 of 3 goals met");
    }

    #[test]
    fn baseline_row_names_bare_revm() {
        let r = baseline_row("data/mainnet", 100, 104);
        assert!(render_table(&[r]).contains("1.040× (bare revm 0.000 ms)"));
    }
}
