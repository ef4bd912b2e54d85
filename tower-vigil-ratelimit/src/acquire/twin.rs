//! The Rust twin of the decision script: what the memory backend runs with the keys' entries
//! locked. It reads the very arguments the Lua reads (`args.rs`), checks them all before it
//! changes any entry, and applies the writes only when every policy allowed the request (or
//! the mode always writes), as `dispatch.lua` does.

use std::collections::VecDeque;
use std::time::Duration;

use tower_vigil_core::BackendResult;
use tower_vigil_core::memory::{Slot, Value};
use tower_vigil_core::script::{Arg, Args, TwinCall};

use super::args::{LEADING_ARGS, POLICY_ARGS};
use super::outcomes::Outcomes;
use crate::algorithm::{self, Mode, Outcome, Params, State, Stored, Write};
use crate::quota::Algorithm;

/// One extra second on every TTL, as the Lua scripts add: an app clock a little behind the
/// backend's must not see its state expire early.
pub(super) const SLACK: Duration = Duration::from_secs(1);

/// 2^53: the integers a Lua number holds exactly.
const MAX_EXACT: i64 = 1 << 53;

/// The twin of `fast_path.lua` + `dispatch.lua`.
pub(super) fn decide(call: &mut TwinCall<'_>) -> BackendResult<Outcomes> {
    let args = call.args();
    let Leading { now, cost, mode } = leading(args, call.now_micros())?;
    let n = call.slots().len();
    if n == 0 || args.len() != LEADING_ARGS + POLICY_ARGS * n {
        return Err(tower_vigil_core::BackendError::script(format!(
            "ratelimit.decide: {} arguments for {n} keys",
            args.len()
        )));
    }
    let policy = |i: usize| policy_at(args, LEADING_ARGS + POLICY_ARGS * i);
    // The usual case, one policy: no vectors.
    if n == 1 {
        let (algorithm, p) = policy(0)?;
        let slot = call.slot(0)?;
        let (outcome, write) = eval_slot(algorithm, p, slot, now, cost, mode);
        if mode.always_writes() || (mode == Mode::Acquire && outcome.allowed) {
            apply_write(slot, write);
        }
        return Ok(Outcomes::One(outcome));
    }
    let policies = (0..n).map(policy).collect::<BackendResult<Vec<_>>>()?;
    let slots = call.slots();
    let (outcomes, writes): (Vec<Outcome>, Vec<Write>) = policies
        .into_iter()
        .zip(slots.iter())
        .map(|((algorithm, p), slot)| eval_slot(algorithm, p, slot, now, cost, mode))
        .unzip();
    let apply =
        mode.always_writes() || (mode == Mode::Acquire && outcomes.iter().all(|o| o.allowed));
    if apply {
        for (slot, write) in slots.iter_mut().zip(writes) {
            apply_write(slot, write);
        }
    }
    Ok(Outcomes::Many(outcomes))
}

/// The arguments every decision starts with.
pub(super) struct Leading {
    pub(super) now: i64,
    pub(super) cost: i64,
    pub(super) mode: Mode,
}

/// Reads and checks now (the backend's, `backend_now`, when empty), cost and mode.
#[inline(always)]
pub(super) fn leading(args: Args<'_>, backend_now: u64) -> BackendResult<Leading> {
    let now = match args.as_slice().first() {
        Some(Arg::Bytes([])) => i64::try_from(backend_now).unwrap_or(i64::MAX),
        _ => int(args, 0)?,
    };
    let cost = int(args, 1)?;
    let mode = Mode::from_code(int(args, 2)?).ok_or_else(|| invalid("mode"))?;
    // Lua's numbers are doubles: every value must stay an exact integer.
    if !(0..MAX_EXACT).contains(&now) {
        return Err(invalid("now"));
    }
    if cost < 0 {
        return Err(invalid("cost"));
    }
    Ok(Leading { now, cost, mode })
}

/// Argument `i` as an integer: read in place when given as one (always, from `acquire`), by
/// [`Args::int`]'s Lua-like parsing otherwise. A decision reads seven of them.
#[inline]
fn int(args: Args<'_>, i: usize) -> BackendResult<i64> {
    match args.as_slice().get(i) {
        Some(Arg::Int(v)) => Ok(*v),
        _ => args.int(i),
    }
}

fn invalid(what: &str) -> tower_vigil_core::BackendError {
    tower_vigil_core::BackendError::script(format!("ratelimit.decide: invalid {what}"))
}

/// The algorithm and numbers of the policy whose arguments start at `at`, checked as
/// `Policy::with_algorithm` checks them (positive, so no division by zero).
// Always inlined, as `eval_slot`: returned through memory, their results were read back with
// wider loads than they were written with, and the store-forwarding stalls cost more than
// the work (perf annotate).
#[inline(always)]
pub(super) fn policy_at(args: Args<'_>, at: usize) -> BackendResult<(Algorithm, Params)> {
    let algorithm = Algorithm::from_code(args.raw(at)?).ok_or_else(|| invalid("algorithm"))?;
    let p = Params {
        limit: int(args, at + 1)?,
        period: int(args, at + 2)?,
        burst: int(args, at + 3)?,
    };
    if p.limit < 1 || p.period < 1 || p.burst < 1 {
        return Err(invalid("quota"));
    }
    if i128::from(p.limit.max(p.burst)) * i128::from(p.period) >= i128::from(MAX_EXACT / 2) {
        return Err(invalid("quota"));
    }
    Ok((algorithm, p))
}

/// Decides one policy on the state in its slot, at the [`capped`] cost.
#[inline(always)]
fn eval_slot(
    algorithm: Algorithm,
    p: Params,
    slot: &Slot,
    now: i64,
    cost: i64,
    mode: Mode,
) -> (Outcome, Write) {
    let stored = match slot.value() {
        Some(Value::Int(t)) => Stored::Tat(*t),
        Some(Value::Any(any)) => any
            .downcast_ref::<State>()
            .map_or(Stored::None, Stored::State),
        _ => Stored::None,
    };
    algorithm::eval(algorithm, p, stored, now, capped(p, cost), mode)
}

/// The cost a policy sees: above its capacity every cost decides alike, so it is capped there,
/// as `dispatch.lua` caps it (which keeps every product exact in Lua).
pub(super) fn capped(p: Params, cost: i64) -> i64 {
    cost.min(p.limit.max(p.burst).saturating_add(1))
}

fn ttl(micros: i64) -> Duration {
    Duration::from_micros(u64::try_from(micros).unwrap_or(0)) + SLACK
}

fn apply_write(slot: &mut Slot, write: Write) {
    match write {
        Write::Keep => {}
        Write::Delete => {
            slot.remove();
        }
        Write::Tat { tat, ttl: t } => slot.set(Value::Int(tat), ttl(t)),
        Write::Put { state, ttl: t } => slot.set(Value::Any(Box::new(state)), ttl(t)),
        Write::Log { op, ttl: t } => {
            let mut log = match slot.remove() {
                Some(Value::Any(any)) => match any.downcast::<State>() {
                    Ok(state) => match *state {
                        State::Log(log) => log,
                        _ => VecDeque::new(),
                    },
                    Err(_) => VecDeque::new(),
                },
                _ => VecDeque::new(),
            };
            op.apply(&mut log);
            if !log.is_empty() {
                // The log's heap counts against the memory backend's byte budget: a hot
                // sliding-log key can hold thousands of timestamps.
                let heap = log.capacity() * std::mem::size_of::<i64>();
                slot.set_sized(Value::Any(Box::new(State::Log(log))), ttl(t), heap);
            }
        }
    }
}
