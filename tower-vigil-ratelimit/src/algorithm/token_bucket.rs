//! Token bucket: `burst` tokens refilled at `limit` per period.
//!
//! The level is kept in units of `1/period` of a token, so refilling `elapsed` µs adds exactly
//! `elapsed × limit` units and no division is ever rounded. The key expires when the bucket
//! would be full again. Twin: `token_bucket.lua`.

use super::mode::{Mode, transition};
use super::state::{Outcome, Params, State, Stored, Write, ceil_div};

pub(crate) fn eval(
    p: Params,
    stored: Stored<'_>,
    now: i64,
    cost: i64,
    mode: Mode,
) -> (Outcome, Write) {
    let cap = p.burst * p.period;
    let (mut level, ts) = match stored {
        Stored::State(State::Bucket { level, ts }) => (*level, *ts),
        _ => (cap, now),
    };
    let elapsed = (now - ts).max(0);
    if level < cap {
        // Capped before multiplying, so the product stays below 2^53.
        if elapsed >= ceil_div(cap - level, p.limit) {
            level = cap;
        } else {
            level += elapsed * p.limit;
        }
    }
    let ts = ts.max(now);
    let need = cost * p.period;
    let Some((new, write)) = transition(
        mode,
        cost,
        || (level - need).max(0).min(level),
        || (level + need).min(cap).max(level),
        (level >= need).then_some(level - need),
    ) else {
        let out = Outcome {
            allowed: false,
            remaining: level / p.period,
            reset: ceil_div(cap - level, p.limit),
            retry: ceil_div(need - level, p.limit),
        };
        return (out, Write::Keep);
    };
    let ttl = ceil_div(cap - new, p.limit);
    let put = || {
        if ttl > 0 {
            Write::Put {
                state: State::Bucket { level: new, ts },
                ttl,
            }
        } else {
            Write::Delete
        }
    };
    (
        Outcome::allowed(new / p.period, ttl),
        Write::when(write, put),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refills_at_the_rate() {
        let p = Params {
            limit: 2,
            period: 1_000_000,
            burst: 2,
        };
        let mut state = None;
        for _ in 0..2 {
            let stored = state.as_ref().map_or(Stored::None, Stored::State);
            let (o, w) = eval(p, stored, 0, 1, Mode::Acquire);
            assert!(o.allowed);
            let Write::Put { state: s, .. } = w else {
                panic!()
            };
            state = Some(s);
        }
        let s = state.unwrap();
        let (o, _) = eval(p, Stored::State(&s), 0, 1, Mode::Acquire);
        assert!(!o.allowed);
        assert_eq!(o.retry, 500_000);
        assert!(
            eval(p, Stored::State(&s), 500_000, 1, Mode::Acquire)
                .0
                .allowed
        );
    }
}
