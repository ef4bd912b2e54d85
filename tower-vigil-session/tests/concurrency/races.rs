//! Concurrent requests on one session: field-level writes, logout racing a write.

use std::time::Duration;

use tower_vigil_session::SessionManagerLayer;

use crate::common::{App, Fixture, exists};

pub(crate) async fn concurrent_writes_to_different_fields_are_both_kept<S: Fixture>(
    store: S,
    _unit: Duration,
) {
    let app = App::new(SessionManagerLayer::new(store.clone()));
    let t = app.new_session("base", "0").await;
    let a = tokio::spawn({
        let (app, t) = (app.clone(), t.clone());
        async move { app.send("/slow-set/a/1", Some(&t)).await }
    });
    let b = tokio::spawn({
        let (app, t) = (app.clone(), t.clone());
        async move { app.send("/slow-set/b/2", Some(&t)).await }
    });
    // Both requests have read the session before either writes.
    app.entered.acquire_many(2).await.unwrap().forget();
    app.release.add_permits(2);
    assert_eq!(a.await.unwrap().status, 200);
    assert_eq!(b.await.unwrap().status, 200);
    assert_eq!(app.send("/get/a", Some(&t)).await.body, "1");
    assert_eq!(app.send("/get/b", Some(&t)).await.body, "2");
    assert_eq!(app.send("/get/base", Some(&t)).await.body, "0");
}

pub(crate) async fn logout_racing_a_write_does_not_resurrect<S: Fixture>(
    store: S,
    _unit: Duration,
) {
    let app = App::new(SessionManagerLayer::new(store.clone()));
    let t = app.login("mallory").await;
    let write = tokio::spawn({
        let (app, t) = (app.clone(), t.clone());
        async move { app.send("/slow-set/cart/[9]", Some(&t)).await }
    });
    app.entered.acquire_many(1).await.unwrap().forget();
    // The logout completes while the write is in flight.
    assert!(app.send("/logout", Some(&t)).await.clears_cookie());
    app.release.add_permits(1);
    let r = write.await.unwrap();
    assert_eq!(r.status, 401, "{r:?}");
    // The logout cleared the cookie; the write that lost did not end the session, so it
    // leaves the cookie alone.
    assert!(r.set_cookie.is_empty(), "{r:?}");
    assert!(
        !exists(&store, &t).await,
        "the write brought the session back"
    );
    assert_eq!(app.send("/whoami", Some(&t)).await.body, "");
    assert_eq!(store.key_count().await, 0);

    // The other order: the logout is the one in flight; the write lands, then the logout.
    let t = app.login("mallory").await;
    let logout = tokio::spawn({
        let (app, t) = (app.clone(), t.clone());
        async move { app.send("/slow-logout", Some(&t)).await }
    });
    app.entered.acquire_many(1).await.unwrap().forget();
    assert_eq!(app.send("/set/cart/[9]", Some(&t)).await.status, 200);
    app.release.add_permits(1);
    assert!(logout.await.unwrap().clears_cookie());
    assert!(!exists(&store, &t).await);
}

/// Issue 12, item 7: requests still carrying the token from before a login (sent in parallel
/// with it, answered after it) must not clear the cookie, which by then holds the token the
/// login issued: only the request that ends a session clears its cookie.
pub(crate) async fn pre_login_requests_keep_the_new_cookie<S: Fixture>(store: S, _unit: Duration) {
    let app = App::new(SessionManagerLayer::new(store.clone()));
    let before = app.new_session("cart", "[1]").await;
    // In flight across the login: it read the session, and writes after the login cycled it.
    let slow = tokio::spawn({
        let (app, t) = (app.clone(), before.clone());
        async move { app.send("/slow-set/seen/true", Some(&t)).await }
    });
    app.entered.acquire_many(1).await.unwrap().forget();
    let login = app.send("/login/alice", Some(&before)).await;
    let after = login.token().expect("login issues a token");
    // Sent before the browser stored the new cookie, answered after the login.
    let stale = app.send("/get/cart", Some(&before)).await;
    assert_eq!(stale.body, "null");
    assert!(stale.set_cookie.is_empty(), "stale read: {stale:?}");
    app.release.add_permits(1);
    let r = slow.await.unwrap();
    assert_eq!(r.status, 401, "its change was not saved: {r:?}");
    assert!(r.set_cookie.is_empty(), "stale write: {r:?}");
    // A logout with the old token has nothing to end: the new cookie stays too.
    let r = app.send("/logout", Some(&before)).await;
    assert!(r.set_cookie.is_empty(), "stale logout: {r:?}");
    assert_eq!(app.send("/whoami", Some(&after)).await.body, "alice");
    assert_eq!(app.send("/get/cart", Some(&after)).await.body, "[1]");
    // The request that ends the session does clear its cookie.
    assert!(app.send("/logout", Some(&after)).await.clears_cookie());
    assert!(!exists(&store, &after).await);
}
