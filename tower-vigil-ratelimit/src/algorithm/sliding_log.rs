//! Sliding-window log: one entry per admitted unit, kept for one period. Exact, at a memory
//! cost that grows with the limit, hence the cap [`MAX_LOG_LIMIT`](crate::MAX_LOG_LIMIT) and
//! the rule that only admitted units are logged (a flood of denied requests adds nothing).
//! `now` never goes below the newest entry, so a clock behind another's cannot reorder the log.
//! Twin: `sliding_log.lua` (a sorted set).

use std::collections::VecDeque;

use super::mode::{Mode, transition};
use super::state::{LogOp, Outcome, Params, State, Stored, Write};

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
    // delta > 0: that many units logged at `now`; delta < 0: that many newest entries removed.
    let Some((delta, write)) = transition(
        mode,
        cost,
        || cost.min(p.limit),
        || -cost.min(n),
        (n + cost <= p.limit).then_some(cost),
    ) else {
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
        return (out, Write::Keep);
    };
    let (insert, remove_newest) = (delta.max(0), (-delta).max(0));
    let cap = p.limit.max(n);
    let count = (n + insert).min(cap) - remove_newest;
    let ttl = reset_of(count, if insert > 0 { Some(now) } else { newest });
    let put = || {
        if count > 0 {
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
        }
    };
    (
        Outcome::allowed((p.limit - count).max(0), ttl),
        Write::when(write, put),
    )
}
