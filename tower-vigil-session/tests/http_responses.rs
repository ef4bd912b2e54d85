//! The responses the layer gives on its own: `503` when the backend fails while a request uses
//! its session, `401` when the session ended while the request changed it; problem+json for
//! HTTP, a gRPC status for gRPC calls, the typed rejection in the response's extensions, and a
//! custom response through `.response(..)`.

mod common;

use std::sync::atomic::Ordering;

use bytes::Bytes;
use http::{Response, StatusCode};
use tower_vigil_core::{MemoryBackend, Rejection};
use tower_vigil_session::{SessionManagerLayer, SessionRejection, SessionRejectionKind};

use common::App;
use common::app::Resp;
use common::gated::Gated;

fn grpc(token: &str) -> [(&'static str, String); 2] {
    [
        ("content-type", "application/grpc".to_owned()),
        ("cookie", format!("__Host-vigil_session={token}")),
    ]
}

async fn send_grpc(app: &App, path: &str, token: &str) -> Resp {
    let headers = grpc(token);
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.send_raw(path, &headers).await
}

fn problem(r: &Resp) -> serde_json::Value {
    assert_eq!(
        r.headers["content-type"], "application/problem+json",
        "{r:?}"
    );
    serde_json::from_str(&r.body).expect("a problem+json body")
}

/// A session whose write lost to a logout: the `401` (`Ended`) response.
async fn ended(app: &App, grpc_call: bool) -> Resp {
    let t = app.login("mallory").await;
    let write = tokio::spawn({
        let (app, t) = (app.clone(), t.clone());
        async move {
            if grpc_call {
                send_grpc(&app, "/slow-set/cart/[9]", &t).await
            } else {
                app.send("/slow-set/cart/[9]", Some(&t)).await
            }
        }
    });
    app.entered.acquire_many(1).await.unwrap().forget();
    assert!(app.send("/logout", Some(&t)).await.clears_cookie());
    app.release.add_permits(1);
    write.await.unwrap()
}

#[tokio::test]
async fn unavailable_is_a_503_problem_with_retry_after() {
    let store = Gated::new(MemoryBackend::new());
    let app = App::new(SessionManagerLayer::new(store.clone()));
    let t = app.new_session("a", "1").await;
    store.down.store(true, Ordering::SeqCst);

    let r = app.send("/get/a", Some(&t)).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{r:?}");
    let p = problem(&r);
    assert_eq!(p["status"], 503);
    assert_eq!(p["title"], "Session store unavailable");
    assert_eq!(p["reason"], "backend_unavailable");
    assert_eq!(p["retryAfter"], 1);
    assert_eq!(r.headers["retry-after"], "1");
    assert!(r.set_cookie.is_empty());
    let rejection = r.rejection.expect("in the extensions");
    assert_eq!(rejection.kind(), SessionRejectionKind::Unavailable);
    assert!(!rejection.is_grpc());
    assert_eq!(rejection.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        rejection.retry_after(),
        Some(std::time::Duration::from_secs(1))
    );

    let r = send_grpc(&app, "/get/a", &t).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.headers["grpc-status"], "14");
    assert_eq!(r.headers["grpc-retry-pushback-ms"], "1000");
    assert_eq!(r.headers["content-type"], "application/grpc");
    assert!(r.rejection.expect("in the extensions").is_grpc());

    store.down.store(false, Ordering::SeqCst);
    assert_eq!(app.send("/get/a", Some(&t)).await.body, "1");
}

#[tokio::test]
async fn ended_is_a_401_problem_without_retry_after() {
    let app = App::new(SessionManagerLayer::new(MemoryBackend::new()));
    let r = ended(&app, false).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
    let p = problem(&r);
    assert_eq!(p["status"], 401);
    assert_eq!(p["title"], "Session ended");
    assert_eq!(p["reason"], "session_ended");
    assert!(p.get("retryAfter").is_none(), "{p}");
    assert!(!r.headers.contains_key("retry-after"), "{r:?}");
    assert!(r.set_cookie.is_empty(), "{r:?}");
    assert_eq!(
        r.rejection.expect("in the extensions").kind(),
        SessionRejectionKind::Ended
    );

    let r = ended(&app, true).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.headers["grpc-status"], "16");
    assert!(r.rejection.expect("in the extensions").is_grpc());
}

#[tokio::test]
async fn a_custom_response_answers_every_rejection() {
    let store = Gated::new(MemoryBackend::new());
    let layer = SessionManagerLayer::builder(store.clone())
        .response(|r: &SessionRejection| {
            let mut res = Response::new(Bytes::from(format!("custom {:?}", r.kind())));
            *res.status_mut() = StatusCode::IM_A_TEAPOT;
            res
        })
        .build()
        .unwrap();
    let app = App::new(layer);
    let r = ended(&app, false).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (StatusCode::IM_A_TEAPOT, "custom Ended")
    );
    assert_eq!(r.rejection.unwrap().kind(), SessionRejectionKind::Ended);

    let t = app.new_session("a", "1").await;
    store.down.store(true, Ordering::SeqCst);
    let r = app.send("/get/a", Some(&t)).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (StatusCode::IM_A_TEAPOT, "custom Unavailable")
    );
    assert_eq!(
        r.rejection.unwrap().kind(),
        SessionRejectionKind::Unavailable
    );
}
