//! [`SessionLayer`]: the builder.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;
use tower_layer::Layer;
use tower_vigil_core::ConfigError;
use tower_vigil_core::backend::check_ttl;
use tower_vigil_core::secret::SecretHasher;

use super::response::{DefaultSessionResponse, ResponseForSession};
use super::service::SessionService;
use crate::config::{Config, DEFAULT_ABSOLUTE_TIMEOUT, DEFAULT_IDLE_TIMEOUT};
use crate::manager::SessionManager;
use crate::store::SessionStore;
use crate::token::{CookieConfig, CookieSigner};

/// Puts a [`Session`](crate::Session) into every request's extensions and saves it after the
/// response. Cheap to clone.
///
/// Defaults: cookie `__Host-vigil_session` (`HttpOnly; Secure; SameSite=Lax; Path=/`), idle timeout
/// 24 h, absolute timeout 7 days, TTL refreshed once a quarter of the idle window has passed,
/// no header tokens, unsigned cookies (the 256-bit secret in the token is what protects it),
/// no eager principal.
///
/// Activity is a request that uses its session: a request that never calls a
/// [`Session`](crate::Session) method costs no backend call and does not extend the idle
/// timeout. With [`principal(true)`](Self::principal) every request carrying a token loads,
/// and so refreshes, its session.
#[derive(Clone)]
#[must_use]
pub struct SessionLayer {
    pub(crate) config: Arc<Config>,
    pub(crate) responder: Arc<dyn ResponseForSession>,
}

impl SessionLayer {
    /// A layer storing sessions in `store` (a [`MemoryBackend`](tower_vigil_core::MemoryBackend)
    /// or a [`RedisBackend`](tower_vigil_core::RedisBackend)).
    pub fn new(store: impl SessionStore) -> Self {
        // Every layer, not once per process: a recorder installed after an earlier layer
        // still gets its HELP lines, and a few describe calls cost nothing at startup.
        crate::metrics::describe();
        Self {
            config: Arc::new(Config {
                store: Arc::new(store),
                idle: DEFAULT_IDLE_TIMEOUT,
                absolute: Some(DEFAULT_ABSOLUTE_TIMEOUT),
                refresh_after: DEFAULT_IDLE_TIMEOUT / 4,
                hasher: SecretHasher::sha256(),
                cookie: Some(CookieConfig::new().max_age(Some(DEFAULT_ABSOLUTE_TIMEOUT))),
                header: None,
                signer: None,
                eager_principal: false,
            }),
            responder: Arc::new(DefaultSessionResponse),
        }
    }

    fn config_mut(&mut self) -> &mut Config {
        Arc::make_mut(&mut self.config)
    }

    /// The idle timeout (default 24 h, at least one second, at most
    /// [`MAX_TTL`](tower_vigil_core::backend::MAX_TTL)): a session unused this long expires.
    /// Also resets `refresh_after` to a quarter of it.
    pub fn idle_timeout(mut self, idle: Duration) -> Result<Self, ConfigError> {
        check_ttl("idle_timeout", idle)?;
        if idle < Duration::from_secs(1) {
            return Err(ConfigError::new(
                "idle_timeout",
                "must be at least one second",
            ));
        }
        let c = self.config_mut();
        c.idle = idle;
        c.refresh_after = idle / 4;
        Ok(self)
    }

    /// The absolute timeout (default 7 days; `None` for none; at least one second, at most
    /// [`MAX_TTL`](tower_vigil_core::backend::MAX_TTL)): a session expires this long after it
    /// was created whatever its activity, and the cookie's `Max-Age` is set to it (call
    /// [`cookie`](Self::cookie) afterwards to choose another).
    pub fn absolute_timeout(mut self, absolute: Option<Duration>) -> Result<Self, ConfigError> {
        if let Some(a) = absolute {
            check_ttl("absolute_timeout", a)?;
        }
        if absolute.is_some_and(|a| a < Duration::from_secs(1)) {
            return Err(ConfigError::new(
                "absolute_timeout",
                "must be at least one second",
            ));
        }
        let c = self.config_mut();
        c.absolute = absolute;
        if let Some(cookie) = c.cookie.take() {
            c.cookie = Some(cookie.max_age(absolute));
        }
        Ok(self)
    }

    /// How much of the idle window must pass before a read refreshes the TTL (default a
    /// quarter: the TTL is reset when less than 3/4 of it remains). Must be shorter than the
    /// idle timeout. Writes always reset the TTL.
    pub fn refresh_after(mut self, after: Duration) -> Result<Self, ConfigError> {
        if after >= self.config.idle {
            return Err(ConfigError::new(
                "refresh_after",
                "must be shorter than the idle timeout",
            ));
        }
        self.config_mut().refresh_after = after;
        Ok(self)
    }

    /// The session cookie's name and attributes. Refused when they cannot be sent, when an
    /// explicit [`CookiePrefix`](crate::token::CookiePrefix) does not fit them (`__Host-`
    /// needs `Secure`, `Path=/` and no `Domain`; `__Secure-` needs `Secure`), or when `Max-Age`
    /// is zero or longer than [`MAX_TTL`](tower_vigil_core::backend::MAX_TTL). With the
    /// default [`CookiePrefix::Auto`](crate::token::CookiePrefix::Auto) the name gets
    /// `__Host-` when it can, `__Secure-` with a `Domain` or another path, and no prefix when
    /// the cookie is not `Secure`.
    pub fn cookie(mut self, cookie: CookieConfig) -> Result<Self, ConfigError> {
        cookie.validate()?;
        self.config_mut().cookie = Some(cookie);
        Ok(self)
    }

    /// Also accept a token in the header `name` (for API and mobile clients; for example
    /// `x-session-token`). A session created for such a request sends its token back in the
    /// same header. A request carrying the header is not looked up by cookie.
    pub fn header(mut self, name: HeaderName) -> Self {
        self.config_mut().header = Some(name);
        self
    }

    /// Tokens only in the header `name`, no cookie at all (an API without browsers).
    pub fn header_only(mut self, name: HeaderName) -> Self {
        let c = self.config_mut();
        c.header = Some(name);
        c.cookie = None;
        self
    }

    /// Signs cookies with HMAC-SHA256 (see [`CookieSigner`]): unsigned or tampered cookies are
    /// refused without a backend call.
    pub fn signed(mut self, signer: CookieSigner) -> Self {
        self.config_mut().signer = Some(signer);
        self
    }

    /// How tokens are hashed into backend keys (default plain SHA-256; a peppered
    /// HMAC-SHA256 keeps a leaked Redis dump from being matched against stolen tokens).
    pub fn hasher(mut self, hasher: SecretHasher) -> Self {
        self.config_mut().hasher = hasher;
        self
    }

    /// Loads the session before the inner service runs whenever the request carries a token,
    /// and puts `Principal::user(id)` into the request extensions for a logged-in session, so
    /// rate limiting and idempotency layers see the user. Costs one backend read per request
    /// that carries a token (requests without one still cost nothing); a failed read is a 503.
    ///
    /// Stacking this layer with `IdempotencyLayer`: turn this on, with the session layer
    /// outside (before) the idempotency layer. Idempotency keys are scoped by principal; without
    /// one here, a session-authenticated request has none, and the idempotency layer either
    /// rejects it or (if configured to allow unscoped requests) shares one scope between all
    /// users, so one user could replay another's stored response.
    pub fn principal(mut self, eager: bool) -> Self {
        self.config_mut().eager_principal = eager;
        self
    }

    /// The responses for rejections (default [`DefaultSessionResponse`]).
    pub fn response_for(mut self, responder: impl ResponseForSession) -> Self {
        self.responder = Arc::new(responder);
        self
    }

    /// A handle to the same store and settings for work outside requests (revoke-all, listing
    /// a user's sessions).
    pub fn manager(&self) -> SessionManager {
        SessionManager::new(self.config.clone())
    }
}

impl<S> Layer<S> for SessionLayer {
    type Service = SessionService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService::new(inner, self.clone())
    }
}

impl std::fmt::Debug for SessionLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionLayer")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
