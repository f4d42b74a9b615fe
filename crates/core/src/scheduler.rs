//! The collaborative scheduler of Block-STM (Gelashvili et al., PPoPP 2023, Algorithms 4
//! and 5): shared execution and validation indices hand out tasks in block order, and
//! every worker takes the lower of the next execution and the next validation task.
//!
//! # Status of a transaction
//!
//! ```text
//!             try_incarnate, claim          finish_execution
//!  ReadyToExecute(i) ----------> Executing(i) -----------------> Executed(i)
//!        ^                         |                                |
//!        | set_ready (i+1)         | add_dependency                 | try_validation_abort
//!        |                         v                                v
//!        +-------------------- Aborting(i) <------------------------+
//!          (finish_execution of the transaction waited on, or finish_validation of
//!           an abort)
//! ```
//! `i` is the incarnation number; only `set_ready` increments it, so an incarnation is
//! executed at most once and aborted at most once (the first abort wins).
//!
//! # Method call concurrency
//! - `next_task` may run on every worker at once; each index it hands out is claimed by
//!   `fetch_add` and an execution is only handed out by `try_incarnate` or `claim` (which
//!   `finish_execution` uses to run the lowest transaction it resumed on the same
//!   worker), both under the transaction's status lock, so each (transaction,
//!   incarnation) executes once.
//! - `finish_execution(j)` and `add_dependency(k, j)` race on transaction `j`: both take
//!   `dependencies[j]` and the status of `j` is set to `Executed` *before*
//!   `finish_execution` takes `dependencies[j]`, so either `add_dependency` sees `Executed`
//!   (and the caller re-executes at once) or it registers `k` before the swap (and
//!   `finish_execution` resumes it). No wake-up is lost.
//! - Lock order: `dependencies[j]`, then `status[j]`, then `status[k]` (only
//!   `add_dependency` holds more than one lock, and `j < k` never cycles back because a
//!   transaction only waits on a lower one). Every other function holds one lock at a
//!   time.
//! - Liveness: every task handed out is matched by exactly one decrement of
//!   `num_active_tasks` (when it completes without a follow-up task, or is suspended; a
//!   follow-up task, such as a resumed execution `finish_execution` claims, continues the
//!   task it follows and is not counted again);
//!   `done` is declared only when both indices are past the block, no task is active, and
//!   no index was decreased during the check.

use crossbeam_utils::CachePadded;

use crate::error::{EngineError, Invariant};
use crate::perturb::{self, Site};
use crate::sync::{lock, AtomicBool, AtomicUsize, Mutex, Ordering};
use crate::txn::{Incarnation, TxnIndex, Version};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    ReadyToExecute,
    Executing,
    Executed,
    Aborting,
}

#[derive(Debug)]
struct TxnState {
    incarnation: Incarnation,
    status: Status,
}

/// What a worker should do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Task {
    Execute(Version),
    Validate(Version),
    /// Validate the first version, then execute the second (already claimed for this
    /// worker): what `finish_execution` hands back when it resumed a waiting transaction
    /// and its own transaction is due for validation. `finish_validation` of the first
    /// returns the execution of the second.
    ValidateThenExecute(Version, Version),
}

pub struct Scheduler {
    num_txns: usize,
    /// The next transaction to try to execute. Only grows by `fetch_add`, shrinks by
    /// `fetch_min` when an aborted or resumed transaction must run again.
    execution_idx: CachePadded<AtomicUsize>,
    /// The next transaction to validate; shrinks (`fetch_min`) when an execution may have
    /// invalidated the reads of later transactions.
    validation_idx: CachePadded<AtomicUsize>,
    /// How many times either index was decreased: lets `check_done` see that nothing
    /// changed while it read the other counters.
    decrease_cnt: CachePadded<AtomicUsize>,
    /// Tasks handed out and not yet finished.
    num_active_tasks: CachePadded<AtomicUsize>,
    /// The highest transaction that has begun `finish_execution` (`fetch_max`, before its
    /// status becomes `Executed`): tells a transaction that wrote a new key whether any
    /// later one may already have read around it (`any_later_finished`).
    highest_finished: CachePadded<AtomicUsize>,
    done_marker: CachePadded<AtomicBool>,
    /// Transactions waiting for transaction `j` to finish executing. Padded: workers
    /// touch neighbouring transactions at once.
    dependencies: Vec<CachePadded<Mutex<Vec<TxnIndex>>>>,
    status: Vec<CachePadded<Mutex<TxnState>>>,
}

// Ordering: every access to the five shared counters is SeqCst. `check_done` reads
// `decrease_cnt`, both indices and `num_active_tasks` and concludes from their values
// together; the paper's argument needs one total order over all their updates (a stale
// index read beside a fresh task count would end the block early). Weaker orderings
// would need a separate proof for each pair, and these counters are not the bottleneck.
const SC: Ordering = Ordering::SeqCst;

impl Scheduler {
    pub fn new(num_txns: usize) -> Self {
        Self {
            num_txns,
            execution_idx: CachePadded::new(AtomicUsize::new(0)),
            validation_idx: CachePadded::new(AtomicUsize::new(0)),
            decrease_cnt: CachePadded::new(AtomicUsize::new(0)),
            num_active_tasks: CachePadded::new(AtomicUsize::new(0)),
            highest_finished: CachePadded::new(AtomicUsize::new(0)),
            done_marker: CachePadded::new(AtomicBool::new(num_txns == 0)),
            dependencies: (0..num_txns)
                .map(|_| CachePadded::new(Mutex::new(Vec::new())))
                .collect(),
            status: (0..num_txns)
                .map(|_| {
                    CachePadded::new(Mutex::new(TxnState {
                        incarnation: 0,
                        status: Status::ReadyToExecute,
                    }))
                })
                .collect(),
        }
    }

    pub fn num_txns(&self) -> usize {
        self.num_txns
    }

    pub fn done(&self) -> bool {
        self.done_marker.load(SC)
    }

    fn decrease_execution_idx(&self, target: TxnIndex) {
        self.execution_idx.fetch_min(target, SC);
        self.decrease_cnt.fetch_add(1, SC);
    }

    fn decrease_validation_idx(&self, target: TxnIndex) {
        self.validation_idx.fetch_min(target, SC);
        self.decrease_cnt.fetch_add(1, SC);
    }

    fn check_done(&self) {
        let observed = self.decrease_cnt.load(SC);
        let exec = self.execution_idx.load(SC);
        let val = self.validation_idx.load(SC);
        if exec.min(val) >= self.num_txns
            && self.num_active_tasks.load(SC) == 0
            && observed == self.decrease_cnt.load(SC)
        {
            self.done_marker.store(true, SC);
        }
    }

    /// A task ended without a follow-up task.
    fn finish_task(&self) {
        self.num_active_tasks.fetch_sub(1, SC);
    }

    fn try_incarnate(&self, txn_idx: TxnIndex) -> Option<Version> {
        if txn_idx < self.num_txns {
            let mut state = lock(&self.status[txn_idx]);
            if state.status == Status::ReadyToExecute {
                state.status = Status::Executing;
                return Some(Version::new(txn_idx, state.incarnation));
            }
        }
        self.finish_task();
        None
    }

    fn next_version_to_execute(&self) -> Option<Version> {
        if self.execution_idx.load(SC) >= self.num_txns {
            self.check_done();
            return None;
        }
        self.num_active_tasks.fetch_add(1, SC);
        let idx = self.execution_idx.fetch_add(1, SC);
        self.try_incarnate(idx)
    }

    fn next_version_to_validate(&self) -> Option<Version> {
        if self.validation_idx.load(SC) >= self.num_txns {
            self.check_done();
            return None;
        }
        self.num_active_tasks.fetch_add(1, SC);
        let idx = self.validation_idx.fetch_add(1, SC);
        if idx < self.num_txns {
            let state = lock(&self.status[idx]);
            if state.status == Status::Executed {
                return Some(Version::new(idx, state.incarnation));
            }
        }
        self.finish_task();
        None
    }

    /// The lower of the next validation and the next execution task; `None` only when both
    /// indices have passed the block (the caller waits for tasks in progress to lower one,
    /// or for `done`).
    ///
    /// An index that hands out nothing (a validation of a transaction still executing,
    /// whose `finish_execution` returns that validation itself; an execution another
    /// worker claimed) has still moved past that transaction, so the next round asks for
    /// the next one: every round claims an index with `fetch_add`, and the loop ends. (It
    /// returned `None` there, and the worker yielded its core: on 10,000 independent
    /// transfers at 2 threads each worker went idle some 4,400 times per block, 2.7 ms of
    /// its 22.)
    pub fn next_task(&self) -> Option<Task> {
        perturb::at(Site::TaskHandOut);
        loop {
            let validation = self.validation_idx.load(SC);
            let execution = self.execution_idx.load(SC);
            if validation.min(execution) >= self.num_txns {
                self.check_done();
                return None;
            }
            let task = if validation < execution {
                self.next_version_to_validate().map(Task::Validate)
            } else {
                self.next_version_to_execute().map(Task::Execute)
            };
            if task.is_some() {
                return task;
            }
        }
    }

    /// Transaction `txn_idx` read an ESTIMATE of `blocking`: suspend it until `blocking`
    /// finishes executing. Returns false when `blocking` already finished (the caller
    /// re-executes at once).
    pub fn add_dependency(
        &self,
        txn_idx: TxnIndex,
        blocking: TxnIndex,
    ) -> Result<bool, EngineError> {
        if blocking >= txn_idx {
            return Err(Invariant::WaitsOnLater {
                txn: txn_idx,
                blocking,
            }
            .into());
        }
        perturb::at(Site::Dependency);
        {
            let mut deps = lock(&self.dependencies[blocking]);
            if lock(&self.status[blocking]).status == Status::Executed {
                return Ok(false);
            }
            let mut state = lock(&self.status[txn_idx]);
            if state.status != Status::Executing {
                return Err(Invariant::SuspendedWhileNotExecuting {
                    txn: txn_idx,
                    status: format!("{:?}", state.status),
                }
                .into());
            }
            state.status = Status::Aborting;
            drop(state);
            deps.push(txn_idx);
        }
        self.finish_task();
        Ok(true)
    }

    fn set_ready(&self, txn_idx: TxnIndex) -> Result<(), EngineError> {
        perturb::at(Site::StatusChange);
        let mut state = lock(&self.status[txn_idx]);
        if state.status != Status::Aborting {
            return Err(Invariant::ReadyWhileNotSuspended {
                txn: txn_idx,
                status: format!("{:?}", state.status),
            }
            .into());
        }
        state.incarnation += 1;
        state.status = Status::ReadyToExecute;
        Ok(())
    }

    /// Incarnation `version` finished executing; `wrote_new_key` when it wrote a key its
    /// previous incarnation did not. May return a follow-up task for the caller (a
    /// continuation: no task is counted or ended): the validation of this same version
    /// (`Validate`), the execution of the lowest transaction it resumed, claimed for the
    /// caller (`Execute`), or both, validation first (`ValidateThenExecute`).
    pub fn finish_execution(
        &self,
        version: Version,
        wrote_new_key: bool,
    ) -> Result<Option<Task>, EngineError> {
        let txn_idx = version.txn_idx;
        perturb::at(Site::StatusChange);
        perturb::progress();
        // Before the status change: a later transaction that a validator can find
        // executed has registered here first.
        let later_finished = self.any_later_finished(txn_idx, wrote_new_key);
        {
            let mut state = lock(&self.status[txn_idx]);
            if state.status != Status::Executing || state.incarnation != version.incarnation {
                return Err(Invariant::FinishedExecutionNotRunning {
                    txn: txn_idx,
                    incarnation: version.incarnation,
                    status: format!("{:?}", state.status),
                    current: state.incarnation,
                }
                .into());
            }
            state.status = Status::Executed;
        }
        // Between the status change and taking the waiters: the window the race with
        // `add_dependency` (module docs) lives in.
        perturb::at(Site::WakeUp);
        let waiting = std::mem::take(&mut *lock(&self.dependencies[txn_idx]));
        // Read once: if it is past `txn_idx` now it stays so unless lowered, and then the
        // validation returned below is merely one more; if not, the index reaches
        // `txn_idx` later and finds it executed.
        //
        // Read by a read-modify-write (adding 0), not a load: when the index is not past
        // `txn_idx`, this worker leaves the validation of every later transaction to the
        // index, and the worker the index then hands one to must see this execution's
        // writes. Every later `fetch_add` or `fetch_min` of the index reads from the
        // release sequence this read-modify-write heads, so it synchronizes with it: the
        // writes recorded before it happen before the validations handed out after it.
        // A plain SeqCst load would order only the index itself (a store-buffering shape:
        // this worker's writes, then its load; the other's `fetch_add`, then its reads):
        // on x86 and ARMv8 the locked instructions between the writes and the load (the
        // status and dependency mutexes, `fetch_max`) happen to forbid it, the language
        // does not. (On x86 this idempotent read-modify-write compiles to a fence and a
        // load, and leaves the shared line unwritten; on AArch64 it is a real write.)
        // The loom model `a_validation_the_index_hands_out_sees_the_finished_writes`
        // fails with a load here.
        let validation_past = self.validation_idx.fetch_add(0, SC) > txn_idx;
        let mut handed = None;
        if let Some(&min) = waiting.iter().min() {
            for &dep in &waiting {
                self.set_ready(dep)?;
            }
            // The lowest resumed transaction is run by this worker itself, next (after
            // validating its own, if that is due): it is most often this one's successor
            // from the same sender, and this worker's cache holds the state it reads
            // (handed out through the execution index, it went to whichever worker asked
            // first, and a chain of them bounced between the cores, each core validating
            // what the other was writing the next link over). Only when the index has
            // passed it: otherwise the index hands it out in order anyway. Claimed under
            // its status lock, so if another worker reached it through a lowered index
            // first, that one runs it.
            if self.execution_idx.load(SC) > min {
                handed = self.claim(min);
            }
            let rest = waiting.iter().copied().filter(|&d| d != min).min();
            match (handed, rest) {
                (Some(_), Some(next)) => self.decrease_execution_idx(next),
                (Some(_), None) => {}
                (None, _) => self.decrease_execution_idx(min),
            }
        }
        if validation_past {
            if wrote_new_key && later_finished {
                // A later transaction may have read around the new key: revalidate every
                // one after this (this one is validated here, below). When none had
                // finished, each validates after its own `finish_execution`, which
                // happens after this one's writes (`any_later_finished`), so lowering the
                // index would only revalidate transactions not yet executed: on a chain
                // of one sender's transactions, where each resumed link writes the
                // sender's next nonce slot, it walked the index over every suspended
                // transaction after each link.
                self.decrease_validation_idx(txn_idx + 1);
            }
            return Ok(Some(match handed {
                Some(resumed) => Task::ValidateThenExecute(version, resumed),
                None => Task::Validate(version),
            }));
        }
        if let Some(resumed) = handed {
            // The finished execution's task goes on as the resumed one's execution.
            return Ok(Some(Task::Execute(resumed)));
        }
        self.finish_task();
        Ok(None)
    }

    /// Registers `txn_idx` in `highest_finished`; when it wrote a new key, also says
    /// whether a later transaction registered before it (and so may have executed, or
    /// been validated, without seeing the new key).
    ///
    /// Why `false` is safe: the caller's `fetch_max` is a read-modify-write, so it
    /// reads the last value before it in the counter's modification order; `false` means
    /// that value was at most `txn_idx`, so every later transaction `k` registers after
    /// it in that order. `k`'s registration (a `fetch_max`, or a load that saw a value
    /// at least `k`, written by a read-modify-write after the caller's) reads from the
    /// release sequence the caller's `fetch_max` heads (read-modify-writes continue a
    /// release sequence), so it synchronizes with it: the caller's recorded writes happen
    /// before `k`'s status becomes `Executed`, and so before every validation of `k`
    /// (its own, or one an index walker starts after seeing `Executed` under the status
    /// lock). Each of them sees the new key. A transaction that did not write a new key
    /// needs no answer: it registers with a load, and a `fetch_max` only when the value
    /// is below it (a counter already at or past it is left as it is, and its cache line
    /// not written).
    fn any_later_finished(&self, txn_idx: TxnIndex, wrote_new_key: bool) -> bool {
        if wrote_new_key {
            self.highest_finished.fetch_max(txn_idx, SC) > txn_idx
        } else {
            if self.highest_finished.load(SC) < txn_idx {
                self.highest_finished.fetch_max(txn_idx, SC);
            }
            false
        }
    }

    /// Claims the execution of `txn_idx` if it is ready: the caller's current task goes
    /// on as that execution (no task is counted or ended here).
    fn claim(&self, txn_idx: TxnIndex) -> Option<Version> {
        let mut state = lock(&self.status[txn_idx]);
        (state.status == Status::ReadyToExecute).then(|| {
            state.status = Status::Executing;
            Version::new(txn_idx, state.incarnation)
        })
    }

    /// A validation of `version` failed: abort it unless another validation already did
    /// (or a newer incarnation exists). True when this call won the abort.
    pub fn try_validation_abort(&self, version: Version) -> bool {
        perturb::at(Site::StatusChange);
        let mut state = lock(&self.status[version.txn_idx]);
        // The loom mutation test (`loom-tests`, `--cfg stmlab_mutant_double_abort`)
        // drops the status check, so two validations can both win the abort.
        #[cfg(not(stmlab_mutant_double_abort))]
        let may_abort = state.status == Status::Executed;
        #[cfg(stmlab_mutant_double_abort)]
        let may_abort = true;
        if may_abort && state.incarnation == version.incarnation {
            state.status = Status::Aborting;
            true
        } else {
            false
        }
    }

    /// The validation of `version` ended; `aborted` when it won the abort. `then`: the
    /// execution claimed for the caller to run after this validation
    /// (`Task::ValidateThenExecute`), returned as the follow-up task. Otherwise, may return
    /// the re-execution of the transaction.
    pub fn finish_validation(
        &self,
        version: Version,
        aborted: bool,
        then: Option<Version>,
    ) -> Result<Option<Task>, EngineError> {
        let txn_idx = version.txn_idx;
        perturb::progress();
        if aborted {
            self.set_ready(txn_idx)?;
            self.decrease_validation_idx(txn_idx + 1);
            if then.is_some() {
                // This worker goes on with the execution it holds: the re-execution is
                // handed out through the execution index.
                self.decrease_execution_idx(txn_idx);
            } else if self.execution_idx.load(SC) > txn_idx {
                // `try_incarnate` ends this task if the re-execution was claimed elsewhere.
                return Ok(self.try_incarnate(txn_idx).map(Task::Execute));
            }
        }
        if let Some(claimed) = then {
            return Ok(Some(Task::Execute(claimed)));
        }
        self.finish_task();
        Ok(None)
    }

    /// Where the scheduler stands, for a hang report: its indices and counters, and the
    /// transactions not executed (the first eight named, with status and incarnation;
    /// `locked` for a status lock another thread holds). Takes no lock it could wait on.
    pub fn describe(&self) -> String {
        let mut named = Vec::new();
        let mut pending = 0;
        for (i, state) in self.status.iter().enumerate() {
            let shown = match state.try_lock() {
                Ok(s) if s.status == Status::Executed => continue,
                Ok(s) => format!("{i}: {:?}({})", s.status, s.incarnation),
                Err(_) => format!("{i}: locked"),
            };
            pending += 1;
            if named.len() < 8 {
                named.push(shown);
            }
        }
        format!(
            "execution index {}, validation index {}, active tasks {}, index decreases {}, \
             done {}; {pending} of {} transactions not executed [{}]",
            self.execution_idx.load(SC),
            self.validation_idx.load(SC),
            self.num_active_tasks.load(SC),
            self.decrease_cnt.load(SC),
            self.done(),
            self.num_txns,
            named.join(", ")
        )
    }

    /// The incarnation each transaction ended with (call after `done`).
    pub fn final_incarnations(&self) -> Vec<Incarnation> {
        self.status.iter().map(|s| lock(s).incarnation).collect()
    }
}

#[cfg(test)]
mod tests {
    //! Scripted single-threaded runs: call the scheduler's functions in chosen orders and
    //! check exactly what each returns.
    use super::*;

    fn v(i: TxnIndex, inc: Incarnation) -> Version {
        Version::new(i, inc)
    }

    #[test]
    fn executes_then_validates_in_order() {
        let s = Scheduler::new(2);
        assert_eq!(s.next_task(), Some(Task::Execute(v(0, 0))));
        // The validation index skips the transaction still executing.
        assert_eq!(s.next_task(), Some(Task::Execute(v(1, 0))));
        // Validation index 1 is past 0, which wrote a new key while no later transaction
        // had finished: 0 is validated at once, the index left where it is.
        assert_eq!(
            s.finish_execution(v(0, 0), true).unwrap(),
            Some(Task::Validate(v(0, 0)))
        );
        assert_eq!(s.finish_validation(v(0, 0), false, None).unwrap(), None);
        // Transaction 1 is still executing: its validation slot is skipped.
        assert_eq!(s.next_task(), None);
        assert!(!s.done());
        // Validation index (2) is past 1, and 1 wrote nothing new: validate at once.
        assert_eq!(
            s.finish_execution(v(1, 0), false).unwrap(),
            Some(Task::Validate(v(1, 0)))
        );
        assert_eq!(s.finish_validation(v(1, 0), false, None).unwrap(), None);
        assert_eq!(s.next_task(), None);
        assert!(s.done());
        assert_eq!(s.final_incarnations(), vec![0, 0]);
    }

    #[test]
    fn a_new_key_revalidates_the_later_transactions_that_finished() {
        let s = Scheduler::new(2);
        assert_eq!(s.next_task(), Some(Task::Execute(v(0, 0))));
        assert_eq!(s.next_task(), Some(Task::Execute(v(1, 0))));
        // 1 finishes first (validation index 1 is not past it) and is validated.
        assert_eq!(s.finish_execution(v(1, 0), false).unwrap(), None);
        assert_eq!(s.next_task(), Some(Task::Validate(v(1, 0))));
        assert_eq!(s.finish_validation(v(1, 0), false, None).unwrap(), None);
        // 0 then writes a new key: 1 may have read around it, so the index goes back to
        // 1, and 0 validates itself.
        assert_eq!(
            s.finish_execution(v(0, 0), true).unwrap(),
            Some(Task::Validate(v(0, 0)))
        );
        assert_eq!(s.finish_validation(v(0, 0), false, None).unwrap(), None);
        assert_eq!(s.next_task(), Some(Task::Validate(v(1, 0))));
        assert_eq!(s.finish_validation(v(1, 0), false, None).unwrap(), None);
        assert_eq!(s.next_task(), None);
        assert!(s.done());
    }

    #[test]
    fn a_new_key_leaves_the_index_alone_when_it_has_not_passed() {
        let s = Scheduler::new(3);
        for i in 0..3 {
            assert_eq!(s.next_task(), Some(Task::Execute(v(i, 0))));
        }
        // 2 finishes; 0's new key then lowers the validation index to 1 (2 had finished).
        assert_eq!(s.finish_execution(v(2, 0), true).unwrap(), None);
        assert_eq!(
            s.finish_execution(v(0, 0), true).unwrap(),
            Some(Task::Validate(v(0, 0)))
        );
        assert_eq!(s.finish_validation(v(0, 0), false, None).unwrap(), None);
        // 1 writes a new key with 2 finished, but the index (1) has not passed 1: it is
        // left alone, and hands out 1 and then 2, after 1's writes.
        assert_eq!(s.finish_execution(v(1, 0), true).unwrap(), None);
        assert_eq!(s.next_task(), Some(Task::Validate(v(1, 0))));
        assert_eq!(s.next_task(), Some(Task::Validate(v(2, 0))));
        assert_eq!(s.finish_validation(v(1, 0), false, None).unwrap(), None);
        assert_eq!(s.finish_validation(v(2, 0), false, None).unwrap(), None);
        assert_eq!(s.next_task(), None);
        assert!(s.done());
    }

    #[test]
    fn validate_then_execute_with_the_index_lowered() {
        let s = Scheduler::new(3);
        for i in 0..3 {
            assert_eq!(s.next_task(), Some(Task::Execute(v(i, 0))));
        }
        assert!(s.add_dependency(1, 0).unwrap());
        assert_eq!(s.finish_execution(v(2, 0), true).unwrap(), None);
        // 0 wrote a new key after 2 finished: the index goes back to 1, and 0's worker
        // validates 0, then runs the resumed 1.
        assert_eq!(
            s.finish_execution(v(0, 0), true).unwrap(),
            Some(Task::ValidateThenExecute(v(0, 0), v(1, 1)))
        );
        // The index skips 1 (claimed, executing) and revalidates 2.
        assert_eq!(s.next_task(), Some(Task::Validate(v(2, 0))));
        assert_eq!(s.finish_validation(v(2, 0), false, None).unwrap(), None);
        assert_eq!(
            s.finish_validation(v(0, 0), false, Some(v(1, 1))).unwrap(),
            Some(Task::Execute(v(1, 1)))
        );
        // The index (3) is past 1, no new key: validated at once.
        assert_eq!(
            s.finish_execution(v(1, 1), false).unwrap(),
            Some(Task::Validate(v(1, 1)))
        );
        assert_eq!(s.finish_validation(v(1, 1), false, None).unwrap(), None);
        assert_eq!(s.next_task(), None);
        assert!(s.done());
        assert_eq!(s.final_incarnations(), vec![0, 1, 0]);
    }

    #[test]
    fn dependency_suspends_and_resumes() {
        let s = Scheduler::new(2);
        assert_eq!(s.next_task(), Some(Task::Execute(v(0, 0))));
        // The validation index skips the transaction still executing.
        assert_eq!(s.next_task(), Some(Task::Execute(v(1, 0))));
        // 1 read an ESTIMATE of 0, which has not finished: suspended.
        assert!(s.add_dependency(1, 0).unwrap());
        // 1 resumed with incarnation 1, and the worker that finished 0 runs it (the
        // execution index had passed it) after validating 0 (the validation index had
        // passed 0).
        assert_eq!(
            s.finish_execution(v(0, 0), true).unwrap(),
            Some(Task::ValidateThenExecute(v(0, 0), v(1, 1)))
        );
        assert_eq!(
            s.finish_validation(v(0, 0), false, Some(v(1, 1))).unwrap(),
            Some(Task::Execute(v(1, 1)))
        );
        // Validation index 1 is not past 1: validated through the index instead.
        assert_eq!(s.finish_execution(v(1, 1), false).unwrap(), None);
        assert_eq!(s.next_task(), Some(Task::Validate(v(1, 1))));
        assert_eq!(s.finish_validation(v(1, 1), false, None).unwrap(), None);
        assert_eq!(s.next_task(), None);
        assert!(s.done());
        assert_eq!(s.final_incarnations(), vec![0, 1]);
    }

    #[test]
    fn an_aborted_validation_goes_on_to_its_claimed_execution() {
        let s = Scheduler::new(2);
        assert_eq!(s.next_task(), Some(Task::Execute(v(0, 0))));
        assert_eq!(s.next_task(), Some(Task::Execute(v(1, 0))));
        assert!(s.add_dependency(1, 0).unwrap());
        assert_eq!(
            s.finish_execution(v(0, 0), true).unwrap(),
            Some(Task::ValidateThenExecute(v(0, 0), v(1, 1)))
        );
        // 0's validation fails: this worker still runs 1, and 0's re-execution goes to
        // the execution index.
        assert!(s.try_validation_abort(v(0, 0)));
        assert_eq!(
            s.finish_validation(v(0, 0), true, Some(v(1, 1))).unwrap(),
            Some(Task::Execute(v(1, 1)))
        );
        assert_eq!(s.next_task(), Some(Task::Execute(v(0, 1))));
        // 1 reads 0's ESTIMATE and waits again.
        assert!(s.add_dependency(1, 0).unwrap());
        // The execution index (1) has not passed 1: the index hands it out.
        assert_eq!(
            s.finish_execution(v(0, 1), false).unwrap(),
            Some(Task::Validate(v(0, 1)))
        );
        assert_eq!(s.finish_validation(v(0, 1), false, None).unwrap(), None);
        assert_eq!(s.next_task(), Some(Task::Execute(v(1, 2))));
        assert_eq!(s.finish_execution(v(1, 2), false).unwrap(), None);
        assert_eq!(s.next_task(), Some(Task::Validate(v(1, 2))));
        assert_eq!(s.finish_validation(v(1, 2), false, None).unwrap(), None);
        assert_eq!(s.next_task(), None);
        assert!(s.done());
        assert_eq!(s.final_incarnations(), vec![1, 2]);
    }

    #[test]
    fn resumed_transaction_runs_on_the_finishing_worker() {
        let s = Scheduler::new(4);
        assert_eq!(s.next_task(), Some(Task::Execute(v(0, 0))));
        // The validation index skips the transaction still executing.
        assert_eq!(s.next_task(), Some(Task::Execute(v(1, 0))));
        // The validation index skips the transaction still executing.
        assert_eq!(s.next_task(), Some(Task::Execute(v(2, 0))));
        // 2 waits on 1.
        assert!(s.add_dependency(2, 1).unwrap());
        assert_eq!(
            s.finish_execution(v(0, 0), true).unwrap(),
            Some(Task::Validate(v(0, 0)))
        );
        assert_eq!(s.finish_validation(v(0, 0), false, None).unwrap(), None);
        // 1 finishes, the validation index past it: the finishing worker validates 1,
        // then runs 2.
        assert_eq!(
            s.finish_execution(v(1, 0), false).unwrap(),
            Some(Task::ValidateThenExecute(v(1, 0), v(2, 1)))
        );
        assert_eq!(
            s.finish_validation(v(1, 0), false, Some(v(2, 1))).unwrap(),
            Some(Task::Execute(v(2, 1)))
        );
        // Validation index 2 is not past 2: validated through the index.
        assert_eq!(s.finish_execution(v(2, 1), false).unwrap(), None);
        assert_eq!(s.next_task(), Some(Task::Validate(v(2, 1))));
        assert_eq!(s.finish_validation(v(2, 1), false, None).unwrap(), None);
        assert_eq!(s.next_task(), Some(Task::Execute(v(3, 0))));
        // 3 finishes with the validation index (3) not past it, waiters none.
        assert_eq!(s.finish_execution(v(3, 0), false).unwrap(), None);
        assert_eq!(s.next_task(), Some(Task::Validate(v(3, 0))));
        assert_eq!(s.finish_validation(v(3, 0), false, None).unwrap(), None);
        assert_eq!(s.next_task(), None);
        assert!(s.done());
        assert_eq!(s.final_incarnations(), vec![0, 0, 1, 0]);
    }

    #[test]
    fn two_waiters_one_claimed_the_other_handed_out_by_the_index() {
        let s = Scheduler::new(3);
        assert_eq!(s.next_task(), Some(Task::Execute(v(0, 0))));
        // The validation index skips the transaction still executing.
        assert_eq!(s.next_task(), Some(Task::Execute(v(1, 0))));
        // The validation index skips the transaction still executing.
        assert_eq!(s.next_task(), Some(Task::Execute(v(2, 0))));
        assert!(s.add_dependency(1, 0).unwrap());
        assert!(s.add_dependency(2, 0).unwrap());
        // 0 is validated by its worker, then 1 is run there; 2 is left to the execution
        // index (lowered to 2).
        assert_eq!(
            s.finish_execution(v(0, 0), true).unwrap(),
            Some(Task::ValidateThenExecute(v(0, 0), v(1, 1)))
        );
        assert_eq!(
            s.finish_validation(v(0, 0), false, Some(v(1, 1))).unwrap(),
            Some(Task::Execute(v(1, 1)))
        );
        // The validation index (2) is not below the execution index (2).
        assert_eq!(s.next_task(), Some(Task::Execute(v(2, 1))));
        // The validation index (2) is past 1, no new key: validated at once.
        assert_eq!(
            s.finish_execution(v(1, 1), false).unwrap(),
            Some(Task::Validate(v(1, 1)))
        );
        assert_eq!(s.finish_validation(v(1, 1), false, None).unwrap(), None);
        assert_eq!(s.finish_execution(v(2, 1), false).unwrap(), None);
        assert_eq!(s.next_task(), Some(Task::Validate(v(2, 1))));
        assert_eq!(s.finish_validation(v(2, 1), false, None).unwrap(), None);
        assert_eq!(s.next_task(), None);
        assert!(s.done());
        assert_eq!(s.final_incarnations(), vec![0, 1, 1]);
    }

    #[test]
    fn dependency_on_finished_transaction_is_refused() {
        let s = Scheduler::new(2);
        assert_eq!(s.next_task(), Some(Task::Execute(v(0, 0))));
        // The validation index skips the transaction still executing.
        assert_eq!(s.next_task(), Some(Task::Execute(v(1, 0))));
        assert_eq!(
            s.finish_execution(v(0, 0), false).unwrap(),
            Some(Task::Validate(v(0, 0)))
        );
        // 0 already executed: the caller must re-execute 1 at once.
        assert!(!s.add_dependency(1, 0).unwrap());
    }

    #[test]
    fn only_the_first_abort_wins() {
        let s = Scheduler::new(2);
        assert_eq!(s.next_task(), Some(Task::Execute(v(0, 0))));
        // The validation index skips the transaction still executing.
        assert_eq!(s.next_task(), Some(Task::Execute(v(1, 0))));
        assert_eq!(
            s.finish_execution(v(0, 0), true).unwrap(),
            Some(Task::Validate(v(0, 0)))
        );
        assert_eq!(s.finish_execution(v(1, 0), true).unwrap(), None);
        assert_eq!(s.next_task(), Some(Task::Validate(v(1, 0))));
        assert!(s.try_validation_abort(v(1, 0)));
        assert!(!s.try_validation_abort(v(1, 0)));
        // The winner gets the re-execution (execution index 2 > 1); 0's validation ends.
        assert_eq!(
            s.finish_validation(v(1, 0), true, None).unwrap(),
            Some(Task::Execute(v(1, 1)))
        );
        assert_eq!(s.finish_validation(v(0, 0), false, None).unwrap(), None);
        assert_eq!(
            s.finish_execution(v(1, 1), false).unwrap(),
            Some(Task::Validate(v(1, 1)))
        );
        assert_eq!(s.finish_validation(v(1, 1), false, None).unwrap(), None);
        assert_eq!(s.next_task(), None);
        assert!(s.done());
        assert_eq!(s.final_incarnations(), vec![0, 1]);
    }

    #[test]
    fn impossible_calls_are_errors_not_panics() {
        let s = Scheduler::new(2);
        assert!(matches!(
            s.finish_execution(v(0, 0), false),
            Err(EngineError::Invariant(
                Invariant::FinishedExecutionNotRunning { txn: 0, .. }
            ))
        ));
        assert_eq!(
            s.add_dependency(0, 1),
            Err(Invariant::WaitsOnLater {
                txn: 0,
                blocking: 1
            }
            .into())
        );
        assert!(matches!(
            s.finish_validation(v(1, 0), true, None),
            Err(EngineError::Invariant(Invariant::ReadyWhileNotSuspended {
                txn: 1,
                ..
            }))
        ));
    }

    #[test]
    fn empty_block_is_done_at_once() {
        let s = Scheduler::new(0);
        assert!(s.done());
        assert_eq!(s.next_task(), None);
    }
}
