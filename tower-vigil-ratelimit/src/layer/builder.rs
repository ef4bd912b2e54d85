//! [`RateLimitBuilder`]: everything a [`RateLimitLayer`] can be told, checked by `build`.

use std::sync::Arc;

use http::StatusCode;
use tower_vigil_core::{ConfigError, FailurePolicy, MemoryBackend};

use super::config::{Config, CostFn, QuotaFn};
use super::deny_cache::{DEFAULT_DENY_CACHE_CAPACITY, DenyCache};
use super::headers::{HeaderSet, Headers};
use super::outcome::{Outcome, StatusFn};
use super::response::{DefaultRateLimitedResponse, ResponseForRateLimited};
use super::{Clock, MissingKey, RateLimitLayer};
use crate::key::{KeyExtractor, PeerIp, RequestHead};
use crate::quota::{Algorithm, Policy, Quota};
use crate::store::RateLimitStore;

/// Builds a [`RateLimitLayer`]; see the [module docs](crate::layer) for an example.
#[must_use]
pub struct RateLimitBuilder<St> {
    store: St,
    quota: Option<Quota>,
    algorithm: Algorithm,
    policies: Vec<Policy>,
    key: Arc<dyn KeyExtractor>,
    quota_for: Option<Arc<QuotaFn>>,
    cost: Option<Arc<CostFn>>,
    clock: Clock,
    failure: FailurePolicy,
    deny_cache: Option<usize>,
    shadow: bool,
    outcome: Outcome,
    missing_key: MissingKey,
    headers: HeaderSet,
    response: Arc<dyn ResponseForRateLimited>,
}

impl<St: RateLimitStore> RateLimitBuilder<St> {
    pub(super) fn new(store: St) -> Self {
        Self {
            store,
            quota: None,
            algorithm: Algorithm::Gcra,
            policies: Vec::new(),
            key: Arc::new(PeerIp::new()),
            quota_for: None,
            cost: None,
            clock: Clock::store(),
            failure: FailurePolicy::Open,
            deny_cache: Some(DEFAULT_DENY_CACHE_CAPACITY),
            shadow: false,
            outcome: Outcome::Always,
            missing_key: MissingKey::Reject,
            headers: HeaderSet {
                ietf: true,
                legacy: true,
            },
            response: Arc::new(DefaultRateLimitedResponse),
        }
    }

    /// The quota of the policy named `default`.
    pub fn quota(mut self, quota: Quota) -> Self {
        self.quota = Some(quota);
        self
    }

    /// The algorithm of the `default` policy (GCRA unless set).
    pub fn algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// Adds a named policy; a request must fit every policy (all or nothing, one round trip).
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policies.push(policy);
        self
    }

    /// Whose quota a request counts against (default [`PeerIp`]).
    pub fn key(mut self, key: impl KeyExtractor) -> Self {
        self.key = Arc::new(key);
        self
    }

    /// Chooses the `default` policy's quota per request (e.g. the API key's own limit from the
    /// extensions); `None` keeps the configured one. A chosen quota that is invalid (zero) is
    /// ignored, with a warning, in favour of the configured one.
    pub fn quota_for(
        mut self,
        f: impl Fn(&RequestHead<'_>) -> Option<Quota> + Send + Sync + 'static,
    ) -> Self {
        self.quota_for = Some(Arc::new(f));
        self
    }

    /// The weight of a request (default 1).
    pub fn cost(mut self, f: impl Fn(&RequestHead<'_>) -> u32 + Send + Sync + 'static) -> Self {
        self.cost = Some(Arc::new(f));
        self
    }

    /// Whose time decides (default: the store's, Redis `TIME`).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// What to do when the store fails or times out: `Open` (default: let the request through,
    /// counted and traced), `Closed` (503), or `Local` (decide with an in-process memory
    /// limiter with the same policies).
    pub fn failure_policy(mut self, policy: FailurePolicy) -> Self {
        self.failure = policy;
        self
    }

    /// Turns the in-process deny cache on (with room for `capacity` keys) or off (`None`).
    /// On by default with 10,000 keys. A cached denial answers requests of the same or a
    /// higher cost until its retry time; a cheaper request still asks the store.
    pub fn deny_cache(mut self, capacity: Option<usize>) -> Self {
        self.deny_cache = capacity;
        self
    }

    /// Shadow mode: decide, send headers and count, but never reject.
    pub fn shadow(mut self, shadow: bool) -> Self {
        self.shadow = shadow;
        self
    }

    /// Charge by outcome: only responses whose status matches keep their cost, e.g.
    /// `|s| s == StatusCode::UNAUTHORIZED` to count only failed logins. The cost is taken
    /// before the call and given back after it when the status does not match, so requests
    /// sent at once run the inner service at most `limit` times (a request in flight holds
    /// its unit until its response is known). A response that never comes keeps its cost; a
    /// refund the store fails to make leaves the unit charged (see the README).
    pub fn charge_when(mut self, f: impl Fn(StatusCode) -> bool + Send + Sync + 'static) -> Self {
        self.outcome = Outcome::ChargeWhen(Arc::new(f) as Arc<StatusFn>);
        self
    }

    /// Refund by outcome: charge before the call and give the cost back when the response
    /// status matches (e.g. `|s| s.is_server_error()`: our failures do not count). Replaces
    /// [`charge_when`](Self::charge_when): the last of the two set wins.
    pub fn refund_when(mut self, f: impl Fn(StatusCode) -> bool + Send + Sync + 'static) -> Self {
        self.outcome = Outcome::RefundWhen(Arc::new(f) as Arc<StatusFn>);
        self
    }

    /// What to do with a request whose key cannot be extracted (default
    /// [`MissingKey::Reject`]).
    pub fn on_missing_key(mut self, action: MissingKey) -> Self {
        self.missing_key = action;
        self
    }

    /// Send `RateLimit-Policy` and `RateLimit` (default on).
    pub fn ietf_headers(mut self, on: bool) -> Self {
        self.headers.ietf = on;
        self
    }

    /// Send `X-RateLimit-Limit`, `-Remaining` and `-Reset` (default on).
    pub fn legacy_headers(mut self, on: bool) -> Self {
        self.headers.legacy = on;
        self
    }

    /// How a denied request is answered (default: problem+json 429, or gRPC 8).
    pub fn response(mut self, response: impl ResponseForRateLimited) -> Self {
        self.response = Arc::new(response);
        self
    }

    /// Checks the configuration and builds the layer.
    pub fn build(self) -> Result<RateLimitLayer<St>, ConfigError> {
        // Every build, not once per process: a recorder installed after an earlier build
        // still gets its HELP lines, and a dozen describe calls cost nothing at startup.
        super::metrics::describe();
        let mut policies = Vec::new();
        if let Some(q) = self.quota {
            policies.push(Policy::with_algorithm("default", q, self.algorithm)?);
        } else if self.algorithm != Algorithm::Gcra {
            return Err(ConfigError::new(
                "algorithm",
                "applies to the default policy: set `quota` too",
            ));
        }
        policies.extend(self.policies);
        if policies.is_empty() {
            return Err(ConfigError::new("quota", "set a quota or add a policy"));
        }
        for (i, p) in policies.iter().enumerate() {
            if policies[..i].iter().any(|q| q.name() == p.name()) {
                return Err(ConfigError::new(
                    "policy",
                    format!("two policies are named {:?}", p.name()),
                ));
            }
        }
        if self.quota_for.is_some() && policies[0].name() != "default" {
            return Err(ConfigError::new(
                "quota_for",
                "chooses the default policy's quota: set `quota` too",
            ));
        }
        if self.deny_cache == Some(0) {
            return Err(ConfigError::new(
                "deny_cache",
                "capacity must be at least 1",
            ));
        }
        let local = (self.failure == FailurePolicy::Local)
            .then(|| MemoryBackend::builder().max_entries(100_000).build());
        let headers = Headers::new(self.headers, &policies);
        Ok(RateLimitLayer {
            config: Arc::new(Config {
                store: self.store,
                key: self.key,
                policies: policies.into(),
                quota_for: self.quota_for,
                cost: self.cost,
                clock: self.clock,
                failure: self.failure,
                local,
                deny_cache: self.deny_cache.map(DenyCache::new),
                shadow: self.shadow,
                outcome: self.outcome,
                missing_key: self.missing_key,
                headers,
                response: self.response,
            }),
        })
    }
}

impl<St> std::fmt::Debug for RateLimitBuilder<St> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimitBuilder")
            .field("quota", &self.quota)
            .field("policies", &self.policies)
            .field("failure", &self.failure)
            .field("shadow", &self.shadow)
            .finish_non_exhaustive()
    }
}
