//! What the plots read of a `stmlab sweep` result file (`sweep::SweepFile`, written by
//! `stmlab sweep`): the machine, the grid, and one point per (input, strategy, threads);
//! fields the plots do not use are not read. And the line of context every figure
//! prints under its title.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;

/// A sweep result file.
#[derive(Deserialize)]
pub struct Sweep {
    pub machine: MachineInfo,
    #[serde(default)]
    pub commit_dirty: bool,
    #[serde(default)]
    pub preset: String,
    pub repeat: usize,
    pub threads: Vec<usize>,
    pub series: Vec<Series>,
    pub points: Vec<Point>,
}

/// The machine the sweep ran on.
#[derive(Deserialize)]
pub struct MachineInfo {
    pub cpu_model: String,
    pub cores: usize,
    pub memory_gib: f64,
    pub commit: String,
}

/// A workload swept over a knob (the contention figures' x axis), or run as it is.
#[derive(Deserialize)]
pub struct Series {
    pub id: String,
    pub workload: String,
    pub knob: Option<String>,
    #[serde(default)]
    pub knob_meaning: Option<String>,
    #[serde(default)]
    pub log_scale: bool,
    pub values: Vec<f64>,
    pub labels: Vec<String>,
}

/// One (input, strategy, threads) point: the medians of its interleaved runs.
#[derive(Deserialize, Clone)]
pub struct Point {
    pub source: String,
    pub block: String,
    pub strategy: String,
    pub threads: usize,
    pub txs: usize,
    pub wall_ns: u64,
    pub wall_ns_min: u64,
    pub wall_ns_max: u64,
    pub sequential_wall_ns: u64,
    pub speedup_vs_sequential: f64,
    pub txs_per_sec: f64,
    pub executions_per_tx: f64,
}

impl Point {
    /// Speedup at the fastest and slowest repeat (the whisker of the median).
    pub fn speedup_range(&self) -> (f64, f64) {
        let seq = self.sequential_wall_ns as f64;
        (
            seq / self.wall_ns_max.max(1) as f64,
            seq / self.wall_ns_min.max(1) as f64,
        )
    }

    /// Throughput at the slowest and fastest repeat.
    pub fn throughput_range(&self) -> (f64, f64) {
        let txs = self.txs as f64 * 1e9;
        (
            txs / self.wall_ns_max.max(1) as f64,
            txs / self.wall_ns_min.max(1) as f64,
        )
    }
}

impl Sweep {
    /// Reads and parses a sweep result file.
    pub fn read(input: &Path) -> Result<Self, String> {
        let text =
            std::fs::read_to_string(input).map_err(|e| format!("{}: {e}", input.display()))?;
        serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a `stmlab sweep` result file: {e}", input.display()))
    }

    /// The thread counts of the points (the grid's when there are none), in order.
    pub fn thread_counts(&self) -> Vec<usize> {
        let set: BTreeSet<usize> = self.points.iter().map(|p| p.threads).collect();
        if set.is_empty() {
            self.threads.clone()
        } else {
            set.into_iter().collect()
        }
    }

    /// The line of context under every figure's title: preset, machine, commit, repeats.
    pub fn context(&self) -> Context {
        let m = &self.machine;
        let with_whiskers = format!(
            "{} preset · {} · {} cores · {} GiB · commit {}{} · median of {} run{}{}",
            self.preset,
            m.cpu_model,
            m.cores,
            m.memory_gib,
            m.commit,
            if self.commit_dirty { " (modified)" } else { "" },
            self.repeat,
            if self.repeat == 1 { "" } else { "s" },
            if self.repeat > 1 { WHISKERS } else { "" },
        );
        let without_whiskers = with_whiskers.trim_end_matches(WHISKERS).to_string();
        Context {
            with_whiskers,
            without_whiskers,
            whiskers: self.repeat > 1,
        }
    }
}

/// What the context line says of the whiskers.
const WHISKERS: &str = ", whiskers: fastest to slowest run";

/// The line of context under a figure's title.
pub struct Context {
    /// Says what the whiskers are (when there are several runs per point).
    pub with_whiskers: String,
    /// For figures without whiskers.
    pub without_whiskers: String,
    /// Whether the points have whiskers: more than one run each.
    pub whiskers: bool,
}
