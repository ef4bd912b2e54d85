//! `GET /console/api-keys` (admins): every key with its live rate-limit usage; create (the raw
//! key shown once, on the response to the form, and stored only as its hash), revoke, change
//! the quota. Revoking and changing a quota do what `DELETE /admin/api-keys/{id}` and
//! `PUT /admin/api-keys/{id}/rate-limit` do: the database first, then every instance's cache
//! is told through the backend, so the change holds everywhere within a second.

use std::time::UNIX_EPOCH;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tower_vigil_apikey::generate_key;
use tower_vigil_core::Backend;
use tower_vigil_ratelimit::{Acquire, Mode, acquire};
use tower_vigil_session::Session;

use super::page::{Chrome, FormBody, admin, html, see_other, span, when};
use crate::db::ApiKeyRow;
use crate::problem::ApiError;
use crate::state::Shared;

const PAGE: &str = "/console/api-keys";
/// The prefix of keys the console issues.
const KEY_PREFIX: &str = "vg";
/// The permission a key needs for the analysis routes.
const ANALYZE: &str = "analyze";
/// Longest key id or owner id accepted.
const MAX_ID_LEN: usize = 64;

/// One row of the table.
struct KeyView {
    id: String,
    owner: String,
    permissions: String,
    rate_limit: u64,
    /// Units left in the key's current per-key bucket (the whole quota when unused).
    remaining: String,
    /// When the bucket is whole again.
    reset: String,
    valid_until: String,
}

/// A key just created: shown on this response only.
struct NewKey {
    id: String,
    raw: String,
}

#[derive(Template)]
#[template(path = "console/api_keys.html")]
struct KeysPage {
    chrome: Chrome,
    keys: Vec<KeyView>,
    new_key: Option<NewKey>,
    owner: String,
    default_quota: u64,
    window: String,
}

/// What the last action did, carried by the redirect.
#[derive(Debug, Deserialize)]
pub struct Done {
    revoked: Option<String>,
    quota: Option<String>,
}

/// `GET /console/api-keys`.
pub async fn list<B: Backend>(
    State(state): State<Shared<B>>,
    session: Session,
    Query(done): Query<Done>,
) -> Result<Response, Response> {
    let (mut chrome, me) = admin(&state, &session, "api-keys").await?;
    chrome.notice = match (done.revoked, done.quota) {
        (Some(id), _) => Some(format!("Revoked {id}: every instance refuses it now.")),
        (None, Some(id)) => Some(format!("Changed the quota of {id}.")),
        (None, None) => None,
    };
    page(&state, chrome, &me.user_id, None).await
}

async fn page<B: Backend>(
    state: &Shared<B>,
    chrome: Chrome,
    owner: &str,
    new_key: Option<NewKey>,
) -> Result<Response, Response> {
    let rows = state
        .db
        .list_api_keys()
        .await
        .map_err(|e| ApiError::internal("listing keys", e).into_response())?;
    let mut keys = Vec::with_capacity(rows.len());
    for row in rows {
        keys.push(view(state, row).await);
    }
    Ok(html(
        &KeysPage {
            chrome,
            keys,
            new_key,
            owner: owner.to_owned(),
            default_quota: u64::from(state.limits.per_key_default.limit()),
            window: span(state.limits.window),
        },
        StatusCode::OK,
    ))
}

/// A key's row, with its usage peeked from the rate limiter (nothing is charged).
async fn view<B: Backend>(state: &Shared<B>, row: ApiKeyRow) -> KeyView {
    let usage = match (
        state.limits.key_policy(row.rate_limit),
        crate::app::per_key_bucket(&row.id, row.rate_limit),
    ) {
        (Ok(policy), Some(bucket)) => {
            let policies = [policy];
            let peek = Acquire::new(&bucket, &policies).mode(Mode::Peek).cost(0);
            acquire(&state.backend, peek).await.ok()
        }
        _ => None,
    };
    let (remaining, reset) = match usage.as_ref().and_then(|d| d.policies().first()) {
        Some(p) => (p.remaining().to_string(), span(p.reset_after())),
        None => ("unknown".to_owned(), "unknown".to_owned()),
    };
    KeyView {
        owner: row.user_id,
        permissions: row.permissions.join(", "),
        rate_limit: row.rate_limit,
        remaining,
        reset,
        valid_until: match row.valid_until {
            None => "no expiry".to_owned(),
            Some(s) if s <= crate::db::unix_now() => format!("{} (expired)", until(s)),
            Some(s) => until(s),
        },
        id: row.id,
    }
}

/// Unix seconds `s` for the page.
fn until(s: i64) -> String {
    when(UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(s).unwrap_or(0)))
}

/// The "new key" form.
#[derive(Debug, Deserialize)]
pub struct Create {
    #[serde(default)]
    id: String,
    user_id: String,
    /// A checkbox: present (`on`) or absent.
    analyze: Option<String>,
    rate_limit: u64,
}

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_ID_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `POST /console/api-keys`: issues a key (`vg_…` with a checksum), stores its hash, and shows
/// the raw key on this response only. 422 for an id, owner or quota that cannot be used, 409
/// for an id already taken.
pub async fn create<B: Backend>(
    State(state): State<Shared<B>>,
    session: Session,
    FormBody(form): FormBody<Create>,
) -> Result<Response, Response> {
    let (chrome, me) = admin(&state, &session, "api-keys").await?;
    let bad =
        |detail: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, detail).into_response();
    let id = match form.id.trim() {
        "" => format!("k-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
        id if is_id(id) => id.to_owned(),
        _ => {
            return Err(bad(format!(
                "id: 1 to {MAX_ID_LEN} letters, digits, '-' or '_'"
            )));
        }
    };
    let owner = form.user_id.trim().to_owned();
    let exists = is_id(&owner)
        && state
            .db
            .user(owner.clone())
            .await
            .map_err(|e| ApiError::internal("user lookup", e).into_response())?
            .is_some();
    if !exists {
        return Err(bad(format!("user_id: no user {owner:?}")));
    }
    state
        .limits
        .check_key_rate_limit(form.rate_limit)
        .map_err(|e| bad(format!("rate_limit: {e}")))?;
    let raw = generate_key(KEY_PREFIX)
        .map_err(|e| ApiError::internal("generating a key", e).into_response())?;
    let hash = state.api_keys.hash_key(&raw);
    let row = ApiKeyRow {
        id: id.clone(),
        user_id: owner.clone(),
        organization_id: owner,
        permissions: form
            .analyze
            .map(|_| ANALYZE.to_owned())
            .into_iter()
            .collect(),
        rate_limit: form.rate_limit,
        valid_until: None,
    };
    let inserted = state
        .db
        .insert_api_key(row, hash.clone())
        .await
        .map_err(|e| ApiError::internal("storing the key", e).into_response())?;
    if !inserted {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("an API key {id:?} already exists"),
        )
        .into_response());
    }
    // A new key was never valid, but a guess of it could sit in a negative cache: drop it.
    if let Err(e) = state.api_keys.invalidate_hash(&hash).await {
        tracing::warn!(error = %e, key_id = %id, "invalidation of a new key not published");
    }
    tracing::info!(key_id = %id, by = %me.user_id, "API key created");
    page(&state, chrome, &me.user_id, Some(NewKey { id, raw })).await
}

/// `POST /console/api-keys/{id}/revoke`.
pub async fn revoke<B: Backend>(
    State(state): State<Shared<B>>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, Response> {
    admin(&state, &session, "api-keys").await?;
    crate::routes::admin::revoke_key(&state, &id)
        .await
        .map_err(IntoResponse::into_response)?;
    Ok(see_other(&format!("{PAGE}?revoked={}", encode(&id))))
}

/// The quota form.
#[derive(Debug, Deserialize)]
pub struct SetQuota {
    rate_limit: u64,
}

/// `POST /console/api-keys/{id}/quota`.
pub async fn set_quota<B: Backend>(
    State(state): State<Shared<B>>,
    session: Session,
    Path(id): Path<String>,
    FormBody(SetQuota { rate_limit }): FormBody<SetQuota>,
) -> Result<Response, Response> {
    admin(&state, &session, "api-keys").await?;
    crate::routes::admin::change_quota(&state, &id, rate_limit)
        .await
        .map_err(IntoResponse::into_response)?;
    Ok(see_other(&format!("{PAGE}?quota={}", encode(&id))))
}

/// `id` for a query string (ids are checked on creation, but seeded ones come from a file).
fn encode(id: &str) -> String {
    id.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
