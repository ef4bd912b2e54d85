//! [`Clock`]: whose time decides.

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Whose time the layer decides with.
///
/// The default is the backend's: Redis `TIME` inside the script, so app servers whose clocks
/// disagree still share one timeline (the memory backend uses its tokio-driven clock). The
/// app's clock is an option, e.g. to make tests deterministic or when the backend's clock is
/// known to be wrong.
///
/// ```
/// use tower_vigil_ratelimit::Clock;
///
/// let frozen = Clock::custom(|| 1_700_000_000_000_000);
/// assert_eq!(frozen.now_micros(), Some(1_700_000_000_000_000));
/// assert_eq!(Clock::backend().now_micros(), None);
/// assert!(Clock::system().now_micros().unwrap() > 1_700_000_000_000_000);
/// ```
#[derive(Clone, Default)]
pub struct Clock(Kind);

#[derive(Clone, Default)]
enum Kind {
    #[default]
    Backend,
    System,
    Custom(Arc<dyn Fn() -> u64 + Send + Sync>),
}

impl Clock {
    /// The backend's own time (the default): Redis `TIME`, or the memory backend's clock.
    pub fn backend() -> Self {
        Self(Kind::Backend)
    }

    /// This process's system clock.
    pub fn system() -> Self {
        Self(Kind::System)
    }

    /// Any function returning µs since the Unix epoch.
    pub fn custom(f: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        Self(Kind::Custom(Arc::new(f)))
    }

    /// The time to pass to the backend, or `None` for the backend's own.
    pub fn now_micros(&self) -> Option<u64> {
        match &self.0 {
            Kind::Backend => None,
            Kind::System => Some(system_micros()),
            Kind::Custom(f) => Some(f()),
        }
    }
}

pub(crate) fn system_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Kind::Backend => "Clock::Backend",
            Kind::System => "Clock::System",
            Kind::Custom(_) => "Clock::Custom",
        })
    }
}
