//! Every strategy at 1 and 2 threads on a few small generated workloads (the generators
//! the differential tests use, `workloads::from_spec`) and a few bundled mainnet blocks.
//!
//! `cargo bench --bench strategies` (all), or with a filter, e.g.
//! `cargo bench --bench strategies -- erc20`. Sample sizes are small so the whole bench
//! finishes in a few minutes on 2 cores; `stmlab sweep` is the tool for the full grid.

use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use stmlab::evm::block::Block;
use stmlab::evm::mainnet::load_block_dir;
use stmlab::evm::state::InMemoryState;
use stmlab::{execute_block_with, Options, Strategy};
use stmlab_workloads as workloads;

/// The strategies themselves, never the adaptive choice of sequential execution.
const RAW: Options = Options::RAW;

/// Small workloads: no contention, high contention, a token, a dependency chain.
const WORKLOADS: &[&str] = &[
    "transfers:txs=2000,accounts=20000,hot=0",
    "transfers:txs=2000,accounts=20000,hot=0.5",
    "erc20:txs=1000,accounts=10000,hot=0.1",
    "chain:txs=500",
];

/// A few bundled mainnet blocks of different eras and sizes.
const BLOCKS: &[&str] = &["4370000", "12244000", "16257471", "19917570"];

const THREADS: &[usize] = &[1, 2];

fn inputs() -> Vec<(String, Block, InMemoryState)> {
    let mut out = Vec::new();
    for spec in WORKLOADS {
        let (block, state) = workloads::from_spec(spec).expect("bench workload spec parses");
        out.push((spec.to_string(), block, state));
    }
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/mainnet");
    for number in BLOCKS {
        let (block, state) =
            load_block_dir(&data.join(number)).expect("bundled mainnet block loads");
        out.push((format!("mainnet-{number}"), block, state));
    }
    out
}

fn strategies(c: &mut Criterion) {
    for (label, block, state) in inputs() {
        let mut group = c.benchmark_group(label.as_str());
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(1))
            .throughput(Throughput::Elements(block.txs.len() as u64));
        for &strategy in Strategy::ALL {
            // Sequential ignores the thread count: once is enough.
            let threads: &[usize] = if strategy == Strategy::Sequential {
                &[1]
            } else {
                THREADS
            };
            for &t in threads {
                group.bench_with_input(
                    BenchmarkId::new(strategy.name(), format!("{t}t")),
                    &t,
                    |b, &t| {
                        b.iter(|| {
                            execute_block_with(&block, &state, strategy, t, RAW)
                                .expect("block executes")
                        })
                    },
                );
            }
        }
        group.finish();
    }
}

criterion_group!(benches, strategies);
criterion_main!(benches);
