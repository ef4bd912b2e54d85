//! Issue 12, items 5 and 6: a login racing "log out everywhere" stays indexed, and the per-user
//! index holds a user's live sessions, not every login they ever made.

use std::time::Duration;

use futures_util::future::join_all;
use tokio::time::sleep;
use tower_vigil_session::SessionLayer;
use tower_vigil_session::store::INDEX_GRACE;
use tower_vigil_session::token::user_index_key;

use crate::common::gated::Gated;
use crate::common::{App, Fixture};
use crate::{exists, timed_layer};

/// The racing order of the issue, step by step: the login indexes its session; the revoke-all
/// reads the index and deletes the session, finding nothing; the login creates the session; the
/// revoke-all cleans the index up. The session must still be in the index afterwards, so the
/// next revoke-all ends it.
pub(crate) async fn login_racing_revoke_all_stays_indexed<S: Fixture>(store: S, _unit: Duration) {
    let gated = Gated::new(store.clone());
    let gates = gated.gates.clone();
    let layer = SessionLayer::new(gated);
    let (app, manager) = (App::new(layer.clone()), layer.manager());

    gates.before_create.arm();
    let login = tokio::spawn({
        let app = app.clone();
        async move { app.login("alice").await }
    });
    // The login has indexed its session and stops before creating it.
    gates.before_create.reached().await;
    gates.after_destroy.arm();
    let revoke = tokio::spawn({
        let manager = manager.clone();
        async move { manager.destroy_user_sessions("alice").await }
    });
    // The revoke-all read the member and its delete found nothing.
    gates.after_destroy.reached().await;
    gates.before_create.open();
    let token = login.await.unwrap();
    gates.after_destroy.open();
    assert_eq!(
        revoke.await.unwrap().unwrap(),
        0,
        "nothing was live to revoke"
    );

    // The overlapping login took effect after the revoke-all, and is still indexed.
    assert!(exists(&store, &token).await);
    assert_eq!(manager.list_user_sessions("alice").await.unwrap().len(), 1);
    assert_eq!(manager.destroy_user_sessions("alice").await.unwrap(), 1);
    assert!(
        !exists(&store, &token).await,
        "a later revoke-all must end it"
    );
    assert_eq!(app.send("/whoami", Some(&token)).await.body, "");
}

/// Many logins racing several revoke-alls at once; one more revoke-all afterwards leaves no
/// session of the user alive.
pub(crate) async fn logins_racing_revoke_all_leave_no_live_session<S: Fixture>(
    store: S,
    _unit: Duration,
) {
    const LOGINS: usize = 200;
    let layer = SessionLayer::new(store.clone());
    let (app, manager) = (App::new(layer.clone()), layer.manager());
    let logins = (0..LOGINS).map(|_| {
        let app = app.clone();
        tokio::spawn(async move { app.login("bob").await })
    });
    let revokes = (0..8).map(|_| {
        let manager = manager.clone();
        tokio::spawn(async move { manager.destroy_user_sessions("bob").await.unwrap() })
    });
    let (tokens, revoked) = tokio::join!(join_all(logins), join_all(revokes));
    let tokens: Vec<String> = tokens.into_iter().map(Result::unwrap).collect();
    let revoked: u64 = revoked.into_iter().map(Result::unwrap).sum();
    let last = manager.destroy_user_sessions("bob").await.unwrap();
    assert_eq!(revoked + last, LOGINS as u64, "each session revoked once");
    for t in &tokens {
        assert!(
            !exists(&store, t).await,
            "a session survived the revoke-all"
        );
    }
    assert!(manager.list_user_sessions("bob").await.unwrap().is_empty());
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
    let (app, manager) = (App::new(layer.clone()), layer.manager());
    let index = user_index_key("carol");
    // In use throughout, so the index never expires as a whole.
    let kept = app.login("carol").await;
    let idle_past = unit * 5 + INDEX_GRACE;
    for round in 0..4 {
        let tokens: Vec<String> = join_all((0..PER_ROUND).map(|_| app.login("carol"))).await;
        let members = store.index_members(&index).await.unwrap();
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
    assert_eq!(manager.destroy_user_sessions("carol").await.unwrap(), 1);
    assert_eq!(store.key_count().await, 0, "nothing left");
}

/// Sessions kept busy outlive their index deadline again and again, whether requests read them
/// or only write values without reading, and stay where revoke-all finds them.
pub(crate) async fn active_sessions_renew_their_index_entry<S: Fixture>(store: S, unit: Duration) {
    let layer = timed_layer(&store, unit, None);
    let (app, manager) = (App::new(layer.clone()), layer.manager());
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
    assert_eq!(manager.list_user_sessions("dave").await.unwrap().len(), 2);
    assert_eq!(manager.destroy_user_sessions("dave").await.unwrap(), 2);
    assert!(!exists(&store, &reader).await && !exists(&store, &writer).await);
}
