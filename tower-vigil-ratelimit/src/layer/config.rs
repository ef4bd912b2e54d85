//! [`Config`]: what a built layer holds, shared by the layer and every service it makes, and
//! the per-request choices read from it (the policies and the cost of one request).

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use super::clock::Clock;
use super::deny_cache::DenyCache;
use super::failure_policy::OnFailure;
use super::headers::Headers;
use super::missing_key::MissingKey;
use super::outcome::Outcome;
use super::response::Responder;
use crate::key::{KeyExtractor, RequestHead};
use crate::quota::{Policy, Quota};

pub(crate) type QuotaFn = dyn Fn(&RequestHead<'_>) -> Option<Quota> + Send + Sync;
pub(crate) type CostFn = dyn Fn(&RequestHead<'_>) -> u32 + Send + Sync;

pub(crate) struct Config<B> {
    pub(crate) backend: B,
    /// False once the backend answered `None` to [`Backend::run_now`](tower_vigil_core::Backend::run_now)
    /// (a backend does always or never): the check then goes straight to the awaited call,
    /// without building a request it cannot answer at once.
    pub(crate) runs_now: AtomicBool,
    pub(crate) key: Arc<dyn KeyExtractor>,
    /// The quota's policy first, then the added ones.
    pub(crate) policies: Arc<[Policy]>,
    pub(crate) quota_for: Option<Arc<QuotaFn>>,
    pub(crate) cost: Option<Arc<CostFn>>,
    pub(crate) clock: Clock,
    pub(crate) on_failure: OnFailure,
    pub(crate) deny_cache: Option<DenyCache>,
    pub(crate) shadow: bool,
    pub(crate) outcome: Outcome,
    pub(crate) missing_key: MissingKey,
    pub(crate) headers: Headers,
    pub(crate) response: Responder,
}

impl<B> Config<B> {
    /// The request's policies when a chooser picked another quota for it; `None`: the
    /// configured ones (no `Arc` clone on the usual path: two cores bumping one shared
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

    /// The request's cost (1 unless a cost function says otherwise).
    pub(crate) fn cost_of(&self, head: &RequestHead<'_>) -> u32 {
        self.cost.as_ref().map_or(1, |f| f(head))
    }
}
