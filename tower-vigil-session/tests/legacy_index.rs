//! A user index written before the sorted set (a plain set, issue 12 item 6) keeps working
//! after an upgrade: its members are listed, revoked, and new logins are added to it. On
//! Redis, the cluster, and memory (whose twins convert a plain set the same way).

use std::time::Duration;

use bytes::Bytes;
use tower_vigil_core::Backend;
use tower_vigil_session::__private::{
    self as store, Expiry, SessionToken, index_add, index_members, user_index_key,
};
use tower_vigil_session::SessionManagerLayer;
use tower_vigil_tests::fixtures;

mod common;
use common::App;

async fn legacy_set_is_converted<B: Backend>(backend: B) {
    let hasher = Default::default();
    let old = SessionToken::generate();
    let fields = [("_user".to_owned(), Bytes::from_static(b"erin"))];
    let expiry = Expiry::new(3_600_000, 0);
    let key = old.key(&hasher);
    // A session of a user with no index deadline, as an earlier version stored it.
    let secret = old.secret_hash(&hasher);
    assert!(
        store::create(&backend, &key, &secret, &fields, expiry)
            .await
            .unwrap()
    );
    // What an earlier version wrote: a set of session hashes with a TTL.
    let index = user_index_key("erin");
    let member = Bytes::from(old.id_hash(&hasher));
    backend
        .set_add(&index, &[member], Duration::from_secs(3600))
        .await
        .unwrap();

    let layer = SessionManagerLayer::new(backend.clone());
    let admin = layer.admin();
    assert_eq!(admin.list_user_sessions("erin").await.unwrap().len(), 1);
    // A value written without reading the session re-indexes it first: it gets a deadline.
    let app = App::new(layer);
    let r = app.send("/set/a/1", Some(old.as_str())).await;
    assert!(r.status == 200 && r.set_cookie.is_empty(), "{r:?}");
    let s = store::load(&backend, &key, None)
        .await
        .unwrap()
        .expect("live");
    assert!(s.index_deadline_ms() > 0);
    assert_eq!(s.data()["a"], Bytes::from_static(b"1"));
    let new = SessionToken::generate();
    index_add(
        &backend,
        &index,
        &new.id_hash(&hasher),
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert_eq!(index_members(&backend, &index).await.unwrap().len(), 2);
    assert_eq!(admin.destroy_user_sessions("erin").await.unwrap(), 1);
    assert!(store::load(&backend, &key, None).await.unwrap().is_none());
}

#[tokio::test]
async fn memory() {
    legacy_set_is_converted(fixtures::memory()).await;
}

#[tokio::test]
async fn redis() {
    legacy_set_is_converted(fixtures::redis().await).await;
}

#[tokio::test]
async fn cluster() {
    legacy_set_is_converted(fixtures::cluster().await).await;
}
