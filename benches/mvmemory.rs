//! The two multi-version memories against each other (`LockedMvMemory`, the lock-based
//! baseline, and `LockFreeMvMemory`, the one Block-STM runs on):
//!
//! - `mvmemory-ops/...`: the raw operations on synthetic keys, at 1 and 2 threads: every
//!   transaction records a write set, then every transaction reads its keys, then
//!   validates a read set of them;
//! - `mvmemory-block-stm/...`: Block-STM over each memory on mock transactions
//!   (`core::mock`) with few keys (contended) and many (not), at 1 and 2 threads.
//!
//! `cargo bench --bench mvmemory`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use stmlab::core::metrics::Metrics;
use stmlab::core::mock::MockBlock;
use stmlab::core::mvmemory::locked::LockedMvMemory;
use stmlab::core::mvmemory::lockfree::LockFreeMvMemory;
use stmlab::core::mvmemory::MvMemory;
use stmlab::core::read_set::ReadSet;
use stmlab::core::txn::Version;
use stmlab::strategies::block_stm;

const TXNS: usize = 2000;
const WRITES_PER_TXN: u64 = 4;
const THREADS: &[usize] = &[1, 2];

/// Transaction `i`'s keys: spread over `keys` distinct keys.
fn keys_of(i: usize, keys: u64) -> impl Iterator<Item = u64> {
    (0..WRITES_PER_TXN).map(move |j| (i as u64 * 7919 + j * 104_729) % keys)
}

/// Record every transaction's writes, read them back from the next transaction, and
/// validate that transaction's read set, split over `threads` workers by index.
fn ops<M: MvMemory<u64, u64>>(threads: usize, keys: u64) {
    let memory = M::new(TXNS);
    let chunk = TXNS.div_ceil(threads);
    std::thread::scope(|s| {
        for w in 0..threads {
            let memory = &memory;
            s.spawn(move || {
                for i in (w * chunk)..((w + 1) * chunk).min(TXNS) {
                    let writes: Vec<(u64, u64)> = keys_of(i, keys).map(|k| (k, i as u64)).collect();
                    memory.record(Version::new(i, 0), &writes, &[]);
                }
            });
        }
    });
    std::thread::scope(|s| {
        for w in 0..threads {
            let memory = &memory;
            s.spawn(move || {
                for i in (w * chunk)..((w + 1) * chunk).min(TXNS) {
                    let reader = (i + 1).min(TXNS - 1);
                    let mut reads = ReadSet::default();
                    for k in keys_of(i, keys) {
                        let r = memory.read(&k, reader);
                        reads.record(k, r.origin());
                    }
                    assert!(memory.validate(reader, &reads));
                }
            });
        }
    });
}

fn raw_operations(c: &mut Criterion) {
    for keys in [64u64, 100_000] {
        let mut group = c.benchmark_group(format!("mvmemory-ops/{keys}-keys"));
        group
            .sample_size(20)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(1))
            .throughput(Throughput::Elements(TXNS as u64));
        for &t in THREADS {
            group.bench_with_input(BenchmarkId::new("locked", format!("{t}t")), &t, |b, &t| {
                b.iter(|| ops::<LockedMvMemory<u64, u64>>(t, keys))
            });
            group.bench_with_input(
                BenchmarkId::new("lock-free", format!("{t}t")),
                &t,
                |b, &t| b.iter(|| ops::<LockFreeMvMemory<u64, u64>>(t, keys)),
            );
        }
        group.finish();
    }
}

fn block_stm_on_mock(c: &mut Criterion) {
    for keys in [50u64, 50_000] {
        let block = MockBlock::generate(TXNS, keys, 7);
        let mut group = c.benchmark_group(format!("mvmemory-block-stm/{keys}-keys"));
        group
            .sample_size(20)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(1))
            .throughput(Throughput::Elements(TXNS as u64));
        for &t in THREADS {
            group.bench_with_input(BenchmarkId::new("locked", format!("{t}t")), &t, |b, &t| {
                b.iter(|| {
                    block_stm::execute::<_, LockedMvMemory<u64, u64>>(
                        &block,
                        t,
                        &mut Metrics::default(),
                    )
                    .expect("block-stm runs")
                })
            });
            group.bench_with_input(
                BenchmarkId::new("lock-free", format!("{t}t")),
                &t,
                |b, &t| {
                    b.iter(|| {
                        block_stm::execute::<_, LockFreeMvMemory<u64, u64>>(
                            &block,
                            t,
                            &mut Metrics::default(),
                        )
                        .expect("block-stm runs")
                    })
                },
            );
        }
        group.finish();
    }
}

criterion_group!(benches, raw_operations, block_stm_on_mock);
criterion_main!(benches);
