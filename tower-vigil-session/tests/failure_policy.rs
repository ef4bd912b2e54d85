//! Redis down: requests that use their session get a 503 (or gRPC UNAVAILABLE), requests that
//! do not pass untouched, and everything works again once Redis is back.

mod common;

use std::time::Duration;

use tower_vigil_core::RedisBackend;
use tower_vigil_session::{SessionManagerLayer, SessionRejectionKind};
use tower_vigil_tests::RedisServer;
use tower_vigil_tests::fixtures::unique_prefix;

use common::{App, Counts};
use tower_vigil_session::metrics::BACKEND_ERRORS_TOTAL;

async fn backend(server: &RedisServer) -> RedisBackend {
    RedisBackend::builder(&server.url())
        .prefix(unique_prefix())
        .timeout(Duration::from_millis(300))
        .connect()
        .await
        .unwrap()
}

#[tokio::test]
async fn backend_down_is_503_only_for_requests_that_use_the_session() {
    let counts = Counts::default();
    let _guard = counts.install();
    let mut server = RedisServer::start();
    let store = backend(&server).await;
    let app = App::new(SessionManagerLayer::new(store.clone()));
    let eager = App::new(
        SessionManagerLayer::builder(store.clone())
            .principal(true)
            .build()
            .unwrap(),
    );
    let t = app.login("dave").await;
    assert_eq!(eager.send("/principal", Some(&t)).await.body, "dave");

    server.stop();
    // Untouched requests pass, with or without a token.
    for token in [None, Some(t.as_str())] {
        let r = app.send("/noop", token).await;
        assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "noop"));
    }
    assert_eq!(
        counts.get(BACKEND_ERRORS_TOTAL),
        0,
        "no store call, no failure"
    );
    // A read needs the backend: 503 problem+json, whatever the handler answered.
    let r = app.send("/get/a", Some(&t)).await;
    assert_eq!(r.status, 503, "{r:?}");
    // Counted once, at the failed store call, however often the error is converted.
    assert_eq!(counts.get(BACKEND_ERRORS_TOTAL), 1);
    assert_eq!(r.headers["content-type"], "application/problem+json");
    assert_eq!(r.headers["retry-after"], "1");
    assert_eq!(
        r.rejection.unwrap().kind(),
        SessionRejectionKind::Unavailable
    );
    assert!(r.set_cookie.is_empty());
    // A new session cannot be saved: 503, never a silently lost write.
    let r = app.send("/set/a/1", None).await;
    assert_eq!(r.status, 503);
    assert!(r.set_cookie.is_empty());
    // gRPC callers get a gRPC status.
    let r = app
        .send_raw(
            "/get/a",
            &[
                ("content-type", "application/grpc"),
                ("cookie", &format!("__Host-vigil_session={t}")),
            ],
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), &r.headers["grpc-status"]),
        (200, &"14".parse::<http::HeaderValue>().unwrap())
    );
    // Eager principal: the session is needed before the handler runs.
    assert_eq!(eager.send("/principal", Some(&t)).await.status, 503);
    assert_eq!(eager.send("/principal", None).await.status, 200);

    server.restart();
    // Redis came back empty (no persistence): the old token is dead, new sessions work.
    let mut ok = false;
    for _ in 0..50 {
        let r = app.send("/set/a/1", None).await;
        if r.status == 200 {
            let t = r.token().unwrap();
            assert_eq!(app.send("/get/a", Some(&t)).await.body, "1");
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ok, "the layer did not recover after Redis came back");
    assert_eq!(app.send("/get/a", Some(&t)).await.body, "null");
}
