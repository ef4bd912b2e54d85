//! [`RateLimitStore`]: one atomic decision over several policies in one backend round trip.
//!
//! Implemented for [`MemoryBackend`](tower_vigil_core::MemoryBackend) (the Rust twins, under
//! [`MemoryBackend::atomic`](tower_vigil_core::MemoryBackend::atomic)) and
//! [`RedisBackend`](tower_vigil_core::RedisBackend) (one Lua script holding every algorithm).
//! The keys of one request are `ratelimit:{<escaped key>}:<policy>:<algorithm>`: they share a
//! hash tag, so a multi-policy decision runs on Redis Cluster too.
//!
//! ```
//! use tower_vigil_ratelimit::{Acquire, Algorithm, MemoryBackend, Mode, Policy, Quota, RateLimitStore};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower_vigil_core::BackendError> {
//! let store = MemoryBackend::new();
//! let policies = [
//!     Policy::new("second", Quota::per_second(10)).unwrap(),
//!     Policy::with_algorithm("hour", Quota::per_hour(3), Algorithm::FixedWindow).unwrap(),
//! ];
//! let t0 = 1_700_000_000_000_000; // an injected clock, in µs since the Unix epoch
//! for _ in 0..3 {
//!     assert!(store.acquire(Acquire::new("user:7", &policies).at(t0)).await?.allowed());
//! }
//! // The hourly policy is spent: denied, and the per-second one is not charged for it.
//! let d = store.acquire(Acquire::new("user:7", &policies).at(t0)).await?;
//! assert!(!d.allowed());
//! assert_eq!(d.policies()[0].remaining(), 7);
//! // A refund gives a unit back.
//! store.acquire(Acquire::new("user:7", &policies).at(t0).mode(Mode::Refund)).await?;
//! assert!(store.acquire(Acquire::new("user:7", &policies).at(t0)).await?.allowed());
//! # Ok(())
//! # }
//! ```

mod memory;
mod redis;

use std::future::Future;
use std::time::Duration;

use tower_vigil_core::{BackendError, BackendErrorKind};

use crate::algorithm::{Mode, Outcome};
use crate::decision::{Decision, PolicyDecision};
use crate::keys;
use crate::quota::Policy;

/// One decision to make: the caller's key, the policies, the cost, the mode and the clock.
#[derive(Debug, Clone, Copy)]
#[must_use]
pub struct Acquire<'a> {
    pub(crate) key: &'a str,
    pub(crate) policies: &'a [Policy],
    pub(crate) cost: u32,
    pub(crate) mode: Mode,
    pub(crate) now_micros: Option<u64>,
}

impl<'a> Acquire<'a> {
    /// Take one unit from each of `policies` for `key` (all or nothing), at the backend's time.
    pub fn new(key: &'a str, policies: &'a [Policy]) -> Self {
        Self {
            key,
            policies,
            cost: 1,
            mode: Mode::Acquire,
            now_micros: None,
        }
    }

    /// The request's weight (default 1).
    pub fn cost(mut self, cost: u32) -> Self {
        self.cost = cost;
        self
    }

    /// What to do with the state (default [`Mode::Acquire`]).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Decide at `now_micros` (µs since the Unix epoch; the app's clock) instead of the
    /// backend's own time (Redis `TIME`; the memory backend's tokio-driven clock).
    pub fn at(mut self, now_micros: u64) -> Self {
        self.now_micros = Some(now_micros);
        self
    }

    /// The policies.
    pub fn policies(&self) -> &'a [Policy] {
        self.policies
    }

    /// The backend keys of the policies, relative to the backend's prefix:
    /// `ratelimit:{<key>}:<policy>` for GCRA, `ratelimit:{<key>}:<policy>:<algorithm>` for
    /// the others (so changing a policy's algorithm never reads another's state).
    pub fn keys(&self) -> Vec<String> {
        keys::policy_keys(self.key, self.policies)
    }

    pub(crate) fn check(&self) -> Result<(), BackendError> {
        for (i, p) in self.policies.iter().enumerate() {
            if self.policies[..i]
                .iter()
                .any(|q| q.name() == p.name() && q.algorithm() == p.algorithm())
            {
                return Err(BackendError::new(
                    BackendErrorKind::Protocol,
                    format!("policy {:?} given twice", p.name()),
                ));
            }
        }
        Ok(())
    }

    /// The cost one policy sees: above its capacity, every cost decides alike, so it is capped
    /// there (which keeps every product exact in Lua).
    pub(crate) fn cost_for(&self, policy: &Policy) -> i64 {
        let q = policy.quota();
        i64::from(
            self.cost
                .min(q.limit().max(q.burst_size()).saturating_add(1)),
        )
    }
}

/// A store that decides rate limits atomically.
pub trait RateLimitStore: Clone + Send + Sync + std::fmt::Debug + 'static {
    /// Decides every policy of `req` at one instant and changes them all or none: one round
    /// trip to the backend.
    fn acquire(
        &self,
        req: Acquire<'_>,
    ) -> impl Future<Output = Result<Decision, BackendError>> + Send;
}

pub(crate) fn decision(req: &Acquire<'_>, outcomes: &[Outcome]) -> Decision {
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
