//! Cuts and silent connections: recovery within seconds, subscriptions resume, a black-holed
//! connection is replaced.

use std::time::{Duration, Instant};

use super::support::*;
use bytes::Bytes;
use tower_vigil_core::{Backend, RedisBackend, SubscriptionEvent};
use tower_vigil_tests::fault_proxy::{FaultProxy, NewConnections};
use tower_vigil_tests::{RedisCluster, fixtures};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_recovers_within_seconds_and_a_refusing_cut_after_heal() {
    let (proxy, backend) = proxied().await;
    backend.ping().await.unwrap();

    proxy.cut(NewConnections::Accept);
    let took = time_to_recover(&backend).await;
    eprintln!("standalone: recovered {took:?} after a cut");
    assert!(took < RECOVERY, "recovered after {took:?}");

    let mut sub = backend.subscribe("refused").await.unwrap();
    proxy.cut(NewConnections::Refuse);
    // Refused for two seconds: every call fails fast, the reconnection attempts included.
    let refused = Instant::now();
    while refused.elapsed() < Duration::from_secs(2) {
        fails_within_deadline("get while refused", backend.get("k")).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(next(&mut sub).await, Some(SubscriptionEvent::Lost));
    proxy.heal();
    let took = time_to_recover(&backend).await;
    eprintln!("standalone: recovered {took:?} after a refusing cut healed");
    assert!(took < RECOVERY, "recovered after {took:?}");
    assert_eq!(next(&mut sub).await, Some(SubscriptionEvent::Restored));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_resumes_after_a_cut() {
    let (proxy, backend) = proxied().await;
    // The publisher goes straight to the server: only the subscriber is cut.
    let publisher = RedisBackend::builder(&fixtures::shared_server().url())
        .prefix(backend.prefix().as_str())
        .connect()
        .await
        .unwrap();
    let mut sub = backend.subscribe("revoked").await.unwrap();
    publisher
        .publish("revoked", Bytes::from_static(b"1"))
        .await
        .unwrap();
    assert_eq!(
        next(&mut sub).await,
        Some(SubscriptionEvent::Message(Bytes::from_static(b"1")))
    );

    proxy.cut(NewConnections::Accept);
    let cut = Instant::now();
    assert_eq!(next(&mut sub).await, Some(SubscriptionEvent::Lost));
    assert_eq!(next(&mut sub).await, Some(SubscriptionEvent::Restored));
    eprintln!("subscription restored {:?} after a cut", cut.elapsed());
    publisher
        .publish("revoked", Bytes::from_static(b"2"))
        .await
        .unwrap();
    assert_eq!(
        next(&mut sub).await,
        Some(SubscriptionEvent::Message(Bytes::from_static(b"2")))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_subscription_reports_loss_and_resumes_after_heal() {
    // A partition closes nothing: without a heartbeat the subscriber would wait forever and a
    // cache trusting the stream would miss every revocation published meanwhile.
    let (proxy, backend) = proxied().await;
    let publisher = RedisBackend::builder(&fixtures::shared_server().url())
        .prefix(backend.prefix().as_str())
        .connect()
        .await
        .unwrap();
    let mut sub = backend.subscribe("revoked").await.unwrap();

    proxy.stall();
    let stalled = Instant::now();
    publisher
        .publish("revoked", Bytes::from_static(b"missed"))
        .await
        .unwrap();
    assert_eq!(next(&mut sub).await, Some(SubscriptionEvent::Lost));
    eprintln!("stalled subscription lost after {:?}", stalled.elapsed());

    proxy.heal();
    let healed = Instant::now();
    // The message held by the stall may arrive late, before or after `Restored`.
    loop {
        match next(&mut sub).await {
            Some(SubscriptionEvent::Restored) => break,
            Some(SubscriptionEvent::Message(m)) => assert_eq!(m, Bytes::from_static(b"missed")),
            other => panic!("{other:?}"),
        }
    }
    eprintln!("subscription restored {:?} after heal", healed.elapsed());
    publisher
        .publish("revoked", Bytes::from_static(b"3"))
        .await
        .unwrap();
    loop {
        match next(&mut sub).await {
            Some(SubscriptionEvent::Message(m)) if m == Bytes::from_static(b"3") => break,
            Some(SubscriptionEvent::Message(m)) => assert_eq!(m, Bytes::from_static(b"missed")),
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_black_holed_connection_is_replaced_within_seconds() {
    // The connection stops answering for good and nothing closes it (a NAT that lost its
    // state); a new connection would work. The backend must not wait for TCP to give up
    // (many minutes): it recovers by itself within seconds.
    let (proxy, backend) = proxied().await;
    backend.ping().await.unwrap();
    proxy.black_hole();
    let holed = Instant::now();
    fails_within_deadline("get", backend.get("k")).await;
    let took = time_to_recover(&backend).await;
    eprintln!(
        "black hole: recovered {took:?} after the first timeout, {:?} after the hole",
        holed.elapsed()
    );
    assert!(took < RECOVERY, "recovered after {took:?}");
    assert!(proxy.accepted_connections() >= 2, "on a new connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_black_holed_cluster_connection_is_replaced_within_seconds() {
    let nodes = RedisCluster::start();
    let proxies = FaultProxy::for_cluster(&nodes).await;
    let urls: Vec<String> = proxies.iter().map(FaultProxy::url).collect();
    let backend = cluster(&urls).await;
    seed(&backend, "holed").await;
    for proxy in &proxies {
        proxy.black_hole();
    }
    let holed = Instant::now();
    fails_within_deadline("get", backend.get("holed0")).await;
    let took = time_to_recover(&backend).await;
    eprintln!(
        "cluster black hole: recovered {took:?} after the first timeout, {:?} after the hole",
        holed.elapsed()
    );
    assert!(took < RECOVERY, "recovered after {took:?}");
    assert_eq!(
        gets_answer_their_own_keys(&backend, "holed").await,
        CALLS,
        "on every node"
    );
}
