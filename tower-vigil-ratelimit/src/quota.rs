//! [`Quota`], [`Algorithm`] and [`Policy`]: what a limit is, written so it cannot be misread.
//!
//! ```
//! use std::time::Duration;
//! use tower_vigil_ratelimit::{Algorithm, Policy, Quota};
//!
//! let per_minute = Quota::per_minute(100);
//! assert_eq!(per_minute.limit(), 100);
//! assert_eq!(per_minute.period(), Duration::from_secs(60));
//! assert_eq!(per_minute.burst_size(), 100); // the whole quota may be used at once by default
//!
//! // 10 per second but at most 3 at once (GCRA or token bucket only).
//! let smooth = Policy::new("smooth", Quota::per_second(10).burst(3)).unwrap();
//! assert_eq!(smooth.algorithm(), Algorithm::Gcra);
//!
//! // Zero is caught when the policy is built, never per request.
//! assert!(Policy::new("bad", Quota::per_minute(0)).is_err());
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tower_vigil_core::ConfigError;
use tower_vigil_core::backend::check_ttl;

/// Products of quota numbers in microseconds stay below this so that the Lua scripts (whose
/// numbers are IEEE doubles, exact up to 2^53) and Rust compute the very same integers.
pub(crate) const MAX_PRODUCT: u128 = 1 << 52;

/// The largest limit of a sliding-window log: it stores one sorted-set entry per admitted
/// request, so the cap bounds one key's memory (about 60 bytes an entry: ~600 KB at most).
pub const MAX_LOG_LIMIT: u32 = 10_000;

/// The longest policy name (it is part of every key and of the `RateLimit` headers).
pub const MAX_POLICY_NAME_LEN: usize = 32;

/// How many requests (or cost units) are allowed per period, and how many at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[must_use]
pub struct Quota {
    limit: u32,
    period: Duration,
    burst: Option<u32>,
}

impl Quota {
    /// `limit` per `period`. Validated when a [`Policy`] is built from it.
    pub const fn new(limit: u32, period: Duration) -> Self {
        Self {
            limit,
            period,
            burst: None,
        }
    }

    /// `limit` per second.
    pub const fn per_second(limit: u32) -> Self {
        Self::new(limit, Duration::from_secs(1))
    }

    /// `limit` per minute.
    pub const fn per_minute(limit: u32) -> Self {
        Self::new(limit, Duration::from_secs(60))
    }

    /// `limit` per hour.
    pub const fn per_hour(limit: u32) -> Self {
        Self::new(limit, Duration::from_secs(3600))
    }

    /// How many may be used at once (GCRA and token bucket; the default is `limit`). The
    /// long-run rate stays `limit` per period.
    pub const fn burst(mut self, burst: u32) -> Self {
        self.burst = Some(burst);
        self
    }

    /// Requests (cost units) per period.
    pub const fn limit(&self) -> u32 {
        self.limit
    }

    /// The period.
    pub const fn period(&self) -> Duration {
        self.period
    }

    /// The burst: what may be used at once.
    pub const fn burst_size(&self) -> u32 {
        match self.burst {
            Some(b) => b,
            None => self.limit,
        }
    }

    pub(crate) fn period_micros(&self) -> u64 {
        u64::try_from(self.period.as_micros()).unwrap_or(u64::MAX)
    }
}

/// The algorithm that decides a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Algorithm {
    /// Generic cell rate algorithm (the default): one integer per key (the theoretical arrival
    /// time), O(1), smooth, with a burst.
    #[default]
    Gcra,
    /// Token bucket: `burst` tokens, refilled at `limit` per period: the admissions of GCRA
    /// for the same quota (up to GCRA's interval being rounded up to a whole µs), kept as two
    /// integers per key, with exact refill arithmetic.
    TokenBucket,
    /// Sliding-window log: exact, one sorted-set entry per admitted unit in the window, limit
    /// capped at [`MAX_LOG_LIMIT`].
    SlidingWindowLog,
    /// Sliding-window counter: the current and previous fixed windows blended, O(1). It
    /// assumes the previous window's requests were spread evenly, so it is approximate: never
    /// more than `limit` in one fixed window, and never more than `2 × limit` in any sliding
    /// window of one period (the worst case: the previous window's requests all at its very
    /// end). With evenly spread traffic it is exact.
    SlidingWindowCounter,
    /// Fixed window aligned to the Unix epoch: one counter; up to `2 × limit` around a window
    /// boundary.
    FixedWindow,
}

impl Algorithm {
    /// A short stable code, used in keys (so changing a policy's algorithm never reads another
    /// algorithm's state) and in the Lua dispatcher.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::Gcra => "g",
            Self::TokenBucket => "tb",
            Self::SlidingWindowLog => "sl",
            Self::SlidingWindowCounter => "sc",
            Self::FixedWindow => "fw",
        }
    }

    /// The algorithm of a [`code`](Self::code).
    pub(crate) fn from_code(code: &[u8]) -> Option<Self> {
        // Spelled out rather than searched: the twin reads a code on every decision.
        Some(match code {
            b"g" => Self::Gcra,
            b"tb" => Self::TokenBucket,
            b"sl" => Self::SlidingWindowLog,
            b"sc" => Self::SlidingWindowCounter,
            b"fw" => Self::FixedWindow,
            _ => return None,
        })
    }

    /// Every algorithm, for tests and benchmarks.
    pub const ALL: [Algorithm; 5] = [
        Self::Gcra,
        Self::TokenBucket,
        Self::SlidingWindowLog,
        Self::SlidingWindowCounter,
        Self::FixedWindow,
    ];
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Gcra => "gcra",
            Self::TokenBucket => "token_bucket",
            Self::SlidingWindowLog => "sliding_window_log",
            Self::SlidingWindowCounter => "sliding_window_counter",
            Self::FixedWindow => "fixed_window",
        })
    }
}

/// A named, validated quota with its algorithm: one line of `RateLimit-Policy`. Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Policy {
    name: Arc<str>,
    quota: Quota,
    algorithm: Algorithm,
}

impl Policy {
    /// A GCRA policy named `name` (1 to 32 of `A-Z a-z 0-9 _ -`).
    pub fn new(name: impl AsRef<str>, quota: Quota) -> Result<Self, ConfigError> {
        Self::with_algorithm(name, quota, Algorithm::Gcra)
    }

    /// A policy decided by `algorithm`.
    pub fn with_algorithm(
        name: impl AsRef<str>,
        quota: Quota,
        algorithm: Algorithm,
    ) -> Result<Self, ConfigError> {
        let name = name.as_ref();
        if name.is_empty()
            || name.len() > MAX_POLICY_NAME_LEN
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(ConfigError::new(
                "policy.name",
                format!("must be 1 to {MAX_POLICY_NAME_LEN} of A-Z a-z 0-9 _ -, found {name:?}"),
            ));
        }
        validate(&quota, algorithm)?;
        Ok(Self {
            name: name.into(),
            quota,
            algorithm,
        })
    }

    /// The name (`"default"` for a layer's single quota).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The quota.
    pub fn quota(&self) -> Quota {
        self.quota
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The window in whole seconds (rounded up), as `w` of `RateLimit-Policy`.
    pub(crate) fn window_secs(&self) -> u64 {
        self.quota.period_micros().div_ceil(1_000_000)
    }
}

fn validate(q: &Quota, algorithm: Algorithm) -> Result<(), ConfigError> {
    if q.limit == 0 {
        return Err(ConfigError::new("quota.limit", "must be at least 1"));
    }
    if q.burst == Some(0) {
        return Err(ConfigError::new("quota.burst", "must be at least 1"));
    }
    // The period is how long a key's state lives: the family-wide TTL bound first (never zero,
    // never past ten years, so `Duration::MAX` is an error, not an overflow), then ours.
    check_ttl("quota.period", q.period)?;
    let period = q.period_micros();
    if period < 1_000 {
        return Err(ConfigError::new("quota.period", "must be at least 1 ms"));
    }
    if period > 366 * 86_400 * 1_000_000 {
        return Err(ConfigError::new("quota.period", "must be at most 366 days"));
    }
    let biggest = u128::from(q.limit.max(q.burst_size()));
    if biggest * u128::from(period) >= MAX_PRODUCT {
        return Err(ConfigError::new(
            "quota",
            "limit (or burst) × period in µs must stay below 2^52; use a shorter period",
        ));
    }
    let windowed = !matches!(algorithm, Algorithm::Gcra | Algorithm::TokenBucket);
    if windowed && q.burst.is_some_and(|b| b != q.limit) {
        return Err(ConfigError::new(
            "quota.burst",
            format!("{algorithm} has no burst separate from its limit"),
        ));
    }
    if algorithm == Algorithm::SlidingWindowLog && q.limit > MAX_LOG_LIMIT {
        return Err(ConfigError::new(
            "quota.limit",
            format!("a sliding-window log keeps one entry per request: at most {MAX_LOG_LIMIT}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Algorithm;

    #[test]
    fn every_algorithm_reads_back_from_its_code_and_nothing_else_does() {
        for a in Algorithm::ALL {
            assert_eq!(Algorithm::from_code(a.code().as_bytes()), Some(a));
        }
        for other in [&b""[..], b"G", b"gg", b"t", b"tb ", b"fw\0"] {
            assert_eq!(Algorithm::from_code(other), None, "{other:?}");
        }
    }
}
