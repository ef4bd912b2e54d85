//! Revocation (every session of a user, and API keys) and the quotas of API keys.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use tower_vigil_core::Backend;
use tower_vigil_session::Session;

use crate::problem::{ApiError, JsonBody};
use crate::routes::auth::current_user;
use crate::state::Shared;

/// The permission that may act on other users and on API keys.
pub const ADMIN: &str = "admin";

/// `DELETE /users/{user_id}/sessions`: that user or an admin.
pub async fn revoke_user_sessions<B: Backend>(
    State(state): State<Shared<B>>,
    session: Session,
    Path(user_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = current_user(&state, &session).await?;
    if me.user_id != user_id && !me.permissions.iter().any(|p| p == ADMIN) {
        return Err(ApiError::forbidden(
            "only the user themselves or an admin may revoke these sessions",
        ));
    }
    let revoked = state
        .sessions
        .destroy_user_sessions(&user_id)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "revoking sessions failed");
            ApiError::unavailable("the session store is unavailable")
        })?;
    Ok(Json(json!({ "revoked": revoked })))
}

/// `DELETE /admin/api-keys/{id}`: removes the key from the database, then from every cache of
/// every instance sharing the backend.
pub async fn delete_api_key<B: Backend>(
    State(state): State<Shared<B>>,
    session: Session,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    require_admin(&state, &session).await?;
    revoke_key(&state, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes the API key `id` from the database, then from every cache of every instance
/// sharing the backend (the console's "revoke" too). 404 for an unknown id; 503 when the
/// caches could not be told.
pub async fn revoke_key<B: Backend>(state: &Shared<B>, id: &str) -> Result<(), ApiError> {
    let hash = state
        .db
        .delete_api_key(id.to_owned())
        .await
        .map_err(|e| ApiError::internal("deleting the key", e))?
        .ok_or_else(|| no_such_key(id))?;
    // The key is gone from the database; the caches forget it within their TTLs. Say so
    // rather than claim it is revoked everywhere already.
    tell_caches(
        state,
        &hash,
        id,
        "the key was deleted, but the caches could not be told; it stops working when they expire (at most 5 minutes)",
    )
    .await?;
    tracing::info!(key_id = %id, "API key revoked");
    Ok(())
}

/// The body of `PUT /admin/api-keys/{id}/rate-limit`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RateLimitBody {
    /// Requests per window (`ratelimit.window_seconds`).
    rate_limit: u64,
}

/// `PUT /admin/api-keys/{id}/rate-limit` with `{"rateLimit": N}`: sets the key's quota in the
/// database, then drops the key from every cache of every instance sharing the backend, so
/// each reloads it, with the new quota, on its next request (within about a second). 422 for
/// a quota the limiter cannot apply (zero, too large for the algorithm and window).
pub async fn set_api_key_rate_limit<B: Backend>(
    State(state): State<Shared<B>>,
    session: Session,
    Path(id): Path<String>,
    body: Result<JsonBody<RateLimitBody>, ApiError>,
) -> Result<Json<Value>, ApiError> {
    // Who asks before what they sent: a caller without the right gets 401/403 whatever the body.
    require_admin(&state, &session).await?;
    let JsonBody(RateLimitBody { rate_limit }) = body?;
    change_quota(&state, &id, rate_limit).await?;
    Ok(Json(json!({ "id": id, "rateLimit": rate_limit })))
}

/// Sets the quota of the API key `id` in the database, then drops the key from every cache of
/// every instance (the console's quota form too). 422 for a quota the limiter cannot apply,
/// 404 for an unknown id, 503 when the caches could not be told.
pub async fn change_quota<B: Backend>(
    state: &Shared<B>,
    id: &str,
    rate_limit: u64,
) -> Result<(), ApiError> {
    state
        .limits
        .check_key_rate_limit(rate_limit)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("rateLimit: {e}")))?;
    let hash = state
        .db
        .set_api_key_rate_limit(id.to_owned(), rate_limit)
        .await
        .map_err(|e| ApiError::internal("updating the key", e))?
        .ok_or_else(|| no_such_key(id))?;
    tell_caches(
        state,
        &hash,
        id,
        "the quota was changed, but the caches could not be told; it applies when they expire (at most 5 minutes)",
    )
    .await?;
    tracing::info!(key_id = %id, rate_limit, "API key quota changed");
    Ok(())
}

fn no_such_key(id: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, format!("no API key with id {id:?}"))
}

/// Drops the key with hash `hash` from every instance's caches; a 503 saying `otherwise`
/// (what happens instead) when the backend could not carry the message.
async fn tell_caches<B: Backend>(
    state: &Shared<B>,
    hash: &str,
    id: &str,
    otherwise: &'static str,
) -> Result<(), ApiError> {
    state.api_keys.invalidate_hash(hash).await.map_err(|e| {
        tracing::warn!(error = %e, key_id = %id, "invalidation not published");
        ApiError::unavailable(otherwise)
    })
}

/// 401 without a session, 403 without the admin permission.
async fn require_admin<B: Backend>(state: &Shared<B>, session: &Session) -> Result<(), ApiError> {
    let me = current_user(state, session).await?;
    if me.permissions.iter().any(|p| p == ADMIN) {
        Ok(())
    } else {
        Err(ApiError::forbidden("the admin permission is required"))
    }
}
