//! Fixed window: one counter per window aligned to the Unix epoch. Twin: `fixed_window.lua`.

use super::mode::{Mode, transition};
use super::state::{Outcome, Params, State, Stored, Write};

pub(crate) fn eval(
    p: Params,
    stored: Stored<'_>,
    now: i64,
    cost: i64,
    mode: Mode,
) -> (Outcome, Write) {
    let mut idx = now / p.period;
    let mut count = 0;
    if let Stored::State(State::Fixed { w, c }) = stored {
        // A stored window ahead of `now` (a clock behind another's) is the current one.
        if *w >= idx {
            idx = *w;
            count = *c;
        }
    }
    let reset = (idx + 1) * p.period - now;
    let Some((c, write)) = transition(
        mode,
        cost,
        || (count + cost).min(p.limit).max(count),
        || (count - cost).max(0),
        (count + cost <= p.limit).then_some(count + cost),
    ) else {
        let out = Outcome {
            allowed: false,
            remaining: (p.limit - count).max(0),
            reset,
            retry: reset,
        };
        return (out, Write::Keep);
    };
    let put = || {
        if c > 0 {
            Write::Put {
                state: State::Fixed { w: idx, c },
                ttl: reset,
            }
        } else {
            Write::Delete
        }
    };
    (
        Outcome::allowed((p.limit - c).max(0), reset),
        Write::when(write, put),
    )
}
