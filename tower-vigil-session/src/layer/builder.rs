//! [`SessionManagerLayerBuilder`]: every setting of a [`SessionManagerLayer`], checked at
//! [`build`](SessionManagerLayerBuilder::build).

use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;
use tower_vigil_core::backend::check_ttl;
use tower_vigil_core::secret::SecretHasher;
use tower_vigil_core::{Backend, ConfigError, DefaultResponse, RejectionResponse};

use super::layer::SessionManagerLayer;
use super::rejection::SessionRejection;
use super::response::Responder;
use crate::config::Config;
use crate::store::DynStore;
use crate::timeouts::{DEFAULT_ABSOLUTE_TIMEOUT, DEFAULT_IDLE_TIMEOUT};
use crate::token::{CookieConfig, CookieSigner};

/// The shortest idle or absolute timeout accepted.
const MIN_TIMEOUT: Duration = Duration::from_secs(1);

impl SessionManagerLayer {
    /// A layer with the default settings, storing sessions in `backend` (a
    /// [`MemoryBackend`](tower_vigil_core::MemoryBackend), a
    /// [`RedisBackend`](tower_vigil_core::RedisBackend), or any other
    /// [`Backend`]).
    pub fn new<B: Backend>(backend: B) -> Self {
        Self::builder(backend)
            .build()
            .expect("the default settings are valid")
    }

    /// A builder starting from the default settings, storing sessions in `backend`.
    pub fn builder<B: Backend>(backend: B) -> SessionManagerLayerBuilder {
        SessionManagerLayerBuilder::new(backend)
    }
}

/// Builds a [`SessionManagerLayer`]. Every setter only records its value, so they can be
/// called in any order; [`build`](Self::build) checks each value and the rules between them
/// and derives what depends on several (the TTL refresh threshold from the idle timeout, the
/// cookie's `Max-Age` from the absolute timeout).
///
/// ```
/// use std::time::Duration;
/// use tower_vigil_core::MemoryBackend;
/// use tower_vigil_session::{CookieConfig, SessionManagerLayer};
///
/// let layer = SessionManagerLayer::builder(MemoryBackend::new())
///     .cookie(CookieConfig::new().name("sid"))
///     .absolute_timeout(Some(Duration::from_secs(12 * 3600)))
///     .idle_timeout(Duration::from_secs(3600))
///     .build()?;
/// # let _ = layer;
/// // A bad value is refused at build time, naming the setting.
/// let err = SessionManagerLayer::builder(MemoryBackend::new())
///     .idle_timeout(Duration::from_secs(60))
///     .refresh_after(Duration::from_secs(60))
///     .build()
///     .unwrap_err();
/// assert_eq!(err.field(), "refresh_after");
/// # Ok::<(), tower_vigil_core::ConfigError>(())
/// ```
#[must_use]
pub struct SessionManagerLayerBuilder {
    store: Arc<dyn DynStore>,
    idle: Duration,
    absolute: Option<Duration>,
    refresh_after: Option<Duration>,
    hasher: SecretHasher,
    cookie: Option<CookieConfig>,
    header: Option<HeaderName>,
    header_only: bool,
    signing_keys: Option<Vec<Vec<u8>>>,
    eager_principal: bool,
    responder: Responder,
}

impl SessionManagerLayerBuilder {
    fn new<B: Backend>(backend: B) -> Self {
        Self {
            // Erased once here: the `Session` in each request's extensions is one type,
            // whatever the backend.
            store: Arc::new(backend),
            idle: DEFAULT_IDLE_TIMEOUT,
            absolute: Some(DEFAULT_ABSOLUTE_TIMEOUT),
            refresh_after: None,
            hasher: SecretHasher::sha256(),
            cookie: None,
            header: None,
            header_only: false,
            signing_keys: None,
            eager_principal: false,
            responder: Responder::new(DefaultResponse),
        }
    }

    /// The idle timeout (default 24 h, at least one second, at most
    /// [`MAX_TTL`](tower_vigil_core::backend::MAX_TTL)): a session unused this long expires.
    pub fn idle_timeout(mut self, idle: Duration) -> Self {
        self.idle = idle;
        self
    }

    /// The absolute timeout (default 7 days; `None` for none; at least one second, at most
    /// [`MAX_TTL`](tower_vigil_core::backend::MAX_TTL)): a session expires this long after it
    /// was created whatever its activity. The cookie's `Max-Age` is this too, unless the
    /// [`cookie`](Self::cookie) chose one with [`CookieConfig::max_age`].
    pub fn absolute_timeout(mut self, absolute: Option<Duration>) -> Self {
        self.absolute = absolute;
        self
    }

    /// How much of the idle window must pass before a read refreshes the TTL (default a
    /// quarter of the idle timeout, whichever it is: the TTL is reset when less than 3/4 of it
    /// remains). Must be shorter than the idle timeout. Writes always reset the TTL.
    pub fn refresh_after(mut self, after: Duration) -> Self {
        self.refresh_after = Some(after);
        self
    }

    /// The session cookie's name and attributes (default [`CookieConfig::new`]). Refused at
    /// build time when they cannot be sent, when an explicit
    /// [`CookiePrefix`](crate::CookiePrefix) does not fit them (`__Host-` needs `Secure`,
    /// `Path=/` and no `Domain`; `__Secure-` needs `Secure`), or when `Max-Age` is zero or
    /// longer than [`MAX_TTL`](tower_vigil_core::backend::MAX_TTL). With the default
    /// [`CookiePrefix::Auto`](crate::CookiePrefix::Auto) the name gets `__Host-` when it can,
    /// `__Secure-` with a `Domain` or another path, and no prefix when the cookie is not
    /// `Secure`.
    pub fn cookie(mut self, cookie: CookieConfig) -> Self {
        self.cookie = Some(cookie);
        self
    }

    /// Also accept a token in the header `name` (for API and mobile clients; for example
    /// `x-session-token`). A session created for such a request sends its token back in the
    /// same header. A request carrying the header is not looked up by cookie.
    pub fn header(mut self, name: HeaderName) -> Self {
        self.header = Some(name);
        self
    }

    /// Tokens only in the header `name`, no cookie at all (an API without browsers): the
    /// [`header`](Self::header) setting plus no cookie. Refused at build time together with
    /// [`cookie`](Self::cookie), which would be ignored.
    pub fn header_only(mut self, name: HeaderName) -> Self {
        self.header = Some(name);
        self.header_only = true;
        self
    }

    /// Signs tokens with HMAC-SHA256 under the first of `keys` and accepts a signature by any
    /// of them, so keys can be rotated: put the new key first, keep the old one until tokens
    /// signed with it have expired. Unsigned or tampered tokens are refused without a backend
    /// call, and dropping a key revokes every token signed with it. Each key needs at least 32
    /// bytes, and there must be one (checked at build time). Default: unsigned (the 256-bit
    /// secret in the token is what protects it).
    pub fn signing_keys<I, K>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = K>,
        K: Into<Vec<u8>>,
    {
        self.signing_keys = Some(keys.into_iter().map(Into::into).collect());
        self
    }

    /// How tokens are hashed into backend keys (default plain SHA-256; a peppered
    /// HMAC-SHA256 keeps a leaked Redis dump from being matched against stolen tokens).
    pub fn hasher(mut self, hasher: SecretHasher) -> Self {
        self.hasher = hasher;
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
        self.eager_principal = eager;
        self
    }

    /// How a [`SessionRejection`] becomes the response (default
    /// [`DefaultResponse`]: `503` / `401` problem+json with `Retry-After` on the `503`, or a
    /// gRPC `UNAVAILABLE` / `UNAUTHENTICATED` status for gRPC calls). Any
    /// `Fn(&SessionRejection) -> Response<Bytes>` works. The rejection is put in the response's
    /// extensions whatever builds it.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use http::{Response, StatusCode};
    /// use tower_vigil_core::{MemoryBackend, Rejection};
    /// use tower_vigil_session::{SessionManagerLayer, SessionRejection};
    ///
    /// let layer = SessionManagerLayer::builder(MemoryBackend::new())
    ///     .response(|r: &SessionRejection| {
    ///         let mut res = Response::new(Bytes::from(r.detail().into_owned()));
    ///         *res.status_mut() = r.status();
    ///         res
    ///     })
    ///     .build()?;
    /// # let _ = layer;
    /// # Ok::<(), tower_vigil_core::ConfigError>(())
    /// ```
    pub fn response(mut self, response: impl RejectionResponse<SessionRejection>) -> Self {
        self.responder = Responder::new(response);
        self
    }

    /// The layer, once every setting and every rule between settings checked.
    pub fn build(self) -> Result<SessionManagerLayer, ConfigError> {
        let idle = timeout("idle_timeout", self.idle)?;
        let absolute = self
            .absolute
            .map(|a| timeout("absolute_timeout", a))
            .transpose()?;
        let refresh_after = match self.refresh_after {
            Some(after) if after >= idle => {
                return Err(ConfigError::new(
                    "refresh_after",
                    "must be shorter than the idle timeout",
                ));
            }
            Some(after) => after,
            None => idle / 4,
        };
        let cookie = match (self.cookie, self.header_only) {
            (Some(_), true) => {
                return Err(ConfigError::new(
                    "header_only",
                    "turns the cookie off, but a cookie is configured: drop one of the two",
                ));
            }
            (None, true) => None,
            (cookie, false) => {
                let cookie = cookie.unwrap_or_default().resolve_max_age(absolute);
                cookie.validate()?;
                Some(cookie)
            }
        };
        let signer = self.signing_keys.map(CookieSigner::new).transpose()?;
        Ok(SessionManagerLayer::from_parts(
            Config {
                store: self.store,
                idle,
                absolute,
                refresh_after,
                hasher: self.hasher,
                cookie,
                header: self.header,
                signer,
                eager_principal: self.eager_principal,
            },
            self.responder,
        ))
    }
}

/// A timeout setting: at least [`MIN_TIMEOUT`], at most `MAX_TTL`.
fn timeout(field: &'static str, t: Duration) -> Result<Duration, ConfigError> {
    check_ttl(field, t)?;
    if t < MIN_TIMEOUT {
        return Err(ConfigError::new(field, "must be at least one second"));
    }
    Ok(t)
}

impl std::fmt::Debug for SessionManagerLayerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionManagerLayerBuilder")
            .field("idle", &self.idle)
            .field("absolute", &self.absolute)
            .field("refresh_after", &self.refresh_after)
            .field("cookie", &self.cookie)
            .field("header", &self.header)
            .field("header_only", &self.header_only)
            .field("signed", &self.signing_keys.is_some())
            .field("eager_principal", &self.eager_principal)
            .finish_non_exhaustive()
    }
}
