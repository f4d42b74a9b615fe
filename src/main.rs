use std::alloc::{GlobalAlloc, Layout};

use mimalloc::MiMalloc;

use clap::Parser;

use stmlab_cli::memory;

/// mimalloc, reporting to `stmlab_cli::memory` while counting is on (peak memory per run
/// in `stmlab sweep`); otherwise one relaxed load per call.
///
/// Why mimalloc and not the system allocator: with glibc malloc, free-list consolidation
/// (`unlink_chunk`, `malloc_consolidate`, `_int_malloc`) took a quarter of `block-stm`'s
/// time on ERC-20 transfers, against a few percent of sequential revm's. Every strategy,
/// the sequential reference included, runs on this same allocator.
struct CountingAlloc;

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged to mimalloc, under the same contract.
        let p = unsafe { MiMalloc.alloc(layout) };
        if !p.is_null() && memory::counting() {
            memory::on_alloc(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        let p = unsafe { MiMalloc.alloc_zeroed(layout) };
        if !p.is_null() && memory::counting() {
            memory::on_alloc(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, i.e. from `MiMalloc`, with `layout`.
        unsafe { MiMalloc.dealloc(ptr, layout) };
        if memory::counting() {
            memory::on_dealloc(layout.size());
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as in `dealloc`; the caller upholds `realloc`'s contract.
        let p = unsafe { MiMalloc.realloc(ptr, layout, new_size) };
        if !p.is_null() && memory::counting() {
            if new_size >= layout.size() {
                memory::on_alloc(new_size - layout.size());
            } else {
                memory::on_dealloc(layout.size() - new_size);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: CountingAlloc = CountingAlloc;

/// mimalloc's `mi_option_purge_delay` (its `mimalloc.h`, v2 and v3 alike; the sys crate
/// does not name it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Tells mimalloc (this binary's allocator) to keep the memory a process frees instead of
/// returning it to the system 10 ms later, its default: a process that executes block
/// after block then reuses warm pages, where it faulted in fresh zeroed ones for every
/// block (2 MiB at a time under transparent huge pages). On 10,000 ERC-20 transfers this
/// removed 90% of the page faults (Block-STM at 2 threads: 4,834 to 225 over 20 blocks;
/// sequential: 3,032 to 184). The cost is a resident size that stays at its peak; a
/// node keeps its executor for the same reason. It applies to the whole process, every
/// strategy and the sequential reference alike.
fn keep_freed_memory() {
    // SAFETY: `mi_option_set` only stores an option value; any value is valid for this
    // option (-1: never purge).
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}

fn main() -> std::process::ExitCode {
    memory::mark_installed();
    keep_freed_memory();
    let cli = stmlab_cli::Cli::parse();
    match stmlab_cli::run(cli) {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::from(1),
        Err(message) => {
            eprintln!("error: {message}");
            std::process::ExitCode::from(2)
        }
    }
}
