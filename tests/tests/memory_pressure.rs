//! A full Redis, under each eviction policy, on one server and on every master of a cluster:
//!
//! - `noeviction`: a write that needs memory fails with [`BackendErrorKind::OutOfMemory`] (a
//!   backend failure the layers' failure policies handle), never silently; reads, deletes and
//!   a held lock's renewal and release still work; freeing memory recovers without a restart.
//! - `allkeys-lru`: a held lock is evicted and a second caller takes it: the health probe
//!   says so beforehand (`degraded`, per master).
//! - `volatile-ttl`: every tower-vigil key has a TTL, so it is evicted while another
//!   application's keys without one stay: `volatile-*` does not protect them.
//!
//! The memory backend reports its byte budget and policy the same way, and warns once it
//! has evicted.
//!
//! Each test starts its own server or cluster: a full Redis would break any test sharing it.

use std::time::Duration;

use bytes::Bytes;
use tower_vigil_core::backend::EvictionPolicy;
use tower_vigil_core::health::{self, EVICTED_KEYS, EVICTION_POLICY};
use tower_vigil_core::{Backend, BackendErrorKind, Lock, MemoryBackend, RedisBackend};
use tower_vigil_tests::pressure::{Filled, Pressure};
use tower_vigil_tests::{RedisCluster, RedisServer, fixtures};

const LONG: Duration = Duration::from_secs(600);
/// The limit above what a node uses when the test starts.
const LIMIT: u64 = 2 << 20;

fn b(s: &'static str) -> Bytes {
    Bytes::from_static(s.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_under_memory_pressure() {
    let server = tokio::task::spawn_blocking(RedisServer::start)
        .await
        .unwrap();
    let pressure = Pressure::on_server(&server);
    let backend = fixtures::redis_on(&server.url()).await;
    every_policy(&pressure, &backend, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_under_memory_pressure() {
    let cluster = tokio::task::spawn_blocking(RedisCluster::start)
        .await
        .unwrap();
    let pressure = Pressure::on_cluster(&cluster);
    let backend = fixtures::cluster_on(&cluster.urls()).await;
    every_policy(&pressure, &backend, 3).await;

    // One unsafe master is enough to degrade the cluster, and the warning names it.
    pressure.relieve();
    for i in 0..3 {
        cluster.command(i, &["CONFIG", "SET", "maxmemory-policy", "noeviction"]);
        cluster.command(i, &["CONFIG", "RESETSTAT"]);
    }
    cluster.command(1, &["CONFIG", "SET", "maxmemory", "100mb"]);
    cluster.command(1, &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]);
    let report = health::check(&backend).await;
    assert_eq!(report.status, "degraded", "{report:?}");
    assert_eq!(report.eviction_policy.as_deref(), Some("mixed"));
    assert_eq!(report.warnings.len(), 1, "{report:?}");
    assert_eq!(
        report.warnings[0].node,
        format!("127.0.0.1:{}", cluster.ports()[1])
    );
}

async fn every_policy(pressure: &Pressure, backend: &RedisBackend, masters: usize) {
    // No limit (Redis' default): nothing to warn about.
    let report = health::check(backend).await;
    assert_eq!(report.status, "healthy", "{report:?}");
    assert_eq!(report.nodes.len(), masters, "{report:?}");
    assert_eq!(report.maxmemory, Some(0));
    assert_eq!(report.eviction_policy.as_deref(), Some("noeviction"));

    noeviction_refuses_writes(pressure, backend).await;
    allkeys_lru_evicts_a_held_lock(pressure, backend, masters).await;
    volatile_ttl_evicts_every_vigil_key(pressure, backend).await;
}

async fn noeviction_refuses_writes(pressure: &Pressure, backend: &RedisBackend) {
    backend.set("kept", b("v"), LONG).await.unwrap();
    let lock = Lock::new(backend.clone(), "held", LONG).unwrap();
    let held = lock.try_acquire().await.unwrap().expect("free");
    pressure.limit(LIMIT, "noeviction");
    assert_eq!(pressure.exhaust(), Filled::Refused);

    // Every write that needs memory fails, as out of memory: the caller sees it.
    let oom = |what: &str, kind: BackendErrorKind| {
        assert_eq!(kind, BackendErrorKind::OutOfMemory, "{what}");
    };
    let e = backend.set("new", b("v"), LONG).await.unwrap_err();
    assert!(e.is_unavailable(), "{e}");
    oom("set", e.kind());
    oom(
        "set_nx",
        backend
            .set_nx("new", b("v"), LONG)
            .await
            .unwrap_err()
            .kind(),
    );
    oom(
        "incr_by",
        backend.incr_by("n", 1, LONG).await.unwrap_err().kind(),
    );
    let f = [("f", b("v"))];
    oom(
        "hash_set",
        backend.hash_set("h", &f, LONG).await.unwrap_err().kind(),
    );
    oom(
        "set_add",
        backend
            .set_add("s", &[b("m")], LONG)
            .await
            .unwrap_err()
            .kind(),
    );
    let other = Lock::new(backend.clone(), "other", LONG).unwrap();
    oom("lock", other.try_acquire().await.unwrap_err().kind());
    assert_eq!(
        backend.get("new").await.unwrap(),
        None,
        "nothing half-written"
    );
    // What frees memory or needs none still works: reads, deletes, a holder's renewal and
    // release (a full Redis never strands a lock).
    assert_eq!(backend.get("kept").await.unwrap(), Some(b("v")));
    assert!(held.extend().await.unwrap());
    assert!(held.release().await.unwrap());
    assert!(backend.delete("kept").await.unwrap());

    // noeviction is the safe setting: reported, not warned about.
    let report = health::check(backend).await;
    assert_eq!(report.status, "healthy", "{report:?}");
    assert!(report.maxmemory.unwrap() > 0, "{report:?}");
    assert!(
        report
            .nodes
            .iter()
            .all(|n| n.eviction_policy == EvictionPolicy::NoEviction && n.max_memory > 0)
    );

    // Memory freed: the same backend writes again, no restart.
    pressure.relieve();
    backend.set("new", b("v"), LONG).await.unwrap();
    assert!(other.try_acquire().await.unwrap().is_some());
}

async fn allkeys_lru_evicts_a_held_lock(
    pressure: &Pressure,
    backend: &RedisBackend,
    masters: usize,
) {
    let lock = Lock::new(backend.clone(), "evicted", LONG).unwrap();
    let first = lock.try_acquire().await.unwrap().expect("free");
    pressure.limit(LIMIT, "allkeys-lru");

    // Warned about before anything is lost: every master can evict.
    let report = health::check(backend).await;
    assert_eq!(report.status, "degraded", "{report:?}");
    let policy_warnings = report
        .warnings
        .iter()
        .filter(|w| w.code == EVICTION_POLICY)
        .count();
    assert_eq!(policy_warnings, masters, "{report:?}");
    assert!(
        report.warnings[0].message.contains("noeviction"),
        "{report:?}"
    );

    assert_eq!(pressure.exhaust(), Filled::Evicting);
    let second = evicted_until(pressure, async || lock.try_acquire().await.unwrap()).await;
    // Two holders at once: only the fencing token (and a watchdog) can still tell them apart.
    assert!(!first.is_lost(), "the first holder was not told");
    assert!(second.fencing_token() > first.fencing_token());
    let report = health::check(backend).await;
    assert!(
        report.warnings.iter().any(|w| w.code == EVICTED_KEYS),
        "{report:?}"
    );
    assert!(report.evicted_keys.unwrap() > 0);
    drop((first, second));
    pressure.relieve();
}

async fn volatile_ttl_evicts_every_vigil_key(pressure: &Pressure, backend: &RedisBackend) {
    backend.set("record", b("v"), LONG).await.unwrap();
    pressure.limit(LIMIT, "volatile-ttl");
    let report = health::check(backend).await;
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.code == EVICTION_POLICY && w.message.contains("volatile-ttl")),
        "{report:?}"
    );
    let before = pressure.evicted_keys();
    pressure.exhaust();
    evicted_until(pressure, async || {
        backend.get("record").await.unwrap().is_none().then_some(())
    })
    .await;
    assert!(pressure.evicted_keys() > before);
    pressure.relieve();
}

/// Writes filler until `gone` answers, bounded.
async fn evicted_until<T>(pressure: &Pressure, mut gone: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..50 {
        if let Some(v) = gone().await {
            return v;
        }
        pressure.fill_more(8);
    }
    panic!("the key was not evicted");
}

#[tokio::test(start_paused = true)]
async fn the_memory_backend_reports_its_budget_and_warns_once_it_evicts() {
    let backend = MemoryBackend::builder()
        .max_bytes(tower_vigil_core::memory::MIN_MAX_BYTES)
        .build()
        .unwrap();
    let report = health::check(&backend).await;
    assert_eq!(report.status, "healthy", "{report:?}");
    assert_eq!(
        report.eviction_policy.as_deref(),
        Some("concern-fair-share")
    );
    assert_eq!(
        report.maxmemory,
        Some(tower_vigil_core::memory::MIN_MAX_BYTES as u64)
    );
    let value = Bytes::from(vec![0u8; 1024]);
    for i in 0..200 {
        backend
            .set(&format!("flood:{i}"), value.clone(), LONG)
            .await
            .unwrap();
    }
    assert!(backend.evictions() > 0);
    let report = health::check(&backend).await;
    assert_eq!(report.status, "degraded", "{report:?}");
    assert_eq!(report.evicted_keys, Some(backend.evictions()));
    assert_eq!(report.warnings[0].code, EVICTED_KEYS);
    assert_eq!(report.warnings[0].node, "memory");
}
