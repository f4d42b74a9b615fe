//! The keys and values the core sees when it runs EVM transactions.
//!
//! Under the `coarse` conflict model (`conflicts.rs`) an account's balance, nonce and code
//! are one location, `Account`; under `fields` and `deltas` they are three: `Code` (the
//! account's existence, code and storage epoch), `Balance` and `Nonce`. Each storage slot
//! is its own location under every model.
//! Fees are not credited to the beneficiary inside a transaction (that would make every
//! transaction write the same balance and serialise the block): transaction `i` writes its
//! fee to its own location `Fee(i)`, and a read of the beneficiary's account adds up the
//! fees of the transactions since its last explicit write (see `adapter.rs`).

use std::hash::{Hash, Hasher};

use revm::primitives::{Address, U256};
use revm::state::AccountInfo;

use crate::core::txn::{Key, TxnIndex};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Location {
    /// Balance, nonce and code of an account (`coarse`).
    Account(Address),
    /// Existence, code and storage epoch of an account (`fields`, `deltas`).
    Code(Address),
    /// The balance of an account (`fields`, `deltas`): a full value, or under `deltas` a
    /// credit added to the value below it.
    Balance(Address),
    /// The nonce of an account (`fields`, `deltas`).
    Nonce(Address),
    /// One storage slot.
    Storage(Address, U256),
    /// The fee transaction `i` pays to the beneficiary.
    Fee(TxnIndex),
}

/// Hashed as whole machine words: the derived hash feeds the address and the slot as byte
/// slices with length prefixes, which cost a tenth of a 1-thread Block-STM run's hashing
/// over again on ERC-20 transfers, where every read and write hashes a location. Hashes
/// every field `Eq` compares, so equal locations hash alike.
impl Hash for Location {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Location::Account(address) => hash_address(address, 0, state),
            Location::Code(address) => hash_address(address, 3, state),
            Location::Balance(address) => hash_address(address, 4, state),
            Location::Nonce(address) => hash_address(address, 5, state),
            Location::Storage(address, slot) => {
                hash_address(address, 1, state);
                for limb in slot.as_limbs() {
                    state.write_u64(*limb);
                }
            }
            Location::Fee(i) => {
                state.write_u64(2);
                state.write_usize(*i);
            }
        }
    }
}

/// An address as three words, the last holding its final four bytes and `tag` (which
/// kind of location).
#[inline]
fn hash_address<H: Hasher>(address: &Address, tag: u64, state: &mut H) {
    let bytes: &[u8; 20] = &address.0 .0;
    let word = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
    let tail = u32::from_le_bytes(bytes[16..20].try_into().expect("4 bytes"));
    state.write_u64(word(0));
    state.write_u64(word(8));
    state.write_u64(u64::from(tail) | tag << 32);
}

impl Key for Location {
    /// `Fee(i)` is written by transaction `i` alone.
    fn sole_writer(&self) -> Option<TxnIndex> {
        match self {
            Location::Fee(i) => Some(*i),
            _ => None,
        }
    }

    fn kind(&self) -> &'static str {
        Location::kind(self)
    }
}

impl Location {
    /// What kind of state the location is, for counting conflicts by kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Location::Account(_) => "account",
            Location::Code(_) => "code",
            Location::Balance(_) => "balance",
            Location::Nonce(_) => "nonce",
            Location::Storage(..) => "storage",
            Location::Fee(_) => "fee",
        }
    }
}

/// An account as written by a transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountValue {
    /// `None`: the account does not exist (destroyed, or never created).
    pub info: Option<AccountInfo>,
    /// The last transaction of the block that wiped this account's storage (self-destruct
    /// or creation). Slots written before it, and all pre-block slots, then read as zero.
    pub storage_epoch: Option<TxnIndex>,
}

/// What a location holds. The account is boxed: it is three times the size of a slot's
/// value, and most writes are slots, so an unboxed account would triple every entry of
/// every write set and of the multi-version memory (40 bytes instead of 112).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvmValue {
    /// At an `Account` location; at a `Code` location, the same with the balance and the
    /// nonce left at zero (they are locations of their own).
    Account(Box<AccountValue>),
    Storage(U256),
    Fee(U256),
    /// A balance, in full.
    Balance(U256),
    /// A credit to the balance below it (`deltas`): the execution that wrote it never used
    /// the old balance.
    Credit(U256),
    Nonce(u64),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every write-set entry and multi-version memory entry carries an `EvmValue`: keep
    /// it small (the account behind a box). Peak memory of Block-STM rests on it.
    #[test]
    fn values_stay_small() {
        assert!(std::mem::size_of::<EvmValue>() <= 40);
        assert!(std::mem::size_of::<Location>() <= 56);
    }
}
