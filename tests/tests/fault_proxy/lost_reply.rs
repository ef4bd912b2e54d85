//! A call that ran but whose reply was lost leaves no holder behind.

use std::time::Duration;

use super::support::*;
use tower_vigil_core::{Backend, Lock};
use tower_vigil_tests::fixtures;
use tower_vigil_tests::stalling::Stalling;

/// A lease taken whose reply was lost: the lock is free again within seconds, not a lease.
async fn a_lost_acquire_reply_leaves_no_holder<B: Backend>(backend: B) {
    let lossy = Stalling::new(backend.clone());
    lossy.lose_lease_replies();
    let lease = Duration::from_secs(60);
    let lost = Lock::new(lossy, "lost-reply", lease).unwrap();
    assert!(lost.try_acquire().await.is_err(), "the reply is lost");
    let lock = Lock::new(backend, "lost-reply", lease).unwrap();
    let guard = lock.acquire(RECOVERY).await.unwrap();
    guard
        .expect("released in the background")
        .release()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_lost_acquire_reply_leaves_no_holder_in_memory() {
    a_lost_acquire_reply_leaves_no_holder(fixtures::memory()).await;
}

#[tokio::test]
async fn a_lost_acquire_reply_leaves_no_holder_on_redis() {
    a_lost_acquire_reply_leaves_no_holder(fixtures::redis().await).await;
}

#[tokio::test]
async fn a_lost_acquire_reply_leaves_no_holder_on_the_cluster() {
    a_lost_acquire_reply_leaves_no_holder(fixtures::cluster().await).await;
}
