//! The worker pool every parallel strategy uses: plain scoped OS threads, never a
//! work-stealing pool, because workers may wait on each other (a work-stealing pool can run
//! a blocked task on the very thread it waits for).

use crate::error::EngineError;

/// Runs `work(worker_id)` on `threads` scoped threads and returns their results in worker
/// order. A panic in a worker becomes an error, not a crash of the caller.
pub fn run_workers<R: Send>(
    threads: usize,
    work: impl Fn(usize) -> R + Sync,
) -> Result<Vec<R>, EngineError> {
    if threads == 0 {
        return Err(EngineError::ZeroThreads);
    }
    if threads == 1 {
        return Ok(vec![work(0)]);
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|id| {
                let work = &work;
                scope.spawn(move || work(id))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| EngineError::Invariant("a worker thread panicked".into()))
            })
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
