//! The `RateLimit-Policy` / `RateLimit` (draft-ietf-httpapi-ratelimit-headers-10) and legacy
//! `X-RateLimit-*` headers, and `Retry-After`.
//!
//! `t` is the whole seconds, rounded up, until the policy has room again: its retry-after when
//! it denied the request, else until it is back to its full quota. `Retry-After` on a 429 is
//! the longest retry-after of the denying policies, rounded up and at least 1, so it is never
//! earlier than their `t`.

use std::time::Duration;

use http::header::Entry;
use http::{HeaderMap, HeaderName, HeaderValue};
use tower_vigil_core::http::retry_after_secs;

use super::clock::system_micros;
use crate::decision::{Decision, PolicyDecision};
use crate::quota::Policy;

/// `ratelimit-policy`.
const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
/// `ratelimit`.
const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
/// `x-ratelimit-limit`.
const X_RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
/// `x-ratelimit-remaining`.
const X_RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
/// `x-ratelimit-reset` (Unix seconds).
const X_RATELIMIT_RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

/// Which header families a layer sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HeaderSet {
    pub(crate) ietf: bool,
    pub(crate) legacy: bool,
}

/// The values that depend on the policies alone, built once at `build()` for the configured
/// policies: five headers on every response were half the layer's own cost when each was
/// formatted per request. A request whose quota was chosen per request builds its own.
pub(crate) struct Headers {
    pub(crate) set: HeaderSet,
    /// `RateLimit-Policy`.
    policy: Option<HeaderValue>,
    /// `X-RateLimit-Limit` of each policy.
    limits: Box<[HeaderValue]>,
}

impl Headers {
    pub(crate) fn new(set: HeaderSet, policies: &[Policy]) -> Self {
        Self {
            set,
            policy: policy_value(policies),
            limits: policies
                .iter()
                .map(|p| number(p.quota().limit().into()))
                .collect(),
        }
    }
}

/// Whole seconds, rounded up (0 stays 0: a policy at its full quota has `t=0`).
fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// `t` of one policy.
fn t_of(p: &PolicyDecision) -> u64 {
    if p.allowed() {
        ceil_secs(p.reset_after())
    } else {
        retry_after_secs(p.retry_after())
    }
}

/// Adds the headers of `d`; `configured`: it decided the configured policies (no quota was
/// chosen for the request), whose values `h` holds ready.
pub(crate) fn insert(headers: &mut HeaderMap, d: &Decision, h: &Headers, configured: bool) {
    // Grow the map once for every header added here, and for the one an outer layer adds
    // next (axum's `content-length`), not once per insert and again right after. Nothing
    // when nothing is added (headers off on an admitted request).
    let adding =
        2 * usize::from(h.set.ietf) + 3 * usize::from(h.set.legacy) + usize::from(!d.allowed());
    if adding > 0 {
        headers.reserve(adding + 1);
    }
    if h.set.ietf && !d.policies().is_empty() {
        let policy = if configured {
            h.policy.clone()
        } else {
            policy_value(d.policies().iter().map(PolicyDecision::policy))
        };
        if let Some(policy) = policy {
            put(headers, RATELIMIT_POLICY, policy);
        }
        let mut state = ValueBuf::default();
        for (i, p) in d.policies().iter().enumerate() {
            if i > 0 {
                state.push(b", ");
            }
            state.push(b"\"");
            state.push(p.policy().name().as_bytes());
            state.push(b"\";r=");
            state.number(p.remaining());
            state.push(b";t=");
            state.number(t_of(p));
        }
        if let Some(v) = state.value() {
            put(headers, RATELIMIT, v);
        }
    }
    if h.set.legacy
        && let Some((i, p)) = d.most_restrictive_index()
    {
        let limit = match h.limits.get(i) {
            Some(v) if configured => v.clone(),
            _ => number(p.policy().quota().limit().into()),
        };
        put(headers, X_RATELIMIT_LIMIT, limit);
        put(headers, X_RATELIMIT_REMAINING, number(p.remaining()));
        let reset = system_micros().div_ceil(1_000_000) + t_of(p);
        put(headers, X_RATELIMIT_RESET, number(reset));
    }
    if let Some(after) = d.retry_after() {
        put(
            headers,
            http::header::RETRY_AFTER,
            number(retry_after_secs(after)),
        );
    }
}

/// `"name";q=…;w=…` for each policy, comma-separated; `None` for no policy.
fn policy_value<'a>(policies: impl IntoIterator<Item = &'a Policy>) -> Option<HeaderValue> {
    let mut v = ValueBuf::default();
    for (i, p) in policies.into_iter().enumerate() {
        if i > 0 {
            v.push(b", ");
        }
        v.push(b"\"");
        v.push(p.name().as_bytes());
        v.push(b"\";q=");
        v.number(p.quota().limit().into());
        v.push(b";w=");
        v.number(p.window_secs());
    }
    v.value()
}

fn number(n: u64) -> HeaderValue {
    let mut buf = itoa::Buffer::new();
    // Digits are always a valid header value.
    HeaderValue::from_bytes(buf.format(n).as_bytes()).unwrap_or(HeaderValue::from_static("0"))
}

/// A header value being written: on the stack while it fits (one policy always does), so the
/// only allocation is the value's own.
struct ValueBuf {
    stack: [u8; 128],
    len: usize,
    /// Everything once it outgrew `stack`.
    heap: Vec<u8>,
}

impl Default for ValueBuf {
    fn default() -> Self {
        Self {
            stack: [0; 128],
            len: 0,
            heap: Vec::new(),
        }
    }
}

impl ValueBuf {
    fn push(&mut self, bytes: &[u8]) {
        if self.heap.is_empty() && self.len + bytes.len() <= self.stack.len() {
            self.stack[self.len..self.len + bytes.len()].copy_from_slice(bytes);
            self.len += bytes.len();
            return;
        }
        if self.heap.is_empty() {
            self.heap.extend_from_slice(&self.stack[..self.len]);
        }
        self.heap.extend_from_slice(bytes);
    }

    fn number(&mut self, n: u64) {
        self.push(itoa::Buffer::new().format(n).as_bytes());
    }

    /// The value; `None` when empty. Names are validated tokens, the rest digits and
    /// punctuation: never an invalid value.
    fn value(&self) -> Option<HeaderValue> {
        let bytes = if self.heap.is_empty() {
            &self.stack[..self.len]
        } else {
            &self.heap[..]
        };
        if bytes.is_empty() {
            return None;
        }
        HeaderValue::from_bytes(bytes).ok()
    }
}

/// Inserts unless the inner service already set the header (its value wins).
fn put(headers: &mut HeaderMap, name: HeaderName, value: HeaderValue) {
    if let Entry::Vacant(slot) = headers.entry(name) {
        slot.insert(value);
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
