//! [`FailurePolicy`]: what a layer does when its backend fails or times out.
//!
//! Each layer documents what the variants mean for it and picks its own default (rate limiting:
//! open; API keys: serve from the in-process cache, else 503; sessions and idempotency: closed).
//!
//! ```
//! use tower_vigil_core::FailurePolicy;
//!
//! let policy: FailurePolicy = "local".parse().unwrap();
//! assert_eq!(policy, FailurePolicy::Local);
//! assert!("sideways".parse::<FailurePolicy>().is_err());
//! ```

use std::fmt;
use std::str::FromStr;

use crate::error::ConfigError;

/// What a layer does when its backend fails or times out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailurePolicy {
    /// Let the request through as if the check passed; the failure is counted and traced.
    Open,
    /// Reject the request with 503 Service Unavailable.
    Closed,
    /// Fall back to in-process state: an in-memory limiter for rate limiting, the in-process
    /// cache for API keys. Where a layer has no local state this acts as `Closed`.
    Local,
}

impl FailurePolicy {
    /// The lowercase name, as accepted by `parse`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Closed => "closed",
            Self::Local => "local",
        }
    }
}

impl fmt::Display for FailurePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FailurePolicy {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "open" => Ok(Self::Open),
            "closed" => Ok(Self::Closed),
            "local" => Ok(Self::Local),
            other => Err(ConfigError::new(
                "failure_policy",
                format!("expected open, closed or local, found {other:?}"),
            )),
        }
    }
}
