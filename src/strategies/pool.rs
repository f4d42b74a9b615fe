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
