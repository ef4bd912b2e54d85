//! Lifecycle and session fixation.

use std::time::Duration;

use tower_vigil_session::SessionManagerLayer;

use crate::common::{App, Fixture, admin, exists, id_hash};

pub(crate) async fn lifecycle<S: Fixture>(store: S, _unit: Duration) {
    let app = App::new(SessionManagerLayer::new(store.clone()));
    // No token, no session use: no cookie, nothing stored.
    let r = app.send("/noop", None).await;
    assert!(r.set_cookie.is_empty());
    assert_eq!(store.key_count().await, 0);
    // Reading without a token creates nothing either.
    let r = app.send("/get/a", None).await;
    assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "null"));
    assert!(r.set_cookie.is_empty());

    let r = app.send("/set/a/1", None).await;
    let cookie = &r.set_cookie[0];
    for attr in [
        "Path=/",
        "HttpOnly",
        "Secure",
        "SameSite=Lax",
        "Max-Age=604800",
    ] {
        assert!(cookie.contains(attr), "{cookie} lacks {attr}");
    }
    let t = r.token().unwrap();
    assert_eq!(t.len(), 65);
    assert_eq!(app.send("/get/a", Some(&t)).await.body, "1");
    // A change keeps the token: no new cookie.
    let r = app.send("/set/b/{\"x\":[1,2]}", Some(&t)).await;
    assert!(r.set_cookie.is_empty());
    assert_eq!(app.send("/get/b", Some(&t)).await.body, "{\"x\":[1,2]}");
    app.send("/remove/a", Some(&t)).await;
    assert_eq!(app.send("/get/a", Some(&t)).await.body, "null");
    assert_eq!(app.send("/get/b", Some(&t)).await.body, "{\"x\":[1,2]}");

    let r = app.send("/logout", Some(&t)).await;
    assert_eq!(r.status, 200);
    assert!(r.clears_cookie());
    assert!(!exists(&store, &t).await);
    assert_eq!(app.send("/get/b", Some(&t)).await.body, "null");
    assert_eq!(store.key_count().await, 0);
}

pub(crate) async fn fixation_cycle_id_kills_the_old_token<S: Fixture>(store: S, _unit: Duration) {
    let app = App::new(SessionManagerLayer::new(store.clone()));
    let old = app.new_session("cart", "[1]").await;
    let created = app.send("/meta", Some(&old)).await.body;
    let r = app.send("/cycle", Some(&old)).await;
    let new = r.token().expect("a cycled id sets a new cookie");
    assert_ne!(new, old);
    assert!(!exists(&store, &old).await, "the old token must be dead");
    assert!(exists(&store, &new).await);
    // Same stored session (same id hash), new secret: one key, changed in place.
    assert_eq!(id_hash(&new), id_hash(&old));
    assert_eq!(store.key_count().await, 1);
    // The old token can neither write to nor log out the session.
    let r = app.send("/set/cart/[666]", Some(&old)).await;
    assert_ne!(r.token(), Some(old.clone()));
    app.send("/logout", Some(&old)).await;
    assert!(exists(&store, &new).await);
    let r = app.send("/get/cart", Some(&old)).await;
    assert_eq!(r.body, "null");
    assert!(
        r.set_cookie.is_empty(),
        "a stale token's cookie is left alone"
    );
    assert_eq!(app.send("/get/cart", Some(&new)).await.body, "[1]");
    // The creation time (and so the absolute expiry) moves with the session.
    let meta = app.send("/meta", Some(&new)).await.body;
    assert_eq!(meta.split(' ').next(), created.split(' ').next());

    // Login cycles too and keeps the data.
    let r = app.send("/login/alice", Some(&new)).await;
    let logged = r.token().unwrap();
    assert_ne!(logged, new);
    assert!(!exists(&store, &new).await);
    assert_eq!(app.send("/whoami", Some(&logged)).await.body, "alice");
    assert_eq!(app.send("/get/cart", Some(&logged)).await.body, "[1]");
    let listed = admin(&store).list_user_sessions("alice").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id_hash, id_hash(&logged));
    // The listing carries the session's values (a device's user agent, say), typed.
    assert_eq!(listed[0].get::<Vec<u32>>("cart"), Some(vec![1]));
    assert_eq!(listed[0].get::<String>("cart"), None, "not a string");
    assert_eq!(listed[0].get::<Vec<u32>>("absent"), None);
    assert_eq!(
        listed[0].get::<String>("_user"),
        None,
        "metadata is not a value"
    );
}
