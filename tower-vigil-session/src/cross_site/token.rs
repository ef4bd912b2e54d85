//! [`CsrfToken`]: the synchronizer token, kept in the session, and [`csrf_token`], how a
//! handler gets it to embed in a form or hand to a script.

use std::fmt;

use bytes::Bytes;
use tower_vigil_core::secret::{constant_time_eq, random_token};

use crate::error::SessionError;
use crate::session::Session;

/// Random bytes in a token (256 bits), before base64url.
pub(crate) const TOKEN_BYTES: usize = 32;

/// A session's cross-site request token: 32 random bytes from the OS CSPRNG, base64url
/// without padding (43 characters, safe in a header, a form field or HTML as is).
///
/// Obtained with [`csrf_token`]; send it back in the
/// [`header`](crate::CrossSiteLayerBuilder::header) or the form
/// [`field`](crate::CrossSiteLayerBuilder::form_field) the [`CrossSiteLayer`](crate::CrossSiteLayer)
/// reads. Its `Debug` output hides the value.
#[derive(Clone, PartialEq, Eq)]
pub struct CsrfToken(String);

impl CsrfToken {
    /// The token, to put in a form field or a header.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The token as an owned string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl AsRef<str> for CsrfToken {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CsrfToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CsrfToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CsrfToken(..)")
    }
}

/// The cross-site request token of `session`, made (and saved with the response, starting a
/// session when there is none) on first use. The same token is returned until
/// [`Session::cycle_id`] (a login) or [`Session::destroy`] (a logout) drops it; the next call
/// after either makes a new one.
///
/// ```
/// use std::convert::Infallible;
/// use http::{Request, Response};
/// use tower::{Service, ServiceBuilder, ServiceExt, service_fn};
/// use tower_vigil_core::MemoryBackend;
/// use tower_vigil_session::{Session, SessionManagerLayer, csrf_token};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mut app = ServiceBuilder::new()
///     .layer(SessionManagerLayer::new(MemoryBackend::new()))
///     .service(service_fn(|req: Request<String>| async move {
///         let session = req.extensions().get::<Session>().unwrap();
///         let token = csrf_token(session).await.unwrap();
///         let form = format!(r#"<input type="hidden" name="csrf_token" value="{token}">"#);
///         Ok::<_, Infallible>(Response::new(form))
///     }));
/// let res = app.ready().await.unwrap().call(Request::new(String::new())).await.unwrap();
/// assert!(res.headers().contains_key("set-cookie")); // the token lives in a new session
/// let body = http_body_util::BodyExt::collect(res.into_body()).await.unwrap().to_bytes();
/// assert!(std::str::from_utf8(&body).unwrap().contains(r#"name="csrf_token" value=""#));
/// # }
/// ```
pub async fn csrf_token(session: &Session) -> Result<CsrfToken, SessionError> {
    let bytes = session
        .csrf_field_or_insert(|| Bytes::from(random_token(TOKEN_BYTES)))
        .await?;
    Ok(CsrfToken(String::from_utf8_lossy(&bytes).into_owned()))
}

/// True when `presented` is the token `stored` in the session, compared in constant time
/// (the time depends only on the lengths). No stored token matches nothing.
pub(crate) fn matches(presented: &[u8], stored: Option<&[u8]>) -> bool {
    match stored {
        Some(stored) if !stored.is_empty() => constant_time_eq(presented, stored),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_in_constant_time_and_refuses_empty() {
        let t = random_token(TOKEN_BYTES);
        assert_eq!(t.len(), 43);
        assert!(matches(t.as_bytes(), Some(t.as_bytes())));
        assert!(!matches(&t.as_bytes()[..42], Some(t.as_bytes())));
        let mut wrong = t.clone().into_bytes();
        wrong[0] ^= 1;
        assert!(!matches(&wrong, Some(t.as_bytes())));
        assert!(!matches(b"", Some(b"")));
        assert!(!matches(t.as_bytes(), None));
    }
}
