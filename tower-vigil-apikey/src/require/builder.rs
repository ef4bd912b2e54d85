//! [`RequirePermissionLayerBuilder`] and [`require`], its shorthand.

use tower_vigil_core::{ConfigError, DefaultResponse, RejectionResponse};

use super::layer::RequirePermissionLayer;
use crate::ApiKeyRejection;
use crate::rejection::Responder;

/// A [`RequirePermissionLayer`] for `permission` with the default response: the shorthand of
/// `RequirePermissionLayer::builder(permission).build()`. The permission is 1 to 128 printable
/// ASCII characters without spaces, quotes or backslashes, since the `WWW-Authenticate`
/// challenge names it as its `scope`.
pub fn require(permission: &str) -> Result<RequirePermissionLayer, ConfigError> {
    RequirePermissionLayer::builder(permission).build()
}

impl RequirePermissionLayer {
    /// A builder for a check of `permission`. There is no infallible `new`: the permission is
    /// the one setting, and it must be checked (see [`require`]).
    pub fn builder(permission: impl Into<String>) -> RequirePermissionLayerBuilder {
        RequirePermissionLayerBuilder {
            permission: permission.into(),
            response: Responder::new(DefaultResponse),
        }
    }
}

/// Builds a [`RequirePermissionLayer`]; [`build`](Self::build) checks the permission.
#[derive(Debug, Clone)]
#[must_use]
pub struct RequirePermissionLayerBuilder {
    permission: String,
    response: Responder,
}

impl RequirePermissionLayerBuilder {
    /// Answers rejections with `response`: a
    /// [`RejectionResponse<ApiKeyRejection>`](RejectionResponse), such as a closure
    /// `Fn(&ApiKeyRejection) -> Response<Bytes>`, instead of [`DefaultResponse`]. The
    /// rejection is put in the response's extensions either way.
    pub fn response(mut self, response: impl RejectionResponse<ApiKeyRejection>) -> Self {
        self.response = Responder::new(response);
        self
    }

    /// The layer, or a [`ConfigError`] for field `permission`.
    pub fn build(self) -> Result<RequirePermissionLayer, ConfigError> {
        let p = &self.permission;
        if p.is_empty()
            || p.len() > 128
            || !p
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
        {
            return Err(ConfigError::new(
                "permission",
                "must be 1 to 128 printable ASCII characters without quotes or backslashes",
            ));
        }
        Ok(RequirePermissionLayer::from_parts(
            self.permission.into(),
            self.response,
        ))
    }
}
