//! [`Decision`] and [`PolicyDecision`]: what the backend answered, also put into the response's
//! extensions so outer layers can tell what happened.
//!
//! ```
//! use std::time::Duration;
//! use tower_vigil_ratelimit::{Acquire, MemoryBackend, Policy, Quota, acquire};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower_vigil_core::BackendError> {
//! let backend = MemoryBackend::new();
//! let policies = [Policy::new("default", Quota::per_minute(2)).unwrap()];
//! let d = acquire(&backend, Acquire::new("ip:10.0.0.1", &policies)).await?;
//! assert!(d.allowed());
//! assert_eq!(d.policies()[0].remaining(), 1);
//! acquire(&backend, Acquire::new("ip:10.0.0.1", &policies)).await?;
//! let denied = acquire(&backend, Acquire::new("ip:10.0.0.1", &policies)).await?;
//! assert!(!denied.allowed());
//! assert!(denied.retry_after().unwrap() <= Duration::from_secs(30));
//! # Ok(())
//! # }
//! ```

use std::time::Duration;

use smallvec::SmallVec;

use crate::quota::Policy;

/// One policy's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDecision {
    pub(crate) policy: Policy,
    pub(crate) allowed: bool,
    pub(crate) remaining: u64,
    pub(crate) reset_after: Duration,
    pub(crate) retry_after: Duration,
}

impl PolicyDecision {
    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// True when this policy had room for the request's cost.
    pub fn allowed(&self) -> bool {
        self.allowed
    }

    /// Units left after this request (when the request was admitted) or now (when denied).
    pub fn remaining(&self) -> u64 {
        self.remaining
    }

    /// How long until the policy is back to its full quota (window algorithms: until the
    /// current window's requests stop counting).
    pub fn reset_after(&self) -> Duration {
        self.reset_after
    }

    /// When denied: how long until a request of the same cost would fit. Zero when allowed.
    pub fn retry_after(&self) -> Duration {
        self.retry_after
    }
}

/// The backend's answer for one request: admitted only if every policy had room (all or
/// nothing: a denied request consumes no policy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub(crate) allowed: bool,
    /// Inline for one policy (nearly every decision): no heap allocation.
    pub(crate) policies: SmallVec<[PolicyDecision; 1]>,
}

impl Decision {
    /// True when the request was admitted.
    pub fn allowed(&self) -> bool {
        self.allowed
    }

    /// Each policy's answer, in the order the policies were given.
    pub fn policies(&self) -> &[PolicyDecision] {
        &self.policies
    }

    /// When denied: the longest wait among the denying policies.
    pub fn retry_after(&self) -> Option<Duration> {
        if self.allowed {
            return None;
        }
        self.policies
            .iter()
            .filter(|p| !p.allowed)
            .map(|p| p.retry_after)
            .max()
    }

    /// The policy with the fewest units left (denying policies first): the one legacy
    /// `X-RateLimit-*` headers describe.
    pub fn most_restrictive(&self) -> Option<&PolicyDecision> {
        self.most_restrictive_index().map(|(_, p)| p)
    }

    /// [`Decision::most_restrictive`] with its index among [`Decision::policies`].
    pub(crate) fn most_restrictive_index(&self) -> Option<(usize, &PolicyDecision)> {
        self.policies
            .iter()
            .enumerate()
            .min_by_key(|(_, p)| (p.allowed, p.remaining, std::cmp::Reverse(p.reset_after)))
    }
}
