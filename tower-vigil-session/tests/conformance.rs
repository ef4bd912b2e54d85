//! The session behaviour, written once and run on memory (paused clock), Redis and the
//! 3-master Redis Cluster.

mod common;

use std::time::Duration;

use futures_util::{StreamExt, stream};

use tokio::time::sleep;
use tower_vigil_core::secret::SecretHasher;
use tower_vigil_session::token::SessionToken;
use tower_vigil_session::{SessionLayer, SessionStore};

use common::{App, Counts, Fixture};

fn parse(token: &str) -> SessionToken {
    SessionToken::parse(token).expect("token")
}

fn id_hash(token: &str) -> String {
    parse(token).id_hash(&SecretHasher::sha256())
}

/// True when `token` opens a live session.
async fn exists<S: SessionStore>(store: &S, token: &str) -> bool {
    let (t, h) = (parse(token), SecretHasher::sha256());
    store
        .load(&t.key(&h), Some(&t.secret_hash(&h)))
        .await
        .unwrap()
        .is_some()
}

on_every_backend!(
    lifecycle,
    fixation_cycle_id_kills_the_old_token,
    idle_expiry_and_refresh_on_use,
    absolute_expiry_despite_activity,
    ttl_refresh_is_throttled,
    concurrent_writes_to_different_fields_are_both_kept,
    logout_racing_a_write_does_not_resurrect,
    revoke_all_touches_only_that_users_sessions,
    list_user_sessions_reports_live_sessions,
    bad_cookies_give_no_session_and_no_backend_call,
    no_raw_token_anywhere_in_the_store,
);

async fn lifecycle<S: Fixture>(store: S, _unit: Duration) {
    let app = App::new(SessionLayer::new(store.clone()));
    // No token, no session use: no cookie, nothing stored.
    let r = app.send("/noop", None).await;
    assert!(r.set_cookie.is_empty());
    assert_eq!(store.key_count(), 0);
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
    assert_eq!(store.key_count(), 0);
}

async fn fixation_cycle_id_kills_the_old_token<S: Fixture>(store: S, _unit: Duration) {
    let app = App::new(SessionLayer::new(store.clone()));
    let old = app.new_session("cart", "[1]").await;
    let created = app.send("/meta", Some(&old)).await.body;
    let r = app.send("/cycle", Some(&old)).await;
    let new = r.token().expect("a cycled id sets a new cookie");
    assert_ne!(new, old);
    assert!(!exists(&store, &old).await, "the old token must be dead");
    assert!(exists(&store, &new).await);
    // Same stored session (same id hash), new secret: one key, changed in place.
    assert_eq!(id_hash(&new), id_hash(&old));
    assert_eq!(store.key_count(), 1);
    // The old token can neither write to nor log out the session.
    let r = app.send("/set/cart/[666]", Some(&old)).await;
    assert_ne!(r.token(), Some(old.clone()));
    app.send("/logout", Some(&old)).await;
    assert!(exists(&store, &new).await);
    let r = app.send("/get/cart", Some(&old)).await;
    assert_eq!(r.body, "null");
    assert!(r.clears_cookie(), "a dead token's cookie is cleared");
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
    let listed = app_manager(&store)
        .list_user_sessions("alice")
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id_hash, id_hash(&logged));
}

fn app_manager<S: Fixture>(store: &S) -> tower_vigil_session::SessionManager {
    SessionLayer::new(store.clone()).manager()
}

fn timed_layer<S: Fixture>(store: &S, unit: Duration, absolute: Option<Duration>) -> SessionLayer {
    SessionLayer::new(store.clone())
        .idle_timeout(unit * 4)
        .unwrap()
        .absolute_timeout(absolute)
        .unwrap()
}

async fn idle_expiry_and_refresh_on_use<S: Fixture>(store: S, unit: Duration) {
    let app = App::new(timed_layer(&store, unit, None));
    let used = app.new_session("a", "1").await;
    let idle = app.new_session("a", "2").await;
    // Used every unit for three idle windows: it stays.
    for _ in 0..12 {
        sleep(unit).await;
        assert_eq!(app.send("/get/a", Some(&used)).await.body, "1");
    }
    // Unused for more than an idle window: gone.
    assert!(!exists(&store, &idle).await);
    assert_eq!(app.send("/get/a", Some(&idle)).await.body, "null");
    sleep(unit * 5).await;
    assert!(!exists(&store, &used).await);
}

async fn absolute_expiry_despite_activity<S: Fixture>(store: S, unit: Duration) {
    let app = App::new(timed_layer(&store, unit, Some(unit * 8)));
    let t = app.new_session("a", "1").await;
    // Past one idle window thanks to refreshes...
    for _ in 0..5 {
        sleep(unit).await;
        assert_eq!(app.send("/get/a", Some(&t)).await.body, "1");
    }
    // ...but not past the absolute timeout, however active.
    for _ in 0..4 {
        sleep(unit).await;
        app.send("/set/b/2", Some(&t)).await;
    }
    sleep(unit / 2).await;
    assert_eq!(app.send("/get/a", Some(&t)).await.body, "null");
    assert!(!exists(&store, &t).await);
}

async fn ttl_refresh_is_throttled<S: Fixture>(store: S, unit: Duration) {
    let counts = Counts::default();
    let _guard = counts.install();
    let app = App::new(timed_layer(&store, unit, None));
    let t = app.new_session("a", "1").await;
    let loads_before = counts.get("vigil_session_loads_total");
    let saves_before = counts.get("vigil_session_saves_total");
    let reads = 100;
    let started = tokio::time::Instant::now();
    for _ in 0..reads {
        sleep(unit * 8 / reads).await;
        assert_eq!(app.send("/get/a", Some(&t)).await.body, "1");
    }
    let refreshes = counts.get("vigil_session_refreshes_total");
    assert_eq!(
        counts.get("vigil_session_loads_total") - loads_before,
        u64::from(reads)
    );
    assert_eq!(
        counts.get("vigil_session_saves_total"),
        saves_before,
        "reads never save"
    );
    // At most one refresh per quarter idle window (`unit`) of reading — at least 8 units,
    // more on a slow machine — and at least one per idle window so the session stays alive.
    let units = (started.elapsed().as_secs_f64() / unit.as_secs_f64()) as u64;
    assert!(
        (2..=units + 1).contains(&refreshes),
        "{refreshes} refreshes for {reads} reads over {units} units"
    );
}

async fn concurrent_writes_to_different_fields_are_both_kept<S: Fixture>(
    store: S,
    _unit: Duration,
) {
    let app = App::new(SessionLayer::new(store.clone()));
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

async fn logout_racing_a_write_does_not_resurrect<S: Fixture>(store: S, _unit: Duration) {
    let app = App::new(SessionLayer::new(store.clone()));
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
    assert!(r.clears_cookie());
    assert!(
        !exists(&store, &t).await,
        "the write brought the session back"
    );
    assert_eq!(app.send("/whoami", Some(&t)).await.body, "");
    assert_eq!(store.key_count(), 0);

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

async fn revoke_all_touches_only_that_users_sessions<S: Fixture>(store: S, _unit: Duration) {
    const OTHERS: usize = 2_000;
    let app = App::new(SessionLayer::new(store.clone()));
    let others: Vec<String> = stream::iter(0..OTHERS)
        .map(|i| {
            let app = app.clone();
            async move { app.login(&format!("user-{i}")).await }
        })
        .buffered(50)
        .collect()
        .await;
    let mut alice = Vec::new();
    for _ in 0..3 {
        alice.push(app.login("alice").await);
    }
    // One of alice's sessions already ended: it is not counted.
    app.send("/logout", Some(&alice[2])).await;
    let before = store.key_count();
    assert_eq!(
        before,
        OTHERS * 2 + 2 + 1,
        "a session and an index per user"
    );

    let manager = app_manager(&store);
    assert_eq!(manager.destroy_user_sessions("alice").await.unwrap(), 2);
    // Exactly alice's two sessions and her index went.
    assert_eq!(store.key_count(), before - 3);
    for t in &alice {
        assert!(!exists(&store, t).await);
        assert_eq!(app.send("/whoami", Some(t)).await.body, "");
    }
    for i in (0..OTHERS).step_by(97) {
        assert_eq!(
            app.send("/whoami", Some(&others[i])).await.body,
            format!("user-{i}")
        );
    }
    assert_eq!(manager.destroy_user_sessions("alice").await.unwrap(), 0);
}

async fn list_user_sessions_reports_live_sessions<S: Fixture>(store: S, _unit: Duration) {
    let app = App::new(SessionLayer::new(store.clone()));
    let manager = app_manager(&store);
    let a = app.login("bob:{x}").await;
    let b = app.login("bob:{x}").await;
    app.login("bob").await;
    let listed = manager.list_user_sessions("bob:{x}").await.unwrap();
    assert_eq!(listed.len(), 2);
    let mut hashes: Vec<_> = listed.iter().map(|s| s.id_hash.clone()).collect();
    hashes.sort();
    let mut want = vec![id_hash(&a), id_hash(&b)];
    want.sort();
    assert_eq!(hashes, want);
    assert!(
        listed
            .iter()
            .all(|s| s.user_id == "bob:{x}" && s.absolute_expiry.is_some())
    );
    assert!(listed[0].created_at <= listed[1].created_at);
    app.send("/logout", Some(&a)).await;
    assert_eq!(
        manager.list_user_sessions("bob:{x}").await.unwrap().len(),
        1
    );
    assert_eq!(manager.list_user_sessions("bob").await.unwrap().len(), 1);
}

async fn bad_cookies_give_no_session_and_no_backend_call<S: Fixture>(store: S, _unit: Duration) {
    let counts = Counts::default();
    let _guard = counts.install();
    let app = App::new(SessionLayer::new(store.clone()));
    let good = app.new_session("a", "1").await;
    let loads = counts.get("vigil_session_loads_total");
    let oversized = format!("vigil_session={good}; pad={}", "x".repeat(20_000));
    let huge_value = format!("vigil_session={good}{}", "A".repeat(5000));
    let bad: Vec<String> = vec![
        "vigil_session=garbage".into(),
        "vigil_session=".into(),
        "vigil_session".into(),
        format!("vigil_session={}", &good[..64]),
        format!("vigil_session={good}x"),
        format!(
            "vigil_session={}",
            good.replace(|c: char| c.is_ascii_alphanumeric(), "%")
        ),
        format!("vigil_session=\"{}!\"", &good[..64]),
        "vigil_session=a.b.c; ;;==; =".into(),
        oversized,
        huge_value,
    ];
    for cookie in &bad {
        let r = app.send_raw("/get/a", &[("cookie", cookie.as_str())]).await;
        assert_eq!(
            (r.status.as_u16(), r.body.as_str()),
            (200, "null"),
            "{cookie}"
        );
        assert!(r.set_cookie.is_empty(), "{cookie}");
    }
    assert_eq!(
        counts.get("vigil_session_loads_total"),
        loads,
        "a malformed token reached the backend"
    );
    // Non-UTF-8 bytes in the header.
    let r = {
        use http::HeaderValue;
        let v = HeaderValue::from_bytes(b"vigil_session=\xff\xfe").unwrap();
        app.send_raw(
            "/get/a",
            &[("cookie", v.to_str().unwrap_or("vigil_session=\u{fffd}"))],
        )
        .await
    };
    assert_eq!(r.status, 200);
    // Well-formed but tampered tokens (session id part, secret part): a load each, no
    // session, the cookie cleared, and the real session untouched even by a logout.
    for at in [0, 64] {
        let mut tampered = good.clone().into_bytes();
        tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        let r = app.send("/get/a", Some(&tampered)).await;
        assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "null"));
        assert!(r.clears_cookie());
        assert_eq!(app.send("/logout", Some(&tampered)).await.status, 200);
    }
    assert!(exists(&store, &good).await);
    // A session is never created for a bad token; writing with one starts a fresh session.
    let r = app
        .send_raw("/set/z/1", &[("cookie", "vigil_session=garbage")])
        .await;
    assert_ne!(r.token().unwrap(), "garbage");
    // The good session is intact; with a duplicate bad cookie first, the good one is used.
    let both = format!("vigil_session=garbage; vigil_session={good}");
    assert_eq!(
        app.send_raw("/get/a", &[("cookie", both.as_str())])
            .await
            .body,
        "1"
    );
}

async fn no_raw_token_anywhere_in_the_store<S: Fixture>(store: S, _unit: Duration) {
    let app = App::new(SessionLayer::new(store.clone()));
    let mut tokens = vec![app.new_session("a", "1").await, app.login("carol").await];
    let r = app.send("/cycle", Some(&tokens[0])).await;
    tokens.push(r.token().unwrap());
    app.send("/set/note/\"hello\"", Some(&tokens[1])).await;
    let Some(dump) = store.dump() else {
        // The memory store cannot be enumerated from outside; it holds the same fields.
        return;
    };
    let keys: Vec<&String> = dump.iter().map(|d| &d.0).collect();
    assert_eq!(
        dump.len(),
        3,
        "two sessions (one cycled in place) and carol's index: {keys:?}"
    );
    // Neither a whole token nor its session-id or secret part appears anywhere.
    let parts: Vec<&str> = tokens
        .iter()
        .flat_map(|t| [t.as_str(), &t[..22], &t[22..]])
        .collect();
    for (key, values) in &dump {
        for p in &parts {
            assert!(!key.contains(p), "raw token part in key {key}");
            for v in values {
                let v = String::from_utf8_lossy(v);
                assert!(!v.contains(p), "raw token part in value of {key}");
            }
        }
    }
}
