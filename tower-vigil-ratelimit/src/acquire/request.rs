//! [`Acquire`]: one decision to make.

use tower_vigil_core::{BackendError, BackendErrorKind};

use crate::algorithm::Mode;
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

    #[inline]
    pub(crate) fn check(&self) -> Result<(), BackendError> {
        if self.policies.len() < 2 {
            return Ok(());
        }
        self.check_distinct()
    }

    fn check_distinct(&self) -> Result<(), BackendError> {
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
