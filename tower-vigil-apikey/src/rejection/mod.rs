//! [`ApiKeyRejection`]: why a request was turned away, by [`ApiKeyLayer`](crate::ApiKeyLayer)
//! or by [`RequirePermissionLayer`](crate::RequirePermissionLayer). The layer answers it
//! through its configured response (the default: problem+json with `WWW-Authenticate`
//! challenges, or a gRPC status) and puts it into the response's extensions so outer layers
//! (logging, metrics) can tell what happened. It implements core's
//! [`Rejection`](tower_vigil_core::Rejection), like every tower-vigil rejection; its default
//! response adds the challenges.
//!
//! ```
//! use http::{Request, StatusCode};
//! use tower::{ServiceBuilder, ServiceExt};
//! use tower_vigil_apikey::{ApiKeyCache, ApiKeyLayer, ApiKeyRejection, ApiKeyRejectionKind, StaticKeyStore};
//! use tower_vigil_core::{MemoryBackend, Rejection};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let cache = ApiKeyCache::new(MemoryBackend::new(), StaticKeyStore::<()>::new());
//! let svc = ServiceBuilder::new()
//!     .layer(ApiKeyLayer::new(cache))
//!     .service_fn(|_req: Request<String>| async {
//!         Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
//!     });
//!
//! let res = svc.oneshot(Request::new(String::new())).await?;
//! let rejection = res.extensions().get::<ApiKeyRejection>().unwrap();
//! assert_eq!(rejection.kind(), ApiKeyRejectionKind::Missing);
//! assert_eq!(rejection.status(), StatusCode::UNAUTHORIZED);
//! assert_eq!(rejection.challenges().len(), 2); // Bearer and ApiKey
//! # Ok(())
//! # }
//! ```

mod responder;
mod response;

use std::fmt;
use std::sync::Arc;

use tower_vigil_core::ConfigError;

pub(crate) use self::responder::Responder;

/// The category of an [`ApiKeyRejection`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApiKeyRejectionKind {
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

impl ApiKeyRejectionKind {
    /// A short machine-readable name (`missing`, `malformed`, `invalid_format`, ...): the
    /// problem's `reason` member.
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

    /// A fixed, human-readable explanation, safe to show the caller.
    pub(crate) fn detail(self) -> &'static str {
        match self {
            Self::Missing => "an API key is required",
            Self::Malformed => "the API-key credential is malformed",
            Self::InvalidFormat => "the API key is not in the expected format",
            Self::UnknownKey => "the API key is not valid",
            Self::Expired => "the API key has expired",
            Self::MissingPermission => "the API key lacks a permission this route requires",
            Self::Unavailable => "API keys cannot be checked right now",
        }
    }
}

impl fmt::Display for ApiKeyRejectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The realm named in `WWW-Authenticate` challenges: printable ASCII without `"` or `\`, 1 to
/// 64 bytes, so it can be quoted as is. [`ApiKeyLayer`](crate::ApiKeyLayer) leaves its realm in
/// the request's extensions, where [`RequirePermission`](crate::RequirePermission) finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Realm(Arc<str>);

/// The realm when none is configured.
pub(crate) const DEFAULT_REALM: &str = "api";

impl Realm {
    pub(crate) fn new(realm: &str) -> Result<Self, ConfigError> {
        if realm.is_empty()
            || realm.len() > 64
            || !realm
                .bytes()
                .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
        {
            return Err(ConfigError::new(
                "realm",
                "must be 1 to 64 printable ASCII characters without quotes or backslashes",
            ));
        }
        Ok(Self(realm.into()))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Realm {
    fn default() -> Self {
        Self(DEFAULT_REALM.into())
    }
}

/// Why a request was rejected: its [`kind`](Self::kind), and through core's
/// [`Rejection`](tower_vigil_core::Rejection) trait the HTTP status, gRPC code, `Retry-After`
/// and whether the request was gRPC; [`realm`](Self::realm) and
/// [`permission`](Self::permission) are what the default response's `WWW-Authenticate`
/// challenges name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRejection {
    kind: ApiKeyRejectionKind,
    /// Safe to show the caller: it never contains the key.
    detail: &'static str,
    permission: Option<Arc<str>>,
    realm: Realm,
    grpc: bool,
}

impl ApiKeyRejection {
    /// A rejection of `kind` for a request answered in `realm`; `grpc` when the request was
    /// gRPC (decided once, with [`is_grpc`](tower_vigil_core::http::is_grpc)).
    pub(crate) fn new(kind: ApiKeyRejectionKind, realm: &Realm, grpc: bool) -> Self {
        Self {
            kind,
            detail: kind.detail(),
            permission: None,
            realm: realm.clone(),
            grpc,
        }
    }

    /// Replaces the kind's generic explanation with a more precise one.
    pub(crate) fn with_detail(mut self, detail: &'static str) -> Self {
        self.detail = detail;
        self
    }

    /// Names the permission that was missing.
    pub(crate) fn with_permission(mut self, permission: Arc<str>) -> Self {
        self.permission = Some(permission);
        self
    }

    /// The category.
    pub fn kind(&self) -> ApiKeyRejectionKind {
        self.kind
    }

    /// The permission that was missing, for [`ApiKeyRejectionKind::MissingPermission`].
    pub fn permission(&self) -> Option<&str> {
        self.permission.as_deref()
    }

    /// The realm the `WWW-Authenticate` challenges name (the layer's `realm`, default `api`).
    pub fn realm(&self) -> &str {
        self.realm.as_str()
    }
}

impl fmt::Display for ApiKeyRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.detail)
    }
}

impl std::error::Error for ApiKeyRejection {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realms_are_checked() {
        assert!(Realm::new("vigil api").is_ok());
        assert_eq!(Realm::default().as_str(), "api");
        for bad in ["", "q\"uote", "back\\slash", "caf\u{e9}", &"r".repeat(65)] {
            assert_eq!(Realm::new(bad).unwrap_err().field(), "realm", "{bad:?}");
        }
    }

    #[test]
    fn statuses_follow_the_kind() {
        use http::StatusCode;
        use tower_vigil_core::Rejection;

        let realm = Realm::default();
        let r = |k| ApiKeyRejection::new(k, &realm, false);
        assert_eq!(
            r(ApiKeyRejectionKind::MissingPermission).status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            r(ApiKeyRejectionKind::Unavailable).status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            r(ApiKeyRejectionKind::Expired).status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            r(ApiKeyRejectionKind::Expired).to_string(),
            "expired: the API key has expired"
        );
    }
}
