//! Models of the lock-free multi-version memory (`core::mvmemory::lockfree` over
//! `version_list.rs`): every atomic and mutex of the version lists is loom's, and so is
//! the counter that hands out the slots of the nodes' arena. (The key table's slots and
//! the arena's buckets are `std::sync::OnceLock`s, set once each, which loom does not
//! model: it runs their sets whole, one thread at a time.)
#![cfg(all(stmlab_loom, not(stmlab_mutant_double_abort)))]

use loom::sync::Arc;
use loom::thread;
use stmlab_core::mvmemory::lockfree::LockFreeMvMemory;
use stmlab_core::mvmemory::MvMemory;
use stmlab_core::read_set::ReadSet;
use stmlab_core::txn::{ReadResult, Version};

const KEY: u64 = 7;

/// A value that is torn if its two halves differ: written as (tag, tag).
type Pair = (u64, u64);

fn tag(version: Version) -> u64 {
    version.txn_idx as u64 * 100 + version.incarnation as u64
}

fn check_consistent(result: &ReadResult<Pair>) {
    if let ReadResult::Written { version, value } = result {
        assert_eq!(value.0, value.1, "torn value {value:?}");
        assert_eq!(
            value.0,
            tag(*version),
            "value {value:?} is not {version:?}'s"
        );
    }
}

/// Neighbouring versions written and marked ESTIMATE while transaction 2 reads: the read
/// sees one whole entry of some version (or the pre-state), and validation of what it
/// recorded agrees with the final state.
#[test]
fn writes_estimates_and_a_reader_race() {
    loom::model(|| {
        let m = Arc::new(LockFreeMvMemory::<u64, Pair>::new(3));
        // The key's version list exists before the race: the key table's `OnceLock`,
        // which publishes it, synchronises with atomics loom cannot see (loom would report the list's
        // first use by another thread as a causality violation). The reader's own entry
        // is invisible to its read below itself.
        let v2 = Version::new(2, 0);
        m.record(v2, &[(KEY, (tag(v2), tag(v2)))], &[]);
        let a = {
            let m = m.clone();
            thread::spawn(move || {
                let v = Version::new(0, 0);
                m.record(v, &[(KEY, (tag(v), tag(v)))], &[]);
            })
        };
        let b = {
            let m = m.clone();
            thread::spawn(move || {
                let v = Version::new(1, 0);
                let writes = [(KEY, (tag(v), tag(v)))];
                m.record(v, &writes, &[]);
                m.mark_estimates(1, &writes);
            })
        };
        let seen = m.read(&KEY, 2);
        check_consistent(&seen);
        a.join().unwrap();
        b.join().unwrap();
        // At the end transaction 1's entry is an ESTIMATE: whatever was read before no
        // longer validates.
        assert_eq!(m.read(&KEY, 2), ReadResult::Estimate(1));
        if !matches!(seen, ReadResult::Estimate(_)) {
            let mut reads = ReadSet::default();
            reads.record(KEY, seen.origin());
            assert!(!m.validate(2, &reads), "stale read {seen:?} validated");
        }
        // Transaction 1 reads below itself: only transaction 0's entry.
        let below = m.read(&KEY, 1);
        check_consistent(&below);
        assert_eq!(below.origin(), Some(Version::new(0, 0)));
    });
}

/// An entry replaced by a new incarnation while another thread reads it: the reader
/// sees the old or the new value whole, never a freed one (the entry's mutex orders the
/// replacement, and the drop of the old value, around the reader's clone).
#[test]
fn replaced_entry_survives_a_concurrent_reader() {
    loom::model(|| {
        let m = Arc::new(LockFreeMvMemory::<u64, Pair>::new(2));
        let v0 = Version::new(0, 0);
        m.record(v0, &[(KEY, (tag(v0), tag(v0)))], &[]);
        let writer = {
            let m = m.clone();
            thread::spawn(move || {
                let (v0, v1) = (Version::new(0, 0), Version::new(0, 1));
                m.record(
                    v1,
                    &[(KEY, (tag(v1), tag(v1)))],
                    &[(KEY, (tag(v0), tag(v0)))],
                );
            })
        };
        let seen = m.read(&KEY, 1);
        check_consistent(&seen);
        assert!(matches!(seen, ReadResult::Written { .. }), "{seen:?}");
        writer.join().unwrap();
        assert_eq!(m.read(&KEY, 1).origin(), Some(Version::new(0, 1)));
    });
}

/// A read below a bound (a delta chain's second link) racing a write below that bound:
/// transaction 3 reads the key (transaction 2's entry, there before the race), then reads
/// it below 2 while transaction 0 writes it. The read below sees 0's whole entry or the
/// pre-state, and validation of both recorded links agrees with the final state: valid
/// exactly when the link below 2 saw transaction 0's write.
#[test]
fn a_read_below_a_bound_races_a_write_below_it() {
    use stmlab_core::read_set::RecordingView;
    use stmlab_core::txn::{StateView, TxnIndex};
    loom::model(|| {
        let m = Arc::new(LockFreeMvMemory::<u64, Pair>::new(4));
        let v2 = Version::new(2, 0);
        m.record(v2, &[(KEY, (tag(v2), tag(v2)))], &[]);
        let writer = {
            let m = m.clone();
            thread::spawn(move || {
                let v0 = Version::new(0, 0);
                m.record(v0, &[(KEY, (tag(v0), tag(v0)))], &[]);
            })
        };
        let mut reads = ReadSet::default();
        let (top, below) = {
            let resolve = |k: &u64, below: Option<TxnIndex>| m.read(k, below.unwrap_or(3));
            let mut view = RecordingView::new(resolve, &mut reads);
            let top = view.read(&KEY);
            let below = view.read_below(&KEY, 2);
            (top, below)
        };
        assert_eq!(top.origin(), Some(v2));
        check_consistent(&below);
        writer.join().unwrap();
        let saw_write = below.origin() == Some(Version::new(0, 0));
        assert!(saw_write || below == ReadResult::Base, "{below:?}");
        assert_eq!(reads.len(), 2);
        assert_eq!(m.validate(3, &reads), saw_write, "below-read {below:?}");
    });
}
