//! The interface between the concurrent core and what it executes.
//!
//! The core (strategies, scheduler, multi-version memory, dependency graph) knows nothing
//! of the EVM: it runs any [`TxnExecutor`], a block of transactions over keys and values.
//! `crate::evm` is the revm implementation; tests and loom models use mock transactions.

use std::fmt::Debug;
use std::hash::Hash;

use crate::error::{BlockError, Invariant};

/// Position of a transaction in its block.
pub type TxnIndex = usize;
/// How many times a transaction has been (re-)executed before: 0 for its first execution.
pub type Incarnation = u32;

/// Which execution of which transaction wrote a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Version {
    pub txn_idx: TxnIndex,
    pub incarnation: Incarnation,
}

impl Version {
    pub const fn new(txn_idx: TxnIndex, incarnation: Incarnation) -> Self {
        Self {
            txn_idx,
            incarnation,
        }
    }
}

/// What a read by transaction `j` resolves to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadResult<V> {
    /// The value written by an earlier transaction, with the version that wrote it.
    Written { version: Version, value: V },
    /// No earlier transaction wrote the key (as far as the strategy knows): read the
    /// pre-block state.
    Base,
    /// An earlier transaction's aborted incarnation wrote here (an ESTIMATE): its next
    /// incarnation will probably write again, so wait for that transaction.
    Estimate(TxnIndex),
}

impl<V> ReadResult<V> {
    /// The origin a read set records: the writer's version, or `None` for the pre-state.
    /// An ESTIMATE is never recorded (the execution stops at it).
    pub fn origin(&self) -> Option<Version> {
        match self {
            ReadResult::Written { version, .. } => Some(*version),
            _ => None,
        }
    }
}

/// The state as one execution of one transaction sees it. Each strategy supplies its own
/// view and records the reads made through it.
///
/// Reads below a bound: a machine whose values may be deltas (an EVM balance credit,
/// stored in the same key's version list as a full balance) resolves a key by walking its
/// chain of writers down: `read(key)` gives the top writer `k`; if `k` wrote a delta,
/// `read_below(key, k)` gives the writer below `k`, and so on down to a full value or the
/// pre-block state. Each step is one recorded read `(key, below, origin)`, and validation
/// checks every one of them: if each link still resolves to the same version, the whole
/// chain is the same sequence of versions, each of which names one recorded write, so the
/// resolved sum is the same sum (see `read_set`). A machine may also `peek` a value
/// without recording it and `record` it later, once it knows the execution used it; a
/// peeked value the execution never used need not be valid, since nothing depends on it.
pub trait StateView<K, V> {
    /// What `key` resolves to, not recorded: as this transaction reads it (`below: None`),
    /// or as transaction `t` would (`below: Some(t)`, t <= this transaction): the highest
    /// write by a transaction below the bound, or Base, or an Estimate.
    fn peek(&mut self, key: &K, below: Option<TxnIndex>) -> ReadResult<V>;

    /// Records a read made by `peek` with the origin it resolved to; validation later
    /// checks that (key, below) still resolves to `origin`.
    fn record(&mut self, key: &K, below: Option<TxnIndex>, origin: Option<Version>);

    /// `peek(key, None)` and record it (unless an Estimate, which is never recorded).
    fn read(&mut self, key: &K) -> ReadResult<V> {
        let result = self.peek(key, None);
        if !matches!(result, ReadResult::Estimate(_)) {
            self.record(key, None, result.origin());
        }
        result
    }

    /// `peek(key, Some(below))` and record it (unless an Estimate).
    fn read_below(&mut self, key: &K, below: TxnIndex) -> ReadResult<V> {
        let result = self.peek(key, Some(below));
        if !matches!(result, ReadResult::Estimate(_)) {
            self.record(key, Some(below), result.origin());
        }
        result
    }
}

/// The write set and output of an execution that ran to its end.
pub type WritesAndOutput<K, V, O> = (Vec<(K, V)>, O);

/// What one execution of a transaction produced (`E`: the machine's
/// [`TxnExecutor::Error`]).
#[derive(Clone, Debug)]
pub enum Execution<K, V, O, E> {
    /// The execution ran to its end (a transaction rejected by the VM also ends here, with
    /// no writes and an output that says so).
    Done { writes: Vec<(K, V)>, output: O },
    /// The execution read an ESTIMATE of transaction `on` and stopped.
    Blocked { on: TxnIndex },
    /// The machine could not run the transaction at all (for the EVM: its state source
    /// failed): the block cannot be executed. Every strategy stops and returns `error` as
    /// it is ([`BlockError::Txn`]); none retries.
    Failed { error: E },
}

impl<K, V, O, E> Execution<K, V, O, E> {
    /// The writes and output of an execution that must have run to its end (no strategy
    /// but Block-STM ever hands out an ESTIMATE).
    pub fn into_done(self, txn_idx: TxnIndex) -> Result<WritesAndOutput<K, V, O>, BlockError<E>> {
        match self {
            Execution::Done { writes, output } => Ok((writes, output)),
            Execution::Blocked { on } => {
                Err(Invariant::UnexpectedEstimate { txn: txn_idx, on }.into())
            }
            Execution::Failed { error } => Err(BlockError::Txn {
                txn: txn_idx,
                error,
            }),
        }
    }
}

/// A key of the state that transactions read and write.
pub trait Key: Clone + Eq + Hash + Debug + Send + Sync {
    /// The one transaction that ever writes this key, when only one can (an EVM
    /// transaction's deferred fee). Multi-version memory keeps such a key's entry in a
    /// slot of that transaction rather than in its index of keys: no insert into a shared
    /// index, nothing to hash. A hint that must hold for speed, not for correctness: a
    /// write by another transaction still lands in the index, and reads find it there.
    fn sole_writer(&self) -> Option<TxnIndex> {
        None
    }

    /// The kind of location this key is, for counting conflicts by kind
    /// (`Metrics::aborts_by_kind`; the EVM names account, storage, fee...). A stale read
    /// below a bound counts under "delta" instead, whatever its key.
    fn kind(&self) -> &'static str {
        "key"
    }
}

impl Key for u64 {}

/// A block of transactions and the machine that runs one of them.
///
/// `execute` must be a pure function of the transaction and the values its view returns:
/// given the same reads it produces the same writes and output. Everything the strategies
/// promise rests on that.
pub trait TxnExecutor: Sync {
    type Key: Key;
    type Value: Clone + Debug + Send + Sync;
    type Output: Clone + Debug + Send + Sync;
    /// Why a transaction could not run at all ([`Execution::Failed`]; for the EVM, the
    /// state source's error), handed to the caller as it is. `std::convert::Infallible`
    /// for a machine whose transactions always run (mock and replayed ones).
    type Error: std::error::Error + Send + Sync + 'static;

    /// Number of transactions in the block.
    fn num_txns(&self) -> usize;

    fn execute<S: StateView<Self::Key, Self::Value>>(
        &self,
        txn_idx: TxnIndex,
        view: &mut S,
    ) -> Execution<Self::Key, Self::Value, Self::Output, Self::Error>;

    /// About how many distinct keys the block's transactions write in all, if the machine
    /// can tell before running them: a hint the multi-version memory sizes its index by
    /// (`MvMemory::for_block`). `None` (the default): a few per transaction.
    fn expected_keys(&self) -> Option<usize> {
        None
    }

    /// An earlier transaction that `txn_idx` is known to depend on before anything runs
    /// (an EVM transaction's previous one from the same sender, whose nonce it needs), if
    /// any. A hint only: Block-STM suspends a first execution on it instead of running it
    /// into a certain abort; correctness never rests on it.
    fn dependency_hint(&self, _txn_idx: TxnIndex) -> Option<TxnIndex> {
        None
    }
}

/// The final, committed result of one transaction.
#[derive(Clone, Debug)]
pub struct TxnResult<K, V, O> {
    pub writes: Vec<(K, V)>,
    pub output: O,
}

/// The committed result of every transaction of a block of `T`, in block order.
pub type BlockResults<T> =
    Vec<TxnResult<<T as TxnExecutor>::Key, <T as TxnExecutor>::Value, <T as TxnExecutor>::Output>>;
