//! `POST /login`, `GET /me`, `POST /logout`: password login with a server-side session.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use tower_vigil_core::Backend;
use tower_vigil_session::{Session, SessionError};

use crate::db::User;
use crate::problem::{ApiError, JsonBody};
use crate::state::Shared;
use crate::time::format_rfc3339;

/// The login body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// Longest username or password looked at: anything longer is wrong without hashing it.
const MAX_CREDENTIAL_LEN: usize = 1024;

/// The session value naming the device in the console's "My sessions".
pub const USER_AGENT: &str = "userAgent";
/// Longest user agent kept with a session.
const MAX_USER_AGENT: usize = 256;

/// A session call failed: the session layer turns the response into a 503 itself; this only
/// stops the handler.
fn session_failed(e: SessionError) -> ApiError {
    tracing::warn!(error = %e, "session unavailable");
    ApiError::unavailable("the session store is unavailable")
}

/// Checks the password; on success gives the caller a new session token (even if it had one:
/// the defence against session fixation) bound to the user.
pub async fn login<B: Backend>(
    State(state): State<Shared<B>>,
    session: Session,
    headers: axum::http::HeaderMap,
    JsonBody(creds): JsonBody<Credentials>,
) -> Result<Response, ApiError> {
    if creds.username.len() > MAX_CREDENTIAL_LEN || creds.password.len() > MAX_CREDENTIAL_LEN {
        return Err(ApiError::unauthorized("invalid username or password"));
    }
    let user = state
        .db
        .verify_login(creds.username, creds.password)
        .await
        .map_err(|e| ApiError::internal("user lookup", e))?
        .ok_or_else(|| ApiError::unauthorized("invalid username or password"))?;
    bind(&session, &user.user_id, &user.username, &headers).await?;
    Ok(Json(json!({"userId": user.user_id, "username": user.username})).into_response())
}

/// The user behind the session, or 401.
pub async fn current_user<B: Backend>(
    state: &Shared<B>,
    session: &Session,
) -> Result<User, ApiError> {
    let no_session = || ApiError::unauthorized("no live session; log in at POST /login");
    let user_id = session
        .user_id()
        .await
        .map_err(session_failed)?
        .ok_or_else(no_session)?;
    state
        .db
        .user(user_id)
        .await
        .map_err(|e| ApiError::internal("user lookup", e))?
        .ok_or_else(no_session)
}

/// `GET /me`.
pub async fn me<B: Backend>(
    State(state): State<Shared<B>>,
    session: Session,
) -> Result<Response, ApiError> {
    let user = current_user(&state, &session).await?;
    let created = session.created_at().await.map_err(session_failed)?;
    let last = session.last_activity().await.map_err(session_failed)?;
    Ok(Json(json!({
        "userId": user.user_id,
        "username": user.username,
        "permissions": user.permissions,
        "createdAt": created.map(format_rfc3339),
        "lastActivity": last.map(format_rfc3339),
    }))
    .into_response())
}

/// `POST /logout`: destroys the session server-side; the layer clears the cookie.
pub async fn logout(session: Session) -> Result<StatusCode, ApiError> {
    if session.has_token().await {
        session.destroy().await.map_err(session_failed)?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Gives `session` a new id and binds it to the user, with the device's user agent: what a
/// login does, from the form or from `POST /login`.
pub async fn bind(
    session: &Session,
    user_id: &str,
    username: &str,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    session.cycle_id().await.map_err(session_failed)?;
    session.set_user_id(user_id).await.map_err(session_failed)?;
    session
        .insert("username", &username)
        .await
        .map_err(session_failed)?;
    session
        .insert(USER_AGENT, &user_agent(headers))
        .await
        .map_err(session_failed)?;
    Ok(())
}

/// The request's `User-Agent` as text, cut to [`MAX_USER_AGENT`] characters.
fn user_agent(headers: &HeaderMap) -> String {
    let ua = headers
        .get(header::USER_AGENT)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let ua: String = ua.chars().take(MAX_USER_AGENT).collect();
    if ua.trim().is_empty() {
        "unknown device".to_owned()
    } else {
        ua
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents_are_kept_short_and_never_empty() {
        let mut h = HeaderMap::new();
        assert_eq!(user_agent(&h), "unknown device");
        h.insert(
            header::USER_AGENT,
            http::HeaderValue::from_bytes("é".repeat(300).as_bytes()).unwrap(),
        );
        assert_eq!(user_agent(&h).chars().count(), MAX_USER_AGENT);
        h.insert(header::USER_AGENT, "Mozilla/5.0 (X11)".parse().unwrap());
        assert_eq!(user_agent(&h), "Mozilla/5.0 (X11)");
    }
}
