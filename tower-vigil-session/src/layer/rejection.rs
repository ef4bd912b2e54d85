//! [`SessionRejection`]: why the layer answered on its own. It follows the family's
//! [`Rejection`] contract and goes into that response's extensions.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use http::StatusCode;
use tower_vigil_core::Rejection;
use tower_vigil_core::http::GrpcCode;

/// How long a client should wait before retrying when the session store failed.
const UNAVAILABLE_RETRY_AFTER: Duration = Duration::from_secs(1);

/// Why the layer replaced the inner service's response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SessionRejectionKind {
    /// The backend failed while the request used its session (load or save): 503, retry
    /// after a second (gRPC `UNAVAILABLE`).
    Unavailable,
    /// The session was destroyed, expired or cycled away while this request changed it; the
    /// change was not written: 401 (gRPC `UNAUTHENTICATED`). The cookie is left alone (it may
    /// already hold the token of the session that replaced this one).
    Ended,
}

/// The typed rejection, found in the extensions of the response the layer produced, and what
/// a custom [`RejectionResponse`](tower_vigil_core::RejectionResponse) set with the builder's
/// [`response`](crate::SessionManagerLayerBuilder::response) is given.
///
/// ```
/// use tower_vigil_core::Rejection;
/// use tower_vigil_session::{SessionRejection, SessionRejectionKind};
///
/// fn log(r: &SessionRejection) -> String {
///     match r.kind() {
///         SessionRejectionKind::Unavailable => format!("{} (retry in {:?})", r, r.retry_after()),
///         _ => format!("{}: {}", r.status(), r.reason()),
///     }
/// }
/// # let _ = log;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRejection {
    kind: SessionRejectionKind,
    grpc: bool,
}

impl SessionRejection {
    pub(crate) fn new(kind: SessionRejectionKind, grpc: bool) -> Self {
        Self { kind, grpc }
    }

    /// Why the request was rejected.
    pub fn kind(&self) -> SessionRejectionKind {
        self.kind
    }
}

impl fmt::Display for SessionRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            SessionRejectionKind::Unavailable => "session store unavailable",
            SessionRejectionKind::Ended => "session ended while the request changed it",
        })
    }
}

impl Rejection for SessionRejection {
    fn reason(&self) -> &'static str {
        match self.kind {
            SessionRejectionKind::Unavailable => "backend_unavailable",
            SessionRejectionKind::Ended => "session_ended",
        }
    }

    fn status(&self) -> StatusCode {
        match self.kind {
            SessionRejectionKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            SessionRejectionKind::Ended => StatusCode::UNAUTHORIZED,
        }
    }

    fn grpc_code(&self) -> GrpcCode {
        match self.kind {
            SessionRejectionKind::Unavailable => GrpcCode::Unavailable,
            SessionRejectionKind::Ended => GrpcCode::Unauthenticated,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        (self.kind == SessionRejectionKind::Unavailable).then_some(UNAVAILABLE_RETRY_AFTER)
    }

    fn title(&self) -> Cow<'static, str> {
        Cow::Borrowed(match self.kind {
            SessionRejectionKind::Unavailable => "Session store unavailable",
            SessionRejectionKind::Ended => "Session ended",
        })
    }

    fn detail(&self) -> Cow<'_, str> {
        Cow::Borrowed(match self.kind {
            SessionRejectionKind::Unavailable => {
                "The session could not be read or saved; try again shortly."
            }
            SessionRejectionKind::Ended => {
                "The session ended while this request was changing it; the change was not saved."
            }
        })
    }

    fn is_grpc(&self) -> bool {
        self.grpc
    }
}
