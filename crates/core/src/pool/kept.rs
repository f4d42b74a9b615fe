//! A pool of kept worker threads: started once, they run one job after another (a job is
//! a borrowed `Fn(worker_id)`, run by workers `0..n` at once, worker 0 being the caller),
//! so a node that executes block after block starts no thread per block, and each worker
//! keeps what it built for earlier blocks (its revm frame stack, its allocator heap's
//! pages, warm caches). **The pool's one `unsafe` is here**: a job borrows the caller's
//! stack, as a scoped thread does, but the kept threads outlive the borrow, so its
//! lifetime is erased while it is handed over; `try_run` does not return, nor unwind,
//! before every helper is done with it (a guard waits for them on every way out).
//!
//! # A job's life
//!
//! ```text
//!        try_run: publish (generation += 1)          last helper: running == 0
//!   Idle ------------------------------------> Running ---------------------------> Idle
//!     ^  helpers wait on `work_ready`            | helpers 1..n run job(id); the      |
//!     |                                          | caller runs job(0), then waits on  |
//!     +------------------------------------------+ `all_done` until running == 0 -----+
//! ```
//! A helper with an id above the job's `helpers` count sits the job out. One job at a
//! time: a `run` that finds the pool busy (another thread's job, or a job started from
//! inside a job) runs its work on scoped threads instead, so nothing waits on itself.
//!
//! # Waiting
//! Waking a thread asleep on a condition variable took about 60 us on this VM (the idle
//! virtual CPU must be woken too): more than a whole small block. So a helper that
//! finishes a job, or is told a block is coming ([`KeptPool::wake`], which the executor
//! calls before it prepares a block), spins for up to [`SPIN`] on the generation counter
//! before it sleeps, and the caller spins as long on the helpers' count before it sleeps.
//! Between blocks the helpers sleep, and take no CPU from whatever runs there. Nobody
//! spins while the process's live pools have more threads than the machine has cores:
//! there a spinning thread takes a core from one with work (a test binary's parallel
//! tests, timing their own runs, were thrown off by it).
//!
//! Every change of the job's state happens under the `state` mutex; the atomics mirror
//! two of its fields so that spinning threads need not take the lock. A sleeper checks
//! the state under the lock before it waits, and every change notifies under the same
//! lock, so no wake-up is lost.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, TryLockError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Turns a caught panic into a plain failure. The payload is leaked, not dropped: a
/// payload whose `drop` panicked again would unwind from here, out of a helper's loop (its
/// job never counted done: the caller would wait forever) or out of `try_run` while the
/// helpers still use the job.
pub(super) fn forget_panic(payload: Box<dyn std::any::Any + Send>) {
    std::mem::forget(payload);
}

/// Waits, when dropped, until no helper runs the current job: `try_run` holds one from
/// the moment it publishes a job, so that no way out of it, unwinding included, leaves a
/// helper with a job whose borrow has ended.
struct WaitForHelpers<'a> {
    shared: &'a Shared,
}

impl Drop for WaitForHelpers<'_> {
    fn drop(&mut self) {
        let shared = self.shared;
        spin_until(spin_limit(), || shared.running.load(Ordering::Acquire) == 0);
        let mut state = lock(&shared.state);
        while shared.running.load(Ordering::Acquire) > 0 {
            state.caller_sleeping = true;
            state = shared
                .all_done
                .wait(state)
                .unwrap_or_else(|e| e.into_inner());
            state.caller_sleeping = false;
        }
        state.job = None;
    }
}

/// How long a helper spins for the next job, and the caller for the helpers to finish,
/// before sleeping: long enough to cover a block's preparation after `wake` and the gaps
/// between a block's jobs (execution, assembly, freeing the memory), short enough to be
/// over soon after the block.
const SPIN: Duration = Duration::from_micros(300);

/// A job as the helpers see it: the caller's `&dyn Fn(usize)` with its lifetime erased.
#[derive(Clone, Copy)]
struct JobRef(*const (dyn Fn(usize) + Sync + 'static));

// SAFETY: the pointee is `Sync` (so calling it from several threads is sound), and `run`
// keeps it alive until every helper that received the pointer is done with it.
unsafe impl Send for JobRef {}

struct State {
    /// Bumped by each published job; a helper runs a job once, when it sees a new one.
    generation: u64,
    /// Bumped by each `wake`: a sleeping helper that sees it spins again.
    wakes: u64,
    /// Helpers asleep on `work_ready`, and whether the caller sleeps on `all_done`: a
    /// notification is sent only when someone sleeps.
    sleeping_helpers: usize,
    caller_sleeping: bool,
    job: Option<JobRef>,
    /// Helpers taking part in the current job (ids 1..=helpers).
    helpers: usize,
    /// A helper's part of the current job panicked.
    panicked: bool,
    shutdown: bool,
}

struct Shared {
    state: Mutex<State>,
    /// `State::generation`, for helpers spinning without the lock. Release on publish
    /// (under the lock), Acquire when spinning: a helper that sees the new value then
    /// takes the lock anyway, which orders everything it reads of the job.
    generation: AtomicU64,
    /// Helpers of the current job not yet done with it. Changed under the lock only;
    /// Acquire-loaded by the spinning caller: a helper's decrement comes after its part
    /// of the job returned (its results travel through their own mutexes).
    running: AtomicUsize,
    work_ready: Condvar,
    all_done: Condvar,
}

/// Spins until `done()` or `limit` has passed; true if `done()`.
fn spin_until(limit: Duration, done: impl Fn() -> bool) -> bool {
    if limit.is_zero() {
        return done();
    }
    let start = Instant::now();
    loop {
        for _ in 0..64 {
            if done() {
                return true;
            }
            std::hint::spin_loop();
        }
        if start.elapsed() >= limit {
            return done();
        }
    }
}

/// Threads of every live pool in the process, callers counted (see `spin_limit`).
/// Relaxed: a hint for how long to spin, ordering nothing.
static POOL_THREADS: AtomicUsize = AtomicUsize::new(0);

/// How long a pool's threads spin before sleeping: `SPIN`, unless the live pools of the
/// process have more threads than the machine has cores (a pool too big for the machine,
/// or several pools at once, as in a test binary), where a spinning thread would take the
/// core of one with work to do.
fn spin_limit() -> Duration {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if POOL_THREADS.load(Ordering::Relaxed) <= cores {
        SPIN
    } else {
        Duration::ZERO
    }
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    // Nothing panics while holding this lock (jobs run outside it).
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Kept worker threads. `threads` counts the caller: a pool of 2 keeps one helper thread.
pub struct KeptPool {
    shared: std::sync::Arc<Shared>,
    handles: Vec<JoinHandle<()>>,
    /// Held by the `try_run` in progress: one job at a time.
    busy: Mutex<()>,
    /// What this pool added to `POOL_THREADS`.
    counted: usize,
}

impl KeptPool {
    /// Starts `threads - 1` helper threads (none for 0 or 1).
    pub fn new(threads: usize) -> std::io::Result<Self> {
        let shared = std::sync::Arc::new(Shared {
            state: Mutex::new(State {
                generation: 0,
                wakes: 0,
                sleeping_helpers: 0,
                caller_sleeping: false,
                job: None,
                helpers: 0,
                panicked: false,
                shutdown: false,
            }),
            generation: AtomicU64::new(0),
            running: AtomicUsize::new(0),
            work_ready: Condvar::new(),
            all_done: Condvar::new(),
        });
        POOL_THREADS.fetch_add(threads.max(1), Ordering::Relaxed);
        let mut pool = Self {
            shared,
            handles: Vec::new(),
            busy: Mutex::new(()),
            counted: threads.max(1),
        };
        for id in 1..threads.max(1) {
            let shared = pool.shared.clone();
            let handle = std::thread::Builder::new()
                .name(format!("stmlab-worker-{id}"))
                .spawn(move || helper(&shared, id))?;
            // A pool dropped on a failed spawn joins the helpers started so far.
            pool.handles.push(handle);
        }
        Ok(pool)
    }

    /// Worker threads, the caller counted.
    pub fn threads(&self) -> usize {
        self.handles.len() + 1
    }

    /// A job is coming soon: sleeping helpers wake and spin for it.
    pub fn wake(&self) {
        let mut state = lock(&self.shared.state);
        state.wakes += 1;
        if state.sleeping_helpers > 0 {
            self.shared.work_ready.notify_all();
        }
    }

    /// Runs `work(id)` for `id` in `0..n` at once, `work(0)` on the calling thread, and
    /// returns whether every part ran without panicking. `None`: the pool could not take
    /// the job (busy, or `n` is more than its threads), and nothing ran.
    pub fn try_run(&self, n: usize, work: &(dyn Fn(usize) + Sync)) -> Option<bool> {
        if n == 0 || n > self.threads() {
            return None;
        }
        let _busy = match self.busy.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(e)) => e.into_inner(),
            Err(TryLockError::WouldBlock) => return None,
        };
        let helpers = n - 1;
        if helpers == 0 {
            return Some(
                catch_unwind(AssertUnwindSafe(|| work(0)))
                    .map_err(forget_panic)
                    .is_ok(),
            );
        }
        // Before the job is published: from here on, every way out of this function,
        // unwinding included, first waits for the helpers.
        let wait = WaitForHelpers {
            shared: &self.shared,
        };
        // SAFETY: only the lifetime is changed. The reference is dereferenced by helpers
        // between its publication below and their `running -= 1`, and `wait` does not let
        // this function return or unwind before `running == 0`, so `work` outlives every
        // use of the erased pointer.
        let erased: &'static (dyn Fn(usize) + Sync) = unsafe {
            std::mem::transmute::<&(dyn Fn(usize) + Sync), &'static (dyn Fn(usize) + Sync)>(work)
        };
        {
            let mut state = lock(&self.shared.state);
            state.generation += 1;
            state.job = Some(JobRef(erased));
            state.helpers = helpers;
            state.panicked = false;
            // Relaxed: read only by the caller (this thread) until the lock is released,
            // which publishes it with the rest of the state.
            self.shared.running.store(helpers, Ordering::Relaxed);
            self.shared
                .generation
                .store(state.generation, Ordering::Release);
            if state.sleeping_helpers > 0 {
                self.shared.work_ready.notify_all();
            }
        }
        let mine = catch_unwind(AssertUnwindSafe(|| work(0)))
            .map_err(forget_panic)
            .is_ok();
        drop(wait);
        let helpers_ok = !lock(&self.shared.state).panicked;
        Some(mine && helpers_ok)
    }
}

/// Helper `id`'s loop: wait for a job it takes part in (spinning first), run its part,
/// report.
fn helper(shared: &Shared, id: usize) {
    let (mut seen, mut seen_wakes) = (0, 0);
    loop {
        spin_until(spin_limit(), || {
            shared.generation.load(Ordering::Acquire) != seen
        });
        let job = {
            let mut state = lock(&shared.state);
            loop {
                if state.shutdown {
                    return;
                }
                if state.generation != seen {
                    seen = state.generation;
                    // A job is starting: any `wake` before it was for it.
                    seen_wakes = state.wakes;
                    if id <= state.helpers {
                        if let Some(job) = state.job {
                            break Some(job);
                        }
                    }
                    // Sat this job out: spin again, a job for more threads may follow.
                    break None;
                }
                if state.wakes != seen_wakes {
                    // Told a job is coming: go back to spinning for it.
                    seen_wakes = state.wakes;
                    break None;
                }
                state.sleeping_helpers += 1;
                state = shared
                    .work_ready
                    .wait(state)
                    .unwrap_or_else(|e| e.into_inner());
                state.sleeping_helpers -= 1;
            }
        };
        let Some(job) = job else { continue };
        // SAFETY: `try_run` keeps the job alive until this helper decrements `running`
        // below (see the module docs).
        let work = unsafe { &*job.0 };
        let ok = catch_unwind(AssertUnwindSafe(|| work(id)))
            .map_err(forget_panic)
            .is_ok();
        let mut state = lock(&shared.state);
        state.panicked |= !ok;
        // Release: pairs with the spinning caller's Acquire load (see `Shared::running`).
        if shared.running.fetch_sub(1, Ordering::Release) == 1 && state.caller_sleeping {
            shared.all_done.notify_all();
        }
    }
}

impl Drop for KeptPool {
    fn drop(&mut self) {
        POOL_THREADS.fetch_sub(self.counted, Ordering::Relaxed);
        lock(&self.shared.state).shutdown = true;
        self.shared.work_ready.notify_all();
        for handle in self.handles.drain(..) {
            let _ = handle.join();
        }
    }
}
