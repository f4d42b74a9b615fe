//! The worker pool every parallel strategy uses: plain scoped OS threads, never a
//! work-stealing pool, because workers may wait on each other (a work-stealing pool can run
//! a blocked task on the very thread it waits for).

use crate::error::EngineError;

/// Runs `work(worker_id)` on `threads` workers and returns their results in worker
/// order. Worker 0 is the calling thread itself; the others are scoped threads. A panic in
/// a worker becomes an error, not a crash of the caller.
///
/// Why the caller works too: one thread fewer to start and join per block, and the
/// allocations worker 0 makes (half the block's, about) are freed later by the same
/// thread, on its own heap, instead of crossing to the heap of a thread that has exited.
pub fn run_workers<R: Send>(
    threads: usize,
    work: impl Fn(usize) -> R + Sync,
) -> Result<Vec<R>, EngineError> {
    if threads == 0 {
        return Err(EngineError::ZeroThreads);
    }
    let panicked = || EngineError::Invariant("a worker thread panicked".into());
    std::thread::scope(|scope| {
        let handles: Vec<_> = (1..threads)
            .map(|id| {
                let work = &work;
                scope.spawn(move || work(id))
            })
            .collect();
        let first = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(0)))
            .map_err(|_| panicked());
        std::iter::once(first)
            .chain(
                handles
                    .into_iter()
                    .map(|h| h.join().map_err(|_| panicked())),
            )
            .collect()
    })
}

/// Runs `work(i)` for every `i` in `0..n` on `threads` workers, which claim indices from
/// a shared counter, and returns the results in index order.
pub fn map_indices<R: Send>(
    threads: usize,
    n: usize,
    work: impl Fn(usize) -> R + Sync,
) -> Result<Vec<R>, EngineError> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let per_worker = run_workers(threads, |_| {
        let mut done = Vec::new();
        loop {
            // Relaxed: the counter only hands out distinct indices; nothing else is
            // published through it (results travel back through `join`).
            let idx = next.fetch_add(1, Ordering::Relaxed);
            if idx >= n {
                break done;
            }
            done.push((idx, work(idx)));
        }
    })?;
    let mut slots: Vec<Option<R>> = (0..n).map(|_| None).collect();
    for (idx, result) in per_worker.into_iter().flatten() {
        slots[idx] = Some(result);
    }
    slots
        .into_iter()
        .enumerate()
        .map(|(i, r)| r.ok_or_else(|| EngineError::Invariant(format!("index {i} never ran"))))
        .collect()
}
