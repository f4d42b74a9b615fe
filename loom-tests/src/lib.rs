//! Loom models of stmlab's concurrent core. They drive the production scheduler compiled
//! against loom's primitives, so they only run when the whole build has
//! `--cfg stmlab_loom`:
//!
//! ```text
//! RUSTFLAGS="--cfg stmlab_loom" LOOM_MAX_PREEMPTIONS=2 cargo test --release -p loom-tests
//! ```
//!
//! Without that cfg this crate builds and runs no model (the plain `cargo test` of the
//! workspace stays fast).

#[cfg(stmlab_loom)]
pub mod fixtures {
    //! Set-ups the models share.
    use loom::sync::{Arc, Mutex};
    use loom::thread;
    use stmlab_core::dep_graph::DepGraph;
    use stmlab_core::scheduler::{Scheduler, Task};
    use stmlab_core::txn::Version;
    use stmlab_core::EngineError;

    /// Two transactions, both executed (incarnation 0, writing new keys), 0 validated,
    /// and two validations of 1's incarnation 0 handed out by the validation index (both
    /// counted as active tasks): the state in which those validations race.
    pub fn two_executed() -> Arc<Scheduler> {
        let s = Arc::new(Scheduler::new(2));
        let (v0, v1) = (Version::new(0, 0), Version::new(1, 0));
        assert_eq!(s.next_task(), Some(Task::Execute(v0)));
        // The validation index skips 0, still executing.
        assert_eq!(s.next_task(), Some(Task::Execute(v1)));
        // 1 finishes first; the validation index (1) is not past it, and hands it out.
        assert_eq!(s.finish_execution(v1, true).unwrap(), None);
        assert_eq!(s.next_task(), Some(Task::Validate(v1)));
        // 0's new key lowers the validation index to 1 (1 had finished); 0 validates
        // itself, and the index hands 1 out again.
        assert_eq!(
            s.finish_execution(v0, true).unwrap(),
            Some(Task::Validate(v0))
        );
        assert_eq!(s.finish_validation(v0, false, None).unwrap(), None);
        assert_eq!(s.next_task(), Some(Task::Validate(v1)));
        s
    }

    /// Two concurrent validations of transaction 1's incarnation 0 that both fail: how
    /// many won the abort, and what each `finish_validation` returned.
    pub fn two_failing_validations(
        s: &Arc<Scheduler>,
    ) -> (u32, Vec<Result<Option<Task>, EngineError>>) {
        let wins = Arc::new(Mutex::new(0));
        let validate = |s: Arc<Scheduler>, wins: Arc<Mutex<u32>>| {
            move || {
                let version = Version::new(1, 0);
                let won = s.try_validation_abort(version);
                if won {
                    *wins.lock().unwrap() += 1;
                }
                s.finish_validation(version, won, None)
            }
        };
        let t = thread::spawn(validate(s.clone(), wins.clone()));
        let here = validate(s.clone(), wins.clone())();
        let there = t.join().unwrap();
        let follow_ups = vec![here, there];
        let wins = *wins.lock().unwrap();
        (wins, follow_ups)
    }

    /// Two workers commit the graph with dependencies `deps`; returns the commit order.
    pub fn commit_with_two_workers(deps: Vec<Vec<usize>>) -> (Arc<DepGraph>, Vec<usize>) {
        fn worker(g: &DepGraph, log: &Mutex<Vec<usize>>) {
            while let Some(j) = g.next() {
                log.lock().unwrap().push(j);
                g.commit(j);
            }
        }
        let g = Arc::new(DepGraph::new(deps).unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        let t = {
            let (g, log) = (g.clone(), log.clone());
            thread::spawn(move || worker(&g, &log))
        };
        worker(&g, &log);
        t.join().unwrap();
        let order = log.lock().unwrap().clone();
        (g, order)
    }
}
