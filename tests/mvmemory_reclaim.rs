//! Replaced entries of the lock-free multi-version memory are really freed: a counting
//! global allocator shows the bytes live after many replacements (and after the memory is
//! dropped) return to what they were: a replaced entry is freed when it is replaced.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use stmlab::core::mvmemory::lockfree::LockFreeMvMemory;
use stmlab::core::mvmemory::MvMemory;
use stmlab::core::txn::Version;

struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

#[test]
fn replaced_entries_are_freed() {
    // Warm up thread-local structures first, so they do not count.
    {
        let m: LockFreeMvMemory<u64, Vec<u8>> = LockFreeMvMemory::new(4);
        m.record(Version::new(0, 0), &[(1, vec![0; 8])], &[]);
        let _ = m.read(&1, 1);
    }
    let before = LIVE.load(Ordering::Relaxed);

    let m: LockFreeMvMemory<u64, Vec<u8>> = LockFreeMvMemory::new(64);
    // Each transaction's last recorded write set, which the next one replaces.
    let mut last: Vec<Vec<(u64, Vec<u8>)>> = vec![Vec::new(); 64];
    for round in 0..200u32 {
        for (txn, last) in last.iter_mut().enumerate() {
            // Each record replaces the previous incarnation's 1 KiB values.
            let writes: Vec<(u64, Vec<u8>)> =
                (0..4).map(|k| (k, vec![round as u8; 1024])).collect();
            m.record(Version::new(txn, round), &writes, last);
            if round % 3 == 0 {
                m.mark_estimates(txn, &writes);
            }
            *last = writes;
        }
    }
    drop(last);
    let during = LIVE.load(Ordering::Relaxed) - before;
    // What is live: 64 transactions x 4 keys x ~1 KiB, plus nodes and indices. 200 rounds
    // of replaced values (50 MiB) must be gone.
    assert!(
        during < 2 * 1024 * 1024,
        "{during} bytes live after replacements"
    );
    drop(m);
    let after = LIVE.load(Ordering::Relaxed) - before;
    assert!(after < 64 * 1024, "{after} bytes still live after drop");

    // A block big enough to fill many buckets of the node arena: every node and value
    // goes when it is dropped, once (a node freed twice would crash the allocator, one left behind counts).
    // In this same test, since the counter is process-wide.
    let txns = 5_000;
    let m: LockFreeMvMemory<u64, Vec<u8>> = LockFreeMvMemory::new(txns);
    for txn in 0..txns {
        // Keys shared between neighbours, so that lists hold several nodes.
        let writes: Vec<(u64, Vec<u8>)> = (0..3)
            .map(|k| ((txn / 2 + k) as u64, vec![1; 256]))
            .collect();
        m.record(Version::new(txn, 0), &writes, &[]);
    }
    let held = LIVE.load(Ordering::Relaxed) - before;
    assert!(
        held > (txns * 3 * 256) as isize,
        "{held} bytes live while held"
    );
    drop(m);
    let after = LIVE.load(Ordering::Relaxed) - before;
    assert!(
        after < 64 * 1024,
        "{after} bytes still live after the large block's drop"
    );
}
