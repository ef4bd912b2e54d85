//! [`SessionManagerLayer`]: the layer. Its constructors, [`SessionManagerLayer::new`] and
//! [`SessionManagerLayer::builder`], are in `builder.rs` with the settings they start from.

use std::sync::Arc;

use tower_layer::Layer;

use super::response::Responder;
use super::service::SessionManager;
use crate::admin::SessionAdmin;
use crate::config::Config;

/// Puts a [`Session`](crate::Session) into every request's extensions and saves it after the
/// response. Cheap to clone.
///
/// Defaults: cookie `__Host-vigil_session` (`HttpOnly; Secure; SameSite=Lax; Path=/`), idle timeout
/// 24 h, absolute timeout 7 days, TTL refreshed once a quarter of the idle window has passed,
/// no header tokens, unsigned cookies (the 256-bit secret in the token is what protects it),
/// no eager principal. Change them with [`builder`](Self::builder).
///
/// Activity is a request that uses its session: a request that never calls a
/// [`Session`](crate::Session) method costs no backend call and does not extend the idle
/// timeout. With [`principal(true)`](crate::SessionManagerLayerBuilder::principal) every request
/// carrying a token loads, and so refreshes, its session.
#[derive(Clone)]
#[must_use]
pub struct SessionManagerLayer {
    config: Arc<Config>,
    responder: Responder,
}

impl SessionManagerLayer {
    pub(super) fn from_parts(config: Config, responder: Responder) -> Self {
        // Every layer, not once per process: a recorder installed after an earlier layer
        // still gets its HELP lines, and a few describe calls cost nothing at startup.
        crate::metrics::describe();
        Self {
            config: Arc::new(config),
            responder,
        }
    }

    /// A handle to the same store and settings for work outside requests (revoke-all, listing
    /// a user's sessions).
    pub fn admin(&self) -> SessionAdmin {
        SessionAdmin::new(self.config.clone())
    }
}

impl<S> Layer<S> for SessionManagerLayer {
    type Service = SessionManager<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionManager::new(inner, self.config.clone(), self.responder.clone())
    }
}

impl std::fmt::Debug for SessionManagerLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionManagerLayer")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
