//! [`RateLimited`]: a denied request, as given to the response builder.

use super::headers::retry_after_secs;
use crate::decision::Decision;

/// A denied request, as given to the rejection builder.
#[derive(Debug, Clone)]
pub struct RateLimited {
    pub(crate) decision: Decision,
    pub(crate) grpc: bool,
}

impl RateLimited {
    /// The store's decision.
    pub fn decision(&self) -> &Decision {
        &self.decision
    }

    /// Whole seconds until the request may be retried (rounded up, at least 1).
    pub fn retry_after_secs(&self) -> u64 {
        retry_after_secs(&self.decision)
    }

    /// True for a gRPC request (answer with a gRPC status, not an HTTP error body).
    pub fn is_grpc(&self) -> bool {
        self.grpc
    }

    /// The name of the first policy that denied the request.
    pub fn policy_name(&self) -> &str {
        self.decision
            .policies()
            .iter()
            .find(|p| !p.allowed())
            .map_or("default", |p| p.policy().name())
    }
}
