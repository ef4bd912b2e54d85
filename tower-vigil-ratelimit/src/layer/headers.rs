//! The `RateLimit-Policy` / `RateLimit` (draft-ietf-httpapi-ratelimit-headers-10) and legacy
//! `X-RateLimit-*` headers, and `Retry-After`.
//!
//! `t` is the whole seconds, rounded up, until the policy has room again: its retry-after when
//! it denied the request, else until it is back to its full quota. `Retry-After` on a 429 is
//! the longest retry-after of the denying policies, rounded up and at least 1, so it is never
//! earlier than their `t`.
//!
//! ```
//! use std::time::Duration;
//! use tower_vigil_ratelimit::layer::headers::ceil_secs;
//!
//! assert_eq!(ceil_secs(Duration::from_millis(300)), 1); // a 0.3 s wait is `Retry-After: 1`
//! assert_eq!(ceil_secs(Duration::from_millis(3_001)), 4);
//! ```

use std::fmt::Write as _;
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};

use super::clock::system_micros;
use crate::decision::{Decision, PolicyDecision};

/// `ratelimit-policy`.
pub const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
/// `ratelimit`.
pub const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
/// `x-ratelimit-limit`.
pub const X_RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
/// `x-ratelimit-remaining`.
pub const X_RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
/// `x-ratelimit-reset` (Unix seconds).
pub const X_RATELIMIT_RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

/// Which header families a layer sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HeaderSet {
    pub(crate) ietf: bool,
    pub(crate) legacy: bool,
}

/// Whole seconds, rounded up.
pub fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// `t` of one policy.
fn t_of(p: &PolicyDecision) -> u64 {
    if p.allowed() {
        ceil_secs(p.reset_after())
    } else {
        ceil_secs(p.retry_after()).max(1)
    }
}

/// The `Retry-After` seconds of a denied decision.
pub fn retry_after_secs(d: &Decision) -> u64 {
    ceil_secs(d.retry_after().unwrap_or(Duration::ZERO)).max(1)
}

pub(crate) fn insert(headers: &mut HeaderMap, d: &Decision, set: HeaderSet) {
    if set.ietf && !d.policies().is_empty() {
        let (mut policy, mut state) = (String::new(), String::new());
        for (i, p) in d.policies().iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            let name = p.policy().name();
            let q = p.policy().quota().limit();
            let _ = write!(
                policy,
                "{sep}\"{name}\";q={q};w={}",
                p.policy().window_secs()
            );
            let _ = write!(state, "{sep}\"{name}\";r={};t={}", p.remaining(), t_of(p));
        }
        put(headers, RATELIMIT_POLICY, policy);
        put(headers, RATELIMIT, state);
    }
    if set.legacy
        && let Some(p) = d.most_restrictive()
    {
        put(
            headers,
            X_RATELIMIT_LIMIT,
            p.policy().quota().limit().to_string(),
        );
        put(headers, X_RATELIMIT_REMAINING, p.remaining().to_string());
        let reset = system_micros().div_ceil(1_000_000) + t_of(p);
        put(headers, X_RATELIMIT_RESET, reset.to_string());
    }
    if !d.allowed() {
        put(
            headers,
            http::header::RETRY_AFTER,
            retry_after_secs(d).to_string(),
        );
    }
}

fn put(headers: &mut HeaderMap, name: HeaderName, value: String) {
    // Names are validated tokens and the rest are digits: always a valid header value.
    if let Ok(v) = HeaderValue::try_from(value)
        && !headers.contains_key(&name)
    {
        headers.insert(name, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_up() {
        assert_eq!(ceil_secs(Duration::from_millis(300)), 1);
        assert_eq!(ceil_secs(Duration::from_secs(2)), 2);
        assert_eq!(ceil_secs(Duration::from_micros(2_000_001)), 3);
        assert_eq!(ceil_secs(Duration::ZERO), 0);
    }
}
