//! The synchronisation primitives the concurrent core uses, switched between the real ones
//! and loom's under `--cfg stmlab_loom` (a namespaced cfg, since RUSTFLAGS reach every
//! crate; registered with check-cfg in Cargo.toml). The core imports them only from here,
//! so the loom models in `loom-tests/` check the production code itself.

#[cfg(not(stmlab_loom))]
pub(crate) use std::sync::{
    atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering},
    Condvar, Mutex, MutexGuard,
};

#[cfg(stmlab_loom)]
pub(crate) use loom::sync::{
    atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering},
    Condvar, Mutex, MutexGuard,
};

/// Locks a mutex (std's or loom's, whichever `Mutex` is here). A poisoned mutex means a
/// worker panicked while holding it; the pool turns that panic into an error, so the
/// guarded data is never trusted again and taking it here is safe.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A thread with nothing to do lets others run (workers may outnumber cores; under loom
/// this lets spin loops terminate in models).
#[inline]
pub(crate) fn spin_hint() {
    #[cfg(not(stmlab_loom))]
    std::thread::yield_now();
    #[cfg(stmlab_loom)]
    loom::thread::yield_now();
}
