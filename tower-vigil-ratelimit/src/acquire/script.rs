//! [`DECIDE`]: the decision as one core [`Script`]. The Lua is every algorithm in one script
//! (`algorithm/*.lua`, [`LUA`]); its twin is `twin.rs`; both read the same arguments:
//!
//! Arguments: see `args.rs`.
//!
//! Both answer four integers per policy: allowed (1 or 0), remaining, reset and retry-after in
//! µs.

use tower_vigil_core::script::{Reply, Script};
use tower_vigil_core::{BackendError, BackendResult};

use super::outcomes::Outcomes;
use super::{cell, twin};
use crate::algorithm::{LUA, Outcome};

/// The decision script.
pub(crate) static DECIDE: Script<Outcomes> =
    Script::new("ratelimit.decide", LUA, twin::decide, decode)
        .with_cell(cell::CELL)
        .batchable();

/// Numbers answered per policy.
const ANSWERED: usize = 4;

/// The Lua's flat list of numbers, four per policy.
pub(super) fn decode(reply: Reply) -> BackendResult<Outcomes> {
    let flat = reply
        .into_array()?
        .into_iter()
        .map(Reply::into_int)
        .collect::<BackendResult<Vec<i64>>>()?;
    if flat.is_empty() || flat.len() % ANSWERED != 0 {
        return Err(BackendError::protocol(format!(
            "rate-limit script returned {} numbers, not four per policy",
            flat.len()
        )));
    }
    let mut outcomes = flat.chunks_exact(ANSWERED).map(|c| Outcome {
        allowed: c[0] == 1,
        remaining: c[1],
        reset: c[2],
        retry: c[3],
    });
    Ok(if flat.len() == ANSWERED {
        Outcomes::One(outcomes.next().unwrap_or(Outcome::allowed(0, 0)))
    } else {
        Outcomes::Many(outcomes.collect())
    })
}
