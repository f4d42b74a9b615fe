//! Peak heap memory of one run, counted by the binary's global allocator.
//!
//! `src/main.rs` installs an allocator that forwards to mimalloc and, while
//! counting is switched on, reports every allocation and free here. The counters are
//! process-wide atomics: `live` is the bytes currently allocated, `peak` the high-water mark
//! of `live` since the last [`reset_peak`]. A run's peak memory is `peak - baseline`: the
//! most heap the run held at once beyond what was live when it started (the block and the
//! pre-state, loaded before, are not counted).
//!
//! Counting makes every allocation update shared atomics, which slows allocation-heavy
//! parallel runs measurably (two threads contend on the counters), so it is never on during
//! a timed run: when a command asks for peak memory ([`set_wanted`], as `stmlab sweep`
//! does), `compare` runs each point once more, untimed, with counting on. Otherwise the
//! allocator costs one relaxed load per call. Code that runs without the binary's allocator
//! (tests, benches, library users) sees [`installed`] false and no peak.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

static INSTALLED: AtomicBool = AtomicBool::new(false);
static COUNTING: AtomicBool = AtomicBool::new(false);
static WANTED: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicI64 = AtomicI64::new(0);
static PEAK: AtomicI64 = AtomicI64::new(0);
static BASELINE: AtomicI64 = AtomicI64::new(0);

/// Called once by the binary that installs the counting allocator.
pub fn mark_installed() {
    INSTALLED.store(true, Ordering::Relaxed);
}

/// True when the counting allocator is this process's global allocator.
pub fn installed() -> bool {
    INSTALLED.load(Ordering::Relaxed)
}

/// Asks `compare` to measure peak memory (one extra untimed run per point).
pub fn set_wanted(on: bool) {
    WANTED.store(on, Ordering::Relaxed);
}

/// True when peak memory was asked for and can be measured.
pub fn wanted() -> bool {
    installed() && WANTED.load(Ordering::Relaxed)
}

/// Switches counting on or off. Bytes freed while counting was on but allocated while it
/// was off make `live` drift below the truth; only differences within one run are
/// reported, so the drift does not matter.
pub fn set_counting(on: bool) {
    COUNTING.store(on, Ordering::Relaxed);
}

/// Whether the allocator should report to this module (read on every allocation).
#[inline]
pub fn counting() -> bool {
    COUNTING.load(Ordering::Relaxed)
}

/// The allocator reports `bytes` allocated.
#[inline]
pub fn on_alloc(bytes: usize) {
    let live = LIVE.fetch_add(bytes as i64, Ordering::Relaxed) + bytes as i64;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

/// The allocator reports `bytes` freed.
#[inline]
pub fn on_dealloc(bytes: usize) {
    LIVE.fetch_sub(bytes as i64, Ordering::Relaxed);
}

/// Starts a measurement: the peak restarts from what is live now.
pub fn reset_peak() {
    let live = LIVE.load(Ordering::Relaxed);
    BASELINE.store(live, Ordering::Relaxed);
    PEAK.store(live, Ordering::Relaxed);
}

/// The most bytes live at once since [`reset_peak`], beyond what was live then; `None`
/// when nothing is counted (no counting allocator, or counting off).
pub fn peak_since_reset() -> Option<u64> {
    if !installed() || !counting() {
        return None;
    }
    let peak = PEAK.load(Ordering::Relaxed) - BASELINE.load(Ordering::Relaxed);
    Some(peak.max(0) as u64)
}
