//! Token transport: signed cookies with key rotation, header tokens, cookie attributes and
//! prefixes, the eager `Principal`, the axum extractor. The backend does not matter here:
//! memory. (Configuration errors are in `builder.rs`.)

mod common;

use http::HeaderName;
use tower_vigil_core::MemoryBackend;
use tower_vigil_session::{CookieConfig, CookiePrefix, SameSite, SessionManagerLayer};

use common::{App, Counts};

/// A layer on `store` signing with keys of 32 bytes `keys[i]` each, the first one signing.
fn signing(store: &MemoryBackend, keys: &[u8]) -> SessionManagerLayer {
    SessionManagerLayer::builder(store.clone())
        .signing_keys(keys.iter().map(|k| vec![*k; 32]))
        .build()
        .unwrap()
}

#[tokio::test]
async fn signed_cookies_refuse_tampering_and_rotate_keys() {
    let counts = Counts::default();
    let _guard = counts.install();
    let store = MemoryBackend::new();
    let v1 = App::new(signing(&store, &[1]));
    let signed = v1.new_session("a", "1").await;
    let (token, sig) = signed.split_once('.').expect("token.signature");
    assert_eq!((token.len(), sig.len()), (65, 43));
    assert_eq!(v1.send("/get/a", Some(&signed)).await.body, "1");

    let loads = counts.get(tower_vigil_session::metrics::LOADS_TOTAL);
    let mut flipped = signed.clone().into_bytes();
    let last = flipped.len() - 1;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    for bad in [
        String::from_utf8(flipped).unwrap(),
        token.to_owned(),
        format!("{token}."),
        format!("{token}.{token}"),
    ] {
        let r = v1.send("/get/a", Some(&bad)).await;
        assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "null"), "{bad}");
    }
    assert_eq!(
        counts.get(tower_vigil_session::metrics::LOADS_TOTAL),
        loads,
        "unsigned tokens never reach the backend"
    );

    // Rotation: the new key signs, the old one is still accepted.
    let v2 = App::new(signing(&store, &[2, 1]));
    assert_eq!(v2.send("/get/a", Some(&signed)).await.body, "1");
    let fresh = v2.new_session("b", "2").await;
    let only_new = App::new(signing(&store, &[2]));
    assert_eq!(only_new.send("/get/b", Some(&fresh)).await.body, "2");
    assert_eq!(only_new.send("/get/a", Some(&signed)).await.body, "null");
    assert_eq!(v1.send("/get/b", Some(&fresh)).await.body, "null");
}

#[tokio::test]
async fn header_tokens_for_api_clients() {
    let name = HeaderName::from_static("x-session-token");
    let app = App::new(
        SessionManagerLayer::builder(MemoryBackend::new())
            .header_only(name.clone())
            .build()
            .unwrap(),
    );
    let r = app.send("/set/a/1", None).await;
    assert!(r.set_cookie.is_empty());
    let token = r.headers[&name].to_str().unwrap().to_owned();
    assert_eq!(token.len(), 65);
    let r = app.send_raw("/get/a", &[("x-session-token", &token)]).await;
    assert_eq!(r.body, "1");
    // A cookie is not looked at in header-only mode.
    assert_eq!(app.send("/get/a", Some(&token)).await.body, "null");
    let long = "x".repeat(10_000);
    for bad in ["", "nope", long.as_str()] {
        let r = app.send_raw("/get/a", &[("x-session-token", bad)]).await;
        assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "null"));
    }

    // Both carriers: a header request gets its new token back in the header.
    let both = App::new(
        SessionManagerLayer::builder(MemoryBackend::new())
            .header(name.clone())
            .build()
            .unwrap(),
    );
    let r = both.send_raw("/cycle", &[]).await;
    assert!(
        r.set_cookie.is_empty(),
        "nothing to cycle without a session"
    );
    let t = both.new_session("a", "1").await;
    let r = both.send_raw("/cycle", &[("x-session-token", &t)]).await;
    let new = r.headers[&name].to_str().unwrap();
    assert_ne!(new, t);
    assert!(r.set_cookie.is_empty());
}

#[tokio::test]
async fn cookie_attributes_follow_the_configuration() {
    let layer = SessionManagerLayer::builder(MemoryBackend::new())
        .absolute_timeout(None)
        .cookie(
            CookieConfig::new()
                .name("sid")
                .secure(false)
                .domain("example.com")
                .same_site(SameSite::Strict)
                .max_age(None),
        )
        .build()
        .unwrap();
    let mut app = App::new(layer);
    app.cookie_name = "sid".into();
    let r = app.send("/set/a/1", None).await;
    let c = &r.set_cookie[0];
    assert!(c.starts_with("sid="));
    assert!(
        c.contains("Domain=example.com") && c.contains("SameSite=Strict") && c.contains("HttpOnly")
    );
    assert!(!c.contains("Secure") && !c.contains("Max-Age"), "{c}");
    assert_eq!(app.send("/get/a", r.token().as_deref()).await.body, "1");
}

#[tokio::test]
async fn eager_principal_puts_the_user_in_extensions() {
    let counts = Counts::default();
    let _guard = counts.install();
    let app = App::new(
        SessionManagerLayer::builder(MemoryBackend::new())
            .principal(true)
            .build()
            .unwrap(),
    );
    let t = app.login("erin").await;
    assert_eq!(app.send("/principal", Some(&t)).await.body, "erin");
    let anon = app.new_session("a", "1").await;
    assert_eq!(app.send("/principal", Some(&anon)).await.body, "");
    let loads = counts.get(tower_vigil_session::metrics::LOADS_TOTAL);
    assert_eq!(app.send("/principal", None).await.body, "");
    assert_eq!(
        counts.get(tower_vigil_session::metrics::LOADS_TOTAL),
        loads,
        "no token, no load"
    );
    // Lazy by default: no principal.
    let lazy = App::new(SessionManagerLayer::new(MemoryBackend::new()));
    let t = lazy.login("erin").await;
    assert_eq!(lazy.send("/principal", Some(&t)).await.body, "");
}

#[cfg(feature = "axum")]
#[tokio::test]
async fn axum_extractor() {
    use axum::{Router, routing::get};
    use http::{Request, header};
    use tower::ServiceExt;
    use tower_vigil_session::{Session, SessionError};

    async fn count(session: Session) -> Result<String, SessionError> {
        let n: u64 = session.get("n").await?.unwrap_or(0) + 1;
        session.insert("n", n).await?;
        Ok(n.to_string())
    }
    let app = Router::new()
        .route("/", get(count))
        .layer(SessionManagerLayer::new(MemoryBackend::new()));
    let res = app
        .clone()
        .oneshot(Request::new(axum::body::Body::empty()))
        .await
        .unwrap();
    let cookie = res.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let req = Request::builder()
        .header(header::COOKIE, cookie)
        .body(axum::body::Body::empty())
        .unwrap();
    let res = app.oneshot(req).await.unwrap();
    let body = http_body_util::BodyExt::collect(res.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(&body[..], b"2");

    // Without the layer the extractor answers 500, never panics.
    let bare = Router::new().route("/", get(count));
    let res = bare
        .oneshot(Request::new(axum::body::Body::empty()))
        .await
        .unwrap();
    assert_eq!(res.status(), 500);
}

#[tokio::test]
async fn changes_after_the_response_are_refused_not_lost() {
    use http::{Request, Response};
    use tower::{ServiceBuilder, ServiceExt, service_fn};
    use tower_vigil_session::{Session, SessionErrorKind};

    let (tx, rx) = tokio::sync::oneshot::channel::<Session>();
    let tx = std::sync::Arc::new(std::sync::Mutex::new(Some(tx)));
    let svc = ServiceBuilder::new()
        .layer(SessionManagerLayer::new(MemoryBackend::new()))
        .service(service_fn(move |req: Request<String>| {
            let session = req.extensions().get::<Session>().unwrap().clone();
            let tx = tx.lock().unwrap().take();
            async move {
                session.insert("a", 1).await.unwrap();
                tx.unwrap().send(session).unwrap();
                Ok::<_, std::convert::Infallible>(Response::new(String::new()))
            }
        }));
    let res = svc.oneshot(Request::new(String::new())).await.unwrap();
    assert!(res.headers().contains_key(http::header::SET_COOKIE));
    let late = rx.await.unwrap();
    let err = late.insert("b", 2).await.unwrap_err();
    assert_eq!(err.kind(), SessionErrorKind::Finished);
    assert_eq!(late.get::<u32>("a").await.unwrap(), Some(1));
}

/// Issue 12, item 7: Secure cookies get the `__Host-` prefix by default, so a sibling
/// subdomain or a plain-http response cannot plant or overwrite the session cookie.
#[tokio::test]
async fn secure_cookies_get_the_host_prefix_by_default() {
    let app = App::new(SessionManagerLayer::new(MemoryBackend::new()));
    let r = app.send("/set/a/1", None).await;
    let c = &r.set_cookie[0];
    assert!(c.starts_with("__Host-vigil_session="), "{c}");
    assert!(
        c.contains("; Path=/;") && c.contains("Secure") && !c.contains("Domain"),
        "{c}"
    );
    let token = r.token().unwrap();
    assert_eq!(app.send("/get/a", Some(&token)).await.body, "1");
    // The unprefixed name (what anyone could set) is not the session cookie.
    let planted = format!("vigil_session={token}");
    let r = app
        .send_raw("/get/a", &[("cookie", planted.as_str())])
        .await;
    assert_eq!(r.body, "null");

    // With a Domain, `__Host-` is impossible: the default falls back to `__Secure-`.
    let with = |cookie: CookieConfig| {
        SessionManagerLayer::builder(MemoryBackend::new())
            .cookie(cookie)
            .build()
    };
    let mut app = App::new(with(CookieConfig::new().domain("example.com")).unwrap());
    app.cookie_name = "__Secure-vigil_session".into();
    let r = app.send("/set/a/1", None).await;
    assert!(
        r.set_cookie[0].starts_with("__Secure-vigil_session="),
        "{r:?}"
    );
    assert_eq!(app.send("/get/a", r.token().as_deref()).await.body, "1");
    // Another path: `__Secure-` too; not Secure (local http): no prefix.
    let c = CookieConfig::new().path("/app");
    assert!(c.set_cookie("t").starts_with("__Secure-vigil_session=t;"));
    let c = CookieConfig::new().secure(false);
    assert!(c.set_cookie("t").starts_with("vigil_session=t;"));
    let c = CookieConfig::new().prefix(CookiePrefix::None);
    assert!(c.set_cookie("t").starts_with("vigil_session=t;"));
}

/// Issue 15: a request that only read its session (no TTL refresh due) ends without a save,
/// but it is finished all the same: a change made afterwards through a clone is refused, as
/// after a saved response, and the values read stay readable.
#[tokio::test]
async fn a_read_only_response_is_finished_without_a_save() {
    use http::{Request, Response, header};
    use tower::{ServiceBuilder, ServiceExt, service_fn};
    use tower_vigil_session::{Session, SessionErrorKind};

    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Session>();
    let svc = ServiceBuilder::new()
        .layer(SessionManagerLayer::new(MemoryBackend::new()))
        .service(service_fn(move |req: Request<String>| {
            let session = req.extensions().get::<Session>().unwrap().clone();
            let tx = tx.clone();
            async move {
                if req.uri().path() == "/set" {
                    session.insert("a", 1).await.unwrap();
                } else {
                    assert_eq!(session.get::<u32>("a").await.unwrap(), Some(1));
                }
                tx.send(session).unwrap();
                Ok::<_, std::convert::Infallible>(Response::new(String::new()))
            }
        }));
    let set = Request::get("/set").body(String::new()).unwrap();
    let res = svc.clone().oneshot(set).await.unwrap();
    let cookie = res.headers()[header::SET_COOKIE].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let read = Request::get("/read")
        .header(header::COOKIE, &cookie)
        .body(String::new())
        .unwrap();
    let res = svc.oneshot(read).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(!res.headers().contains_key(header::SET_COOKIE));
    let mut rx = rx;
    let _writer = rx.recv().await.unwrap();
    let late = rx.recv().await.unwrap();
    let err = late.insert("b", 2).await.unwrap_err();
    assert_eq!(err.kind(), SessionErrorKind::Finished);
    assert_eq!(late.get::<u32>("a").await.unwrap(), Some(1));
}
