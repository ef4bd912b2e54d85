//! GCRA: one integer per key, the theoretical arrival time (TAT) in µs.
//!
//! With emission interval `T = ⌈period / limit⌉` and burst tolerance `τ = T × burst`, a request
//! of cost `c` is admitted when `max(TAT, now) + c·T − τ ≤ now`, and then `TAT` moves to
//! `max(TAT, now) + c·T`. The key expires when `TAT` passes, when it would equal a fresh key.
//! Twin: `gcra.lua`.

use super::mode::{Mode, transition};
use super::state::{Outcome, Params, Stored, Write, ceil_div};

pub(crate) fn eval(
    p: Params,
    stored: Stored<'_>,
    now: i64,
    cost: i64,
    mode: Mode,
) -> (Outcome, Write) {
    let t = ceil_div(p.period, p.limit);
    let tau = t * p.burst;
    let tat = match stored {
        Stored::Tat(v) => v.max(now),
        _ => now,
    };
    let new = tat + cost * t;
    let allow_at = new - tau;
    let Some((new, write)) = transition(
        mode,
        cost,
        || new.min(tat.max(now + tau)),
        || (tat - cost * t).max(now),
        (now >= allow_at).then_some(new),
    ) else {
        let out = Outcome {
            allowed: false,
            remaining: (tau - (tat - now)).max(0) / t,
            reset: tat - now,
            retry: allow_at - now,
        };
        return (out, Write::Keep);
    };
    let put = || {
        if new > now {
            Write::Tat {
                tat: new,
                ttl: new - now,
            }
        } else {
            Write::Delete
        }
    };
    (
        Outcome::allowed((tau - (new - now)).max(0) / t, new - now),
        Write::when(write, put),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Params = Params {
        limit: 10,
        period: 1_000_000,
        burst: 10,
    };

    fn run(stored: Option<i64>, now: i64, cost: i64) -> (Outcome, Write) {
        eval(
            P,
            stored.map_or(Stored::None, Stored::Tat),
            now,
            cost,
            Mode::Acquire,
        )
    }

    #[test]
    fn burst_then_one_per_interval() {
        let mut tat = None;
        for i in 0..10 {
            let (o, w) = run(tat, 0, 1);
            assert!(o.allowed, "request {i}");
            assert_eq!(o.remaining, 9 - i);
            let Write::Tat { tat: t, .. } = w else {
                panic!()
            };
            tat = Some(t);
        }
        let (o, _) = run(tat, 0, 1);
        assert!(!o.allowed);
        assert_eq!(o.retry, 100_000);
        assert!(run(tat, 100_000, 1).0.allowed);
    }

    #[test]
    fn cost_above_burst_is_never_allowed() {
        assert!(!run(None, 0, 11).0.allowed);
    }
}
