//! [`Rejection`]: why a request was turned away. The layer puts it into the rejection
//! response's extensions so outer layers (logging, metrics) can tell what happened.
//!
//! ```
//! use http::StatusCode;
//! use tower_vigil_apikey::{Rejection, RejectionKind};
//!
//! let r = Rejection::missing_permission("analyze");
//! assert_eq!(r.kind(), RejectionKind::MissingPermission);
//! assert_eq!(r.status(), StatusCode::FORBIDDEN);
//! assert_eq!(r.permission(), Some("analyze"));
//! ```

use std::fmt;

use http::StatusCode;

/// The category of a [`Rejection`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectionKind {
    /// No credential was sent (401).
    Missing,
    /// The credential header was malformed: not printable ASCII, over 512 bytes, sent twice,
    /// or `X-API-Key` and `Authorization: Bearer` disagreeing (401).
    Malformed,
    /// The credential does not have the configured key format or its checksum is wrong; no
    /// lookup was made (401).
    InvalidFormat,
    /// No such key, or it was revoked (401).
    UnknownKey,
    /// The key is past its `valid_until` (401).
    Expired,
    /// The key lacks a permission the route requires (403).
    MissingPermission,
    /// Neither the caches nor the key store could answer (503).
    Unavailable,
}

impl RejectionKind {
    /// A short machine-readable name (`missing`, `malformed`, `invalid_format`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Malformed => "malformed",
            Self::InvalidFormat => "invalid_format",
            Self::UnknownKey => "unknown_key",
            Self::Expired => "expired",
            Self::MissingPermission => "missing_permission",
            Self::Unavailable => "unavailable",
        }
    }
}

/// Why a request was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    kind: RejectionKind,
    detail: &'static str,
    permission: Option<String>,
}

impl Rejection {
    pub(crate) const fn new(kind: RejectionKind, detail: &'static str) -> Self {
        Self {
            kind,
            detail,
            permission: None,
        }
    }

    /// A 403 for a key lacking `permission`.
    pub fn missing_permission(permission: impl Into<String>) -> Self {
        Self {
            kind: RejectionKind::MissingPermission,
            detail: "the API key lacks a permission this route requires",
            permission: Some(permission.into()),
        }
    }

    /// The category.
    pub fn kind(&self) -> RejectionKind {
        self.kind
    }

    /// A human-readable explanation, safe to show the caller (it never contains the key).
    pub fn detail(&self) -> &'static str {
        self.detail
    }

    /// The permission that was missing, for [`RejectionKind::MissingPermission`].
    pub fn permission(&self) -> Option<&str> {
        self.permission.as_deref()
    }

    /// 401, 403 or 503.
    pub fn status(&self) -> StatusCode {
        match self.kind {
            RejectionKind::MissingPermission => StatusCode::FORBIDDEN,
            RejectionKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::UNAUTHORIZED,
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.detail)
    }
}

impl std::error::Error for Rejection {}
