//! TTLs: the longest any backend accepts, their check at build time, and their conversion to
//! an `Instant` and to Redis' `PX` milliseconds, without overflow.

use std::time::Duration;

use crate::error::ConfigError;

/// How long a fencing-token key lives past the last acquisition. The fence is a pure
/// optimisation past this point: tokens stay increasing after it expires because they are
/// floored by the clock.
pub const FENCE_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// The longest TTL any backend accepts: ten 365-day years.
///
/// Far beyond any sane session, key-cache or idempotency window, and far below what overflows
/// `Instant + ttl` in the memory backend or Redis's millisecond expiry arithmetic. Builders check
/// every configured TTL against it with [`check_ttl`], so an absurd value (`Duration::MAX`) is a
/// [`ConfigError`] at build time instead of a panic or a wrapped expiry per request.
pub const MAX_TTL: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// Checks a configured TTL for the setting `field`: non-zero and at most [`MAX_TTL`].
///
/// ```
/// use std::time::Duration;
/// use tower_vigil_core::backend::check_ttl;
///
/// assert!(check_ttl("idle_timeout", Duration::from_secs(1800)).is_ok());
/// assert_eq!(check_ttl("idle_timeout", Duration::MAX).unwrap_err().field(), "idle_timeout");
/// assert!(check_ttl("idle_timeout", Duration::ZERO).is_err());
/// ```
pub fn check_ttl(field: &'static str, ttl: Duration) -> Result<Duration, ConfigError> {
    if ttl.is_zero() {
        Err(ConfigError::new(field, "must be greater than zero"))
    } else if ttl > MAX_TTL {
        Err(ConfigError::new(
            field,
            format!(
                "{} s is longer than the longest TTL a backend accepts ({} s)",
                ttl.as_secs(),
                MAX_TTL.as_secs()
            ),
        ))
    } else {
        Ok(ttl)
    }
}

/// `now + ttl`, never overflowing or panicking: `ttl` is capped at [`MAX_TTL`] (what Redis gets
/// too, through [`ttl_millis`]), and halved further on a platform whose clock could not hold
/// even that.
pub(crate) fn instant_after(now: tokio::time::Instant, ttl: Duration) -> tokio::time::Instant {
    let mut ttl = ttl.min(MAX_TTL);
    loop {
        if let Some(at) = now.checked_add(ttl) {
            return at;
        }
        // Ends at zero, where `checked_add` cannot fail.
        ttl /= 2;
    }
}

/// Milliseconds of `ttl` for a `PX` argument: at least 1, since `PX 0` is an error in Redis,
/// and at most [`MAX_TTL`], so no caller can make Redis's expiry arithmetic overflow.
pub fn ttl_millis(ttl: Duration) -> u64 {
    // MAX_TTL in ms fits in u64 with room to spare; the `min` keeps a TTL that slipped past
    // `check_ttl` (a computed one) from ever reaching Redis as an out-of-range value.
    u64::try_from(ttl.min(MAX_TTL).as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}
