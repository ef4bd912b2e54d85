//! A full Redis (`maxmemory` reached under `noeviction`): a session that cannot be created or
//! written answers 503 with no cookie, never a 200 whose session was not stored; reads and
//! logouts (which free memory) still work; once memory is freed everything works again, no
//! restart. On a server and on a 3-master cluster, each its own (a full Redis breaks any test
//! sharing it).

mod common;

use tower_vigil_core::RedisBackend;
use tower_vigil_session::{SessionManagerLayer, SessionRejectionKind};
use tower_vigil_tests::pressure::{Filled, Pressure};
use tower_vigil_tests::{RedisCluster, RedisServer, fixtures};

use common::App;
use common::app::Resp;

fn unavailable(what: &str, r: &Resp) {
    assert_eq!(r.status, 503, "{what}: {r:?}");
    assert_eq!(r.headers["content-type"], "application/problem+json");
    assert_eq!(
        r.rejection.as_ref().map(|x| x.kind()),
        Some(SessionRejectionKind::Unavailable),
        "{what}"
    );
    assert!(
        r.set_cookie.is_empty(),
        "{what}: no cookie for an unsaved session"
    );
}

async fn full_redis_never_answers_an_unsaved_session(backend: RedisBackend, pressure: Pressure) {
    let app = App::new(SessionManagerLayer::new(backend));
    let user = app.login("dave").await;
    let other = app.new_session("a", "1").await;

    pressure.limit(2 << 20, "noeviction");
    assert_eq!(pressure.exhaust(), Filled::Refused);

    unavailable("create", &app.send("/set/a/1", None).await);
    unavailable("login", &app.send("/login/erin", None).await);
    unavailable("write", &app.send("/set/a/2", Some(&other)).await);
    // Reading needs no memory.
    let r = app.send("/get/a", Some(&other)).await;
    assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "1"), "{r:?}");
    assert_eq!(app.send("/whoami", Some(&user)).await.body, "dave");
    // Neither does a logout: the session really ends.
    let r = app.send("/logout", Some(&user)).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.clears_cookie());

    pressure.relieve();
    assert_eq!(app.send("/whoami", Some(&user)).await.body, "");
    assert_eq!(
        app.send("/get/a", Some(&other)).await.body,
        "1",
        "the refused write changed nothing"
    );
    let fresh = app.new_session("a", "3").await;
    assert_eq!(app.send("/get/a", Some(&fresh)).await.body, "3");
}

#[tokio::test]
async fn redis() {
    let server = RedisServer::start();
    let backend = fixtures::redis_on(&server.url()).await;
    full_redis_never_answers_an_unsaved_session(backend, Pressure::on_server(&server)).await;
}

#[tokio::test]
async fn cluster() {
    let cluster = RedisCluster::start();
    let backend = fixtures::cluster_on(&cluster.urls()).await;
    full_redis_never_answers_an_unsaved_session(backend, Pressure::on_cluster(&cluster)).await;
}
