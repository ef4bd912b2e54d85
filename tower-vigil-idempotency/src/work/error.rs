//! [`WorkError`]: why a unit of work was not run (or not recorded), with its
//! [`kind`](WorkError::kind).

use std::convert::Infallible;
use std::fmt;
use std::time::Duration;

use tower_vigil_core::BackendError;

/// What went wrong, as [`WorkError::kind`] tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WorkErrorKind {
    /// Another worker holds the id and is running it now: retry after
    /// [`retry_after`](WorkError::retry_after) (its lease) or let the message be redelivered.
    InFlight,
    /// The id was claimed, or completed, with a different payload: the same id used for two
    /// different units of work. Retrying cannot help.
    Mismatch,
    /// The lease was lost before the outcome was recorded (the work outlived it, or the
    /// backend lost it): another worker may have run the same unit. Use a fencing token
    /// ([`Lock`](tower_vigil_core::Lock)) where a second run must not reach storage.
    LeaseLost,
    /// The id is empty or longer than [`MAX_ID_LEN`](super::MAX_ID_LEN) bytes.
    InvalidId,
    /// The backend failed or timed out; see [`backend_error`](WorkError::backend_error).
    Backend,
    /// A stored outcome could not be decoded as the outcome type asked for.
    Corrupt,
    /// The work itself returned an error (see [`into_failure`](WorkError::into_failure)); the
    /// id was released so a retry runs it again.
    Failed,
}

/// Why a unit of work was not run, or its outcome not recorded. `E` is the work's own error
/// type, kept whole in [`WorkErrorKind::Failed`].
pub struct WorkError<E = Infallible> {
    repr: Repr<E>,
}

enum Repr<E> {
    InFlight(Duration),
    Mismatch,
    LeaseLost,
    InvalidId(usize),
    Backend(BackendError),
    Corrupt(String),
    Failed(E),
}

impl<E> WorkError<E> {
    pub(crate) fn in_flight(lease_remaining: Duration) -> Self {
        Self {
            repr: Repr::InFlight(lease_remaining),
        }
    }

    pub(crate) fn mismatch() -> Self {
        Self {
            repr: Repr::Mismatch,
        }
    }

    pub(crate) fn lease_lost() -> Self {
        Self {
            repr: Repr::LeaseLost,
        }
    }

    pub(crate) fn invalid_id(len: usize) -> Self {
        Self {
            repr: Repr::InvalidId(len),
        }
    }

    pub(crate) fn corrupt(why: impl Into<String>) -> Self {
        Self {
            repr: Repr::Corrupt(why.into()),
        }
    }

    pub(crate) fn failed(e: E) -> Self {
        Self {
            repr: Repr::Failed(e),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> WorkErrorKind {
        match self.repr {
            Repr::InFlight(_) => WorkErrorKind::InFlight,
            Repr::Mismatch => WorkErrorKind::Mismatch,
            Repr::LeaseLost => WorkErrorKind::LeaseLost,
            Repr::InvalidId(_) => WorkErrorKind::InvalidId,
            Repr::Backend(_) => WorkErrorKind::Backend,
            Repr::Corrupt(_) => WorkErrorKind::Corrupt,
            Repr::Failed(_) => WorkErrorKind::Failed,
        }
    }

    /// When a retry may succeed: the holder's remaining lease for
    /// [`InFlight`](WorkErrorKind::InFlight), one second for a backend failure, `None` when
    /// retrying the same unit cannot help (a mismatch, a corrupt outcome) or is the work's
    /// own call (a failure, a lost lease).
    pub fn retry_after(&self) -> Option<Duration> {
        match &self.repr {
            Repr::InFlight(left) => Some(*left),
            Repr::Backend(_) => Some(Duration::from_secs(1)),
            _ => None,
        }
    }

    /// The backend's error, for [`WorkErrorKind::Backend`].
    pub fn backend_error(&self) -> Option<&BackendError> {
        match &self.repr {
            Repr::Backend(e) => Some(e),
            _ => None,
        }
    }

    /// The work's own error, for [`WorkErrorKind::Failed`].
    pub fn failure(&self) -> Option<&E> {
        match &self.repr {
            Repr::Failed(e) => Some(e),
            _ => None,
        }
    }

    /// The work's own error, for [`WorkErrorKind::Failed`]; `None` for every other kind.
    pub fn into_failure(self) -> Option<E> {
        match self.repr {
            Repr::Failed(e) => Some(e),
            _ => None,
        }
    }

    /// The same error with the work's error type changed; a failure is mapped by `f`.
    pub fn map_failure<F>(self, f: impl FnOnce(E) -> F) -> WorkError<F> {
        let repr = match self.repr {
            Repr::InFlight(d) => Repr::InFlight(d),
            Repr::Mismatch => Repr::Mismatch,
            Repr::LeaseLost => Repr::LeaseLost,
            Repr::InvalidId(n) => Repr::InvalidId(n),
            Repr::Backend(e) => Repr::Backend(e),
            Repr::Corrupt(s) => Repr::Corrupt(s),
            Repr::Failed(e) => Repr::Failed(f(e)),
        };
        WorkError { repr }
    }
}

impl WorkError<Infallible> {
    /// The same error, typed for work whose error type is `E` (it holds no failure).
    pub fn widen<E>(self) -> WorkError<E> {
        self.map_failure(|never| match never {})
    }
}

impl<E> From<BackendError> for WorkError<E> {
    fn from(e: BackendError) -> Self {
        Self {
            repr: Repr::Backend(e),
        }
    }
}

impl<E: fmt::Display> fmt::Display for WorkError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::InFlight(left) => write!(
                f,
                "the unit of work is in flight on another worker (lease ends in {} ms)",
                left.as_millis()
            ),
            Repr::Mismatch => {
                f.write_str("the id was used for a unit of work with another payload")
            }
            Repr::LeaseLost => f.write_str("the lease was lost before the outcome was recorded"),
            Repr::InvalidId(len) => write!(
                f,
                "a unit's id must be 1 to {} bytes, not {len}",
                super::MAX_ID_LEN
            ),
            Repr::Backend(e) => write!(f, "the idempotency store failed: {e}"),
            Repr::Corrupt(why) => write!(f, "a stored outcome cannot be read: {why}"),
            Repr::Failed(e) => write!(f, "the work failed: {e}"),
        }
    }
}

impl<E: fmt::Debug> fmt::Debug for WorkError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("WorkError");
        d.field("kind", &self.kind());
        match &self.repr {
            Repr::InFlight(left) => d.field("lease_remaining", left),
            Repr::Backend(e) => d.field("backend", e),
            Repr::Corrupt(why) => d.field("why", why),
            Repr::Failed(e) => d.field("failure", e),
            Repr::InvalidId(len) => d.field("len", len),
            Repr::Mismatch | Repr::LeaseLost => &mut d,
        };
        d.finish()
    }
}

impl<E> std::error::Error for WorkError<E>
where
    E: std::error::Error + 'static,
{
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.repr {
            Repr::Backend(e) => Some(e),
            Repr::Failed(e) => Some(e),
            _ => None,
        }
    }
}
