//! Hostile input (issue #13): one test binary, one module per crate.
//!
//! Every test here feeds a crafted input to a public parser and bounds what
//! it costs *inside this process*: the bytes allocated while the parser runs
//! (counted by the [`cap`] allocator wrapper below) and, where a parser
//! counts its own work (decoded plist nodes, hashed bytes), that count.
//! No wall-clock assertions: a slow machine does not fail these, a
//! regression that multiplies the work does.

use std::alloc::System;
use std::cell::Cell;
use std::sync::{Mutex, MutexGuard, PoisonError};

use cap::Cap;

mod android;
mod apple;
mod certs;
mod fuzz_stable;
mod model;
mod packages;
pub mod targets;

/// The process allocator, counting. A runaway parser is also stopped by the
/// limit [`measure`] sets while it measures, before it takes the machine.
#[global_allocator]
static ALLOCATOR: Cap<System> = Cap::new(System, usize::MAX);

/// Tests run one at a time: the allocator counts every thread, so a test
/// building its input while another measures would be counted in the other's
/// figure. Every test of this binary starts with `let _alone = alone();`,
/// and [`measure`] refuses to run outside it.
static ALONE: Mutex<()> = Mutex::new(());

thread_local! {
    static HOLDS_ALONE: Cell<bool> = const { Cell::new(false) };
}

/// Held for a whole test: no other test of this binary runs meanwhile.
pub struct Alone {
    _guard: MutexGuard<'static, ()>,
}

impl Drop for Alone {
    fn drop(&mut self) {
        HOLDS_ALONE.with(|held| held.set(false));
    }
}

/// Waits until no other test of this binary runs, and keeps it so until
/// the returned guard is dropped.
pub fn alone() -> Alone {
    let guard = ALONE.lock().unwrap_or_else(PoisonError::into_inner);
    HOLDS_ALONE.with(|held| held.set(true));
    Alone { _guard: guard }
}

/// What a measured call cost.
#[derive(Debug, Clone, Copy)]
pub struct Cost {
    /// Bytes allocated during the call (freed or not): an upper bound of its peak.
    pub allocated: usize,
}

/// Runs `f` and returns what it allocated, with at most `ceiling` bytes
/// live above what was live before (past that the allocation fails and the
/// test binary aborts: a red test, not a machine out of memory).
///
/// # Panics
/// Unless the calling test holds [`alone`]: a figure taken while other
/// tests allocate would be another test's too.
pub fn measure<T>(ceiling: usize, f: impl FnOnce() -> T) -> (T, Cost) {
    assert!(
        HOLDS_ALONE.with(Cell::get),
        "a hostile test measures only while it runs alone: start it with `let _alone = alone();`"
    );
    let before_total = ALLOCATOR.total_allocated();
    let live = ALLOCATOR.allocated();
    let _ = ALLOCATOR.set_limit(live.saturating_add(ceiling));
    let out = f();
    let _ = ALLOCATOR.set_limit(usize::MAX);
    let allocated = ALLOCATOR.total_allocated() - before_total;
    (out, Cost { allocated })
}

/// One mebibyte.
pub const MIB: usize = 1 << 20;

/// FNV-1a of a name: a stable per-target seed.
pub fn fnv(name: &str) -> u32 {
    name.bytes().fold(0x811c_9dc5, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}
