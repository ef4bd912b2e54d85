//! The Rust twins of the scripts, run under [`MemoryBackend::atomic`].

use std::collections::VecDeque;
use std::time::Duration;

use tower_vigil_core::memory::{Slot, Value};
use tower_vigil_core::{BackendError, MemoryBackend};

use super::{Acquire, RateLimitStore, decision};
use crate::algorithm::{self, Outcome, State, Stored, Write};
use crate::decision::Decision;
use crate::keys;
use crate::quota::Policy;

/// One extra second on every TTL, as the Lua scripts add: an app clock a little behind the
/// store's must not see its state expire early.
const SLACK: Duration = Duration::from_secs(1);

impl RateLimitStore for MemoryBackend {
    async fn acquire(&self, req: Acquire<'_>) -> Result<Decision, BackendError> {
        decide_in_memory(self, req)
    }
}

pub(crate) fn decide_in_memory(
    m: &MemoryBackend,
    req: Acquire<'_>,
) -> Result<Decision, BackendError> {
    req.check()?;
    let now = i64::try_from(req.now_micros.unwrap_or_else(|| m.now_micros())).unwrap_or(i64::MAX);
    // The usual case, one policy: one key, under `update`, with no vectors.
    if let [policy] = req.policies {
        let outcome = m.update(&keys::policy_key(req.key, policy), |slot| {
            let (o, w) = eval_slot(&req, policy, slot, now);
            if req.mode.always_writes() || (req.mode == algorithm::Mode::Acquire && o.allowed) {
                apply_write(slot, w);
            }
            o
        });
        return Ok(decision(&req, std::slice::from_ref(&outcome)));
    }
    let names = req.keys();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let outcomes = m.atomic(&refs, |slots| {
        let (outcomes, writes): (Vec<Outcome>, Vec<Write>) = req
            .policies
            .iter()
            .zip(slots.iter())
            .map(|(policy, slot)| eval_slot(&req, policy, slot, now))
            .unzip();
        let apply = req.mode.always_writes()
            || (req.mode == algorithm::Mode::Acquire && outcomes.iter().all(|o| o.allowed));
        if apply {
            for (slot, write) in slots.iter_mut().zip(writes) {
                apply_write(slot, write);
            }
        }
        outcomes
    });
    Ok(decision(&req, &outcomes))
}

/// Decides one policy on the state in its slot.
fn eval_slot(req: &Acquire<'_>, policy: &Policy, slot: &Slot, now: i64) -> (Outcome, Write) {
    let stored = match slot.value() {
        Some(Value::Int(t)) => Stored::Tat(*t),
        Some(Value::Any(any)) => any
            .downcast_ref::<State>()
            .map_or(Stored::None, Stored::State),
        _ => Stored::None,
    };
    algorithm::eval(policy, stored, now, req.cost_for(policy), req.mode)
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
