//! The goals' instruction-count row: callgrind counts this very binary's `stmlab exec` of
//! each of [`INSTRUCTION_INPUTS`], sequential and Block-STM at 1 thread
//! (`crate::instructions`).

use std::path::Path;

use super::goal::INSTRUCTION_INPUTS;
use super::progress::Progress;
use super::rows::{instructions_row, GoalRow};
use super::workloads::sized;
use crate::instructions;
use stmlab::Strategy;

/// The row, or why it was not measured: `--no-instructions` (`skip`), no valgrind, or a
/// failed count (said on stderr; the rest of the table stands). The workload input is
/// capped at `max_txs` transactions when given.
pub fn instruction_row(skip: bool, max_txs: Option<usize>, progress: &Progress) -> GoalRow {
    progress.bar.set_message("callgrind instruction counts");
    let (counts, why_no_counts) = if skip {
        (Vec::new(), "--no-instructions")
    } else if !instructions::valgrind_available() {
        (Vec::new(), "valgrind not installed")
    } else {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut counts = Vec::new();
        let mut failed = "";
        for (flag, value) in INSTRUCTION_INPUTS {
            let value = match *flag {
                "--block" => root.join(value).display().to_string(),
                _ => sized(value, max_txs),
            };
            let input = [*flag, value.as_str()];
            let pair = instructions::count(&input, Strategy::Sequential.name())
                .and_then(|seq| Ok((seq, instructions::count(&input, Strategy::BlockStm.name())?)));
            if let Err(e) = &pair {
                // The rest of the table stands: this row says it was not measured.
                progress
                    .bar
                    .suspend(|| eprintln!("instruction count failed: {e}"));
                failed = "callgrind failed (see stderr)";
            }
            let label = value.rsplit('/').next().unwrap_or(&value).to_string();
            counts.push((label, pair.ok()));
        }
        (counts, failed)
    };
    instructions_row(&counts, why_no_counts)
}
