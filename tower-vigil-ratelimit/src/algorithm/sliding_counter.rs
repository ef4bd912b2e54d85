//! Sliding-window counter: the current fixed window's count plus the previous window's,
//! weighted by how much of it the sliding window still covers. Compared in units of
//! `1/period` so no division is rounded: admitted when
//! `prev × (W − e) + (cur + cost) × W ≤ limit × W` (`e`: µs into the current window).
//! Error bound: see [`Algorithm::SlidingWindowCounter`](crate::Algorithm::SlidingWindowCounter).
//! Twin: `sliding_counter.lua`.

use super::mode::{Mode, transition};
use super::state::{Outcome, Params, State, Stored, Write};

pub(crate) fn eval(
    p: Params,
    stored: Stored<'_>,
    now: i64,
    cost: i64,
    mode: Mode,
) -> (Outcome, Write) {
    let w = p.period;
    let mut idx = now / w;
    let mut e = now - idx * w;
    let (mut cur, mut prev) = (0, 0);
    if let Stored::State(State::Counter {
        w: sw,
        cur: c,
        prev: pv,
    }) = stored
    {
        if *sw > idx {
            // Another clock is ahead: count as the start of its window.
            idx = *sw;
            e = 0;
            (cur, prev) = (*c, *pv);
        } else if *sw == idx {
            (cur, prev) = (*c, *pv);
        } else if *sw == idx - 1 {
            prev = *c;
        }
    }
    let weight = w - e;
    let cap = p.limit * w;
    let reset = |cur: i64| {
        if cur > 0 {
            weight + w
        } else if prev > 0 {
            weight
        } else {
            0
        }
    };
    let remaining = |cur: i64| (cap - prev * weight - cur * w).max(0) / w;
    let Some((c, write)) = transition(
        mode,
        cost,
        || (cur + cost).min(p.limit).max(cur),
        || (cur - cost).max(0),
        (prev * weight + (cur + cost) * w <= cap).then_some(cur + cost),
    ) else {
        let free = p.limit - cur - cost;
        let retry = if free >= 0 {
            // Only the previous window's weight is in the way (so prev > 0).
            (w - free * w / prev) - e
        } else if cost > p.limit {
            weight + w
        } else {
            // Wait for the next window, where today's count becomes the weighted one.
            weight + (w - (p.limit - cost) * w / cur).max(0)
        };
        let out = Outcome {
            allowed: false,
            remaining: remaining(cur),
            reset: reset(cur),
            retry,
        };
        return (out, Write::Keep);
    };
    let put = || {
        if c == 0 && prev == 0 {
            Write::Delete
        } else {
            Write::Put {
                state: State::Counter {
                    w: idx,
                    cur: c,
                    prev,
                },
                ttl: reset(c),
            }
        }
    };
    (
        Outcome::allowed(remaining(c), reset(c)),
        Write::when(write, put),
    )
}
