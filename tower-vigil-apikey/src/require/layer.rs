//! [`RequirePermissionLayer`]: the permission check's configuration.

use std::sync::Arc;

use tower_layer::Layer;

use super::service::RequirePermission;
use crate::rejection::Responder;

/// Requires the authenticated key to hold one permission. Made by [`require`](crate::require)
/// or [`RequirePermissionLayer::builder`]. Cheap to clone.
#[derive(Debug, Clone)]
#[must_use]
pub struct RequirePermissionLayer {
    permission: Arc<str>,
    response: Responder,
}

impl RequirePermissionLayer {
    pub(crate) fn from_parts(permission: Arc<str>, response: Responder) -> Self {
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

impl<S> Layer<S> for RequirePermissionLayer {
    type Service = RequirePermission<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequirePermission::new(inner, Arc::clone(&self.permission), self.response.clone())
    }
}
