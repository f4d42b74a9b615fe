//! Read sets: what an execution read, and from which version.
//!
//! Two kinds of read. A plain read `(key, origin)` is what the reader itself resolves the
//! key to (the hot path: one vector of small entries). A read below a bound
//! `(key, t, origin)` is what the key resolves to for a reader at `t` (`t` at most the
//! reader): the highest write by a transaction below `t`. A machine that stores deltas
//! (a balance credit) resolves a key's full value by a chain of them: a plain read finds
//! the top writer `k1` and its delta, a read below `k1` finds `k2`, ..., down to a full
//! value or the pre-block state. Below-reads go to a second vector, allocated only by an
//! execution that makes one.
//!
//! Why validating every link validates the chain's sum: the chain read is
//! `key@None -> v1, key@k1 -> v2, ..., key@k(n-1) -> vn` where `ki` is `vi`'s
//! transaction and `vn` is a full value or the pre-state. If validation finds every link
//! resolving to the same version again, the walk made now would visit the same versions in
//! the same order (each step's bound is the previous step's origin, unchanged) and stop at
//! the same place (`vn` is the same version, so the same full value). A version names one
//! recorded write set, so every value on the chain is the same, and so is their sum. If
//! any link moved (a new writer in between, a re-executed one, an ESTIMATE), that link
//! fails and the execution is stale; nothing finer is claimed.

use super::txn::{Key, ReadResult, StateView, TxnIndex, Version};

/// The reads of one execution, in the order made: each key with the version it resolved to
/// (`None`: the pre-block state).
#[derive(Clone, Debug)]
pub struct ReadSet<K> {
    reads: Vec<(K, Option<Version>)>,
    /// Reads below a bound: `(key, bound, origin)`.
    below: Vec<(K, TxnIndex, Option<Version>)>,
    /// For each entry of `below`, how many plain reads came before it: the order of the
    /// two kinds together, for a replay that must make them in the recorded order.
    below_at: Vec<usize>,
}

impl<K> Default for ReadSet<K> {
    fn default() -> Self {
        Self {
            reads: Vec::new(),
            below: Vec::new(),
            below_at: Vec::new(),
        }
    }
}

/// One read in the order made, as [`ReadSet::iter_in_order`] gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderedRead<'a, K> {
    pub key: &'a K,
    /// `None` for a plain read.
    pub below: Option<TxnIndex>,
    pub origin: Option<Version>,
}

/// The first read a validation found stale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StaleRead<'a, K> {
    pub key: &'a K,
    /// `None` for a plain read, the bound for a read below one.
    pub below: Option<TxnIndex>,
}

impl<K: Key> StaleRead<'_, K> {
    /// The kind a conflict through this read counts under (`Metrics::aborts_by_kind`):
    /// the key's own kind, or "delta" for a read below a bound (a link of a delta chain).
    pub fn kind(&self) -> &'static str {
        match self.below {
            None => self.key.kind(),
            Some(_) => "delta",
        }
    }
}

impl<K> ReadSet<K> {
    /// Room for this many plain reads before the first growth: an execution's read set is
    /// allocated once where the default would grow it from 4 to 8 and on.
    pub const TYPICAL: usize = 8;

    /// An empty read set with room for [`Self::TYPICAL`] plain reads.
    pub fn for_execution() -> Self {
        Self {
            reads: Vec::with_capacity(Self::TYPICAL),
            ..Self::default()
        }
    }

    pub fn record(&mut self, key: K, origin: Option<Version>) {
        self.reads.push((key, origin));
    }

    /// Records a read of `key` below bound `below` that resolved to `origin`.
    pub fn record_below(&mut self, key: K, below: TxnIndex, origin: Option<Version>) {
        self.below_at.push(self.reads.len());
        self.below.push((key, below, origin));
    }

    /// The plain reads, in order.
    pub fn iter(&self) -> impl Iterator<Item = &(K, Option<Version>)> {
        self.reads.iter()
    }

    /// The reads below a bound, in order: `(key, bound, origin)`.
    pub fn iter_below(&self) -> impl Iterator<Item = &(K, TxnIndex, Option<Version>)> {
        self.below.iter()
    }

    /// Every read, of both kinds, in the order made.
    pub fn iter_in_order(&self) -> impl Iterator<Item = OrderedRead<'_, K>> {
        let mut next_below = 0;
        let mut next_plain = 0;
        std::iter::from_fn(move || {
            if next_below < self.below.len() && self.below_at[next_below] <= next_plain {
                let (key, t, origin) = &self.below[next_below];
                next_below += 1;
                return Some(OrderedRead {
                    key,
                    below: Some(*t),
                    origin: *origin,
                });
            }
            let (key, origin) = self.reads.get(next_plain)?;
            next_plain += 1;
            Some(OrderedRead {
                key,
                below: None,
                origin: *origin,
            })
        })
    }

    /// Reads of both kinds.
    pub fn len(&self) -> usize {
        self.reads.len() + self.below.len()
    }

    pub fn is_empty(&self) -> bool {
        self.reads.is_empty() && self.below.is_empty()
    }

    /// True when every read would resolve to the same origin now; `current(key, below)`
    /// gives the origin `key` resolves to at validation time for the reader itself
    /// (`below: None`) or below a bound (`Err(())` for an ESTIMATE, which never
    /// validates).
    pub fn is_valid(
        &self,
        current: impl FnMut(&K, Option<TxnIndex>) -> Result<Option<Version>, ()>,
    ) -> bool {
        self.first_stale(current).is_none()
    }

    /// The first read (plain ones first, then those below a bound) that would not resolve
    /// to the same origin now, if any: what a failed validation blames.
    pub fn first_stale(
        &self,
        mut current: impl FnMut(&K, Option<TxnIndex>) -> Result<Option<Version>, ()>,
    ) -> Option<StaleRead<'_, K>> {
        if let Some((key, _)) = self
            .reads
            .iter()
            .find(|(key, origin)| current(key, None) != Ok(*origin))
        {
            return Some(StaleRead { key, below: None });
        }
        self.below
            .iter()
            .find(|(key, t, origin)| current(key, Some(*t)) != Ok(*origin))
            .map(|(key, t, _)| StaleRead {
                key,
                below: Some(*t),
            })
    }
}

/// A view that records every read made through an inner resolver: `resolve(key, below)`
/// gives what `key` resolves to for the reader (`below: None`) or below a bound.
pub struct RecordingView<'a, K, F> {
    resolve: F,
    reads: &'a mut ReadSet<K>,
}

impl<'a, K, F> RecordingView<'a, K, F> {
    pub fn new(resolve: F, reads: &'a mut ReadSet<K>) -> Self {
        Self { resolve, reads }
    }
}

impl<K: Clone, V, F: FnMut(&K, Option<TxnIndex>) -> ReadResult<V>> StateView<K, V>
    for RecordingView<'_, K, F>
{
    fn peek(&mut self, key: &K, below: Option<TxnIndex>) -> ReadResult<V> {
        (self.resolve)(key, below)
    }

    fn record(&mut self, key: &K, below: Option<TxnIndex>, origin: Option<Version>) {
        match below {
            None => self.reads.record(key.clone(), origin),
            Some(t) => self.reads.record_below(key.clone(), t, origin),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn v(t: TxnIndex) -> Option<Version> {
        Some(Version::new(t, 0))
    }

    #[test]
    fn below_reads_are_kept_apart_and_in_order() {
        let mut r = ReadSet::default();
        r.record(1u64, v(5));
        r.record_below(1, 5, v(3));
        r.record_below(1, 3, None);
        r.record(2, None);
        assert_eq!(r.len(), 4);
        assert_eq!(r.iter().count(), 2);
        assert_eq!(r.iter_below().count(), 2);
        let order: Vec<_> = r.iter_in_order().map(|o| (*o.key, o.below)).collect();
        assert_eq!(
            order,
            vec![(1, None), (1, Some(5)), (1, Some(3)), (2, None)]
        );
    }

    #[test]
    fn validation_checks_every_link_of_a_chain() {
        let mut r = ReadSet::default();
        r.record(1u64, v(5));
        r.record_below(1, 5, v(3));
        r.record_below(1, 3, None);
        // Key 1's writers, by transaction, as a reader at 7 sees them.
        let at = |writers: &[TxnIndex], bound: TxnIndex| {
            writers
                .iter()
                .rev()
                .copied()
                .find(|&w| w < bound)
                .and_then(v)
        };
        let check = |writers: Vec<TxnIndex>| {
            r.first_stale(|_, below| Ok(at(&writers, below.unwrap_or(7))))
                .map(|s| (s.below, s.kind()))
        };
        assert_eq!(check(vec![3, 5]), None);
        // A new writer between 3 and 5: the top link holds, the one below 5 does not.
        assert_eq!(check(vec![3, 4, 5]), Some((Some(5), "delta")));
        // A new writer below 3.
        assert_eq!(check(vec![0, 3, 5]), Some((Some(3), "delta")));
        // A new top writer: the plain read fails first, under the key's kind.
        assert_eq!(check(vec![3, 5, 6]), Some((None, "key")));
        // An ESTIMATE below a bound never validates.
        assert!(!r.is_valid(|_, below| if below == Some(3) {
            Err(())
        } else {
            Ok(at(&[3, 5], below.unwrap_or(7)))
        }));
    }

    #[test]
    fn peek_records_nothing_until_recorded() {
        let state: HashMap<u64, (Version, u64)> = [(1, (Version::new(2, 0), 9))].into();
        let mut reads = ReadSet::default();
        {
            let resolve = |k: &u64, below: Option<TxnIndex>| match state
                .get(k)
                .filter(|(v, _)| below.is_none_or(|t| v.txn_idx < t))
            {
                Some((version, value)) => ReadResult::Written {
                    version: *version,
                    value: *value,
                },
                None => ReadResult::Base,
            };
            let mut view = RecordingView::new(resolve, &mut reads);
            let peeked = view.peek(&1, None);
            assert_eq!(peeked.origin(), Some(Version::new(2, 0)));
            view.read_below(&1, 2);
            view.record(&1, None, peeked.origin());
        }
        let order: Vec<_> = reads.iter_in_order().map(|o| (o.below, o.origin)).collect();
        assert_eq!(
            order,
            vec![(Some(2), None), (None, Some(Version::new(2, 0)))]
        );
    }
}
