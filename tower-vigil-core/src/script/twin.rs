//! [`TwinCall`]: what a script's Rust twin gets when the memory backend runs it.

use super::Args;
use crate::memory::Slot;

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
}

impl<'c> TwinCall<'c> {
    /// A call on `slots` with `args` at `now_micros` (µs since the Unix epoch). Backends that
    /// run twins build it; a twin only reads it.
    pub fn new(slots: &'c mut [Slot], args: Args<'c>, now_micros: u64) -> Self {
        Self {
            slots,
            args,
            now_micros,
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
            crate::BackendError::protocol(format!("script key {} missing ({given} given)", i + 1))
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
