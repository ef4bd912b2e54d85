//! Sliding-window log: one entry per admitted unit, kept for one period. Exact, at a memory
//! cost that grows with the limit, hence the cap [`MAX_LOG_LIMIT`](crate::MAX_LOG_LIMIT) and
//! the rule that only admitted units are logged (a flood of denied requests adds nothing).
//! `now` never goes below the newest entry, so a clock behind another's cannot reorder the log.
//! Twin: `sliding_log.lua` (a sorted set).

use std::collections::VecDeque;

use super::{Mode, Outcome, Params, State, Stored, Write};

/// How the log changes; applied to the stored entries by the store.
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

static EMPTY: VecDeque<i64> = VecDeque::new();

pub(crate) fn eval(
    p: Params,
    stored: Stored<'_>,
    now: i64,
    cost: i64,
    mode: Mode,
) -> (Outcome, Write) {
    let log = match stored {
        Stored::State(State::Log(l)) => l,
        _ => &EMPTY,
    };
    let now = log.back().map_or(now, |&newest| newest.max(now));
    let cutoff = now - p.period;
    let alive = log.partition_point(|&t| t <= cutoff);
    let n = i64::try_from(log.len() - alive).unwrap_or(i64::MAX);
    let newest = (n > 0).then(|| log[log.len() - 1]);
    let reset_of = |count: i64, newest: Option<i64>| match newest {
        Some(t) if count > 0 => t + p.period - now,
        _ => 0,
    };
    let op = |insert: i64, remove_newest: i64| {
        let cap = p.limit.max(n);
        let count = (n + insert).min(cap) - remove_newest;
        let newest_after = if insert > 0 { Some(now) } else { newest };
        let ttl = reset_of(count, newest_after);
        let write = if count > 0 {
            Write::Log {
                op: LogOp {
                    cutoff,
                    insert,
                    at: now,
                    cap,
                    remove_newest,
                },
                ttl,
            }
        } else {
            Write::Delete
        };
        let out = Outcome {
            allowed: true,
            remaining: (p.limit - count).max(0),
            reset: ttl,
            retry: 0,
        };
        (out, write)
    };
    match mode {
        Mode::Charge => op(cost.min(p.limit), 0),
        Mode::Refund => op(0, cost.min(n)),
        _ if n + cost <= p.limit => {
            let (out, write) = op(cost, 0);
            let write = if mode == Mode::Acquire && cost > 0 {
                write
            } else {
                Write::Keep
            };
            (out, write)
        }
        _ => {
            let retry = if cost > p.limit {
                p.period
            } else {
                // The entry whose expiry frees enough room for `cost`.
                let k = usize::try_from(n + cost - p.limit - 1).unwrap_or(0);
                log[alive + k] + p.period - now
            };
            let out = Outcome {
                allowed: false,
                remaining: (p.limit - n).max(0),
                reset: reset_of(n, newest),
                retry,
            };
            (out, Write::Keep)
        }
    }
}
