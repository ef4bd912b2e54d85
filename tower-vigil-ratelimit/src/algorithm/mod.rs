//! The five algorithms, in integer microseconds so that the Rust twin (for [`MemoryBackend`])
//! and the Lua scripts (for Redis, whose numbers are doubles exact up to 2^53) decide alike.
//!
//! Each algorithm is a pure function from (policy, stored state, now, cost, mode) to an
//! [`Outcome`] and a [`Write`]; the store applies the writes only when every policy of the
//! request allowed it (or the mode always writes), which makes several policies all or
//! nothing. The `.lua` file beside each algorithm is its Redis twin, checked against it by a
//! property test.
//!
//! [`MemoryBackend`]: tower_vigil_core::MemoryBackend

pub(crate) mod fixed_window;
pub(crate) mod gcra;
pub(crate) mod sliding_counter;
pub(crate) mod sliding_log;
pub(crate) mod token_bucket;

use std::collections::VecDeque;

use crate::quota::{Algorithm, Policy};

/// What a call does with the policies' state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Mode {
    /// Take `cost` from every policy if all have room, else take nothing (the default).
    #[default]
    Acquire,
    /// Decide as `Acquire` would, but change nothing.
    Peek,
    /// Take `cost` whatever is left (never below empty): charging after the fact.
    Charge,
    /// Give `cost` back (never above full): refunding after the fact.
    Refund,
}

impl Mode {
    pub(crate) fn code(self) -> i64 {
        match self {
            Self::Acquire => 0,
            Self::Peek => 1,
            Self::Charge => 2,
            Self::Refund => 3,
        }
    }

    /// True when the state is written whatever the policies say.
    pub(crate) fn always_writes(self) -> bool {
        matches!(self, Self::Charge | Self::Refund)
    }
}

/// A policy's numbers in integer microseconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Params {
    pub(crate) limit: i64,
    pub(crate) period: i64,
    pub(crate) burst: i64,
}

impl Params {
    pub(crate) fn of(policy: &Policy) -> Self {
        let q = policy.quota();
        // Validated in `Policy::with_algorithm`: every product stays below 2^52.
        Self {
            limit: i64::from(q.limit()),
            period: i64::try_from(q.period_micros()).unwrap_or(i64::MAX),
            burst: i64::from(q.burst_size()),
        }
    }
}

/// One policy's answer, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub(crate) allowed: bool,
    pub(crate) remaining: i64,
    pub(crate) reset: i64,
    pub(crate) retry: i64,
}

/// The state the Rust twins keep in memory (GCRA keeps a plain integer, as in Redis).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum State {
    /// Token bucket: level in units of 1/period of a token, and when it was measured.
    Bucket { level: i64, ts: i64 },
    /// Sliding-window log: admission times, oldest first.
    Log(VecDeque<i64>),
    /// Sliding-window counter: window index, its count and the previous window's.
    Counter { w: i64, cur: i64, prev: i64 },
    /// Fixed window: window index and its count.
    Fixed { w: i64, c: i64 },
}

/// What to do with a policy's key once the request is decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Write {
    /// Leave it.
    Keep,
    /// Remove it: its state equals a fresh key's.
    Delete,
    /// GCRA: store the theoretical arrival time.
    Tat { tat: i64, ttl: i64 },
    /// Store this state.
    Put { state: State, ttl: i64 },
    /// Change the sliding-window log.
    Log { op: sliding_log::LogOp, ttl: i64 },
}

/// The stored state in the shape the algorithm reads.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Stored<'a> {
    None,
    Tat(i64),
    State(&'a State),
}

/// Decides one policy.
pub(crate) fn eval(
    algorithm: Algorithm,
    p: Params,
    stored: Stored<'_>,
    now: i64,
    cost: i64,
    mode: Mode,
) -> (Outcome, Write) {
    match algorithm {
        Algorithm::Gcra => gcra::eval(p, stored, now, cost, mode),
        Algorithm::TokenBucket => token_bucket::eval(p, stored, now, cost, mode),
        Algorithm::SlidingWindowLog => sliding_log::eval(p, stored, now, cost, mode),
        Algorithm::SlidingWindowCounter => sliding_counter::eval(p, stored, now, cost, mode),
        Algorithm::FixedWindow => fixed_window::eval(p, stored, now, cost, mode),
    }
}

/// Ceiling division of non-negative numbers.
pub(crate) fn ceil_div(a: i64, b: i64) -> i64 {
    if a <= 0 { 0 } else { (a + b - 1) / b }
}

/// The concatenated Lua of every algorithm plus the dispatcher: one script, so a request's
/// policies (of any algorithms) are decided in one round trip. The head comes first so that
/// the usual call returns before the other algorithms' functions are even created.
pub(crate) const LUA: &str = concat!(
    include_str!("fast_path.lua"),
    include_str!("prelude.lua"),
    include_str!("gcra.lua"),
    include_str!("token_bucket.lua"),
    include_str!("sliding_log.lua"),
    include_str!("sliding_counter.lua"),
    include_str!("fixed_window.lua"),
    include_str!("dispatch.lua"),
);
