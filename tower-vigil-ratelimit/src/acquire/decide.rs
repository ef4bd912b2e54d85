//! [`acquire`]: builds the keys and arguments of one decision, runs [`DECIDE`] on the backend
//! and turns its outcomes into a [`Decision`].

use std::time::Duration;

use tower_vigil_core::script::Arg;
use tower_vigil_core::{Backend, BackendError};

use super::args::{LEADING_ARGS, POLICY_ARGS, leading_args, policy_args};
use super::request::Acquire;
use super::script::DECIDE;
use crate::algorithm::{Mode, Outcome};
use crate::decision::{Decision, PolicyDecision};
use crate::keys;

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
    req.check()?;
    let outcomes = if let [policy] = req.policies {
        // The usual case: the arguments on the stack, one key (one allocation).
        let key = keys::policy_key(req.key, policy);
        let [now, cost, mode] = leading_args(&req);
        let [code, limit, period, burst] = policy_args(policy);
        let args = [now, cost, mode, code, limit, period, burst];
        backend.run(&DECIDE, &[key.as_str()], &args).await?
    } else {
        let names = req.keys();
        let keys: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut args: Vec<Arg<'_>> =
            Vec::with_capacity(LEADING_ARGS + POLICY_ARGS * req.policies.len());
        args.extend(leading_args(&req));
        for policy in req.policies {
            args.extend(policy_args(policy));
        }
        backend.run(&DECIDE, &keys, &args).await?
    };
    let outcomes = outcomes.as_slice();
    if outcomes.len() != req.policies.len() {
        return Err(BackendError::protocol(format!(
            "rate-limit script answered {} policies of {}",
            outcomes.len(),
            req.policies.len()
        )));
    }
    Ok(decision(&req, outcomes))
}

/// The [`Decision`] the outcomes of `req`'s policies make.
fn decision(req: &Acquire<'_>, outcomes: &[Outcome]) -> Decision {
    let micros = |v: i64| Duration::from_micros(u64::try_from(v).unwrap_or(0));
    let mode = req.mode;
    let denied = !mode.always_writes() && outcomes.iter().any(|o| !o.allowed);
    let policies: Vec<PolicyDecision> = req
        .policies
        .iter()
        .zip(outcomes)
        .map(|(p, o)| PolicyDecision {
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
        })
        .collect();
    let allowed = mode.always_writes() || policies.iter().all(|p| p.allowed);
    Decision { allowed, policies }
}
