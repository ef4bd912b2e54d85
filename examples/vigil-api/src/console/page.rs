//! What every console page shares: who is signed in, the cross-site token for its forms, the
//! template rendering, form bodies, and the headers that keep the pages out of frames and
//! caches.

use askama::Template;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;
use tower_vigil_core::Backend;
use tower_vigil_session::{Session, SessionError, csrf_token};

use crate::db::User;
use crate::problem::ApiError;
use crate::routes::admin::ADMIN;
use crate::state::Shared;

/// Where a visitor without a session is sent.
pub const SIGN_IN: &str = "/console/login";

/// The signed-in user, as the page header shows them.
#[derive(Debug, Clone)]
pub struct Me {
    pub user_id: String,
    pub username: String,
    pub admin: bool,
}

impl From<User> for Me {
    fn from(u: User) -> Self {
        Self {
            admin: u.permissions.iter().any(|p| p == ADMIN),
            user_id: u.user_id,
            username: u.username,
        }
    }
}

/// The page frame's values: the header, the token every form carries, a notice.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub me: Option<Me>,
    /// The session's cross-site request token, in a hidden field of every form (empty for a
    /// visitor, whose only form, signing in, needs none).
    pub csrf: String,
    /// Which page is shown (the navigation marks it).
    pub page: &'static str,
    pub notice: Option<String>,
}

/// A session call failed: a page cannot be shown without the session.
pub fn session_failed(e: SessionError) -> ApiError {
    tracing::warn!(error = %e, "session unavailable");
    ApiError::unavailable("the session store is unavailable")
}

/// The frame for `page`, for whoever the session belongs to (or nobody).
pub async fn chrome<B: Backend>(
    state: &Shared<B>,
    session: &Session,
    page: &'static str,
) -> Result<Chrome, ApiError> {
    let me = match session.user_id().await.map_err(session_failed)? {
        Some(id) => state
            .db
            .user(id)
            .await
            .map_err(|e| ApiError::internal("user lookup", e))?
            .map(Me::from),
        None => None,
    };
    // Only a signed-in session gets a token: making one for a visitor would store a session
    // for every anonymous page view.
    let csrf = match me {
        Some(_) => csrf_token(session)
            .await
            .map_err(session_failed)?
            .into_string(),
        None => String::new(),
    };
    Ok(Chrome {
        me,
        csrf,
        page,
        notice: None,
    })
}

/// The frame for a page that needs a signed-in user: the user, or a redirect to sign in.
pub async fn signed_in<B: Backend>(
    state: &Shared<B>,
    session: &Session,
    page: &'static str,
) -> Result<(Chrome, Me), Response> {
    let chrome = chrome(state, session, page)
        .await
        .map_err(IntoResponse::into_response)?;
    match chrome.me.clone() {
        Some(me) => Ok((chrome, me)),
        None => Err(Redirect::to(SIGN_IN).into_response()),
    }
}

/// As [`signed_in`], and the user must be an admin (403 otherwise).
pub async fn admin<B: Backend>(
    state: &Shared<B>,
    session: &Session,
    page: &'static str,
) -> Result<(Chrome, Me), Response> {
    let (chrome, me) = signed_in(state, session, page).await?;
    if me.admin {
        Ok((chrome, me))
    } else {
        Err(ApiError::forbidden("the admin permission is required").into_response())
    }
}

/// `template` as an HTML response with `status`.
pub fn html(template: &impl Template, status: StatusCode) -> Response {
    match template.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(e) => ApiError::internal("rendering the page", e).into_response(),
    }
}

/// Post/redirect/get: after a form, the page again, by `GET`.
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// A form body (`application/x-www-form-urlencoded`) whose rejections are problem+json like
/// every other error of the server: 415 for another content type, 422 for a body of the
/// wrong shape, 413 past the body limit.
pub struct FormBody<T>(pub T);

impl<S, T> FromRequest<S> for FormBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(Self(v)),
            Err(rejection) => Err(ApiError::new(rejection.status(), rejection.body_text())),
        }
    }
}

/// The headers of every console response: no framing (clickjacking), no script, forms only to
/// this origin, no caching (a page can show a new API key), the referrer kept in the origin.
pub async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// A timestamp for a page: `2026-12-03 08:15:02 UTC`.
pub fn when(t: std::time::SystemTime) -> String {
    let s = crate::time::format_rfc3339(t);
    let s = s.trim_end_matches('Z');
    let s = s.split_once('.').map_or(s, |(whole, _)| whole);
    s.replacen('T', " ", 1) + " UTC"
}

/// A duration for a page: `23 h 59 min`, `4 min 10 s`, `12 s`.
pub fn span(d: std::time::Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 if s.is_multiple_of(60) => format!("{} min", s / 60),
        60..=3599 => format!("{} min {} s", s / 60, s % 60),
        3600..=86_399 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn times_read_as_a_person_would() {
        assert_eq!(span(Duration::from_secs(12)), "12 s");
        assert_eq!(span(Duration::from_secs(250)), "4 min 10 s");
        assert_eq!(span(Duration::from_secs(60)), "1 min");
        assert_eq!(span(Duration::from_secs(86_399)), "23 h 59 min");
        assert_eq!(span(Duration::from_secs(7 * 86_400 + 3600)), "7 d 1 h");
        let t = UNIX_EPOCH + Duration::from_millis(1_796_285_702_671);
        assert_eq!(when(t), "2026-12-03 08:15:02 UTC");
    }
}
