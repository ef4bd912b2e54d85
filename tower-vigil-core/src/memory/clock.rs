//! [`Clock`]: the memory backend's time, as tokio's (pausable) `Instant` and as µs since the
//! Unix epoch, the unit of the scripts' `TIME`.

use std::time::Duration;

use tokio::time::Instant;

use crate::ttl::instant_after;

/// The backend's start, in both units: `epoch_micros` µs since the Unix epoch at `started`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    pub(crate) started: Instant,
    pub(crate) epoch_micros: u64,
}

impl Clock {
    /// `now` in µs since the Unix epoch.
    pub(crate) fn micros_at(&self, now: Instant) -> u64 {
        let elapsed = now.saturating_duration_since(self.started);
        self.epoch_micros + u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX / 2)
    }

    /// The instant that is `micros` µs since the Unix epoch (the start for a time before it).
    /// Exact to the µs: `micros_at(instant_of(m)) == m`, so an entry that expires at `m` is
    /// live for a caller at `now` exactly when `micros_at(now) < m`.
    pub(crate) fn instant_of(&self, micros: i64) -> Instant {
        let since = u64::try_from(micros)
            .unwrap_or(0)
            .saturating_sub(self.epoch_micros);
        instant_after(self.started, Duration::from_micros(since))
    }
}
