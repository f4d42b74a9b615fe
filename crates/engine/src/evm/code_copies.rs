//! Per-thread copies of contract code.
//!
//! `Bytecode` is an `Arc`: every clone and drop is an atomic read-modify-write on a
//! counter in the code's one allocation. revm clones an account's code many times per
//! transaction (loading the account into the journal, into the call frame, into the write
//! set), and on a block where every transaction calls the same token contract, or reads an
//! externally owned account (whose empty code is one process-wide `Arc` in revm), two
//! workers doing this at once bounce that counter's cache line between the cores on every
//! clone. Sequential execution pays nothing for it (one core keeps the line); two threads
//! paid more for it than the second core gave back.
//!
//! So each worker thread hands revm its own copy of each code it meets: same bytes, same
//! analysis, its own counter. A copy is built from the original bytes (so it equals the
//! original: `Bytecode` compares by bytes, and the analysis is a function of them) and
//! kept by the thread from one block to the next, since analysing a contract's code again
//! for every block and thread was a quarter of Block-STM's instructions on a mainnet
//! block. A kept copy is checked once per block against the code the block's pre-state
//! gives for its hash (a comparison of bytes, far cheaper than the analysis), so a
//! pre-state that gives other code under the same hash gets its own code, never another
//! block's.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use revm::bytecode::{Bytecode, JumpTable};
use revm::primitives::map::B256Map;
use revm::primitives::B256;

/// Distinguishes blocks: a thread checks each kept copy once per block (see the module
/// docs).
static NEXT_BLOCK: AtomicU64 = AtomicU64::new(1);

/// A thread keeps at most this many copies, and this many bytes of code in them; past
/// either, it starts over (a node's working set of contracts is far smaller; this bounds
/// a long run's memory: 32 MiB a thread).
const MAX_COPIES: usize = 8192;
const MAX_COPY_BYTES: usize = 32 << 20;

/// A thread's copy of one code, and the last block it was checked against.
struct Copy {
    code: Bytecode,
    checked_for: u64,
}

thread_local! {
    /// The copies by code hash.
    static COPIES: RefCell<(B256Map<Copy>, usize)> =
        RefCell::new((HashMap::default(), 0));
}

/// A fresh block id: the threads executing the block start new caches.
pub fn new_block_id() -> u64 {
    // Relaxed: only distinctness matters.
    NEXT_BLOCK.fetch_add(1, Ordering::Relaxed)
}

/// This thread's copy, for block `block`, of the code whose hash is `hash`; `code` gives
/// the original, asked only the first time in each block (so a checked copy's use touches
/// no shared counter at all).
pub fn thread_copy<E>(
    block: u64,
    hash: B256,
    code: impl FnOnce() -> Result<Bytecode, E>,
) -> Result<Bytecode, E> {
    COPIES.with_borrow_mut(|(copies, bytes)| {
        if let Some(copy) = copies.get(&hash).filter(|c| c.checked_for == block) {
            return Ok(copy.code.clone());
        }
        let original = code()?;
        if let Some(copy) = copies.get_mut(&hash) {
            if copy.code.kind() == original.kind()
                && copy.code.original_byte_slice() == original.original_byte_slice()
            {
                copy.checked_for = block;
                return Ok(copy.code.clone());
            }
        }
        if copies.len() >= MAX_COPIES || *bytes >= MAX_COPY_BYTES {
            copies.clear();
            *bytes = 0;
        }
        let copy = copy_of(&original);
        *bytes += copy.bytecode().len();
        copies.insert(
            hash,
            Copy {
                code: copy.clone(),
                checked_for: block,
            },
        );
        Ok(copy)
    })
}

/// A copy of `code` with allocations of its own (its `Arc`, its bytes, its jump table) and
/// the same contents, made without analysing the code again: revm's analysis of a big
/// contract costs far more than copying what it produced.
fn copy_of(code: &Bytecode) -> Bytecode {
    match code.legacy_jump_table() {
        Some(jump_table) if !code.bytecode().is_empty() => {
            let padded = revm::primitives::Bytes::copy_from_slice(code.bytecode());
            let original_len = code.original_byte_slice().len();
            let jump_table = JumpTable::from_slice(jump_table.as_slice(), jump_table.len());
            // SAFETY: `new_analyzed` needs bytes padded as `analyze_legacy` pads them, so
            // that no opcode's immediate reads past the allocation, and a jump table that
            // covers the original length. Both are copied unchanged from `code`, which
            // revm built (by analysis, or by this same constructor from such a copy), so
            // they satisfy it exactly as the original does; its asserts hold for the same
            // reason.
            #[allow(unsafe_code)]
            unsafe {
                Bytecode::new_analyzed(padded, original_len, jump_table)
            }
        }
        // EIP-7702 code (no jump table): built again from its 23 bytes.
        _ => Bytecode::new_raw_checked(code.original_bytes()).unwrap_or_else(|_| code.clone()),
    }
}

/// A pre-state that hands each thread its own copies of code (an account's code is always
/// `Some`, so revm never reaches for its one shared empty code). `EvmTxns` reads the
/// pre-block state through it, and so does the machine-ceiling measurement
/// (`cli::ceiling`), which runs plain sequential revm on several threads at once.
pub struct ThreadCodeCopies<'a, P> {
    inner: &'a P,
    block: u64,
}

impl<'a, P> ThreadCodeCopies<'a, P> {
    pub fn new(inner: &'a P) -> Self {
        Self {
            inner,
            block: new_block_id(),
        }
    }

    /// The id of the block these copies are for (fresh for every `new`).
    pub fn block_id(&self) -> u64 {
        self.block
    }
}

impl<P: revm::DatabaseRef> revm::DatabaseRef for ThreadCodeCopies<'_, P> {
    type Error = P::Error;

    fn basic_ref(
        &self,
        address: revm::primitives::Address,
    ) -> Result<Option<revm::state::AccountInfo>, Self::Error> {
        let Some(mut info) = self.inner.basic_ref(address)? else {
            return Ok(None);
        };
        let (hash, given) = (info.code_hash, info.code.take());
        info.code = Some(thread_copy(self.block, hash, || match given {
            Some(code) => Ok(code),
            None if hash == revm::primitives::KECCAK_EMPTY => Ok(Bytecode::default()),
            None => self.inner.code_by_hash_ref(hash),
        })?);
        Ok(Some(info))
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        thread_copy(self.block, code_hash, || {
            self.inner.code_by_hash_ref(code_hash)
        })
    }

    fn storage_ref(
        &self,
        address: revm::primitives::Address,
        index: revm::primitives::U256,
    ) -> Result<revm::primitives::U256, Self::Error> {
        self.inner.storage_ref(address, index)
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, Self::Error> {
        self.inner.block_hash_ref(number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use revm::primitives::{Bytes, KECCAK_EMPTY};

    #[test]
    fn copies_equal_the_original_and_are_made_once() {
        // Ends in a PUSH1 without its byte: the analysis pads the code, so every analysis
        // makes a buffer of its own, and a copy made again would show a new pointer.
        let original = Bytecode::new_raw(Bytes::from(vec![0x60, 0x01, 0x56, 0x5b, 0x60]));
        let hash = original.hash_slow();
        let block = new_block_id();
        let mut asked = 0;
        let mut pointers = Vec::new();
        for _ in 0..3 {
            let copy = thread_copy::<()>(block, hash, || {
                asked += 1;
                Ok(original.clone())
            })
            .unwrap();
            assert_eq!(copy, original);
            assert_eq!(copy.original_bytes(), original.original_bytes());
            assert_eq!(
                copy.legacy_jump_table()
                    .map(|t| (t.len(), t.as_slice().to_vec())),
                original
                    .legacy_jump_table()
                    .map(|t| (t.len(), t.as_slice().to_vec()))
            );
            assert_eq!(copy.bytecode(), original.bytecode(), "padded bytes alike");
            assert!(
                copy.legacy_jump_table().unwrap().is_valid(3),
                "the JUMPDEST"
            );
            assert_ne!(
                copy.bytecode_ptr(),
                original.bytecode_ptr(),
                "a copy of its own"
            );
            pointers.push(copy.bytecode_ptr());
        }
        assert_eq!(asked, 1, "the original asked once per block and thread");
        // A new block checks the copy against its own original once, and keeps the copy.
        let copy = thread_copy::<()>(new_block_id(), hash, || {
            asked += 1;
            Ok(original.clone())
        })
        .unwrap();
        assert_eq!(asked, 2);
        assert_eq!(
            copy.bytecode_ptr(),
            pointers[0],
            "the same copy, not analysed again"
        );
        // Empty code copies as empty code.
        let empty = thread_copy::<()>(block, KECCAK_EMPTY, || Ok(Bytecode::default())).unwrap();
        assert!(empty.is_empty());
        assert_eq!(empty, Bytecode::default());
    }

    #[test]
    fn another_block_with_other_code_under_the_same_hash_gets_its_own() {
        // A malformed pre-state may give any code under a hash: a kept copy must never
        // stand in for the code a block's own pre-state gives.
        let hash = B256::repeat_byte(0x42);
        let first = Bytecode::new_raw(Bytes::from_static(&[0x60, 0x01, 0x00]));
        let other = Bytecode::new_raw(Bytes::from_static(&[0x60, 0x02, 0x00]));
        let got = thread_copy::<()>(new_block_id(), hash, || Ok(first.clone())).unwrap();
        assert_eq!(got, first);
        let got = thread_copy::<()>(new_block_id(), hash, || Ok(other.clone())).unwrap();
        assert_eq!(got, other);
    }
}
