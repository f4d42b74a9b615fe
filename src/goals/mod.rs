//! `stmlab sweep --preset goals`: the speed goals of issue 8, measured and checked.
//!
//! Every ratio is sequential's median wall time over Block-STM's, both from one
//! `compare` call (sequential and Block-STM interleaved `repeat` times, medians
//! reported, every output checked against sequential's):
//!
//! - mainnet: every block with transactions under `--blocks` at 2 threads; the total
//!   ratio is the sum of the sequential medians over the sum of the Block-STM medians, and
//!   the worst block is the one with the smallest ratio;
//! - the generated workloads of [`goal::WORKLOAD_GOALS`] at their fixed thread counts;
//! - peak memory: Block-STM's over sequential's on the 2-thread ERC-20 input, both counted
//!   in the untimed run `compare` adds per strategy (sequential is passed to it as a
//!   strategy for this one input, so its peak is counted the same way).
//!
//! Prints a markdown table and "N of M goals met", and writes a JSON file (default
//! `results/goals.json`) that `--from FILE` prints again.
//!
//! One concern a file: the goals and their inputs (`goal`), the table's rows (`rows`),
//! the printed report (`table`), the result file (`result_file`), the measurements of the
//! mainnet blocks (`mainnet`), of the workloads (`workloads`) and of the instructions
//! (`callgrind`), the progress bar with what went wrong (`progress`), and the run that
//! puts them together (`run`).

pub mod callgrind;
pub mod goal;
pub mod mainnet;
pub mod progress;
pub mod result_file;
pub mod rows;
pub mod run;
pub mod table;
pub mod workloads;

pub use run::run;
