//! The per-user index: revoke-all and listing.

use std::time::Duration;

use futures_util::{StreamExt, stream};
use tower_vigil_session::SessionLayer;

use crate::common::{App, Fixture};
use crate::{app_manager, exists, id_hash};

pub(crate) async fn revoke_all_touches_only_that_users_sessions<S: Fixture>(
    store: S,
    _unit: Duration,
) {
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
    let before = store.key_count().await;
    assert_eq!(
        before,
        OTHERS * 2 + 2 + 1,
        "a session and an index per user"
    );

    let manager = app_manager(&store);
    assert_eq!(manager.destroy_user_sessions("alice").await.unwrap(), 2);
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
    assert_eq!(manager.destroy_user_sessions("alice").await.unwrap(), 0);
}

pub(crate) async fn list_user_sessions_reports_live_sessions<S: Fixture>(
    store: S,
    _unit: Duration,
) {
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
    // One device signed out by its id hash; another user's hash is refused.
    let carol = app.login("carol").await;
    assert!(
        !manager
            .destroy_user_session("bob:{x}", &id_hash(&carol))
            .await
            .unwrap()
    );
    assert!(
        manager
            .destroy_user_session("bob:{x}", &id_hash(&b))
            .await
            .unwrap()
    );
    assert!(
        !manager
            .destroy_user_session("bob:{x}", &id_hash(&b))
            .await
            .unwrap()
    );
    assert!(
        !manager
            .destroy_user_session("bob:{x}", "not-a-hash")
            .await
            .unwrap()
    );
    assert_eq!(app.send("/whoami", Some(&b)).await.body, "");
    assert_eq!(app.send("/whoami", Some(&carol)).await.body, "carol");
    app.send("/logout", Some(&a)).await;
    assert!(
        manager
            .list_user_sessions("bob:{x}")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(manager.list_user_sessions("bob").await.unwrap().len(), 1);
}
