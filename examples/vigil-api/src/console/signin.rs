//! `GET`/`POST /console/login` and `POST /console/logout`: the session the JSON API uses
//! (`POST /login`), signed into from a form. A visitor has no session (showing the form stores
//! nothing), so the form carries no token: the cross-site layer refuses a sign-in posted from
//! another origin on the browser's word alone (`Sec-Fetch-Site`, `Origin`), which stops login
//! CSRF. Signing in gives the session a new id (`cycle_id`), which also drops any old token;
//! the pages behind it make a new one.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tower_vigil_core::Backend;
use tower_vigil_session::Session;

use super::page::{Chrome, FormBody, SIGN_IN, chrome, html, see_other, session_failed};
use crate::problem::ApiError;
use crate::state::Shared;

/// Where a successful sign-in lands.
const HOME: &str = "/console/sessions";

/// Longest username or password looked at (as `POST /login`).
const MAX_CREDENTIAL_LEN: usize = 1024;

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    chrome: Chrome,
    error: Option<&'static str>,
    username: String,
}

/// The sign-in form's fields.
#[derive(Debug, Deserialize)]
pub struct SignIn {
    username: String,
    password: String,
}

/// `GET /console/login`: the form, or home when already signed in.
pub async fn form<B: Backend>(State(state): State<Shared<B>>, session: Session) -> Response {
    match chrome(&state, &session, "login").await {
        Ok(c) if c.me.is_some() => see_other(HOME),
        Ok(chrome) => html(
            &LoginPage {
                chrome,
                error: None,
                username: String::new(),
            },
            StatusCode::OK,
        ),
        Err(e) => e.into_response(),
    }
}

/// `POST /console/login`: a wrong password is the form again with a 401 (which the per-IP
/// failed-login limit counts, shared with `POST /login`); a right one cycles the session id,
/// binds the user and the device's user agent, and goes home.
pub async fn submit<B: Backend>(
    State(state): State<Shared<B>>,
    session: Session,
    headers: HeaderMap,
    FormBody(SignIn { username, password }): FormBody<SignIn>,
) -> Result<Response, ApiError> {
    let user = if username.len() > MAX_CREDENTIAL_LEN || password.len() > MAX_CREDENTIAL_LEN {
        None
    } else {
        state
            .db
            .verify_login(username.clone(), password)
            .await
            .map_err(|e| ApiError::internal("user lookup", e))?
    };
    let Some(user) = user else {
        let chrome = chrome(&state, &session, "login").await?;
        // Shown back in the form, escaped by the template; never more than a field holds.
        let username: String = username.chars().take(256).collect();
        return Ok(html(
            &LoginPage {
                chrome,
                error: Some("Wrong username or password."),
                username,
            },
            StatusCode::UNAUTHORIZED,
        ));
    };
    crate::routes::auth::bind(&session, &user.user_id, &user.username, &headers).await?;
    Ok(see_other(HOME))
}

/// `POST /console/logout`: ends the session everywhere (the store deletes it) and goes to the
/// sign-in form.
pub async fn logout(session: Session) -> Result<Response, ApiError> {
    if session.has_token().await {
        session.destroy().await.map_err(session_failed)?;
    }
    Ok(see_other(SIGN_IN))
}
