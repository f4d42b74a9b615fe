//! Perturbed schedules, for the stress runs (`stmlab stress`, built with `--features
//! perturb`): seeded, random delays and yields at the core's synchronisation points, so
//! that workers on two cores interleave in the rare ways a quiet machine never shows
//! (the races production engines shipped were found by chance, at scale).
//!
//! Each point calls [`at`] with its [`Site`]. With a seed set ([`configure`]), a point
//! draws from its thread's generator and, now and then, yields the core, spins for a
//! random while or sleeps a few microseconds. A thread's generator is seeded from the run's
//! seed and the thread's worker index ([`begin_worker`], called by the pool when a job
//! starts), so a given seed reproduces each worker's decisions, point by point; the
//! operating system's own scheduling still varies around them.
//!
//! Without the feature every function here is an empty inline one and [`ENABLED`] is
//! false: the default build pays nothing.
//!
//! The stress command's watchdog uses two more things from here: [`progress`] counts
//! finished tasks (a run whose count stops moving has hung), and [`cancel`] makes every
//! later point unwind with [`Cancelled`], so a run that spins forever is stopped through
//! the pool's panic handling and the command goes on.

/// Where a perturbation point sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Site {
    /// The scheduler hands out a task (Block-STM's `next_task`).
    TaskHandOut,
    /// A transaction's status changes (executed, aborted, made ready).
    StatusChange,
    /// A read of the multi-version memory.
    MemoryRead,
    /// A write of the multi-version memory, including between finding a list position and
    /// linking a node there.
    MemoryWrite,
    /// A transaction registers a dependency on another.
    Dependency,
    /// A finished transaction wakes the ones that waited for it.
    WakeUp,
    /// The DAG strategy commits a transaction.
    DagCommit,
    /// The DAG strategy's repair pass validates or re-executes a transaction.
    DagRepair,
    /// A worker of the pool starts its part of a job.
    Pool,
}

/// Whether this build perturbs schedules (`--features perturb`).
pub const ENABLED: bool = cfg!(feature = "perturb");

/// The panic payload of a point reached after [`cancel`].
#[derive(Debug)]
pub struct Cancelled;

#[cfg(feature = "perturb")]
mod imp {
    use std::cell::Cell;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::time::Duration;

    use super::{Cancelled, Site};

    /// The run's seed, and whether one is set (0: perturbation off).
    static SEED: AtomicU64 = AtomicU64::new(0);
    static ON: AtomicBool = AtomicBool::new(false);
    /// Bumped by `configure`: a thread whose generator belongs to an older run reseeds.
    static GENERATION: AtomicU64 = AtomicU64::new(1);
    static PROGRESS: AtomicU64 = AtomicU64::new(0);
    static CANCELLED: AtomicBool = AtomicBool::new(false);

    thread_local! {
        /// (generation, worker index, generator state).
        static STATE: Cell<(u64, u64, u64)> = const { Cell::new((0, 0, 0)) };
    }

    fn mix(mut z: u64) -> u64 {
        // splitmix64's finaliser: consecutive seeds give unrelated streams.
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn seeded(worker: u64) -> u64 {
        mix(SEED.load(Ordering::Relaxed) ^ mix(worker.wrapping_add(0x9E37_79B9)))
    }

    pub fn configure(seed: Option<u64>) {
        // Relaxed throughout: the runs that follow are started after this call by the same
        // thread (through the pool's own synchronisation), which orders these stores
        // before every worker's loads.
        SEED.store(seed.unwrap_or(0), Ordering::Relaxed);
        ON.store(seed.is_some(), Ordering::Relaxed);
        CANCELLED.store(false, Ordering::Relaxed);
        PROGRESS.store(0, Ordering::Relaxed);
        GENERATION.fetch_add(1, Ordering::Relaxed);
        take_state();
    }

    pub fn begin_worker(worker: usize) {
        let generation = GENERATION.load(Ordering::Relaxed);
        STATE.with(|s| s.set((generation, worker as u64, seeded(worker as u64))));
    }

    fn next() -> u64 {
        STATE.with(|s| {
            let (mut generation, worker, mut state) = s.get();
            let current = GENERATION.load(Ordering::Relaxed);
            if generation != current {
                generation = current;
                state = seeded(worker);
            }
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            s.set((generation, worker, state));
            mix(state)
        })
    }

    #[inline(never)]
    pub fn at(site: Site) {
        // Relaxed: a cancellation or a new seed seen a little late only delays its effect.
        if CANCELLED.load(Ordering::Relaxed) {
            std::panic::panic_any(Cancelled);
        }
        if !ON.load(Ordering::Relaxed) {
            return;
        }
        let r = next();
        // Writes and status changes are where races live: perturbed more often.
        let odds = match site {
            Site::MemoryWrite | Site::StatusChange | Site::Dependency | Site::WakeUp => 16,
            _ => 32,
        };
        let pick = r % odds;
        let amount = r >> 32;
        match pick {
            0 => std::thread::yield_now(),
            1 => {
                for _ in 0..amount % 4096 {
                    std::hint::spin_loop();
                }
            }
            2 if amount % 8 == 0 => std::thread::sleep(Duration::from_micros(amount % 200)),
            _ => {}
        }
    }

    pub fn progress() {
        PROGRESS.fetch_add(1, Ordering::Relaxed);
    }

    pub fn progress_count() -> u64 {
        PROGRESS.load(Ordering::Relaxed)
    }

    pub fn cancel() {
        CANCELLED.store(true, Ordering::Relaxed);
    }

    pub fn cancelled() -> bool {
        CANCELLED.load(Ordering::Relaxed)
    }

    static STATE_NOTE: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

    pub fn note_state(describe: impl FnOnce() -> String) {
        let mut note = STATE_NOTE.lock().unwrap_or_else(|e| e.into_inner());
        if note.is_none() {
            *note = Some(describe());
        }
    }

    pub fn take_state() -> Option<String> {
        STATE_NOTE.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

#[cfg(not(feature = "perturb"))]
mod imp {
    use super::Site;

    #[inline(always)]
    pub fn configure(_seed: Option<u64>) {}
    #[inline(always)]
    pub fn begin_worker(_worker: usize) {}
    #[inline(always)]
    pub fn at(_site: Site) {}
    #[inline(always)]
    pub fn progress() {}
    /// Always 0: without the feature nothing counts progress.
    #[inline(always)]
    pub fn progress_count() -> u64 {
        0
    }
    #[inline(always)]
    pub fn cancel() {}
    #[inline(always)]
    pub fn cancelled() -> bool {
        false
    }
    #[inline(always)]
    pub fn note_state(_describe: impl FnOnce() -> String) {}
    #[inline(always)]
    pub fn take_state() -> Option<String> {
        None
    }
}

/// A perturbation point.
pub use imp::at;
/// Points a worker's generator at its stream for the current seed (the pool calls it
/// when a job starts on worker `worker`).
pub use imp::begin_worker;
/// Sets the seed of the runs that follow (`None`: no perturbation), and clears the
/// cancellation, the progress count and any noted state. Call between runs.
pub use imp::configure;
/// Stops the current run: every later point unwinds with [`Cancelled`].
pub use imp::{cancel, cancelled};
/// A strategy that sees the cancellation notes its state (the first note is kept) for
/// the watchdog's report.
pub use imp::{note_state, take_state};
/// A task finished (what the watchdog watches).
pub use imp::{progress, progress_count};
