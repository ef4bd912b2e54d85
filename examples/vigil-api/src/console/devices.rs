//! `GET /console/sessions`: every device signed in as the user (created, last active, user
//! agent), with "end" for one and "end all others". Ending goes through the same
//! `SessionAdmin` as `DELETE /users/{id}/sessions`: the session is deleted from the store, so
//! the device's next request finds no session, on every instance.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tower_vigil_core::Backend;
use tower_vigil_session::{Session, SessionError, SessionInfo};

use super::page::{Chrome, FormBody, html, see_other, session_failed, signed_in, span, when};
use crate::problem::ApiError;
use crate::routes::auth::USER_AGENT;
use crate::state::Shared;

const PAGE: &str = "/console/sessions";

/// One row of the table.
struct Device {
    /// The session's id hash: names it in the "end" form; never its token.
    id: String,
    device: String,
    created: String,
    last_active: String,
    expires_in: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "console/sessions.html")]
struct SessionsPage {
    chrome: Chrome,
    sessions: Vec<Device>,
    others: usize,
}

/// What the last action did, carried by the redirect.
#[derive(Debug, Deserialize)]
pub struct Done {
    ended: Option<u64>,
}

fn store_failed(e: SessionError) -> ApiError {
    tracing::warn!(error = %e, "listing or ending sessions failed");
    ApiError::unavailable("the session store is unavailable")
}

/// This session's id hash and every live session of `user_id`.
async fn sessions_of<B: Backend>(
    state: &Shared<B>,
    session: &Session,
    user_id: &str,
) -> Result<(Option<String>, Vec<SessionInfo>), Response> {
    let current = session
        .id_hash()
        .await
        .map_err(|e| session_failed(e).into_response())?;
    let listed = state
        .sessions
        .list_user_sessions(user_id)
        .await
        .map_err(|e| store_failed(e).into_response())?;
    Ok((current, listed))
}

/// `GET /console/sessions`.
pub async fn list<B: Backend>(
    State(state): State<Shared<B>>,
    session: Session,
    Query(done): Query<Done>,
) -> Result<Response, Response> {
    let (mut chrome, me) = signed_in(&state, &session, "sessions").await?;
    let (current, listed) = sessions_of(&state, &session, &me.user_id).await?;
    let sessions: Vec<Device> = listed
        .into_iter()
        .map(|s| Device {
            current: current.as_deref() == Some(s.id_hash.as_str()),
            device: s
                .get::<String>(USER_AGENT)
                .unwrap_or_else(|| "unknown device".to_owned()),
            created: when(s.created_at),
            last_active: when(s.last_activity),
            expires_in: span(s.expires_in),
            id: s.id_hash,
        })
        .collect();
    chrome.notice = done.ended.map(|n| match n {
        0 => "That session had already ended.".to_owned(),
        1 => "Ended 1 session.".to_owned(),
        n => format!("Ended {n} sessions."),
    });
    let others = sessions.iter().filter(|s| !s.current).count();
    Ok(html(
        &SessionsPage {
            chrome,
            sessions,
            others,
        },
        StatusCode::OK,
    ))
}

/// The "end" form.
#[derive(Debug, Deserialize)]
pub struct End {
    session: String,
}

/// `POST /console/sessions/end`: ends one of the user's own sessions (a hash of someone
/// else's is left alone: `SessionAdmin` checks the owner).
pub async fn end<B: Backend>(
    State(state): State<Shared<B>>,
    session: Session,
    FormBody(End { session: id }): FormBody<End>,
) -> Result<Response, Response> {
    let (_, me) = signed_in(&state, &session, "sessions").await?;
    let ended = state
        .sessions
        .destroy_user_session(&me.user_id, &id)
        .await
        .map_err(|e| store_failed(e).into_response())?;
    Ok(see_other(&format!("{PAGE}?ended={}", u64::from(ended))))
}

/// `POST /console/sessions/end-others`: ends every session of the user but this one.
pub async fn end_others<B: Backend>(
    State(state): State<Shared<B>>,
    session: Session,
) -> Result<Response, Response> {
    let (_, me) = signed_in(&state, &session, "sessions").await?;
    let (current, listed) = sessions_of(&state, &session, &me.user_id).await?;
    let mut ended = 0;
    for s in listed {
        if current.as_deref() == Some(s.id_hash.as_str()) {
            continue;
        }
        if state
            .sessions
            .destroy_user_session(&me.user_id, &s.id_hash)
            .await
            .map_err(|e| store_failed(e).into_response())?
        {
            ended += 1;
        }
    }
    Ok(see_other(&format!("{PAGE}?ended={ended}")))
}
