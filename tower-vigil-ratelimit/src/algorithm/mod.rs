//! The five algorithms, in integer microseconds so that the Rust twin (for [`MemoryBackend`])
//! and the Lua scripts (for Redis, whose numbers are doubles exact up to 2^53) decide alike.
//!
//! Each algorithm is a pure function from (policy, stored state, now, cost, mode) to an
//! [`Outcome`] and a [`Write`]; the twin applies the writes only when every policy of the
//! request allowed it (or the mode always writes), which makes several policies all or
//! nothing. The `.lua` file beside each algorithm is its Redis twin, checked against it by a
//! property test. What every algorithm does once it has read its state (charge, refund, admit
//! or deny) is one function, [`transition`] (`transition` in `prelude.lua`).
//!
//! [`MemoryBackend`]: tower_vigil_core::MemoryBackend

mod fixed_window;
pub(crate) mod gcra;
mod mode;
mod sliding_counter;
mod sliding_log;
mod state;
mod token_bucket;

pub use self::mode::Mode;
pub(crate) use self::state::{Outcome, Params, State, Stored, Write};

use crate::quota::Algorithm;

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
