//! [`RateLimitLayer::new`], [`RateLimitLayer::builder`] and [`RateLimitBuilder`]: everything a
//! layer can be told. Setters only store what they are given; [`RateLimitBuilder::build`]
//! checks every value and every rule between them, so the order of the calls never matters.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use http::StatusCode;
use tower_vigil_core::{Backend, ConfigError, DefaultResponse, FailurePolicy, RejectionResponse};

use super::clock::Clock;
use super::config::{Config, CostFn, QuotaFn};
use super::deny_cache::{DEFAULT_DENY_CACHE_CAPACITY, DenyCache};
use super::failure_policy::OnFailure;
use super::headers::{HeaderSet, Headers};
use super::layer::RateLimitLayer;
use super::missing_key::MissingKey;
use super::outcome::{HeadFn, Outcome, StatusFn};
use super::rejection::RateLimitRejection;
use super::response::Responder;
use crate::key::{KeyExtractor, PeerIp, RequestHead};
use crate::quota::{Algorithm, Policy, Quota};

/// The name of the policy a layer's quota makes, unless [`RateLimitBuilder::name`] says
/// otherwise.
pub const DEFAULT_POLICY_NAME: &str = "default";

impl<B: Backend> RateLimitLayer<B> {
    /// `quota` per caller IP ([`PeerIp`]), decided by GCRA on `backend` (a `MemoryBackend`, a
    /// `RedisBackend`, or any [`Backend`]), every other setting at its default:
    /// 400 for a request without a peer address, fail open, deny cache on, both header
    /// families.
    ///
    /// # Panics
    ///
    /// When `quota` is invalid (a zero limit or burst, a period under 1 ms or over 366 days,
    /// a limit × period too large): [`builder`](Self::builder) then `build` returns the
    /// [`ConfigError`] instead. As `tower::limit::rate::Rate::new` panics on a zero rate.
    pub fn new(backend: B, quota: Quota) -> Self {
        match Self::builder(backend, quota).build() {
            Ok(layer) => layer,
            Err(e) => panic!("RateLimitLayer::new: {e}"),
        }
    }

    /// A builder for `quota` (the policy named [`DEFAULT_POLICY_NAME`]) decided on `backend`;
    /// see the [crate docs](crate) for an example.
    pub fn builder(backend: B, quota: Quota) -> RateLimitBuilder<B> {
        RateLimitBuilder {
            backend,
            quota,
            name: DEFAULT_POLICY_NAME.into(),
            algorithm: Algorithm::Gcra,
            policies: Vec::new(),
            key: Arc::new(PeerIp::new()),
            quota_for: None,
            cost: None,
            clock: Clock::backend(),
            failure_policy: FailurePolicy::Open,
            deny_cache: Some(DEFAULT_DENY_CACHE_CAPACITY),
            shadow: false,
            outcome: Outcome::default(),
            missing_key: MissingKey::Reject,
            headers: HeaderSet {
                ietf: true,
                legacy: true,
            },
            response: Responder::new(DefaultResponse),
        }
    }
}

/// Builds a [`RateLimitLayer`]; made by [`RateLimitLayer::builder`].
#[must_use]
pub struct RateLimitBuilder<B> {
    backend: B,
    quota: Quota,
    name: String,
    algorithm: Algorithm,
    policies: Vec<Policy>,
    key: Arc<dyn KeyExtractor>,
    quota_for: Option<Arc<QuotaFn>>,
    cost: Option<Arc<CostFn>>,
    clock: Clock,
    failure_policy: FailurePolicy,
    deny_cache: Option<usize>,
    shadow: bool,
    outcome: Outcome,
    missing_key: MissingKey,
    headers: HeaderSet,
    response: Responder,
}

impl<B: Backend> RateLimitBuilder<B> {
    /// The name of the quota's policy (default [`DEFAULT_POLICY_NAME`]): it names the policy
    /// in the `RateLimit` headers and in its backend keys. 1 to 32 of `A-Z a-z 0-9 _ -`.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The algorithm of the quota's policy (GCRA unless set).
    pub fn algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// Adds a named policy; a request must fit the quota and every policy (all or nothing, one
    /// round trip).
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policies.push(policy);
        self
    }

    /// Whose quota a request counts against (default [`PeerIp`]).
    pub fn key(mut self, key: impl KeyExtractor) -> Self {
        self.key = Arc::new(key);
        self
    }

    /// Chooses the quota per request (e.g. the API key's own limit from the extensions), in
    /// place of the builder's for that request; `None` keeps the builder's. A chosen quota
    /// that is invalid (zero) is ignored, with a warning, in favour of the builder's.
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

    /// Whose time decides (default: the backend's, Redis `TIME`).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// What to do when the backend fails or times out: `Open` (default: let the request through,
    /// counted and traced), `Closed` (503), or `Local` (decide with an in-process memory
    /// limiter with the same policies).
    pub fn failure_policy(mut self, policy: FailurePolicy) -> Self {
        self.failure_policy = policy;
        self
    }

    /// Turns the in-process deny cache on (with room for `capacity` keys, at least 1) or off
    /// (`None`). On by default with [`DEFAULT_DENY_CACHE_CAPACITY`] keys. A cached denial
    /// answers requests of the same or a higher cost until its retry time; a cheaper request
    /// still asks the backend.
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
    /// refund the backend fails to make leaves the unit charged (see the README). With
    /// [`refund_when`](Self::refund_when) too, a response counts when it passes both.
    pub fn charge_when(mut self, f: impl Fn(StatusCode) -> bool + Send + Sync + 'static) -> Self {
        self.outcome.charge_when = Some(Arc::new(f) as Arc<StatusFn>);
        self
    }

    /// Refund by outcome: charge before the call and give the cost back when the response
    /// status matches (e.g. `|s| s.is_server_error()`: our failures do not count). With
    /// [`charge_when`](Self::charge_when) too, a response counts when it passes both.
    pub fn refund_when(mut self, f: impl Fn(StatusCode) -> bool + Send + Sync + 'static) -> Self {
        self.outcome.refund_when = Some(Arc::new(f) as Arc<StatusFn>);
        self
    }

    /// Requests that are known good for a limit by outcome, such as those carrying an API key
    /// this instance has already verified in front of a failed-authentications limit. Such a
    /// request is refused like any other while its key is over the limit (so the limit still
    /// tells an attacker nothing), but it takes no unit before the call: it is charged after,
    /// and only when its response counts after all (a key revoked meanwhile). Without it, a
    /// busy legitimate client's requests in flight hold units of a failures-only limit and
    /// can fill it without a single failure. Needs [`charge_when`](Self::charge_when) or
    /// [`refund_when`](Self::refund_when): were every response to count, a known-good
    /// request checked before and charged after would let concurrent requests past the
    /// limit.
    pub fn known_good(
        mut self,
        f: impl Fn(&RequestHead<'_>) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.outcome.known_good = Some(Arc::new(f) as Arc<HeadFn>);
        self
    }

    /// What to do with a request whose key cannot be extracted (default
    /// [`MissingKey::Reject`]).
    pub fn missing_key(mut self, action: MissingKey) -> Self {
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

    /// How the layer answers the requests it turns away ([`RateLimitRejection`]: over a
    /// limit, without a key, backend unavailable): a
    /// [`RejectionResponse<RateLimitRejection>`](RejectionResponse), such as a closure
    /// `Fn(&RateLimitRejection) -> Response<Bytes>`, instead of [`DefaultResponse`]
    /// (problem+json 429 / 400 / 503 with `Retry-After` when known; gRPC 8 / 3 / 14). Over a
    /// limit, the layer then adds the rate-limit headers and `Retry-After` unless the response
    /// has them; every rejection goes into the response's extensions.
    pub fn response(mut self, response: impl RejectionResponse<RateLimitRejection>) -> Self {
        self.response = Responder::new(response);
        self
    }

    /// Checks every value and every rule between them, and builds the layer.
    ///
    /// Errors name the field: `policy.name` (a name outside 1 to 32 of `A-Z a-z 0-9 _ -`),
    /// `quota.limit`, `quota.burst`, `quota.period`, `quota` (see [`Policy::with_algorithm`]),
    /// `policy` (two policies with one name), `deny_cache` (a capacity of 0), `known_good`
    /// (set without `charge_when` or `refund_when`), and the key
    /// extractor's own (`ipv6_prefix`, see [`KeyExtractor::check`]).
    pub fn build(self) -> Result<RateLimitLayer<B>, ConfigError> {
        // Every build, not once per process: a recorder installed after an earlier build
        // still gets its HELP lines, and a dozen describe calls cost nothing at startup.
        crate::metrics::describe();
        let mut policies = Vec::with_capacity(1 + self.policies.len());
        policies.push(Policy::with_algorithm(
            &self.name,
            self.quota,
            self.algorithm,
        )?);
        policies.extend(self.policies);
        for (i, p) in policies.iter().enumerate() {
            if policies[..i].iter().any(|q| q.name() == p.name()) {
                return Err(ConfigError::new(
                    "policy",
                    format!("two policies are named {:?}", p.name()),
                ));
            }
        }
        if self.deny_cache == Some(0) {
            return Err(ConfigError::new(
                "deny_cache",
                "capacity must be at least 1",
            ));
        }
        if self.outcome.known_good.is_some() && !self.outcome.by_status() {
            return Err(ConfigError::new(
                "known_good",
                "needs charge_when or refund_when: when every response counts, a request \
                 checked before the call and charged after it lets concurrent requests past \
                 the limit",
            ));
        }
        self.key.check()?;
        let headers = Headers::new(self.headers, &policies);
        Ok(RateLimitLayer {
            config: Arc::new(Config {
                backend: self.backend,
                runs_now: AtomicBool::new(true),
                key: self.key,
                policies: policies.into(),
                quota_for: self.quota_for,
                cost: self.cost,
                clock: self.clock,
                on_failure: OnFailure::new(self.failure_policy)?,
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

impl<B> std::fmt::Debug for RateLimitBuilder<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimitBuilder")
            .field("quota", &self.quota)
            .field("name", &self.name)
            .field("algorithm", &self.algorithm)
            .field("policies", &self.policies)
            .field("failure_policy", &self.failure_policy)
            .field("shadow", &self.shadow)
            .finish_non_exhaustive()
    }
}
