//! [`Session`]: the per-request handle the layer puts in request extensions.
//!
//! Nothing is read from the backend until a method needs it, and then once per request.
//! Changes are kept in the handle and written after the inner service responded, field by
//! field; a backend failure makes the response a 503.
//!
//! ```
//! use std::convert::Infallible;
//! use http::{Request, Response};
//! use tower::{Service, ServiceBuilder, ServiceExt, service_fn};
//! use tower_vigil_core::MemoryBackend;
//! use tower_vigil_session::{Session, SessionManagerLayer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let mut app = ServiceBuilder::new()
//!     .layer(SessionManagerLayer::new(MemoryBackend::new()))
//!     .service(service_fn(|req: Request<String>| async move {
//!         let session = req.extensions().get::<Session>().expect("layer in place").clone();
//!         let visits: u32 = session.get("visits").await.unwrap().unwrap_or(0);
//!         session.insert("visits", visits + 1).await.unwrap();
//!         Ok::<_, Infallible>(Response::new(format!("visit {}", visits + 1)))
//!     }));
//! let res = app.ready().await.unwrap().call(Request::new(String::new())).await.unwrap();
//! assert!(res.headers()["set-cookie"].to_str().unwrap().starts_with("__Host-vigil_session="));
//! # }
//! ```

mod save;
mod state;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::{Mutex, MutexGuard};

pub(crate) use self::save::SaveOutcome;
use self::state::{Destroyed, State, data_field};
use crate::config::Config;
use crate::error::{SessionError, SessionErrorKind};
use crate::store::{CSRF_FIELD, USER_FIELD};
use crate::token::SessionToken;

/// One request's session. Cheap to clone; clones share state.
///
/// Read with [`get`](Self::get), change with [`insert`](Self::insert) /
/// [`remove`](Self::remove) / [`set_user_id`](Self::set_user_id), call
/// [`cycle_id`](Self::cycle_id) on login and privilege changes (the defence against session
/// fixation), and [`destroy`](Self::destroy) on logout. A method that needs the backend returns
/// an error when it fails, and the layer answers 503 for that request whatever the handler
/// returned.
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

struct Inner {
    config: Arc<Config>,
    state: Mutex<State>,
}

fn millis_to_time(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

impl Session {
    pub(crate) fn new(config: Arc<Config>, token: Option<SessionToken>) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                state: Mutex::new(State::new(token)),
            }),
        }
    }

    pub(crate) fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The state, loaded from the backend if it was not yet.
    async fn loaded(&self) -> Result<MutexGuard<'_, State>, SessionError> {
        let mut st = self.inner.state.lock().await;
        self.load_into(&mut st).await?;
        Ok(st)
    }

    /// The state for recording a changed value. Not loaded: the save's write itself checks
    /// that the session exists with the request's secret, and starts a new session when it
    /// does not, so a load here would only cost a round trip. (The write cannot extend a
    /// session past its user-index deadline; when that is due for renewal, the save loads the
    /// session to learn its user.)
    async fn for_value_change(&self) -> Result<MutexGuard<'_, State>, SessionError> {
        Ok(self.inner.state.lock().await)
    }

    pub(super) async fn load_into(&self, st: &mut State) -> Result<(), SessionError> {
        if st.loaded.is_none() {
            let cfg = self.config();
            let ids = st
                .ids(&cfg.hasher)
                .expect("an unloaded session has a token");
            crate::metrics::loaded();
            match cfg.store.load(&ids.key, Some(&ids.secret)).await {
                Ok(s) => st.loaded = Some(s),
                Err(e) => {
                    st.failed = true;
                    tracing::warn!(error = %e, "session load failed");
                    return Err(e.into());
                }
            }
        }
        Ok(())
    }

    /// The value stored under `name`, if any.
    pub async fn get<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, SessionError> {
        let st = self.loaded().await?;
        st.field(&data_field(name))
            .map(|b| serde_json::from_slice(&b))
            .transpose()
            .map_err(|e| SessionError::new(SessionErrorKind::Deserialize, e))
    }

    /// Refuses changes once the response was saved: they could only be lost silently.
    fn open(st: &State) -> Result<(), SessionError> {
        if st.finished {
            return Err(SessionError::new(
                SessionErrorKind::Finished,
                "the response was already sent; the session is no longer saved",
            ));
        }
        Ok(())
    }

    fn change(st: &mut State, field: String, value: Option<Bytes>) -> Result<(), SessionError> {
        Self::open(st)?;
        st.pending.insert(field, value);
        Ok(())
    }

    /// Stores `value` under `name` (as JSON), written when the response is saved. Only this
    /// field is written: a concurrent request changing another field keeps its change.
    pub async fn insert<T: Serialize>(&self, name: &str, value: T) -> Result<(), SessionError> {
        let bytes = serde_json::to_vec(&value)
            .map_err(|e| SessionError::new(SessionErrorKind::Serialize, e))?;
        let mut st = self.for_value_change().await?;
        Self::change(&mut st, data_field(name), Some(Bytes::from(bytes)))
    }

    /// Removes the value under `name`.
    pub async fn remove(&self, name: &str) -> Result<(), SessionError> {
        let mut st = self.for_value_change().await?;
        Self::change(&mut st, data_field(name), None)
    }

    /// The user this session belongs to, if one logged in.
    pub async fn user_id(&self) -> Result<Option<String>, SessionError> {
        Ok(self.loaded().await?.user_id())
    }

    /// Records the logged-in user and indexes the session under that user (for
    /// [`SessionAdmin::destroy_user_sessions`](crate::SessionAdmin::destroy_user_sessions)).
    /// Call [`cycle_id`](Self::cycle_id) too: a login must get a fresh token.
    pub async fn set_user_id(&self, user_id: impl AsRef<str>) -> Result<(), SessionError> {
        let mut st = self.loaded().await?;
        let v = Bytes::from(user_id.as_ref().to_owned());
        Self::change(&mut st, USER_FIELD.to_owned(), Some(v))
    }

    /// Gives the session a new token when the response is saved; the old token stops working
    /// at once (the secret is replaced in place, atomically). Call it on login and on every
    /// privilege change: a token planted by an attacker before login is worthless after it
    /// (session fixation).
    ///
    /// The session's cross-site request token (see
    /// [`csrf_token`](crate::cross_site::csrf_token)) is dropped with the old token: one
    /// obtained before the cycle is refused after it, and the next
    /// [`csrf_token`](crate::cross_site::csrf_token) call makes a new one.
    pub async fn cycle_id(&self) -> Result<(), SessionError> {
        let mut st = self.loaded().await?;
        Self::open(&st)?;
        st.cycle = true;
        st.pending.insert(CSRF_FIELD.to_owned(), None);
        Ok(())
    }

    /// Ends the session (logout): deleted when the response is saved, and the cookie cleared.
    /// Values inserted afterwards start a new session with a new token. A request whose token
    /// no longer opens a session (stale, cycled away, unknown) has nothing to end and leaves
    /// the cookie alone.
    pub async fn destroy(&self) -> Result<(), SessionError> {
        let mut st = self.loaded().await?;
        Self::open(&st)?;
        // Without a live session there is nothing to end, and the cookie is left alone: it
        // may already hold the token of the session that replaced this one.
        if st.stored().is_some()
            && let Some(ids) = st.take_token(&self.config().hasher)
        {
            let user = st.stored().and_then(|s| s.user_id()).map(str::to_owned);
            st.destroyed = Some(Destroyed {
                id_hash: ids.id_hash().to_owned(),
                key: ids.key,
                secret: ids.secret,
                user,
            });
        }
        st.loaded = Some(None);
        st.pending.clear();
        st.cycle = false;
        Ok(())
    }

    /// When the session was created (`None` for a session not saved yet).
    pub async fn created_at(&self) -> Result<Option<SystemTime>, SessionError> {
        let st = self.loaded().await?;
        Ok(st.stored().map(|s| millis_to_time(s.created_ms())))
    }

    /// The session's last recorded activity: its last write or TTL refresh. Refreshes are
    /// throttled, so this is accurate to the layer's `refresh_after` setting.
    pub async fn last_activity(&self) -> Result<Option<SystemTime>, SessionError> {
        let st = self.loaded().await?;
        Ok(st.stored().map(|s| millis_to_time(s.last_activity_ms())))
    }

    /// The hex hash this session is stored under (what
    /// [`SessionAdmin::list_user_sessions`](crate::SessionAdmin::list_user_sessions)
    /// reports; it stays the same when the id is cycled), `None` without a live session.
    /// Never the token itself, and useless without it.
    pub async fn id_hash(&self) -> Result<Option<String>, SessionError> {
        let st = self.loaded().await?;
        Ok(st
            .stored()
            .and(st.token.as_ref())
            .map(|t| t.id_hash(&self.config().hasher)))
    }

    /// The stored cross-site request token, if the session has one (loads the session).
    pub(crate) async fn csrf_field(&self) -> Result<Option<Bytes>, SessionError> {
        Ok(self.loaded().await?.field(CSRF_FIELD))
    }

    /// The stored cross-site request token, or a new one from `make`, recorded to be saved
    /// with the response (starting a session when there is none).
    pub(crate) async fn csrf_field_or_insert(
        &self,
        make: impl FnOnce() -> Bytes,
    ) -> Result<Bytes, SessionError> {
        let mut st = self.loaded().await?;
        if let Some(v) = st.field(CSRF_FIELD) {
            return Ok(v);
        }
        let v = make();
        Self::change(&mut st, CSRF_FIELD.to_owned(), Some(v.clone()))?;
        Ok(v)
    }

    /// True when the request presented a well-formed token (checked without a backend call).
    pub async fn has_token(&self) -> bool {
        self.inner.state.lock().await.token.is_some()
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session").finish_non_exhaustive()
    }
}
