//! [`SessionRejection`]: why the layer answered on its own, put in that response's extensions.

/// Why the layer replaced the inner service's response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SessionRejectionKind {
    /// The backend failed while the request used its session (load or save): 503.
    Unavailable,
    /// The session was destroyed, expired or cycled away while this request changed it; the
    /// change was not written: 401. The cookie is left alone (it may already hold the token of
    /// the session that replaced this one).
    Ended,
}

/// The typed rejection, found in the extensions of the response the layer produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRejection {
    pub(super) kind: SessionRejectionKind,
    pub(super) grpc: bool,
}

impl SessionRejection {
    pub(crate) fn new(kind: SessionRejectionKind, grpc: bool) -> Self {
        Self { kind, grpc }
    }

    /// Why the request was rejected.
    pub fn kind(&self) -> SessionRejectionKind {
        self.kind
    }

    /// True when the request was a gRPC call (answer with a gRPC status).
    pub fn is_grpc(&self) -> bool {
        self.grpc
    }
}
