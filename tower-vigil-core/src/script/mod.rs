//! [`Script`]: an atomic program over a few keys, carrying its Lua source and its Rust twin,
//! run by [`Backend::run`](crate::Backend::run).
//!
//! Every concern's multi-step operation (a rate-limit decision, an idempotency claim, a
//! session write) is one `Script`. [`RedisBackend`](crate::RedisBackend) runs the Lua with
//! `EVALSHA` (loading it on `NOSCRIPT`); [`MemoryBackend`](crate::MemoryBackend) runs the twin
//! while the keys' entries are locked. Both get the same keys and the same [`Arg`]s and must
//! give the same result: each concern checks that with a property test. A third-party backend
//! implements [`Backend::run`](crate::Backend::run) once, with the Lua (Valkey, Dragonfly) or
//! with the twin, and gets every concern.
//!
//! ```
//! use std::time::Duration;
//! use tower_vigil_core::memory::Value;
//! use tower_vigil_core::script::{Arg, Reply, Script, TwinCall};
//! use tower_vigil_core::{Backend, BackendResult, MemoryBackend};
//!
//! /// Takes one unit from a counter that starts at `ARGV[1]`; false when none is left.
//! static TAKE: Script<bool> = Script::new(
//!     "example.take",
//!     r"
//! local left = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
//! if left <= 0 then return 0 end
//! redis.call('SET', KEYS[1], left - 1, 'PX', 60000)
//! return 1
//! ",
//!     take,
//!     |reply| Ok(reply.into_int()? == 1),
//! );
//!
//! fn take(call: &mut TwinCall<'_>) -> BackendResult<bool> {
//!     let start = call.args().int(0)?;
//!     let slot = call.slot(0)?;
//!     let left = match slot.value() {
//!         Some(Value::Int(n)) => *n,
//!         _ => start,
//!     };
//!     if left <= 0 {
//!         return Ok(false);
//!     }
//!     slot.set(Value::Int(left - 1), Duration::from_secs(60));
//!     Ok(true)
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> BackendResult<()> {
//! let backend = MemoryBackend::new();
//! assert!(backend.run(&TAKE, &["tickets"], &[Arg::Int(1)]).await?);
//! assert!(!backend.run(&TAKE, &["tickets"], &[Arg::Int(1)]).await?);
//! # Ok(())
//! # }
//! ```

mod arg;
mod cell;
mod reply;
mod twin;

use std::fmt;
use std::sync::OnceLock;

pub use self::arg::{Arg, Args};
pub use self::cell::{CellCall, CellDecide, CellStep, CellTwin};
pub use self::reply::Reply;
pub use self::twin::TwinCall;
use crate::error::BackendError;
use crate::error::BackendResult;

/// A script's Rust twin: what the memory backend runs under the entries' locks.
pub type Twin<T> = fn(&mut TwinCall<'_>) -> BackendResult<T>;

/// Turns the Lua version's [`Reply`] into what the twin returns.
pub type Decode<T> = fn(Reply) -> BackendResult<T>;

/// An atomic program over a fixed number of keys: Lua for Redis, a Rust twin for memory, and
/// the decoder that makes the Lua reply the twin's result. Meant to live in a `static`.
pub struct Script<T> {
    name: &'static str,
    lua: &'static str,
    twin: Twin<T>,
    decode: Decode<T>,
    replicated: Option<fn(&T) -> bool>,
    cell: Option<CellTwin<T>>,
    batchable: bool,
    /// The redis-rs handle (its SHA-1), made on first use.
    pub(crate) redis: OnceLock<redis::Script>,
    /// The handle of the batch script (group commit), made on first use.
    batch: OnceLock<redis::Script>,
}

impl<T> Script<T> {
    /// A script named `name` (for errors and traces).
    pub const fn new(
        name: &'static str,
        lua: &'static str,
        twin: Twin<T>,
        decode: Decode<T>,
    ) -> Self {
        Self {
            name,
            lua,
            twin,
            decode,
            replicated: None,
            cell: None,
            batchable: false,
            redis: OnceLock::new(),
            batch: OnceLock::new(),
        }
    }

    /// Marks a write that a guarantee rests on (an idempotency claim, a completed record):
    /// on a Redis backend built with
    /// [`wait_for_replicas`](crate::redis::RedisBackendBuilder::wait_for_replicas), every run
    /// is followed by `WAIT`, and fails with kind
    /// [`Unavailable`](crate::BackendErrorKind::Unavailable) when too few replicas
    /// acknowledged (the write may be lost in a failover, so the caller must not rely on it).
    pub const fn replicated(mut self) -> Self {
        self.replicated = Some(|_| true);
        self
    }

    /// As [`replicated`](Self::replicated), for the runs whose result `wrote` says changed
    /// something a guarantee rests on (an acquired claim, not one that found the key taken):
    /// a run that only read does not wait for replicas, nor fail when they are down.
    pub const fn replicated_when(mut self, wrote: fn(&T) -> bool) -> Self {
        self.replicated = Some(wrote);
        self
    }

    /// Adds a [`CellTwin`]: the calls it applies to are decided by compare-and-swap on a
    /// backend that keeps integers in atomic cells (the memory backend). The full twin and
    /// the Lua stay the definition; the cell twin must agree with them (check it with the
    /// same property test).
    pub const fn with_cell(mut self, cell: CellTwin<T>) -> Self {
        self.cell = Some(cell);
        self
    }

    /// Lets a Redis backend with group commit on (it is opt-in) send concurrent runs of this
    /// script on one hash slot together, as one `EVALSHA` that decides each in turn (see
    /// [`RedisBackendBuilder::group_commit`](crate::redis::RedisBackendBuilder::group_commit)).
    /// Each run's result is what it would have been alone, in queue order. For hot, short
    /// scripts (a rate-limit decision), where Redis's cost per call exceeds the script's own
    /// work. A [replicated](Self::replicated) script is never batched (its `WAIT` follows its
    /// own call). The Lua must work as the body of a function of `KEYS` and `ARGV` (any
    /// script does that does not start with a `#!lua` line).
    pub const fn batchable(mut self) -> Self {
        self.batchable = true;
        self
    }

    /// True when marked [`batchable`](Self::batchable).
    pub fn is_batchable(&self) -> bool {
        self.batchable
    }

    /// The cell twin, if the script has one.
    pub fn cell(&self) -> Option<&CellTwin<T>> {
        self.cell.as_ref()
    }

    /// The name given at construction.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The Lua source.
    pub fn lua(&self) -> &'static str {
        self.lua
    }

    /// The SHA-1 of the Lua source, hex: what `EVALSHA` names.
    pub fn sha1(&self) -> &str {
        self.redis_script().get_hash()
    }

    /// True when marked [`replicated`](Self::replicated) or
    /// [`replicated_when`](Self::replicated_when).
    pub fn is_replicated(&self) -> bool {
        self.replicated.is_some()
    }

    /// True when a run that returned `out` must be confirmed on the replicas.
    pub fn needs_replicas(&self, out: &T) -> bool {
        self.replicated.is_some_and(|wrote| wrote(out))
    }

    /// Runs the twin: what a backend that keeps its own entries (like
    /// [`MemoryBackend`](crate::MemoryBackend)) calls with the keys' entries locked.
    pub fn run_twin(&self, call: &mut TwinCall<'_>) -> BackendResult<T> {
        (self.twin)(call)
    }

    /// Decodes the Lua version's reply: what a backend that runs the Lua calls on its result.
    pub fn decode(&self, reply: Reply) -> BackendResult<T> {
        (self.decode)(reply)
    }

    /// Checks a call's keys before it runs: none named twice (the memory backend locks each
    /// entry once; Lua would see one key through two names).
    #[inline]
    pub fn check_keys(&self, keys: &[&str]) -> BackendResult<()> {
        if keys.len() < 2 {
            return Ok(());
        }
        self.check_distinct(keys)
    }

    fn check_distinct(&self, keys: &[&str]) -> BackendResult<()> {
        for (i, key) in keys.iter().enumerate() {
            if keys[..i].contains(key) {
                return Err(BackendError::protocol(format!(
                    "script {} was given the key {key:?} twice",
                    self.name
                )));
            }
        }
        Ok(())
    }

    pub(crate) fn redis_script(&self) -> &redis::Script {
        self.redis.get_or_init(|| redis::Script::new(self.lua))
    }

    /// The batch script: this script's Lua as a function, called for each call of a batch.
    pub(crate) fn batch_redis_script(&self) -> &redis::Script {
        self.batch
            .get_or_init(|| redis::Script::new(&crate::redis::batch_lua(self.lua)))
    }
}

impl<T> fmt::Debug for Script<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Script")
            .field("name", &self.name)
            .field("replicated", &self.replicated.is_some())
            .field("batchable", &self.batchable)
            .finish_non_exhaustive()
    }
}
