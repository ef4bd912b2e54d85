//! Errors: [`BackendError`] for a failed backend call, [`ConfigError`] for configuration rejected
//! at build time.
//!
//! Both are opaque structs with a `kind()` so callers can branch on the category without
//! depending on the text, and both keep their source.
//!
//! ```
//! use tower_vigil_core::error::{BackendError, BackendErrorKind};
//!
//! let err = BackendError::timeout(std::time::Duration::from_millis(250));
//! assert_eq!(err.kind(), BackendErrorKind::Timeout);
//! assert!(err.is_unavailable());
//! ```

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

type Source = Box<dyn StdError + Send + Sync + 'static>;

/// The result of every backend call.
pub type BackendResult<T> = Result<T, BackendError>;

/// The category of a [`BackendError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BackendErrorKind {
    /// The call did not finish within the backend's per-call timeout.
    Timeout,
    /// The backend could not be reached, or the connection dropped mid-call.
    Connection,
    /// The server rejected a script, or a script raised an error.
    Script,
    /// The reply did not have the expected shape, or a value had the wrong type.
    Protocol,
    /// A stored value could not be decoded.
    Corrupt,
    /// The backend is reachable but not serving (cluster down, loading, read-only replica).
    Unavailable,
    /// The backend is full and refuses writes: Redis at `maxmemory` under the `noeviction`
    /// policy (`OOM command not allowed`). Nothing was stored; deletes and reads still work.
    /// A backend failure like [`Unavailable`](Self::Unavailable): each layer's failure policy
    /// applies, but it is told apart so an operator sees "out of memory", not "down".
    OutOfMemory,
    /// The backend was configured with a value it cannot use (found before connecting; the
    /// source is the [`ConfigError`]).
    Config,
}

impl fmt::Display for BackendErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Timeout => "timeout",
            Self::Connection => "connection",
            Self::Script => "script",
            Self::Protocol => "protocol",
            Self::Corrupt => "corrupt value",
            Self::Unavailable => "unavailable",
            Self::OutOfMemory => "out of memory",
            Self::Config => "configuration",
        })
    }
}

/// A failed backend call.
pub struct BackendError {
    kind: BackendErrorKind,
    message: String,
    source: Option<Source>,
}

impl BackendError {
    /// A new error of `kind` with a human-readable `message`.
    pub fn new(kind: BackendErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// A new error of `kind` that wraps `source`.
    pub fn with_source(
        kind: BackendErrorKind,
        message: impl Into<String>,
        source: impl Into<Source>,
    ) -> Self {
        Self {
            kind,
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// The call took longer than `after`.
    pub fn timeout(after: Duration) -> Self {
        Self::new(
            BackendErrorKind::Timeout,
            format!("backend call timed out after {} ms", after.as_millis()),
        )
    }

    /// A stored value could not be decoded.
    pub fn corrupt(message: impl Into<String>) -> Self {
        Self::new(BackendErrorKind::Corrupt, message)
    }

    /// A script failed while it ran: the Lua raised an error, or its twin rejected an
    /// argument as the Lua would have.
    pub fn script(message: impl Into<String>) -> Self {
        Self::new(BackendErrorKind::Script, message)
    }

    /// A reply or value had an unexpected shape.
    pub fn protocol(message: impl Into<String>) -> Self {
        Self::new(BackendErrorKind::Protocol, message)
    }

    /// The category of this error.
    pub fn kind(&self) -> BackendErrorKind {
        self.kind
    }

    /// True when the backend is down, slow or full (timeout, connection, unavailable, out of
    /// memory): the errors a layer's failure policy is for. Script, protocol and corrupt-value errors are bugs or bad
    /// data, and retrying elsewhere does not help.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self.kind,
            BackendErrorKind::Timeout
                | BackendErrorKind::Connection
                | BackendErrorKind::Unavailable
                | BackendErrorKind::OutOfMemory
        )
    }
}

impl fmt::Debug for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("BackendError");
        d.field("kind", &self.kind).field("message", &self.message);
        if let Some(source) = &self.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "backend {} error: {}", self.kind, self.message)
    }
}

impl StdError for BackendError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_ref()
            .map(|s| s.as_ref() as &(dyn StdError + 'static))
    }
}

/// Configuration rejected when a layer, backend or lock is built: never per request.
///
/// ```
/// use tower_vigil_core::keys::KeyPrefix;
///
/// let err = KeyPrefix::new("bad{prefix}").unwrap_err();
/// assert_eq!(err.field(), "prefix");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    field: &'static str,
    message: String,
}

impl ConfigError {
    /// The setting `field` is invalid because of `message`.
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }

    /// The name of the rejected setting.
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// Why it was rejected.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid `{}`: {}", self.field, self.message)
    }
}

impl StdError for ConfigError {}
