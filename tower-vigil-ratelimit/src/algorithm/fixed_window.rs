//! Fixed window: one counter per window aligned to the Unix epoch. Twin: `fixed_window.lua`.

use super::{Mode, Outcome, Params, State, Stored, Write};

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
    let put = |c: i64| {
        if c > 0 {
            Write::Put {
                state: State::Fixed { w: idx, c },
                ttl: reset,
            }
        } else {
            Write::Delete
        }
    };
    let report = |c: i64| Outcome {
        allowed: true,
        remaining: (p.limit - c).max(0),
        reset,
        retry: 0,
    };
    match mode {
        Mode::Charge | Mode::Refund => {
            let c = if mode == Mode::Charge {
                (count + cost).min(p.limit).max(count)
            } else {
                (count - cost).max(0)
            };
            (report(c), put(c))
        }
        _ if count + cost <= p.limit => {
            let c = count + cost;
            let write = if mode == Mode::Acquire && cost > 0 {
                put(c)
            } else {
                Write::Keep
            };
            (report(c), write)
        }
        _ => {
            let out = Outcome {
                allowed: false,
                remaining: (p.limit - count).max(0),
                reset,
                retry: reset,
            };
            (out, Write::Keep)
        }
    }
}
