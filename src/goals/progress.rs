//! A goals run's progress bar, and what its runs found wrong on the way: outputs that
//! differ from sequential's and failed header checks, each printed above the bar as it
//! is found.

use indicatif::{ProgressBar, ProgressStyle};

use crate::compare::{print_mismatches, Mismatch, Row};

pub struct Progress {
    pub bar: ProgressBar,
    pub mismatches: Vec<Mismatch>,
    /// The blocks whose header check failed.
    pub bad_headers: Vec<String>,
}

impl Progress {
    /// A bar of `steps` steps (a block or a workload row each).
    pub fn new(steps: usize) -> Self {
        let bar = ProgressBar::new(steps as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{elapsed_precise} [{bar:40}] {pos}/{len} (eta {eta}) {msg}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        Self {
            bar,
            mismatches: Vec::new(),
            bad_headers: Vec::new(),
        }
    }

    /// Takes in what one `compare` call found: its mismatches and a failed header check.
    pub fn check(&mut self, rows: &[Row], mismatches: Vec<Mismatch>) {
        print_mismatches(&mismatches, &self.bar);
        self.mismatches.extend(mismatches);
        if let Some(r) = rows
            .iter()
            .find(|r| r.header_ok == Some(false) || r.post_state_ok == Some(false))
        {
            self.bar
                .suspend(|| eprintln!("HEADER CHECK FAILED: block {}", r.block));
            self.bad_headers.push(r.block.clone());
        }
    }

    /// No mismatch and no failed header check.
    pub fn all_well(&self) -> bool {
        self.mismatches.is_empty() && self.bad_headers.is_empty()
    }
}
