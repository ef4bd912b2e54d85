//! A master of a 3-master, 3-replica cluster killed under load: its replica is promoted, every
//! layer recovers without a restart, nothing hangs, and what asynchronous replication loses
//! is measured — with and without `wait_for_replicas`.
//!
//! One cluster serves the whole binary; the tests take turns (a failover each) and start by
//! healing what the previous one left (the old master back as a replica).

#![allow(unreachable_pub)] // the modules are this binary's own

mod held_back;
mod layers;
mod load;
mod loss;

use std::time::{Duration, Instant};

use tokio::sync::{Mutex, MutexGuard};
use tower_vigil_core::RedisBackend;
use tower_vigil_tests::{RedisCluster, fixtures, key_slot};

use crate::layers::Layers;

/// The per-call timeout of these backends.
const TIMEOUT: Duration = Duration::from_secs(1);
/// How long a guarded write waits for its replica.
const WAIT_TIMEOUT: Duration = Duration::from_millis(200);
/// A hang check on one layer request (a few backend calls, each bounded by `TIMEOUT`).
const REQUEST_BOUND: Duration = Duration::from_secs(7);
/// How long after the promotion every layer must be answering normally again.
const RECOVERY_BOUND: Duration = Duration::from_secs(15);

/// Held for a whole test: the tests take turns on the one cluster.
static CLUSTER: Mutex<Option<RedisCluster>> = Mutex::const_new(None);

/// The binary's cluster, whole and synced, for this test alone.
async fn cluster() -> MutexGuard<'static, Option<RedisCluster>> {
    let mut guard = CLUSTER.lock().await;
    guard.get_or_insert_with(RedisCluster::with_replicas).heal();
    guard
}

/// A backend on `cluster` under `prefix`; with `wait`, its guarded writes wait for a replica.
async fn backend(cluster: &RedisCluster, wait: bool, prefix: &str) -> RedisBackend {
    let mut builder = RedisBackend::cluster_builder(cluster.urls())
        .prefix(prefix)
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT);
    if wait {
        builder = builder.wait_for_replicas(1, WAIT_TIMEOUT);
    }
    builder.connect().await.unwrap()
}

/// The master serving the slot of `tag`, and that slot.
fn victim(cluster: &RedisCluster, tag: &str) -> (usize, u16) {
    let slot = key_slot(tag);
    (cluster.master_of_slot(slot), slot)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_layer_recovers_from_a_master_failover_under_load() {
    let mut guard = cluster().await;
    let cluster = guard.as_mut().unwrap();
    let backend = backend(cluster, false, &fixtures::unique_prefix()).await;
    let layers = Layers::new(&backend);
    let loads = load::every_layer(&layers);
    tokio::time::sleep(Duration::from_millis(500)).await;

    let (master, slot) = victim(cluster, "failover-under-load");
    let (promoted_node, took) = cluster.fail_over(master, slot);
    let promoted = Instant::now();
    let killed = promoted - took;
    let reports = load::settle(loads, killed, promoted, RECOVERY_BOUND).await;
    // The API-key invalidation subscriptions (pub/sub on one node) are back, and a
    // revocation crosses instances again.
    layers
        .assert_revocation_recovers(tokio::time::Instant::now() + RECOVERY_BOUND)
        .await;
    eprintln!("node {master} killed; node {promoted_node} promoted {took:?} after the kill");
    load::print(&reports, "the kill", "the promotion");
    for r in &reports {
        assert!(r.requests > 0, "{}: no request ran", r.name);
        assert!(
            r.slowest < REQUEST_BOUND,
            "{}: a request took {:?}",
            r.name,
            r.slowest
        );
        assert!(
            r.recovery < RECOVERY_BOUND,
            "{}: failing {:?} after the promotion",
            r.name,
            r.recovery
        );
    }
    cluster.rejoin_as_replica(master);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_locks_and_claims_across_a_failover_under_load() {
    let mut guard = cluster().await;
    let cluster = guard.as_mut().unwrap();
    // One prefix: `plain` checks what `waiting` wrote.
    let prefix = fixtures::unique_prefix();
    let plain = backend(cluster, false, &prefix).await;
    let waiting = backend(cluster, true, &prefix).await;
    let (master, slot) = victim(cluster, "failover-loss");
    let slots = cluster.slots_served_by(master);

    let runs = loss::start_runs(&plain, &waiting, &slots);
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (_, took) = cluster.fail_over(master, slot);
    let killed = Instant::now() - took;
    // Writes after the promotion land on the new master and survive: stop soon after.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let tallies = loss::finish_runs(runs, &plain, killed).await;
    for t in &tallies {
        eprintln!("{t}");
        assert!(
            t.slowest < REQUEST_BOUND,
            "{}: a call took {:?}",
            t.name,
            t.slowest
        );
    }
    for t in tallies.iter().filter(|t| t.waited) {
        assert!(
            t.acknowledged_before_kill > 0,
            "{}: nothing acknowledged",
            t.name
        );
        assert_eq!(t.lost, 0, "{}: acknowledged with WAIT, then lost", t.name);
    }
    cluster.rejoin_as_replica(master);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_replication_held_back_wait_refuses_what_a_failover_would_lose() {
    let mut guard = cluster().await;
    let cluster = guard.as_mut().unwrap();
    // One prefix: `plain` checks what `waiting` wrote.
    let prefix = fixtures::unique_prefix();
    let plain = backend(cluster, false, &prefix).await;
    let waiting = backend(cluster, true, &prefix).await;
    let (master, slot) = victim(cluster, "failover-held-back");
    let slots = cluster.slots_served_by(master);
    let replica = cluster.hold_back_replication(master);

    let before = held_back::held_back_writes(&plain, &waiting, &slots).await;
    held_back::other_calls_are_not_held_up(&waiting, &slots).await;
    let (promoted, _) = cluster.fail_over(master, slot);
    assert_eq!(promoted, replica, "the held-back replica took over");
    let lost = held_back::count_lost(&plain, &before).await;
    eprintln!(
        "replication held back: {} locks and {} claims acknowledged without WAIT, {} and {} \
         lost in the failover; every WAIT-guarded acquire and claim was refused",
        before.locks.len(),
        before.claims.len(),
        lost.0,
        lost.1
    );
    // The replica never saw them: every one is gone, and a second holder gets in.
    assert_eq!(lost, (before.locks.len(), before.claims.len()));
    held_back::fences_still_increase(&plain, &before).await;

    cluster.resume_replication(replica);
    cluster.rejoin_as_replica(master);
    held_back::guarded_writes_work_again(&waiting, &slots).await;
}
