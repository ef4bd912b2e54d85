//! [`acquire`]: builds the keys and arguments of one decision, runs [`DECIDE`] on the backend
//! and turns its outcomes into a [`Decision`].

use std::time::Duration;

use smallvec::SmallVec;

use tower_vigil_core::script::Arg;
use tower_vigil_core::{Backend, BackendError};

use super::args::{LEADING_ARGS, POLICY_ARGS, leading_args, policy_args};
use super::outcomes::Outcomes;
use super::request::Acquire;
use super::script::DECIDE;
use crate::algorithm::{Mode, Outcome};
use crate::decision::{Decision, PolicyDecision};
use crate::keys;
use crate::quota::Policy;

/// Decides every policy of `req` at one instant and changes them all or none, in one round
/// trip to `backend` (one script: Lua on Redis, its Rust twin in memory). What the
/// [`RateLimitLayer`](crate::RateLimitLayer) calls for each request; call it yourself to limit
/// anything that is not an HTTP request (a job, a message), or to peek, charge or refund
/// ([`Mode`]).
///
/// # Errors
/// The backend's error (timeout, connection, out of memory...), or kind `Protocol` when two
/// policies share a name and algorithm.
pub async fn acquire<B: Backend>(backend: &B, req: Acquire<'_>) -> Result<Decision, BackendError> {
    if let Some(done) = acquire_now(backend, req) {
        return done;
    }
    // Boxed: this future then stays a few words for the in-process answer above (it is moved
    // on every poll of every future it is part of), and a call that does I/O pays one
    // allocation beside its round trip.
    Box::pin(acquire_remote(backend, req)).await
}

/// [`acquire`] with the backend's call awaited (for a backend that answered `None` to
/// [`Backend::run_now`]).
pub(crate) async fn acquire_remote<B: Backend>(
    backend: &B,
    req: Acquire<'_>,
) -> Result<Decision, BackendError> {
    let outcomes = if let [policy] = req.policies {
        // The usual case: the arguments on the stack, one key (one allocation).
        let key = keys::policy_key(req.key, policy);
        let args = single_args(&req, policy);
        backend.run(&DECIDE, &[key.as_str()], &args).await?
    } else {
        let names = req.keys();
        let keys: Vec<&str> = names.iter().map(String::as_str).collect();
        backend.run(&DECIDE, &keys, &many_args(&req)).await?
    };
    finish(&req, &outcomes)
}

/// [`acquire`] on the caller's thread, without a future, when the backend can answer at once
/// ([`Backend::run_now`]: the memory backend); `None` when it cannot (the caller awaits
/// [`acquire`]). The rate-limit layer's hot path.
#[inline]
pub(crate) fn acquire_now<B: Backend>(
    backend: &B,
    req: Acquire<'_>,
) -> Option<Result<Decision, BackendError>> {
    if let Err(e) = req.check() {
        return Some(Err(e));
    }
    let outcomes = if let [policy] = req.policies {
        // The call is over when `run_now` returns: the key needs no allocation of its own.
        keys::with_policy_key(req.key, policy, |key| {
            backend.run_now(&DECIDE, &[key], &single_args(&req, policy))
        })?
    } else {
        let names = req.keys();
        let keys: Vec<&str> = names.iter().map(String::as_str).collect();
        backend.run_now(&DECIDE, &keys, &many_args(&req))?
    };
    Some(outcomes.and_then(|o| finish(&req, &o)))
}

/// The arguments of a one-policy decision.
#[inline]
fn single_args(req: &Acquire<'_>, policy: &Policy) -> [Arg<'static>; LEADING_ARGS + POLICY_ARGS] {
    let [now, cost, mode] = leading_args(req);
    let [code, limit, period, burst] = policy_args(policy);
    [now, cost, mode, code, limit, period, burst]
}

/// The arguments of a decision over several policies.
fn many_args(req: &Acquire<'_>) -> Vec<Arg<'static>> {
    let mut args = Vec::with_capacity(LEADING_ARGS + POLICY_ARGS * req.policies.len());
    args.extend(leading_args(req));
    for policy in req.policies {
        args.extend(policy_args(policy));
    }
    args
}

/// Checks that the script answered every policy and makes the [`Decision`].
#[inline]
fn finish(req: &Acquire<'_>, outcomes: &Outcomes) -> Result<Decision, BackendError> {
    let outcomes = outcomes.as_slice();
    if outcomes.len() != req.policies.len() {
        return Err(BackendError::protocol(format!(
            "rate-limit script answered {} policies of {}",
            outcomes.len(),
            req.policies.len()
        )));
    }
    Ok(decision(req, outcomes))
}

/// The [`Decision`] the outcomes of `req`'s policies make.
#[inline]
fn decision(req: &Acquire<'_>, outcomes: &[Outcome]) -> Decision {
    let micros = |v: i64| Duration::from_micros(u64::try_from(v).unwrap_or(0));
    let mode = req.mode;
    let denied = !mode.always_writes() && outcomes.iter().any(|o| !o.allowed);
    let mut policies: SmallVec<[PolicyDecision; 1]> = SmallVec::new();
    // Pushed one by one rather than collected: written in place, not moved through the
    // iterator (the collect's copies were a visible share of a decision).
    for (p, o) in req.policies.iter().zip(outcomes) {
        policies.push(PolicyDecision {
            policy: p.clone(),
            allowed: o.allowed,
            // A policy that had room is not charged when another denies: its remaining is
            // what it has now, not what it would have had.
            remaining: u64::try_from(if denied && o.allowed && mode == Mode::Acquire {
                o.remaining + req.cost_for(p)
            } else {
                o.remaining
            })
            .unwrap_or(0),
            reset_after: micros(o.reset),
            retry_after: micros(o.retry),
        });
    }
    let allowed = mode.always_writes() || policies.iter().all(|p| p.allowed);
    Decision { allowed, policies }
}
