//! [`TwinCall`]: what a script's Rust twin gets when the memory backend runs it.

use std::sync::atomic::{AtomicU64, Ordering};

use super::Args;
use crate::slot::Slot;

/// One run of a twin: the entries of the script's keys, locked, in the order the keys were
/// given (`KEYS[1]` is `slots()[0]`), its arguments, and the backend's clock.
///
/// Slot changes apply when the twin returns, whether it returns `Ok` or `Err`: validate the
/// arguments before changing anything, as a Lua script that errors half-way would also leave
/// its earlier writes in place.
#[derive(Debug)]
pub struct TwinCall<'c> {
    slots: &'c mut [Slot],
    args: Args<'c>,
    now_micros: u64,
    last_token: Option<&'c AtomicU64>,
}

impl<'c> TwinCall<'c> {
    /// A call on `slots` with `args` at `now_micros` (µs since the Unix epoch). Backends that
    /// run twins build it; a twin only reads it.
    pub fn new(slots: &'c mut [Slot], args: Args<'c>, now_micros: u64) -> Self {
        Self {
            slots,
            args,
            now_micros,
            last_token: None,
        }
    }

    /// Lets [`next_token`](Self::next_token) keep tokens above every one issued through
    /// `last` (the backend's record of its last token, for every resource).
    pub fn with_tokens(mut self, last: &'c AtomicU64) -> Self {
        self.last_token = Some(last);
        self
    }

    /// A token at least `floor` and, when the backend keeps a record
    /// ([`with_tokens`](Self::with_tokens)), above every token it issued before: fencing tokens
    /// stay strictly increasing even if a fence key was deleted or evicted while the clock
    /// stood still (tokio's paused clock). Redis needs no record: its clock always moves.
    pub fn next_token(&self, floor: u64) -> u64 {
        let Some(last) = self.last_token else {
            return floor;
        };
        let mut current = last.load(Ordering::Relaxed);
        loop {
            let token = floor.max(current.saturating_add(1));
            match last.compare_exchange_weak(current, token, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return token,
                Err(seen) => current = seen,
            }
        }
    }

    /// The entries, one per key.
    pub fn slots(&mut self) -> &mut [Slot] {
        self.slots
    }

    /// The entry of key `i` (from 0).
    ///
    /// # Errors
    /// A protocol error when the script was run with fewer keys.
    pub fn slot(&mut self, i: usize) -> crate::BackendResult<&mut Slot> {
        let given = self.slots.len();
        self.slots.get_mut(i).ok_or_else(|| {
            crate::BackendError::script(format!("script key {} missing ({given} given)", i + 1))
        })
    }

    /// The arguments.
    pub fn args(&self) -> Args<'c> {
        self.args
    }

    /// The backend's time in µs since the Unix epoch (Redis `TIME` in the Lua version).
    pub fn now_micros(&self) -> u64 {
        self.now_micros
    }
}
