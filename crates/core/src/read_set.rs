//! Read sets: what an execution read, and from which version.

use super::txn::{ReadResult, StateView, Version};

/// The reads of one execution, in the order made: each key with the version it resolved to
/// (`None`: the pre-block state).
#[derive(Clone, Debug)]
pub struct ReadSet<K> {
    reads: Vec<(K, Option<Version>)>,
}

impl<K> Default for ReadSet<K> {
    fn default() -> Self {
        Self { reads: Vec::new() }
    }
}

impl<K> ReadSet<K> {
    pub fn record(&mut self, key: K, origin: Option<Version>) {
        self.reads.push((key, origin));
    }

    pub fn iter(&self) -> impl Iterator<Item = &(K, Option<Version>)> {
        self.reads.iter()
    }

    pub fn len(&self) -> usize {
        self.reads.len()
    }

    pub fn is_empty(&self) -> bool {
        self.reads.is_empty()
    }

    /// True when every read would resolve to the same origin now; `current` gives the
    /// origin a key resolves to at validation time (`Err(())` for an ESTIMATE, which never
    /// validates).
    pub fn is_valid(&self, mut current: impl FnMut(&K) -> Result<Option<Version>, ()>) -> bool {
        self.reads
            .iter()
            .all(|(key, origin)| current(key) == Ok(*origin))
    }
}

/// A view that records every read made through an inner resolver.
pub struct RecordingView<'a, K, F> {
    resolve: F,
    reads: &'a mut ReadSet<K>,
}

impl<'a, K, F> RecordingView<'a, K, F> {
    pub fn new(resolve: F, reads: &'a mut ReadSet<K>) -> Self {
        Self { resolve, reads }
    }
}

impl<K: Clone, V, F: FnMut(&K) -> ReadResult<V>> StateView<K, V> for RecordingView<'_, K, F> {
    fn read(&mut self, key: &K) -> ReadResult<V> {
        let result = (self.resolve)(key);
        if !matches!(result, ReadResult::Estimate(_)) {
            self.reads.record(key.clone(), result.origin());
        }
        result
    }
}
