//! The worker pool every parallel strategy uses: plain OS threads, never a work-stealing
//! pool, because workers may wait on each other (a work-stealing pool can run a blocked
//! task on the very thread it waits for).
//!
//! [`run_workers`] runs on the kept threads of the [`WorkerPool`] installed on the calling
//! thread ([`WorkerPool::install`], what `engine::Executor` does around every block), and
//! on scoped threads started for the call where none is installed, or it is busy or too
//! small: the same work either way, and every strategy, the assembly and the freeing
//! of a block's memory beside its collection use it unchanged.

#[allow(unsafe_code)]
mod kept;

use std::cell::RefCell;
use std::sync::{Arc, Mutex};

use crate::error::{EngineError, Invariant};
use kept::KeptPool;

thread_local! {
    /// The pool installed on this thread, if any.
    static INSTALLED: RefCell<Option<Arc<KeptPool>>> = const { RefCell::new(None) };
}

/// The most worker threads the engine starts. More gains nothing on any machine this
/// project targets, and the operating system stops before long: on the 2-core, 24 GiB
/// machine of 2026-12-01, `--threads 100000` failed at about 16,000 threads (each thread's
/// stack and signal stack are mappings of their own, against `vm.max_map_count` of
/// 65,530), inside the standard library, which aborted the process rather than return an
/// error. So thread counts are checked against this before any thread starts.
pub const MAX_THREADS: usize = 1024;

/// `threads` if the engine can start that many workers: at least 1, at most
/// [`MAX_THREADS`].
pub fn check_threads(threads: usize) -> Result<usize, EngineError> {
    match threads {
        0 => Err(EngineError::ZeroThreads),
        t if t > MAX_THREADS => Err(EngineError::TooManyThreads {
            asked: t,
            limit: MAX_THREADS,
        }),
        t => Ok(t),
    }
}

/// Worker threads kept from one block to the next. `threads` counts the thread that runs
/// the blocks: a pool of 2 keeps one helper thread.
pub struct WorkerPool {
    kept: Arc<KeptPool>,
}

impl WorkerPool {
    pub fn new(threads: usize) -> Result<Self, EngineError> {
        check_threads(threads)?;
        let kept = KeptPool::new(threads).map_err(|e| EngineError::Threads(e.to_string()))?;
        Ok(Self {
            kept: Arc::new(kept),
        })
    }

    pub fn threads(&self) -> usize {
        self.kept.threads()
    }

    /// Runs `f` with this pool installed on the calling thread: every `run_workers` in it
    /// (on this thread) runs on the pool's threads.
    pub fn install<R>(&self, f: impl FnOnce() -> R) -> R {
        struct Restore(Option<Arc<KeptPool>>);
        impl Drop for Restore {
            fn drop(&mut self) {
                let previous = self.0.take();
                INSTALLED.with_borrow_mut(|p| *p = previous);
            }
        }
        let previous = INSTALLED.with_borrow_mut(|p| p.replace(self.kept.clone()));
        let _restore = Restore(previous);
        f()
    }
}

/// Tells the kept threads of the pool installed on this thread, if any, that a block is
/// coming, so they are awake when its first job is.
pub fn wake_installed() {
    INSTALLED.with_borrow(|p| {
        if let Some(pool) = p {
            pool.wake();
        }
    });
}

fn panicked() -> EngineError {
    EngineError::Invariant(Invariant::WorkerPanicked)
}

/// `run_workers` on the installed pool; `None` when there is none or it cannot take the
/// job (nothing ran then).
fn run_on_installed<R: Send>(
    threads: usize,
    work: &(impl Fn(usize) -> R + Sync),
) -> Option<Result<Vec<R>, EngineError>> {
    let pool = INSTALLED.with_borrow(|p| p.clone())?;
    if threads > pool.threads() {
        return None;
    }
    let slots: Vec<Mutex<Option<R>>> = (0..threads).map(|_| Mutex::new(None)).collect();
    let job = |id: usize| {
        let result = work(id);
        *slots[id].lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
    };
    let ok = pool.try_run(threads, &job)?;
    if !ok {
        return Some(Err(panicked()));
    }
    Some(
        slots
            .into_iter()
            .map(|slot| {
                slot.into_inner()
                    .unwrap_or_else(|e| e.into_inner())
                    .ok_or_else(panicked)
            })
            .collect(),
    )
}

/// Runs `work(worker_id)` on `threads` workers and returns their results in worker
/// order. Worker 0 is the calling thread itself; the others are the installed pool's kept
/// threads, or scoped threads. A panic in a worker becomes an error, not a crash of the
/// caller.
///
/// Why the caller works too: one thread fewer to start and join per block, and the
/// allocations worker 0 makes (half the block's, about) are freed later by the same
/// thread, on its own heap, instead of crossing to the heap of a thread that has exited.
pub fn run_workers<R: Send>(
    threads: usize,
    work: impl Fn(usize) -> R + Sync,
) -> Result<Vec<R>, EngineError> {
    check_threads(threads)?;
    // Each worker's perturbation stream (a no-op in the default build).
    let work = |id: usize| {
        crate::perturb::begin_worker(id);
        crate::perturb::at(crate::perturb::Site::Pool);
        work(id)
    };
    if threads > 1 {
        if let Some(results) = run_on_installed(threads, &work) {
            return results;
        }
    }
    std::thread::scope(|scope| {
        // A thread the system refuses to start is an error, after the started ones are
        // joined (by the scope).
        let handles: Vec<_> = (1..threads)
            .map(|id| {
                let work = &work;
                std::thread::Builder::new().spawn_scoped(scope, move || work(id))
            })
            .collect::<Result<_, _>>()
            .map_err(|e| EngineError::Threads(e.to_string()))?;
        let first = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(0)))
            .map_err(kept::forget_panic);
        // Every thread joined before any result is looked at: a handle left unjoined
        // after another's panic would make the scope itself panic.
        let rest: Vec<_> = handles
            .into_iter()
            .map(|h| h.join().map_err(kept::forget_panic))
            .collect();
        std::iter::once(first)
            .chain(rest)
            .map(|r| r.map_err(|()| panicked()))
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
            crate::perturb::at(crate::perturb::Site::TaskHandOut);
            done.push((idx, work(idx)));
            crate::perturb::progress();
        }
    })?;
    let mut slots: Vec<Option<R>> = (0..n).map(|_| None).collect();
    for (idx, result) in per_worker.into_iter().flatten() {
        slots[idx] = Some(result);
    }
    slots
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            r.ok_or(EngineError::Invariant(Invariant::IndexNeverRan {
                index: i,
            }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn kept_threads_run_job_after_job_in_worker_order() {
        let pool = WorkerPool::new(3).unwrap();
        assert_eq!(pool.threads(), 3);
        pool.install(|| {
            for round in 0..200 {
                let got = run_workers(3, |id| id * 10 + round).unwrap();
                assert_eq!(got, vec![round, 10 + round, 20 + round]);
                // Fewer workers than the pool has: the others sit it out.
                assert_eq!(run_workers(2, |id| id).unwrap(), vec![0, 1]);
            }
            // More than the pool has: scoped threads instead, same results.
            assert_eq!(run_workers(5, |id| id).unwrap(), vec![0, 1, 2, 3, 4]);
            let squares = map_indices(3, 100, |i| i * i).unwrap();
            assert_eq!(squares, (0..100).map(|i| i * i).collect::<Vec<_>>());
        });
    }

    #[test]
    fn the_kept_threads_are_the_same_from_job_to_job() {
        let pool = WorkerPool::new(2).unwrap();
        let ids: Vec<std::thread::ThreadId> = (0..20)
            .map(|_| pool.install(|| run_workers(2, |_| std::thread::current().id()).unwrap()[1]))
            .collect();
        assert!(
            ids.windows(2).all(|w| w[0] == w[1]),
            "one helper thread throughout"
        );
        assert_ne!(ids[0], std::thread::current().id());
    }

    #[test]
    fn a_panicking_worker_is_an_error_and_the_pool_goes_on() {
        let pool = WorkerPool::new(2).unwrap();
        pool.install(|| {
            for bad in [0, 1] {
                let result = run_workers(2, |id| {
                    if id == bad {
                        panic!("worker {id} fails on purpose");
                    }
                    id
                });
                assert!(
                    matches!(
                        result,
                        Err(EngineError::Invariant(Invariant::WorkerPanicked))
                    ),
                    "{result:?}"
                );
            }
            assert_eq!(run_workers(2, |id| id).unwrap(), vec![0, 1]);
        });
    }

    /// A panic payload whose own `drop` panics: dropping it where the pool catches a panic
    /// would unwind again, out of a helper's loop or out of the caller while helpers run.
    struct PanicsWhenDropped;
    impl Drop for PanicsWhenDropped {
        fn drop(&mut self) {
            panic!("the payload's drop panics too");
        }
    }

    #[test]
    fn a_panic_whose_payload_panics_on_drop_is_an_error_too() {
        let pool = WorkerPool::new(2).unwrap();
        pool.install(|| {
            for bad in [0, 1] {
                let result = run_workers(2, |id| {
                    if id == bad {
                        std::panic::panic_any(PanicsWhenDropped);
                    }
                    id
                });
                assert!(
                    matches!(
                        result,
                        Err(EngineError::Invariant(Invariant::WorkerPanicked))
                    ),
                    "{result:?}"
                );
            }
            assert_eq!(run_workers(2, |id| id).unwrap(), vec![0, 1]);
        });
        // And on scoped threads, with two of them panicking.
        let result = run_workers(4, |id| {
            if id >= 2 {
                std::panic::panic_any(PanicsWhenDropped);
            }
            id
        });
        assert!(
            matches!(
                result,
                Err(EngineError::Invariant(Invariant::WorkerPanicked))
            ),
            "{result:?}"
        );
    }

    #[test]
    fn a_job_started_inside_a_job_runs_on_scoped_threads() {
        let pool = WorkerPool::new(2).unwrap();
        let inner_runs = AtomicUsize::new(0);
        pool.install(|| {
            let outer = run_workers(2, |_| {
                // Worker 0 is the installing thread: its pool is busy with this very job.
                let inner = run_workers(2, |id| id).unwrap();
                inner_runs.fetch_add(1, Ordering::Relaxed);
                inner
            })
            .unwrap();
            assert_eq!(outer, vec![vec![0, 1], vec![0, 1]]);
        });
        assert_eq!(inner_runs.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn zero_threads_is_an_error() {
        assert!(matches!(WorkerPool::new(0), Err(EngineError::ZeroThreads)));
        assert!(matches!(
            run_workers(0, |id| id),
            Err(EngineError::ZeroThreads)
        ));
    }
}
