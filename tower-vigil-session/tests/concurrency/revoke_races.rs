//! Issue 12, item 5: a login racing "log out everywhere" stays indexed, so a later revoke-all
//! ends it.

use std::time::Duration;

use futures_util::future::join_all;
use tower_vigil_session::SessionManagerLayer;

use crate::common::gated::Gated;
use crate::common::{App, Fixture, exists};

/// The racing order of the issue, step by step: the login indexes its session; the revoke-all
/// reads the index and deletes the session, finding nothing; the login creates the session; the
/// revoke-all cleans the index up. The session must still be in the index afterwards, so the
/// next revoke-all ends it.
pub(crate) async fn login_racing_revoke_all_stays_indexed<S: Fixture>(store: S, _unit: Duration) {
    let gated = Gated::new(store.clone());
    let gates = gated.hook().clone();
    let layer = SessionManagerLayer::new(gated);
    let (app, admin) = (App::new(layer.clone()), layer.admin());

    gates.before_create.arm();
    let login = tokio::spawn({
        let app = app.clone();
        async move { app.login("alice").await }
    });
    // The login has indexed its session and stops before creating it.
    gates.before_create.reached().await;
    gates.after_destroy.arm();
    let revoke = tokio::spawn({
        let admin = admin.clone();
        async move { admin.destroy_user_sessions("alice").await }
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
    assert_eq!(admin.list_user_sessions("alice").await.unwrap().len(), 1);
    assert_eq!(admin.destroy_user_sessions("alice").await.unwrap(), 1);
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
    let layer = SessionManagerLayer::new(store.clone());
    let (app, admin) = (App::new(layer.clone()), layer.admin());
    let logins = (0..LOGINS).map(|_| {
        let app = app.clone();
        tokio::spawn(async move { app.login("bob").await })
    });
    let revokes = (0..8).map(|_| {
        let admin = admin.clone();
        tokio::spawn(async move { admin.destroy_user_sessions("bob").await.unwrap() })
    });
    let (tokens, revoked) = tokio::join!(join_all(logins), join_all(revokes));
    let tokens: Vec<String> = tokens.into_iter().map(Result::unwrap).collect();
    let revoked: u64 = revoked.into_iter().map(Result::unwrap).sum();
    let last = admin.destroy_user_sessions("bob").await.unwrap();
    assert_eq!(revoked + last, LOGINS as u64, "each session revoked once");
    for t in &tokens {
        assert!(
            !exists(&store, t).await,
            "a session survived the revoke-all"
        );
    }
    assert!(admin.list_user_sessions("bob").await.unwrap().is_empty());
}
