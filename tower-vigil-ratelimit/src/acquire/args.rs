//! The arguments of the decision script, identical for the Lua and the twin:
//!
//! `ARGV`: now in µs (`''`: the backend's own clock, Redis `TIME`), cost, mode, then for each
//! key (one per policy, in order): the algorithm's code, limit, period in µs, burst.

use tower_vigil_core::script::Arg;

use super::request::Acquire;
use crate::algorithm::Params;
use crate::quota::Policy;

/// Arguments before the policies' own.
pub(super) const LEADING_ARGS: usize = 3;

/// Arguments per policy.
pub(super) const POLICY_ARGS: usize = 4;

/// now, cost, mode.
pub(super) fn leading_args(req: &Acquire<'_>) -> [Arg<'static>; LEADING_ARGS] {
    [
        req.now_micros.map_or(Arg::Bytes(&[]), Arg::from),
        Arg::from(req.cost),
        Arg::Int(req.mode.code()),
    ]
}

/// code, limit, period, burst.
pub(super) fn policy_args(policy: &Policy) -> [Arg<'static>; POLICY_ARGS] {
    let p = Params::of(policy);
    [
        Arg::Bytes(policy.algorithm().code().as_bytes()),
        Arg::Int(p.limit),
        Arg::Int(p.period),
        Arg::Int(p.burst),
    ]
}
