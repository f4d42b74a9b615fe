//! Proof that the models can fail: with `--cfg stmlab_mutant_double_abort` the scheduler
//! forgets to check an incarnation's status before aborting it, and the double-abort
//! model (the same fixture as `scheduler.rs`'s) must catch that.
#![cfg(all(stmlab_loom, stmlab_mutant_double_abort))]

use loom_tests::fixtures::{two_executed, two_failing_validations};

#[test]
#[should_panic(expected = "exactly one validation wins the abort")]
fn double_abort_mutant_is_caught() {
    loom::model(|| {
        let (wins, _) = two_failing_validations(&two_executed());
        assert_eq!(wins, 1, "exactly one validation wins the abort");
    });
}
