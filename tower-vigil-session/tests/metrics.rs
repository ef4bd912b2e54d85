//! Every metric in `metrics` has a description (and unit) registered once a layer is built,
//! so a `/metrics` exporter prints its `# HELP` line; every store call is timed in the
//! latency histogram, by operation; a logout counts as a destroy and a revocation as a
//! revocation, never as a save. On memory, Redis and the cluster.

mod common;

use tower_vigil_core::Backend;
use tower_vigil_session::SessionManagerLayer;
use tower_vigil_session::metrics::{
    ALL, BACKEND_DURATION_SECONDS, DESTROYS_TOTAL, REVOCATIONS_TOTAL, SAVES_TOTAL,
};
use tower_vigil_tests::fixtures;

use common::{App, Counts};

#[test]
fn building_a_layer_describes_every_metric() {
    let counts = Counts::default();
    counts.run(|| async {
        let _layer = SessionManagerLayer::new(fixtures::memory());
    });
    counts.assert_described(&ALL);
}

async fn ends_are_told_apart_and_store_calls_timed<B: Backend>(counts: &Counts, store: B) {
    let layer = SessionManagerLayer::new(store);
    let admin = layer.admin();
    let app = App::new(layer);
    let user = format!("u{}", fixtures::unique_prefix().replace(':', ""));

    let token = app.login(&user).await;
    assert_eq!(app.send("/whoami", Some(&token)).await.body, user);
    let saves = counts.get(SAVES_TOTAL);
    assert!(saves >= 1, "a login saves");
    assert_eq!(app.send("/logout", Some(&token)).await.status, 200);
    assert_eq!(counts.get(DESTROYS_TOTAL), 1, "a logout destroys");
    assert_eq!(counts.get(SAVES_TOTAL), saves, "a logout is no save");

    app.login(&user).await;
    app.login(&user).await;
    let saves = counts.get(SAVES_TOTAL);
    assert_eq!(admin.destroy_user_sessions(&user).await.unwrap(), 2);
    assert_eq!(counts.get(REVOCATIONS_TOTAL), 2);
    assert_eq!(counts.get(SAVES_TOTAL), saves, "a revocation is no save");

    let timed = counts.histogram_series(BACKEND_DURATION_SECONDS);
    for op in ["create", "destroy", "index_members", "index_remove", "load"] {
        let series = format!("{BACKEND_DURATION_SECONDS}{{op={op}}}");
        assert!(timed.contains(&series), "{op} not timed: {timed:?}");
    }
}

#[test]
fn ends_and_store_calls_on_memory() {
    let counts = Counts::default();
    counts.run(|| ends_are_told_apart_and_store_calls_timed(&counts, fixtures::memory()));
}

#[test]
fn ends_and_store_calls_on_redis() {
    let counts = Counts::default();
    counts.run(|| async {
        ends_are_told_apart_and_store_calls_timed(&counts, fixtures::redis().await).await
    });
}

#[test]
fn ends_and_store_calls_on_cluster() {
    let counts = Counts::default();
    counts.run(|| async {
        ends_are_told_apart_and_store_calls_timed(&counts, fixtures::cluster().await).await
    });
}
