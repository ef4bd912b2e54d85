//! The per-user index: revoke-all and listing, and (issue 12, item 6) an index that holds a
//! user's live sessions, not every login they ever made.

use std::time::Duration;

use futures_util::future::join_all;
use futures_util::{StreamExt, stream};
use tokio::time::sleep;
use tower_vigil_session::__private::{INDEX_GRACE, index_members, user_index_key};
use tower_vigil_session::SessionManagerLayer;

use crate::common::{App, Fixture, admin, exists, id_hash, timed_layer};

pub(crate) async fn revoke_all_touches_only_that_users_sessions<S: Fixture>(
    store: S,
    _unit: Duration,
) {
    const OTHERS: usize = 2_000;
    let app = App::new(SessionManagerLayer::new(store.clone()));
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
    let before = store.key_count().await;
    assert_eq!(
        before,
        OTHERS * 2 + 2 + 1,
        "a session and an index per user"
    );

    let admin = admin(&store);
    assert_eq!(admin.destroy_user_sessions("alice").await.unwrap(), 2);
    // Exactly alice's two sessions and her index went.
    assert_eq!(store.key_count().await, before - 3);
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
    assert_eq!(admin.destroy_user_sessions("alice").await.unwrap(), 0);
}

pub(crate) async fn list_user_sessions_reports_live_sessions<S: Fixture>(
    store: S,
    _unit: Duration,
) {
    let app = App::new(SessionManagerLayer::new(store.clone()));
    let admin = admin(&store);
    let a = app.login("bob:{x}").await;
    let b = app.login("bob:{x}").await;
    app.login("bob").await;
    let listed = admin.list_user_sessions("bob:{x}").await.unwrap();
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
    // One device signed out by its id hash; another user's hash is refused.
    let carol = app.login("carol").await;
    assert!(
        !admin
            .destroy_user_session("bob:{x}", &id_hash(&carol))
            .await
            .unwrap()
    );
    assert!(
        admin
            .destroy_user_session("bob:{x}", &id_hash(&b))
            .await
            .unwrap()
    );
    assert!(
        !admin
            .destroy_user_session("bob:{x}", &id_hash(&b))
            .await
            .unwrap()
    );
    assert!(
        !admin
            .destroy_user_session("bob:{x}", "not-a-hash")
            .await
            .unwrap()
    );
    assert_eq!(app.send("/whoami", Some(&b)).await.body, "");
    assert_eq!(app.send("/whoami", Some(&carol)).await.body, "carol");
    app.send("/logout", Some(&a)).await;
    assert!(
        admin
            .list_user_sessions("bob:{x}")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(admin.list_user_sessions("bob").await.unwrap().len(), 1);
}

/// A user who logs in again and again, each session left to expire while one stays in use:
/// the index lists the live sessions only (it is pruned on every add, not only on listing),
/// and lives no longer than they do.
pub(crate) async fn user_index_stays_bounded_by_live_sessions<S: Fixture>(
    store: S,
    unit: Duration,
) {
    const PER_ROUND: usize = 25;
    // The default shape: an absolute timeout far longer than the idle one.
    let layer = timed_layer(&store, unit, Some(unit * 400));
    let (app, admin) = (App::new(layer.clone()), layer.admin());
    let index = user_index_key("carol");
    // In use throughout, so the index never expires as a whole.
    let kept = app.login("carol").await;
    let idle_past = unit * 5 + INDEX_GRACE;
    for round in 0..4 {
        let tokens: Vec<String> = join_all((0..PER_ROUND).map(|_| app.login("carol"))).await;
        let members = index_members(&store, &index).await.unwrap();
        assert_eq!(
            members.len(),
            PER_ROUND + 1,
            "round {round}: only live sessions"
        );
        let ttl = store.ttl(&index).await.unwrap().expect("index exists");
        assert!(
            ttl <= unit * 4 + INDEX_GRACE,
            "round {round}: index TTL {ttl:?}"
        );
        // Idle past the timeout (and the index's grace): the round's sessions end.
        let started = tokio::time::Instant::now();
        while started.elapsed() < idle_past {
            sleep(unit).await;
            assert_eq!(app.send("/whoami", Some(&kept)).await.body, "carol");
        }
        assert!(!exists(&store, &tokens[0]).await);
    }
    assert_eq!(admin.destroy_user_sessions("carol").await.unwrap(), 1);
    assert_eq!(store.key_count().await, 0, "nothing left");
}

/// Sessions kept busy outlive their index deadline again and again, whether requests read them
/// or only write values without reading, and stay where revoke-all finds them.
pub(crate) async fn active_sessions_renew_their_index_entry<S: Fixture>(store: S, unit: Duration) {
    let layer = timed_layer(&store, unit, None);
    let (app, admin) = (App::new(layer.clone()), layer.admin());
    let reader = app.login("dave").await;
    let writer = app.login("dave").await;
    let idle = app.login("dave").await;
    for i in 0..14 {
        sleep(unit).await;
        assert_eq!(app.send("/whoami", Some(&reader)).await.body, "dave");
        let r = app.send(&format!("/set/n/{i}"), Some(&writer)).await;
        assert_eq!(r.status, 200, "{r:?}");
        assert!(
            r.set_cookie.is_empty(),
            "the writer keeps its session: {r:?}"
        );
    }
    assert!(!exists(&store, &idle).await);
    assert_eq!(app.send("/get/n", Some(&writer)).await.body, "13");
    assert_eq!(admin.list_user_sessions("dave").await.unwrap().len(), 2);
    assert_eq!(admin.destroy_user_sessions("dave").await.unwrap(), 2);
    assert!(!exists(&store, &reader).await && !exists(&store, &writer).await);
}
