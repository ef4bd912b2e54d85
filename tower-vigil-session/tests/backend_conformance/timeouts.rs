//! Idle and absolute timeouts, and the throttled TTL refresh.

use std::time::Duration;

use bytes::Bytes;
use tokio::time::sleep;
use tower_vigil_core::secret::SecretHasher;
use tower_vigil_session::__private::load;

use crate::common::{App, Counts, Fixture, exists, parse, timed_layer};

pub(crate) async fn idle_expiry_and_refresh_on_use<S: Fixture>(store: S, unit: Duration) {
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

pub(crate) async fn absolute_expiry_despite_activity<S: Fixture>(store: S, unit: Duration) {
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

/// A read that finds the session past its absolute expiry while its TTL runs on (as a read
/// on a clock ahead of the store's does) gets no session, and deletes it, whatever the secret.
pub(crate) async fn a_read_past_the_absolute_expiry_deletes_the_session<S: Fixture>(
    store: S,
    unit: Duration,
) {
    let app = App::new(timed_layer(&store, unit, Some(unit * 8)));
    let (t, other) = (
        app.new_session("a", "1").await,
        app.new_session("a", "2").await,
    );
    let keys = [&t, &other].map(|t| parse(t).key(&SecretHasher::sha256()));
    for key in &keys {
        // `_abs` long past, the TTL a full idle window.
        store
            .hash_set(key, &[("_abs", Bytes::from_static(b"1"))], unit * 4)
            .await
            .unwrap();
    }
    assert_eq!(app.send("/get/a", Some(&t)).await.body, "null");
    assert_eq!(store.ttl(&keys[0]).await.unwrap(), None, "deleted");
    // A read with a wrong secret deletes it too (a dead session, whoever asks).
    let h = SecretHasher::sha256();
    let wrong = parse(&t).secret_hash(&h);
    assert!(
        load(&store, &keys[1], Some(&wrong))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.ttl(&keys[1]).await.unwrap(), None, "deleted");
}

pub(crate) async fn ttl_refresh_is_throttled<S: Fixture>(store: S, unit: Duration) {
    let counts = Counts::default();
    let _guard = counts.install();
    let app = App::new(timed_layer(&store, unit, None));
    let t = app.new_session("a", "1").await;
    let loads_before = counts.get(tower_vigil_session::metrics::LOADS_TOTAL);
    let saves_before = counts.get(tower_vigil_session::metrics::SAVES_TOTAL);
    let reads = 100;
    let started = tokio::time::Instant::now();
    for _ in 0..reads {
        sleep(unit * 8 / reads).await;
        assert_eq!(app.send("/get/a", Some(&t)).await.body, "1");
    }
    let refreshes = counts.get(tower_vigil_session::metrics::REFRESHES_TOTAL);
    assert_eq!(
        counts.get(tower_vigil_session::metrics::LOADS_TOTAL) - loads_before,
        u64::from(reads)
    );
    assert_eq!(
        counts.get(tower_vigil_session::metrics::SAVES_TOTAL),
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
