//! The layer's shared configuration and the decision around one request: deny cache, store
//! call and failure policy. The refund once the response is known is in `outcome.rs`.

use std::sync::Arc;

use tower_vigil_core::{FailurePolicy, MemoryBackend};

use super::deny_cache::DenyCache;
use super::headers::Headers;
use super::metrics;
use super::outcome::Outcome;
use super::response::ResponseForRateLimited;
use super::{Clock, MissingKey};
use crate::algorithm::Mode;
use crate::decision::Decision;
use crate::key::{KeyExtractor, RequestHead};
use crate::quota::{Policy, Quota};
use crate::store::{Acquire, RateLimitStore};

pub(crate) type QuotaFn = dyn Fn(&RequestHead<'_>) -> Option<Quota> + Send + Sync;
pub(crate) type CostFn = dyn Fn(&RequestHead<'_>) -> u32 + Send + Sync;

pub(crate) struct Config<St> {
    pub(crate) store: St,
    pub(crate) key: Arc<dyn KeyExtractor>,
    pub(crate) policies: Arc<[Policy]>,
    pub(crate) quota_for: Option<Arc<QuotaFn>>,
    pub(crate) cost: Option<Arc<CostFn>>,
    pub(crate) clock: Clock,
    pub(crate) failure: FailurePolicy,
    pub(crate) local: Option<MemoryBackend>,
    pub(crate) deny_cache: Option<DenyCache>,
    pub(crate) shadow: bool,
    pub(crate) outcome: Outcome,
    pub(crate) missing_key: MissingKey,
    pub(crate) headers: Headers,
    pub(crate) response: Arc<dyn ResponseForRateLimited>,
}

/// Where a decision came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Store,
    DenyCache,
    Local,
}

/// The result of checking one request.
pub(crate) enum Checked {
    Decided(Decision, Source),
    /// The store failed and the policy is `Open`.
    Unchecked,
    /// The store failed and the policy is `Closed`.
    Unavailable,
}

impl<St: RateLimitStore> Config<St> {
    /// The request's policies when a chooser picked another default quota for it; `None`:
    /// the configured ones (no `Arc` clone on the usual path: two cores bumping one shared
    /// counter on every request cost more than the rest of this function).
    pub(crate) fn chosen_policies(&self, head: &RequestHead<'_>) -> Option<Arc<[Policy]>> {
        let quota = self.quota_for.as_ref().and_then(|f| f(head))?;
        let first = &self.policies[0];
        if first.quota() == quota {
            return None;
        }
        match Policy::with_algorithm(first.name(), quota, first.algorithm()) {
            Ok(chosen) => Some(
                std::iter::once(chosen)
                    .chain(self.policies[1..].iter().cloned())
                    .collect(),
            ),
            Err(e) => {
                tracing::warn!(error = %e, "quota chosen for the request is invalid; using the configured one");
                None
            }
        }
    }

    pub(crate) fn cost_of(&self, head: &RequestHead<'_>) -> u32 {
        self.cost.as_ref().map_or(1, |f| f(head))
    }

    pub(super) fn acquire<'a>(
        &self,
        key: &'a str,
        policies: &'a [Policy],
        cost: u32,
        mode: Mode,
    ) -> Acquire<'a> {
        let req = Acquire::new(key, policies).cost(cost).mode(mode);
        match self.clock.now_micros() {
            Some(now) => req.at(now),
            None => req,
        }
    }

    /// Decides the request before it is served.
    pub(crate) async fn check(&self, key: &str, policies: &[Policy], cost: u32) -> Checked {
        if let Some(cache) = &self.deny_cache
            && let Some(d) = cache.get(key, policies, cost)
        {
            metrics::deny_cache_hit();
            return Checked::Decided(d, Source::DenyCache);
        }
        // Always taken now, whatever the outcome rule: a limit checked before the call and
        // charged after it is passed by every request sent at once (issue 12, item 1).
        // `outcome.rs` gives the cost back once the response says it does not count.
        let req = self.acquire(key, policies, cost, Mode::Acquire);
        match metrics::timed(metrics::op::ACQUIRE, self.store.acquire(req)).await {
            Ok(d) => {
                if !d.allowed()
                    && let Some(cache) = &self.deny_cache
                {
                    cache.insert(key, policies, cost, &d);
                }
                Checked::Decided(d, Source::Store)
            }
            Err(e) => {
                metrics::backend_error(self.failure, &e);
                tracing::warn!(error = %e, failure_policy = %self.failure, "rate-limit store failed");
                match (&self.local, self.failure) {
                    (Some(local), _) => match local.acquire(req).await {
                        Ok(d) => Checked::Decided(d, Source::Local),
                        Err(_) => Checked::Unchecked,
                    },
                    (None, FailurePolicy::Closed) => Checked::Unavailable,
                    _ => Checked::Unchecked,
                }
            }
        }
    }
}
