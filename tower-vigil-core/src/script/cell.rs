//! [`CellTwin`]: a faster twin for the calls of a one-key script whose state is one integer
//! that is also its deadline (GCRA's theoretical arrival time), so the memory backend can
//! decide them by compare-and-swap under a shared lock instead of locking the entry.
//!
//! ```
//! use std::time::Duration;
//! use tower_vigil_core::memory::Value;
//! use tower_vigil_core::script::{Args, CellCall, CellStep, CellTwin, Reply, Script, TwinCall};
//! use tower_vigil_core::{Backend, BackendResult, MemoryBackend};
//!
//! /// Pushes a deadline `ARGV[1]` µs past `max(deadline, now)`; refused past `ARGV[2]` µs ahead.
//! static PUSH: Script<bool> = Script::new("example.push", LUA, push, |r| Ok(r.into_int()? == 1))
//!     .with_cell(CellTwin::new(Duration::from_secs(1), |_| true, push_cell));
//! # const LUA: &str = "";
//!
//! fn push_cell(call: &CellCall<'_>) -> BackendResult<CellStep<bool>> {
//!     let now = call.now_micros() as i64;
//!     let (step, cap) = (call.args().int(0)?, call.args().int(1)?);
//!     let next = call.current().unwrap_or(now).max(now) + step;
//!     Ok(if next - now > cap { CellStep::Keep(false) } else { CellStep::Set(true, next) })
//! }
//!
//! // The full twin, for every call the cell cannot decide (here: none), and for backends
//! // without cells: the same decision on a slot.
//! fn push(call: &mut TwinCall<'_>) -> BackendResult<bool> {
//!     let now = call.now_micros() as i64;
//!     let (step, cap) = (call.args().int(0)?, call.args().int(1)?);
//!     let slot = call.slot(0)?;
//!     let current = match slot.value() { Some(Value::Int(n)) => Some(*n), _ => None };
//!     let next = current.unwrap_or(now).max(now) + step;
//!     if next - now > cap {
//!         return Ok(false);
//!     }
//!     slot.set(Value::Int(next), Duration::from_micros((next - now) as u64) + Duration::from_secs(1));
//!     Ok(true)
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> BackendResult<()> {
//! let backend = MemoryBackend::new();
//! let args = [100_000.into(), 250_000.into()];
//! assert!(backend.run(&PUSH, &["deadline"], &args).await?);
//! assert!(backend.run(&PUSH, &["deadline"], &args).await?);
//! assert!(!backend.run(&PUSH, &["deadline"], &args).await?);
//! # Ok(())
//! # }
//! ```

use std::time::Duration;

use super::Args;
use crate::error::BackendResult;

/// What a cell twin decides from the current integer.
pub type CellDecide<T> = fn(&CellCall<'_>) -> BackendResult<CellStep<T>>;

/// A faster twin for some calls of a one-key [`Script`](super::Script): those whose key holds
/// one integer that is also a deadline (µs since the Unix epoch, on the backend's clock), and
/// that live `grace` past it. A backend that keeps integers in atomic cells (the
/// [`MemoryBackend`](crate::MemoryBackend)) runs it by compare-and-swap; it may run it more
/// than once for one call (when another call changed the integer in between), so it must
/// decide from its [`CellCall`] alone. It must decide exactly as the script's full twin and
/// its Lua would; where it cannot, it answers [`CellStep::Full`].
pub struct CellTwin<T> {
    grace_micros: i64,
    applies: fn(Args<'_>) -> bool,
    decide: CellDecide<T>,
}

impl<T> CellTwin<T> {
    /// A cell twin whose key lives `grace` past its value, for the calls `applies` accepts
    /// (cheap: it is asked on every call, before any lock).
    pub const fn new(
        grace: Duration,
        applies: fn(Args<'_>) -> bool,
        decide: CellDecide<T>,
    ) -> Self {
        // A grace beyond 2^63 µs is not a grace; `as` cannot be used in a const fn's
        // `try_from`, and the value is a small constant in practice.
        #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
        let grace_micros = if grace.as_micros() > i64::MAX as u128 {
            i64::MAX
        } else {
            grace.as_micros() as i64
        };
        Self {
            grace_micros,
            applies,
            decide,
        }
    }

    /// How long past its value the key lives, in µs.
    pub fn grace_micros(&self) -> i64 {
        self.grace_micros
    }

    /// True when this twin may decide a call with `args`.
    pub fn applies(&self, args: Args<'_>) -> bool {
        (self.applies)(args)
    }

    /// Decides `call`.
    ///
    /// # Errors
    /// The twin's, as the full twin would answer.
    pub fn decide(&self, call: &CellCall<'_>) -> BackendResult<CellStep<T>> {
        (self.decide)(call)
    }
}

/// One decision of a [`CellTwin`]: the arguments, the backend's time and the current integer
/// (`None` when the key is absent or expired).
#[derive(Debug, Clone, Copy)]
pub struct CellCall<'c> {
    args: Args<'c>,
    now_micros: u64,
    current: Option<i64>,
}

impl<'c> CellCall<'c> {
    /// A call; backends that run cell twins build it.
    pub fn new(args: Args<'c>, now_micros: u64, current: Option<i64>) -> Self {
        Self {
            args,
            now_micros,
            current,
        }
    }

    /// The arguments.
    pub fn args(&self) -> Args<'c> {
        self.args
    }

    /// The backend's time in µs since the Unix epoch.
    pub fn now_micros(&self) -> u64 {
        self.now_micros
    }

    /// The live integer at the key, if any.
    pub fn current(&self) -> Option<i64> {
        self.current
    }
}

/// What a [`CellTwin`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CellStep<T> {
    /// Answer `T`, change nothing.
    Keep(T),
    /// Answer `T` and store the integer (the key then lives until it plus the grace).
    Set(T, i64),
    /// This call needs the full twin (a deletion, a state the cell cannot hold): the backend
    /// runs it instead, and this answer is not used.
    Full,
}
