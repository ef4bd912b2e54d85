//! [`RequirePermissionLayer`] and [`require`].

use std::sync::Arc;

use tower_layer::Layer;
use tower_vigil_core::ConfigError;

use super::RequirePermission;
use crate::DefaultRejectionResponse;

/// Requires the authenticated key to hold one permission.
#[derive(Debug, Clone)]
#[must_use]
pub struct RequirePermissionLayer<R = DefaultRejectionResponse> {
    pub(crate) permission: Arc<str>,
    pub(crate) response: R,
}

/// A [`RequirePermissionLayer`] for `permission` (1 to 128 printable ASCII characters without
/// spaces, quotes or backslashes, since it is named in the `WWW-Authenticate` challenge).
pub fn require(permission: &str) -> Result<RequirePermissionLayer, ConfigError> {
    RequirePermissionLayer::new(permission)
}

impl RequirePermissionLayer {
    /// See [`require`].
    pub fn new(permission: &str) -> Result<Self, ConfigError> {
        if permission.is_empty()
            || permission.len() > 128
            || !permission
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
        {
            return Err(ConfigError::new(
                "permission",
                "must be 1 to 128 printable ASCII characters without quotes or backslashes",
            ));
        }
        Ok(Self {
            permission: permission.into(),
            response: DefaultRejectionResponse::default(),
        })
    }
}

impl<R> RequirePermissionLayer<R> {
    /// Answers rejections with `response` (see [`ResponseForApiKey`](crate::ResponseForApiKey)).
    pub fn response<R2>(self, response: R2) -> RequirePermissionLayer<R2> {
        RequirePermissionLayer {
            permission: self.permission,
            response,
        }
    }
}

impl<S, R: Clone> Layer<S> for RequirePermissionLayer<R> {
    type Service = RequirePermission<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        RequirePermission {
            inner,
            layer: self.clone(),
        }
    }
}
