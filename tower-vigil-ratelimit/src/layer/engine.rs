//! The decision engine: how one request is decided. Before the inner service runs: the
//! in-process deny cache, then one backend call taking the cost from every policy (all or
//! nothing, [`acquire`]), then the failure policy when the backend fails. After it: the refund of a response
//! that does not count (`outcome.rs` says which).

use std::sync::atomic::Ordering;

use http::StatusCode;
use tower_vigil_core::{Backend, BackendError};

use super::config::Config;
use super::failure_policy::Fallback;
use crate::acquire::{Acquire, acquire, acquire_now, acquire_remote};
use crate::algorithm::Mode;
use crate::decision::Decision;
use crate::metrics;
use crate::quota::Policy;

/// Where a decision came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Backend,
    DenyCache,
    Local,
}

/// The result of checking one request.
pub(crate) enum Checked {
    Decided(Decision, Source),
    /// The backend failed and the failure policy lets the request through undecided.
    Unchecked,
    /// The backend failed and the failure policy is `Closed`.
    Unavailable,
}

impl<B: Backend> Config<B> {
    /// One call for `key` under `policies`, at the configured clock.
    fn call<'a>(&self, key: &'a str, policies: &'a [Policy], cost: u32, mode: Mode) -> Acquire<'a> {
        let req = Acquire::new(key, policies).cost(cost).mode(mode);
        match self.clock.now_micros() {
            Some(now) => req.at(now),
            None => req,
        }
    }

    /// Decides the request on the caller's thread when it can be: a denial the deny cache
    /// holds, or a backend that answers at once ([`Backend::run_now`]: memory). `None`: the
    /// backend must be awaited, with [`check_remote`](Self::check_remote). No future is made
    /// for an in-process decision: on the memory backend this is the whole check.
    /// `mode` is [`Mode::Acquire`], or [`Mode::Peek`] for a known-good request (`outcome.rs`).
    pub(crate) fn check_now(
        &self,
        key: &str,
        policies: &[Policy],
        cost: u32,
        mode: Mode,
    ) -> Option<Checked> {
        if let Some(cache) = &self.deny_cache
            && let Some(d) = cache.get(key, policies, cost)
        {
            metrics::deny_cache_hit();
            return Some(Checked::Decided(d, Source::DenyCache));
        }
        if !self.runs_now.load(Ordering::Relaxed) {
            return None;
        }
        // Always taken now, whatever the outcome rule (a known-good request aside): a limit
        // checked before the call and charged after it is passed by every request sent at
        // once (issue 12, item 1). `settle` gives the cost back once the response says it does
        // not count.
        let req = self.call(key, policies, cost, mode);
        let Some(result) =
            metrics::timed_now(metrics::op::ACQUIRE, || acquire_now(&self.backend, req))
        else {
            self.runs_now.store(false, Ordering::Relaxed);
            return None;
        };
        Some(self.checked(req, result))
    }

    /// Decides the request with the backend call awaited: after [`check_now`](Self::check_now)
    /// answered `None` (so the deny cache was consulted already).
    pub(crate) async fn check_remote(
        &self,
        key: &str,
        policies: &[Policy],
        cost: u32,
        mode: Mode,
    ) -> Checked {
        let req = self.call(key, policies, cost, mode);
        let result = metrics::timed(metrics::op::ACQUIRE, acquire_remote(&self.backend, req)).await;
        self.checked(req, result)
    }

    /// What the backend's answer (or error) means for the request.
    fn checked(&self, req: Acquire<'_>, result: Result<Decision, BackendError>) -> Checked {
        match result {
            Ok(d) => {
                if !d.allowed()
                    && let Some(cache) = &self.deny_cache
                {
                    cache.insert(req.key, req.policies, req.cost, &d);
                }
                Checked::Decided(d, Source::Backend)
            }
            Err(e) => match self.on_failure.decide(req, &e) {
                Fallback::Decided(d) => Checked::Decided(d, Source::Local),
                Fallback::Open => Checked::Unchecked,
                Fallback::Closed => Checked::Unavailable,
            },
        }
    }

    /// What settles an admitted request decided in `before` mode once its response has
    /// `status` (`Refund`, `Charge`, or nothing): only then is [`settle`](Self::settle) worth
    /// a call (and its future).
    pub(crate) fn settlement(
        &self,
        decision: &Decision,
        before: Mode,
        status: StatusCode,
    ) -> Option<Mode> {
        // A denied request (served only in shadow mode) took nothing, and enforcing would
        // have charged it nothing.
        if !decision.allowed() {
            return None;
        }
        self.outcome.settlement(before, status)
    }

    /// Settles an admitted request after its response (see [`settlement`](Self::settlement)):
    /// gives the cost back when the response does not count, or charges a known-good
    /// request's when it does. Returns the decision after that call (for the response's
    /// headers); `None` when there was nothing to settle or the call failed.
    pub(crate) async fn settle(
        &self,
        key: &str,
        policies: &[Policy],
        cost: u32,
        (decision, source): (&Decision, Source),
        before: Mode,
        status: StatusCode,
    ) -> Option<Decision> {
        let mode = self.settlement(decision, before, status)?;
        let req = self.call(key, policies, cost, mode);
        let op = if mode == Mode::Refund {
            metrics::op::REFUND
        } else {
            metrics::op::CHARGE
        };
        // The settlement goes to the limiter that decided.
        let result = match (source, self.on_failure.local()) {
            (Source::Local, Some(local)) => acquire(local, req).await,
            _ => metrics::timed(op, acquire(&self.backend, req)).await,
        };
        match result {
            Ok(after) => {
                if mode == Mode::Refund
                    && let Some(cache) = &self.deny_cache
                {
                    cache.forget(key, policies);
                }
                Some(after)
            }
            Err(e) => {
                let what = if mode == Mode::Refund {
                    "rate-limit refund failed: the unit stays charged"
                } else {
                    "rate-limit charge after a counted response failed: the unit is not charged"
                };
                self.on_failure.backend_failed(&e, what);
                None
            }
        }
    }
}
