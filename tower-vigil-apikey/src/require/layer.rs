//! [`RequirePermissionLayer`]: the permission check's configuration.

use std::sync::Arc;

use tower_layer::Layer;
use tower_vigil_core::DefaultResponse;

use super::service::RequirePermission;

/// Requires the authenticated key to hold one permission. Made by [`require`](crate::require)
/// or [`RequirePermissionLayer::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct RequirePermissionLayer<R = DefaultResponse> {
    permission: Arc<str>,
    response: R,
}

impl<R> RequirePermissionLayer<R> {
    pub(crate) fn from_parts(permission: Arc<str>, response: R) -> Self {
        Self {
            permission,
            response,
        }
    }

    /// The permission required.
    pub fn permission(&self) -> &str {
        &self.permission
    }
}

impl<S, R: Clone> Layer<S> for RequirePermissionLayer<R> {
    type Service = RequirePermission<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        RequirePermission::new(inner, Arc::clone(&self.permission), self.response.clone())
    }
}
