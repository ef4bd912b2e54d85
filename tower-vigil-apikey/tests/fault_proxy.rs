//! API keys on a Redis that stops answering without closing anything (a stall through the
//! fault proxy, a frozen cluster), then heals late, or has its connections cut:
//! - every answer keeps its deadline (the store is asked first; 503 when it fails too),
//! - a late L2 reply is never taken for another key's record,
//! - the shared tier and revocation by pub/sub work again within seconds, without a restart,
//!   and a revocation published while this instance is partitioned takes effect within
//!   seconds, not an L1 TTL later.

mod common;

use std::time::{Duration, Instant};

use common::{TestStore, add_key, service, status};
use tower_vigil_apikey::{ApiKeyCache, ApiKeyData, ApiKeyLayer, KeyStatus};
use tower_vigil_core::{Backend, RedisBackend};
use tower_vigil_tests::faults::{self, Faulty};

/// Keys looked up at once.
const KEYS: usize = 20;

fn raw(tag: &str, i: usize) -> String {
    format!("fault-{tag}-key-{i:02}-abcdefgh")
}

fn id(tag: &str, i: usize) -> String {
    format!("{tag}-{i}")
}

/// A cache whose L1 expires at once and that never serves stale entries: with the store
/// failing, an answer can only come from the shared tier (L2).
async fn l2_only(backend: RedisBackend, store: &TestStore) -> ApiKeyCache<RedisBackend, TestStore> {
    ApiKeyCache::builder(backend, store.clone())
        .l1_ttl(Duration::ZERO)
        .stale_if_error(Duration::ZERO)
        .build()
        .unwrap()
}

/// Authenticates every key `tag` at once, each within the deadline; every key accepted must
/// be its own. Returns how many were accepted.
async fn answers_are_their_own(
    cache: &ApiKeyCache<RedisBackend, TestStore>,
    tag: &'static str,
) -> usize {
    let calls: Vec<_> = (0..KEYS)
        .map(|i| {
            let cache = cache.clone();
            tokio::spawn(async move {
                let key = raw(tag, i);
                faults::within_deadline("check_key", cache.check_key(&key)).await
            })
        })
        .collect();
    let mut accepted = 0;
    for (i, call) in calls.into_iter().enumerate() {
        match call.await.unwrap() {
            KeyStatus::Valid(found) => {
                assert_eq!(found.data().id, id(tag, i), "key {tag} {i}");
                accepted += 1;
            }
            other => assert!(
                matches!(other, KeyStatus::Unavailable(_)),
                "key {tag} {i}: {other:?}"
            ),
        }
    }
    accepted
}

async fn stall_then_heal(mut redis: Faulty, backend: RedisBackend) {
    let store = TestStore::default();
    let cache = l2_only(backend.clone(), &store).await;
    for tag in ["early", "later"] {
        for i in 0..KEYS {
            add_key(
                &cache,
                &store,
                &raw(tag, i),
                ApiKeyData::new(id(tag, i), "u-1"),
            );
        }
        assert_eq!(answers_are_their_own(&cache, tag).await, KEYS, "filled");
    }
    let svc = service(ApiKeyLayer::new(cache.clone()));

    redis.stall();
    // The store is asked first: every key is still checked, within the deadline.
    assert_eq!(answers_are_their_own(&cache, "early").await, KEYS);
    let other = raw("x", 0);
    let invalidated = faults::within_deadline("invalidate", cache.invalidate_key(&other));
    assert!(invalidated.await.is_err());
    // With the store failing too, the policy is 503, within the deadline.
    store.set_failing(true);
    assert_eq!(answers_are_their_own(&cache, "early").await, 0);
    let code = faults::within_deadline("layer", status(&svc, &raw("early", 1))).await;
    assert_eq!(code, 503);

    redis.heal();
    // Held L2 reads for the early keys arrive late while the later keys are looked up.
    let took = faults::recovery(&format!("{} api keys from L2", redis.name()), async || {
        answers_are_their_own(&cache, "later").await == KEYS
    })
    .await;
    assert!(took < faults::RECOVERY);
    redis.cut();
    faults::recovery(
        &format!("{} api keys from L2 after a cut", redis.name()),
        async || answers_are_their_own(&cache, "later").await == KEYS,
    )
    .await;
    if redis.black_hole() {
        faults::recovery(
            &format!("{} api keys from L2 after a black hole", redis.name()),
            async || answers_are_their_own(&cache, "later").await == KEYS,
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_stalled_healed_and_cut() {
    let (redis, backend) = Faulty::standalone().await;
    stall_then_heal(redis, backend).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_frozen_and_thawed() {
    let (redis, backend) = Faulty::cluster().await;
    stall_then_heal(redis, backend).await;
}

/// Two instances on one store: `here` behind the fault (default L1 TTL, 30 s), `there` past
/// the proxy (on a cluster, a cut reaches both), sharing the prefix.
struct Instances {
    store: TestStore,
    here_backend: RedisBackend,
    here: ApiKeyCache<RedisBackend, TestStore>,
    there: ApiKeyCache<RedisBackend, TestStore>,
}

async fn instances(redis: &Faulty, backend: RedisBackend) -> Instances {
    let direct = redis.direct(&backend).await;
    let store = TestStore::default();
    let here_backend = backend.clone();
    let here = ApiKeyCache::builder(backend, store.clone())
        .build()
        .unwrap();
    let there = ApiKeyCache::builder(direct, store.clone()).build().unwrap();
    here.ready().await;
    there.ready().await;
    Instances {
        store,
        here_backend,
        here,
        there,
    }
}

impl Instances {
    /// Revokes `key` in the store and through `there`; returns how long until `here` rejects
    /// it (every answer within the deadline).
    async fn revoke(&self, key: &str) -> Duration {
        self.store.keys.remove(&self.here.hash_key(key));
        // The admin retries until the revocation is published (a cut cluster connection
        // fails its first call).
        faults::recovery("publishing the revocation", async || {
            self.there.invalidate_key(key).await.is_ok()
        })
        .await;
        let revoked = Instant::now();
        faults::recovery("revocation reaching the other instance", async || {
            let answer = faults::within_deadline("check_key", self.here.check_key(key));
            !answer.await.is_valid()
        })
        .await;
        revoked.elapsed()
    }
}

async fn revocation_by_pub_sub_resumes_after_a_cut(redis: Faulty, backend: RedisBackend) {
    let both = instances(&redis, backend).await;
    let key = raw("cut", 0);
    add_key(
        &both.here,
        &both.store,
        &key,
        ApiKeyData::new("k-cut", "u-1"),
    );
    let losses = both.here.stats().subscription_losses;

    redis.cut();
    let cut = Instant::now();
    faults::recovery(
        &format!("{} api-key subscription after a cut", redis.name()),
        async || {
            let stats = both.here.stats();
            stats.subscription_losses > losses && stats.subscribed
        },
    )
    .await;
    // Cached (and trusted) after the subscription came back: only a message can evict it.
    assert!(both.here.check_key(&key).await.is_valid());
    let lookups = both.store.lookups();
    assert!(both.here.check_key(&key).await.is_valid());
    assert_eq!(both.store.lookups(), lookups, "served from L1");
    let took = both.revoke(&key).await;
    eprintln!(
        "revocation by pub/sub {took:?} after it was published, {:?} after the cut",
        cut.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_published_during_a_stall_takes_effect_within_seconds() {
    let (mut redis, backend) = Faulty::standalone().await;
    let both = instances(&redis, backend).await;
    let key = raw("stall", 0);
    add_key(
        &both.here,
        &both.store,
        &key,
        ApiKeyData::new("k-stall", "u-1"),
    );
    assert!(both.here.check_key(&key).await.is_valid());

    redis.stall();
    // The invalidation cannot reach `here`, and nothing tells it so but a heartbeat: its L1
    // (30 s) must stop being trusted within seconds.
    let took = both.revoke(&key).await;
    eprintln!("revocation during a stall took effect after {took:?}");
    redis.heal();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_revocation_by_pub_sub_resumes_after_a_cut() {
    let (redis, backend) = Faulty::standalone().await;
    revocation_by_pub_sub_resumes_after_a_cut(redis, backend).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_revocation_by_pub_sub_resumes_after_a_cut() {
    let (redis, backend) = Faulty::cluster().await;
    revocation_by_pub_sub_resumes_after_a_cut(redis, backend).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fill_held_by_a_stall_never_resurrects_a_revoked_key() {
    // `here` reads the store, then its L2 fill is held by a stall; `there` revokes the key
    // meanwhile; the fill reaches Redis after the revocation and must be refused.
    let (mut redis, backend) = Faulty::standalone().await;
    let both = instances(&redis, backend).await;
    let key = raw("fill", 0);
    add_key(
        &both.here,
        &both.store,
        &key,
        ApiKeyData::new("k-fill", "u-1"),
    );
    // Loads the scripts: the held call is the fill itself, not a NOSCRIPT round trip.
    let warm = raw("fill", 1);
    add_key(
        &both.here,
        &both.store,
        &warm,
        ApiKeyData::new("k-warm", "u-1"),
    );
    assert!(both.here.check_key(&warm).await.is_valid());
    let gate = both.store.gate_next();
    let here = both.here.clone();
    let first = tokio::spawn({
        let key = key.clone();
        async move {
            here.check_key(&key)
                .await
                .valid()
                .map(|a| a.data().id.clone())
        }
    });
    gate.entered.notified().await; // L2 missed, the store is being read
    redis.stall();
    gate.release.notify_one();
    let answer = faults::within_deadline("the held fill", first)
        .await
        .unwrap();
    assert_eq!(
        answer.unwrap(),
        "k-fill",
        "the store's answer, not cached in L2"
    );
    both.store.keys.remove(&both.here.hash_key(&key));
    both.there.invalidate_key(&key).await.unwrap();
    redis.heal();
    // The held fill lands now. A third instance, whose store is down and which serves nothing
    // stale, can only answer from L2: it must not find the revoked key there.
    let direct = redis.direct(&both.here_backend).await;
    let store = TestStore::default();
    store.set_failing(true);
    let third = l2_only(direct, &store).await;
    // Replies on one connection come in order: once a ping after the fill is answered, the
    // fill has run.
    faults::recovery("the held fill settled", async || {
        both.here_backend.ping().await.is_ok()
    })
    .await;
    let found = third.check_key(&key).await;
    assert!(
        matches!(found, KeyStatus::Unavailable(_)),
        "not resurrected: {found:?}"
    );
}
