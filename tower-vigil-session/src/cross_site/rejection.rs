//! [`CrossSiteRejection`]: why the [`CrossSiteLayer`](super::CrossSiteLayer) answered on its
//! own. It follows the family's [`Rejection`] contract and goes into that response's
//! extensions.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use http::StatusCode;
use tower_vigil_core::Rejection;
use tower_vigil_core::http::GrpcCode;

/// How long a client should wait before retrying when the session store failed.
const UNAVAILABLE_RETRY_AFTER: Duration = Duration::from_secs(1);

/// Why a state-changing request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CrossSiteRejectionKind {
    /// `Sec-Fetch-Site: cross-site`: the browser says another site made the request. 403.
    CrossSite,
    /// `Sec-Fetch-Site: same-site` (a sibling subdomain) without
    /// [`allow_same_site(true)`](crate::CrossSiteLayerBuilder::allow_same_site). 403.
    SameSiteNotAllowed,
    /// A `Sec-Fetch-Site` value other than `same-origin`, `same-site`, `cross-site` and
    /// `none` (or not text): unknown means refused. 403.
    UnknownFetchSite,
    /// No `Sec-Fetch-Site`, and an `Origin` that is not one of the
    /// [`trusted_origins`](crate::CrossSiteLayerBuilder::trusted_origins) (`null` and
    /// malformed origins included). 403.
    UntrustedOrigin,
    /// A token was needed (neither header vouched for the request, or
    /// [`require_token(true)`](crate::CrossSiteLayerBuilder::require_token)) and none was sent
    /// in the header or the form field. A token in the query string is never read. 403.
    MissingToken,
    /// The token sent is not the session's (wrong, from before a login, or the session has
    /// none). 403.
    BadToken,
    /// A token was needed but no [`Session`](crate::Session) is in the request extensions: the
    /// layer is not inside a [`SessionManagerLayer`](crate::SessionManagerLayer). Refused
    /// rather than passed. 403.
    NoSession,
    /// A form body to read the token from is larger than
    /// [`body_limit`](crate::CrossSiteLayerBuilder::body_limit). 413.
    BodyTooLarge,
    /// The form body to read the token from could not be read (the client went away, or the
    /// body failed). 400.
    BodyUnreadable,
    /// The session store failed while the token was checked: 503, retry after a second.
    Unavailable,
}

impl CrossSiteRejectionKind {
    /// The machine-readable name: the problem's `reason` and the metric's `kind` label.
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Self::CrossSite => "cross_site",
            Self::SameSiteNotAllowed => "same_site_not_allowed",
            Self::UnknownFetchSite => "unknown_fetch_site",
            Self::UntrustedOrigin => "untrusted_origin",
            Self::MissingToken => "missing_csrf_token",
            Self::BadToken => "bad_csrf_token",
            Self::NoSession => "no_session",
            Self::BodyTooLarge => "body_too_large",
            Self::BodyUnreadable => "body_unreadable",
            Self::Unavailable => "backend_unavailable",
        }
    }
}

/// The typed rejection, found in the extensions of the response the layer produced, and what
/// a custom [`RejectionResponse`](tower_vigil_core::RejectionResponse) set with the builder's
/// [`response`](crate::CrossSiteLayerBuilder::response) is given.
///
/// ```
/// use tower_vigil_core::Rejection;
/// use tower_vigil_session::{CrossSiteRejection, CrossSiteRejectionKind};
///
/// fn log(r: &CrossSiteRejection) -> String {
///     match r.kind() {
///         CrossSiteRejectionKind::BadToken => format!("stale form? {r}"),
///         _ => format!("{}: {}", r.status(), r.reason()),
///     }
/// }
/// # let _ = log;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrossSiteRejection {
    kind: CrossSiteRejectionKind,
    grpc: bool,
}

impl CrossSiteRejection {
    pub(crate) fn new(kind: CrossSiteRejectionKind, grpc: bool) -> Self {
        Self { kind, grpc }
    }

    /// Why the request was refused.
    pub fn kind(&self) -> CrossSiteRejectionKind {
        self.kind
    }
}

impl fmt::Display for CrossSiteRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            CrossSiteRejectionKind::CrossSite => "cross-site request refused",
            CrossSiteRejectionKind::SameSiteNotAllowed => "same-site request refused",
            CrossSiteRejectionKind::UnknownFetchSite => "unknown Sec-Fetch-Site refused",
            CrossSiteRejectionKind::UntrustedOrigin => "untrusted origin refused",
            CrossSiteRejectionKind::MissingToken => "missing cross-site request token",
            CrossSiteRejectionKind::BadToken => "wrong cross-site request token",
            CrossSiteRejectionKind::NoSession => "no session to check the token against",
            CrossSiteRejectionKind::BodyTooLarge => "form body too large to read the token",
            CrossSiteRejectionKind::BodyUnreadable => "form body unreadable",
            CrossSiteRejectionKind::Unavailable => "session store unavailable",
        })
    }
}

impl Rejection for CrossSiteRejection {
    fn reason(&self) -> &'static str {
        self.kind.reason()
    }

    fn status(&self) -> StatusCode {
        match self.kind {
            CrossSiteRejectionKind::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            CrossSiteRejectionKind::BodyUnreadable => StatusCode::BAD_REQUEST,
            CrossSiteRejectionKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::FORBIDDEN,
        }
    }

    fn grpc_code(&self) -> GrpcCode {
        match self.kind {
            CrossSiteRejectionKind::BodyTooLarge => GrpcCode::ResourceExhausted,
            CrossSiteRejectionKind::BodyUnreadable => GrpcCode::InvalidArgument,
            CrossSiteRejectionKind::Unavailable => GrpcCode::Unavailable,
            _ => GrpcCode::PermissionDenied,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        (self.kind == CrossSiteRejectionKind::Unavailable).then_some(UNAVAILABLE_RETRY_AFTER)
    }

    fn title(&self) -> Cow<'static, str> {
        Cow::Borrowed(match self.kind {
            CrossSiteRejectionKind::MissingToken | CrossSiteRejectionKind::BadToken => {
                "Cross-site request token required"
            }
            CrossSiteRejectionKind::BodyTooLarge => "Payload Too Large",
            CrossSiteRejectionKind::BodyUnreadable => "Bad Request",
            CrossSiteRejectionKind::Unavailable => "Session store unavailable",
            _ => "Cross-site request refused",
        })
    }

    fn detail(&self) -> Cow<'_, str> {
        Cow::Borrowed(match self.kind {
            CrossSiteRejectionKind::CrossSite => {
                "State-changing requests from other sites are refused."
            }
            CrossSiteRejectionKind::SameSiteNotAllowed => {
                "State-changing requests from other origins of this site are refused."
            }
            CrossSiteRejectionKind::UnknownFetchSite => {
                "The Sec-Fetch-Site header has a value this server does not accept."
            }
            CrossSiteRejectionKind::UntrustedOrigin => {
                "The request's Origin is not one this server trusts."
            }
            CrossSiteRejectionKind::MissingToken => {
                "This request needs the session's cross-site request token in its header or form field."
            }
            CrossSiteRejectionKind::BadToken => {
                "The cross-site request token does not match the session's; reload the page and try again."
            }
            CrossSiteRejectionKind::NoSession => {
                "The server cannot check the cross-site request token: no session."
            }
            CrossSiteRejectionKind::BodyTooLarge => {
                "The form body is too large to look for the cross-site request token."
            }
            CrossSiteRejectionKind::BodyUnreadable => "The form body could not be read.",
            CrossSiteRejectionKind::Unavailable => {
                "The session could not be read to check the request; try again shortly."
            }
        })
    }

    fn is_grpc(&self) -> bool {
        self.grpc
    }
}
