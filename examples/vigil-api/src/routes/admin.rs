//! Revocation: every session of a user, and API keys.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use tower_vigil_core::Backend;
use tower_vigil_session::Session;

use crate::problem::ApiError;
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
    let me = current_user(&state, &session).await?;
    if !me.permissions.iter().any(|p| p == ADMIN) {
        return Err(ApiError::forbidden("the admin permission is required"));
    }
    let hash = state
        .db
        .delete_api_key(id.clone())
        .await
        .map_err(|e| ApiError::internal("deleting the key", e))?
        .ok_or_else(|| {
            ApiError::new(StatusCode::NOT_FOUND, format!("no API key with id {id:?}"))
        })?;
    state.api_keys.invalidate_hash(&hash).await.map_err(|e| {
        // The key is gone from the database; the caches forget it within their TTLs. Say so
        // rather than claim it is revoked everywhere already.
        tracing::warn!(error = %e, key_id = %id, "invalidation not published");
        ApiError::unavailable(
            "the key was deleted, but the caches could not be told; it stops working when they expire (at most 5 minutes)",
        )
    })?;
    tracing::info!(key_id = %id, "API key revoked");
    Ok(StatusCode::NO_CONTENT)
}
