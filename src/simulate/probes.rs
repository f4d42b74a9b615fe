//! What two threads get on this machine, probed before and around the check's
//! measurements: pure compute, compute after idling, allocation, and the EVM itself on
//! two threads with nothing shared. A shared or throttled host shows here, so the
//! check's 2-thread errors can be read against it.

use std::time::Instant;

use serde::Serialize;

use crate::inputs::Input;

/// Parallel efficiency on two threads: the time one thread takes for one unit of work
/// over the time two threads take for one unit each (1.0: two cores in full). Median of
/// five tries.
#[derive(Serialize)]
pub struct MachineProbe {
    /// Arithmetic in registers, 6 ms per thread, right after both cores were busy.
    compute: f64,
    /// The same in 1 ms bursts, each after 10 ms of idling: in this VM an idle virtual
    /// CPU takes up to about a millisecond to be running again, which short parallel
    /// phases (small blocks) pay and the simulator does not model.
    compute_1ms_after_idle: f64,
    /// Building and dropping small hash maps of small vectors (the allocator, caches).
    alloc_hash: f64,
}

#[derive(Serialize)]
pub struct EvmProbe {
    pub block: String,
    /// Pure compute on two threads right before and right after this input's measured
    /// runs (see [`MachineProbe`]): below 1 when the host did not give this machine two
    /// full cores at the time.
    pub compute_two_thread_efficiency: f64,
    pub compute_two_thread_efficiency_after: f64,
    /// Seconds waited, before measuring, for the machine to give two cores again, and
    /// how many times the input was measured (again when the probe after a measurement
    /// found a core missing).
    pub waited_s: u64,
    pub attempts: usize,
    /// The block's transactions executed against the pre-block state (`EvmTxns`), by
    /// one thread, then split between two (even and odd), nothing shared but the
    /// read-only state: the EVM's own two-thread efficiency, `t1 / (2 * t2)`.
    pub evm_two_thread_efficiency: f64,
}

/// Below this two-thread efficiency of pure compute, the machine is taken not to give two
/// cores.
pub const TWO_CORES: f64 = 0.8;
/// How long the check waits for two cores before an input, in 2-second steps.
const MAX_WAITS: u64 = 20;
/// Measurements of one input, at most.
pub const MAX_ATTEMPTS: usize = 3;

/// `/proc/loadavg` (other work on the machine skews 2-thread runs).
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Keeps both cores busy for a moment, so neither is idle when a probe starts.
fn warm_up() {
    let _ = stmlab::core::pool::run_workers(2, |_| {
        let start = Instant::now();
        while start.elapsed().as_millis() < 20 {
            std::hint::spin_loop();
        }
    });
}

/// The two-thread efficiency `t1 / t2` of `work(1)` on one thread against `work(2)` on
/// each of two (`work` takes the number of threads sharing the job and the worker's
/// index), median of `tries`; `idle_ms` of sleep before each timed run.
fn two_thread_efficiency(tries: usize, idle_ms: u64, work: impl Fn(usize, usize) + Sync) -> f64 {
    let mut effs: Vec<f64> = (0..tries)
        .map(|_| {
            let mut t = [0f64; 2];
            for (i, threads) in [1usize, 2].into_iter().enumerate() {
                std::thread::sleep(std::time::Duration::from_millis(idle_ms));
                let start = Instant::now();
                let _ = stmlab::core::pool::run_workers(threads, |w| work(threads, w));
                t[i] = start.elapsed().as_secs_f64();
            }
            t[0] / t[1]
        })
        .collect();
    effs.sort_by(f64::total_cmp);
    effs[effs.len() / 2]
}

/// `iters` multiply-adds, the same on every thread.
fn spin(iters: u64) -> impl Fn(usize, usize) + Sync {
    move |_, _| {
        let mut x = 1u64;
        for i in 0..iters {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(i);
        }
        std::hint::black_box(x);
    }
}

/// The two-thread efficiency of pure compute, median of `tries`, right after both cores
/// were busy.
pub fn compute_probe(tries: usize) -> f64 {
    warm_up();
    two_thread_efficiency(tries, 0, spin(20_000_000))
}

/// Every probe of [`MachineProbe`], five tries each.
pub fn machine_probe() -> MachineProbe {
    use std::hint::black_box;
    let compute = compute_probe(5);
    let compute_1ms_after_idle = two_thread_efficiency(5, 10, spin(3_300_000));
    warm_up();
    MachineProbe {
        compute,
        compute_1ms_after_idle,
        alloc_hash: two_thread_efficiency(5, 0, |_, w| {
            let mut total = 0usize;
            for r in 0..150u64 {
                let mut m: std::collections::HashMap<u64, Vec<u8>> = Default::default();
                for i in 0..1000u64 {
                    m.insert(i * 7919 + r * w as u64, vec![i as u8; 64]);
                }
                total += m.len();
            }
            black_box(total);
        }),
    }
}

/// Probes until the machine gives two cores (or `MAX_WAITS` steps have passed): the
/// last probe's efficiency and the seconds waited.
pub fn wait_for_two_cores() -> (f64, u64) {
    let mut waited = 0;
    loop {
        let e = compute_probe(3);
        if e >= TWO_CORES || waited >= 2 * MAX_WAITS {
            return (e, waited);
        }
        std::thread::sleep(std::time::Duration::from_secs(2));
        waited += 2;
    }
}

/// The EVM's own two-thread efficiency on `input` (see [`EvmProbe`]).
pub fn evm_efficiency(input: &Input) -> f64 {
    use stmlab::core::read_set::{ReadSet, RecordingView};
    use stmlab::core::txn::{ReadResult, TxnExecutor};
    use stmlab::evm::executor::EvmTxns;
    use stmlab::evm::location::Location;
    let txns = EvmTxns::new(&input.block, &input.state);
    warm_up();
    // Two threads share one block's worth of work: efficiency is t1 / (2 * t2).
    0.5 * two_thread_efficiency(3, 0, |threads, w| {
        for j in (w..txns.num_txns()).step_by(threads) {
            let mut reads = ReadSet::default();
            let mut view = RecordingView::new(|_: &Location, _| ReadResult::Base, &mut reads);
            std::hint::black_box(txns.execute(j, &mut view));
        }
    })
}
