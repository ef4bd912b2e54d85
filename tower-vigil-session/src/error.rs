//! [`SessionError`]: what a [`Session`](crate::Session) method or a
//! [`SessionAdmin`](crate::SessionAdmin) call can fail with.
//!
//! ```
//! use tower_vigil_session::{SessionError, SessionErrorKind};
//!
//! fn describe(e: &SessionError) -> &'static str {
//!     match e.kind() {
//!         SessionErrorKind::Backend => "the session store is unavailable",
//!         SessionErrorKind::Serialize | SessionErrorKind::Deserialize => "a value did not fit",
//!         _ => "other",
//!     }
//! }
//! # let _ = describe;
//! ```

use std::error::Error as StdError;
use std::fmt;

use tower_vigil_core::BackendError;

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SessionErrorKind {
    /// The backend failed or timed out. Inside a request the layer answers 503.
    Backend,
    /// A value given to [`Session::insert`](crate::Session::insert) could not be serialised.
    Serialize,
    /// A stored value could not be deserialised into the type asked for.
    Deserialize,
    /// A change was made after the response was saved (from a task that outlived the
    /// request); it would be lost, so it is refused.
    Finished,
}

/// An error from the session store or from (de)serialising a value.
#[derive(Debug)]
pub struct SessionError {
    kind: SessionErrorKind,
    source: Box<dyn StdError + Send + Sync>,
}

impl SessionError {
    pub(crate) fn new(
        kind: SessionErrorKind,
        source: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        Self {
            kind,
            source: source.into(),
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> SessionErrorKind {
        self.kind
    }
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            SessionErrorKind::Backend => f.write_str("session backend failed"),
            SessionErrorKind::Serialize => f.write_str("session value could not be serialised"),
            SessionErrorKind::Deserialize => f.write_str("session value could not be deserialised"),
            SessionErrorKind::Finished => {
                f.write_str("session changed after the response was saved")
            }
        }
    }
}

impl StdError for SessionError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.source)
    }
}

impl From<BackendError> for SessionError {
    fn from(e: BackendError) -> Self {
        Self::new(SessionErrorKind::Backend, e)
    }
}
