//! The hash maps the EVM side keys by address, slot or code hash: std's `HashMap` with
//! alloy's hasher for fixed-size byte arrays (`FbBuildHasher`), which feeds the key to
//! foldhash as whole words, without the length prefix and byte-slice path a derived
//! `Hash` of an array takes. Every transaction looks its accounts up several times (the
//! adapter's loaded accounts, the pre-block state, the output's final state).

use std::collections::HashMap;

use revm::primitives::map::FbBuildHasher;
use revm::primitives::{Address, B256, U256};

/// A map keyed by account address.
pub type AddressMap<V> = HashMap<Address, V, FbBuildHasher<20>>;

/// A map keyed by storage slot.
pub type SlotMap<V> = HashMap<U256, V, FbBuildHasher<32>>;

/// A map keyed by code hash.
pub type CodeHashMap<V> = HashMap<B256, V, FbBuildHasher<32>>;
