//! What an algorithm reads and writes: a policy's numbers ([`Params`]), the stored state
//! ([`Stored`], [`State`]), its answer ([`Outcome`]) and the change to make ([`Write`]).

use std::collections::VecDeque;

use crate::quota::Policy;

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

impl Outcome {
    /// An admitted request's answer (or a charge's or a refund's).
    pub(crate) fn allowed(remaining: i64, reset: i64) -> Self {
        Self {
            allowed: true,
            remaining,
            reset,
            retry: 0,
        }
    }
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
    Log { op: LogOp, ttl: i64 },
}

impl Write {
    /// `write` when `apply`, else [`Write::Keep`].
    pub(crate) fn when(apply: bool, write: impl FnOnce() -> Self) -> Self {
        if apply { write() } else { Self::Keep }
    }
}

/// How a sliding-window log changes; applied to the stored entries by the twin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogOp {
    /// Entries at or before this time are dropped.
    pub(crate) cutoff: i64,
    /// Entries added at `at`.
    pub(crate) insert: i64,
    pub(crate) at: i64,
    /// Oldest entries dropped until at most this many remain.
    pub(crate) cap: i64,
    /// Newest entries removed (a refund).
    pub(crate) remove_newest: i64,
}

impl LogOp {
    pub(crate) fn apply(&self, log: &mut VecDeque<i64>) {
        while log.front().is_some_and(|&t| t <= self.cutoff) {
            log.pop_front();
        }
        for _ in 0..self.insert {
            log.push_back(self.at);
        }
        while i64::try_from(log.len()).unwrap_or(i64::MAX) > self.cap {
            log.pop_front();
        }
        for _ in 0..self.remove_newest {
            log.pop_back();
        }
    }
}

/// The stored state in the shape the algorithm reads.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Stored<'a> {
    None,
    Tat(i64),
    State(&'a State),
}

/// Ceiling division of non-negative numbers.
pub(crate) fn ceil_div(a: i64, b: i64) -> i64 {
    if a <= 0 { 0 } else { (a + b - 1) / b }
}
