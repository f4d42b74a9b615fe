//! Models of the Block-STM scheduler (`stmlab_core::scheduler`), 2 threads, 2 or 3
//! transactions. Bound the search with `LOOM_MAX_PREEMPTIONS` (CI uses 2).
#![cfg(stmlab_loom)]

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::{Arc, Mutex};
use loom::thread;
use loom_tests::fixtures::{two_executed, two_failing_validations};
use stmlab_core::scheduler::{Scheduler, Task};
use stmlab_core::txn::Version;

fn v(i: usize, inc: u32) -> Version {
    Version::new(i, inc)
}

/// Ends `task` as a worker whose executions always succeed (writing a new key on
/// incarnation 0 when `new_keys`) and whose validations pass; returns the follow-up task.
fn finish(s: &Scheduler, task: Task, new_keys: bool) -> Option<Task> {
    match task {
        Task::Execute(version) => s
            .finish_execution(version, new_keys && version.incarnation == 0)
            .unwrap(),
        Task::Validate(version) => s.finish_validation(version, false, None).unwrap(),
        Task::ValidateThenExecute(version, then) => {
            s.finish_validation(version, false, Some(then)).unwrap()
        }
    }
}

/// The version `task` validates first, if it validates.
fn validated(task: Task) -> Option<Version> {
    match task {
        Task::Validate(version) | Task::ValidateThenExecute(version, _) => Some(version),
        Task::Execute(_) => None,
    }
}

/// `finish`, logging the task first (a `ValidateThenExecute` as its validation: its
/// execution is logged when the follow-up runs).
fn step(s: &Scheduler, log: &Mutex<Vec<Task>>, task: Task, new_keys: bool) -> Option<Task> {
    let logged = validated(task).map_or(task, Task::Validate);
    log.lock().unwrap().push(logged);
    finish(s, task, new_keys)
}

/// A worker that starts with `task` (or asks the scheduler) and runs until the block is
/// done.
fn worker_from(s: &Scheduler, log: &Mutex<Vec<Task>>, mut task: Option<Task>, new_keys: bool) {
    while !s.done() {
        task = match task {
            Some(t) => step(s, log, t, new_keys),
            None => s.next_task(),
        };
        if task.is_none() {
            thread::yield_now();
        }
    }
}

fn worker(s: &Scheduler, log: &Mutex<Vec<Task>>) {
    worker_from(s, log, None, true);
}

#[test]
#[cfg(not(stmlab_mutant_double_abort))]
fn each_task_is_handed_out_once() {
    loom::model(|| {
        let s = Arc::new(Scheduler::new(2));
        let log = Arc::new(Mutex::new(Vec::new()));
        let other = {
            let (s, log) = (s.clone(), log.clone());
            thread::spawn(move || worker(&s, &log))
        };
        worker(&s, &log);
        other.join().unwrap();
        let log = log.lock().unwrap();
        for txn in 0..2 {
            let executions = log
                .iter()
                .filter(|t| **t == Task::Execute(v(txn, 0)))
                .count();
            assert_eq!(
                executions, 1,
                "transaction {txn} executed {executions} times: {log:?}"
            );
            assert!(
                log.contains(&Task::Validate(v(txn, 0))),
                "{txn} never validated: {log:?}"
            );
        }
    });
}

/// Transaction 1 executed; two validations of the same incarnation fail at once.
#[test]
#[cfg(not(stmlab_mutant_double_abort))]
fn only_one_of_two_failing_validations_aborts() {
    loom::model(|| {
        let (wins, results) = two_failing_validations(&two_executed());
        assert_eq!(wins, 1, "exactly one validation wins the abort");
        let follow_ups: Vec<Task> = results.into_iter().map(|r| r.unwrap()).flatten().collect();
        // The winner was handed the re-execution (incarnation 1); the loser nothing.
        assert_eq!(follow_ups, vec![Task::Execute(v(1, 1))]);
    });
}

/// Transaction 1 suspends on 0 while 0 finishes executing: it is never lost, and is
/// resumed exactly once with a new incarnation.
#[test]
#[cfg(not(stmlab_mutant_double_abort))]
fn no_lost_wake_up() {
    loom::model(|| {
        let s = Arc::new(Scheduler::new(2));
        assert_eq!(s.next_task(), Some(Task::Execute(v(0, 0))));
        // The validation index skips 0, still executing.
        assert_eq!(s.next_task(), Some(Task::Execute(v(1, 0))));
        let t = {
            let s = s.clone();
            thread::spawn(move || s.finish_execution(v(0, 0), false).unwrap())
        };
        let suspended = s.add_dependency(1, 0).unwrap();
        let follow_up = t.join().unwrap();
        // Drive the rest single-threaded: transaction 1 must run again.
        let log = Mutex::new(Vec::new());
        if !suspended {
            // Refused: the caller re-executes incarnation 0 at once, and runs its
            // follow-ups before taking anything else.
            let mut next = step(&s, &log, Task::Execute(v(1, 0)), false);
            while let Some(t) = next {
                next = step(&s, &log, t, false);
            }
        }
        worker_from(&s, &log, follow_up, false);
        let log = log.lock().unwrap();
        let expected = if suspended { v(1, 1) } else { v(1, 0) };
        assert!(
            log.contains(&Task::Execute(expected)),
            "{suspended}: {log:?}"
        );
        let resumed = log
            .iter()
            .filter(|t| matches!(t, Task::Execute(x) if x.txn_idx == 1))
            .count();
        assert_eq!(resumed, 1, "{log:?}");
    });
}

/// A worker validates transaction 0 before running transaction 1, which 0's execution
/// resumed and this worker claimed; the validation fails. The worker still runs 1, 0 runs
/// again through the execution index on the other worker, and the block finishes with
/// each incarnation executed once and validated.
#[test]
#[cfg(not(stmlab_mutant_double_abort))]
fn a_failed_validation_still_runs_its_claimed_execution() {
    loom::model(|| {
        let s = Arc::new(Scheduler::new(2));
        assert_eq!(s.next_task(), Some(Task::Execute(v(0, 0))));
        assert_eq!(s.next_task(), Some(Task::Execute(v(1, 0))));
        assert!(s.add_dependency(1, 0).unwrap());
        assert_eq!(
            s.finish_execution(v(0, 0), true).unwrap(),
            Some(Task::ValidateThenExecute(v(0, 0), v(1, 1)))
        );
        assert!(s.try_validation_abort(v(0, 0)));
        let log = Arc::new(Mutex::new(Vec::new()));
        let other = {
            let (s, log) = (s.clone(), log.clone());
            thread::spawn(move || worker_from(&s, &log, None, false))
        };
        let follow_up = s.finish_validation(v(0, 0), true, Some(v(1, 1))).unwrap();
        assert_eq!(follow_up, Some(Task::Execute(v(1, 1))));
        worker_from(&s, &log, follow_up, false);
        other.join().unwrap();
        let log = log.lock().unwrap();
        for version in [v(0, 1), v(1, 1)] {
            let runs = log.iter().filter(|t| **t == Task::Execute(version)).count();
            assert_eq!(runs, 1, "{version:?} executed {runs} times: {log:?}");
            assert!(
                log.contains(&Task::Validate(version)),
                "{version:?} never validated: {log:?}"
            );
        }
        assert_eq!(s.final_incarnations(), vec![1, 1]);
    });
}

/// Transaction 1 finishes (its execution's write stood in for by a Release store to
/// `written`) while the validation index is at 1, not past it: its validation, and that
/// of transaction 2 (finished before), are left to the index, which two other workers
/// walk. Some validation of 2 must see 1's write: 2 may have read around it. With the
/// index read by a plain SeqCst load in `finish_execution`, loom finds a run where the
/// index hands 2 out to a worker that does not (the walker that took 1 has not yet
/// locked 1's status when another takes 2).
#[test]
#[cfg(not(stmlab_mutant_double_abort))]
fn a_validation_the_index_hands_out_sees_the_finished_writes() {
    /// Runs one task, noting what a validation of 2 saw; returns the follow-up.
    fn run(
        s: &Scheduler,
        task: Task,
        written: &AtomicUsize,
        seen: &Mutex<Vec<usize>>,
    ) -> Option<Task> {
        if validated(task).is_some_and(|version| version.txn_idx == 2) {
            seen.lock().unwrap().push(written.load(Ordering::Acquire));
        }
        finish(s, task, false)
    }
    /// A walker that asks the scheduler a bounded number of times (a spinning one would
    /// exceed loom's branches), then finishes what it holds.
    fn walker(s: &Scheduler, written: &AtomicUsize, seen: &Mutex<Vec<usize>>) {
        for _ in 0..3 {
            let mut task = s.next_task();
            while let Some(t) = task {
                task = run(s, t, written, seen);
            }
        }
    }
    loom::model(|| {
        let s = Arc::new(Scheduler::new(3));
        for i in 0..3 {
            assert_eq!(s.next_task(), Some(Task::Execute(v(i, 0))));
        }
        // 2 finishes (the validation index, 2, not past it); 0's new key then lowers the
        // index to 1, 2 having finished, and 0 validates itself.
        assert_eq!(s.finish_execution(v(2, 0), true).unwrap(), None);
        assert_eq!(
            s.finish_execution(v(0, 0), true).unwrap(),
            Some(Task::Validate(v(0, 0)))
        );
        assert_eq!(s.finish_validation(v(0, 0), false, None).unwrap(), None);
        let written = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let walkers: Vec<_> = (0..2)
            .map(|_| {
                let (s, written, seen) = (s.clone(), written.clone(), seen.clone());
                thread::spawn(move || walker(&s, &written, &seen))
            })
            .collect();
        written.store(1, Ordering::Release);
        let mut follow_up = s.finish_execution(v(1, 0), true).unwrap();
        while let Some(t) = follow_up {
            follow_up = run(&s, t, &written, &seen);
        }
        for w in walkers {
            w.join().unwrap();
        }
        // What the walkers left, single-threaded (a validation of 2 here sees the write
        // anyway: it only counts when the walkers left 2 to be validated again).
        while !s.done() {
            let mut task = s.next_task();
            while let Some(t) = task {
                task = run(&s, t, &written, &seen);
            }
        }
        let seen = seen.lock().unwrap();
        assert!(
            seen.contains(&1),
            "no validation of 2 saw 1's write: {:?}",
            *seen
        );
    });
}
