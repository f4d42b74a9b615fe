//! Proof that the models can fail: with `--cfg stmlab_mutant_double_abort` the scheduler
//! forgets to check an incarnation's status before aborting it, and the double-abort
//! model must catch that.
#![cfg(all(stmlab_loom, stmlab_mutant_double_abort))]

#[test]
#[should_panic(expected = "exactly one validation wins the abort")]
fn double_abort_mutant_is_caught() {
    use loom::sync::{Arc, Mutex};
    use loom::thread;
    use stmlab::core::scheduler::{Scheduler, Task};
    use stmlab::core::txn::Version;
    let v = Version::new;
    loom::model(move || {
        let s = Arc::new(Scheduler::new(2));
        assert_eq!(s.next_task(), Some(Task::Execute(v(0, 0))));
        assert_eq!(s.next_task(), None);
        assert_eq!(s.next_task(), Some(Task::Execute(v(1, 0))));
        s.finish_execution(v(0, 0), true).unwrap();
        s.finish_execution(v(1, 0), true).unwrap();
        let wins = Arc::new(Mutex::new(0));
        let t = {
            let (s, wins) = (s.clone(), wins.clone());
            thread::spawn(move || {
                if s.try_validation_abort(v(1, 0)) {
                    *wins.lock().unwrap() += 1;
                }
            })
        };
        if s.try_validation_abort(v(1, 0)) {
            *wins.lock().unwrap() += 1;
        }
        t.join().unwrap();
        assert_eq!(
            *wins.lock().unwrap(),
            1,
            "exactly one validation wins the abort"
        );
    });
}
