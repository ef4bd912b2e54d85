//! The counters behind `info()` and `usage()` stay exact: after any sequence of writes,
//! updates, removals, expiries and evictions they equal a full walk of the entries (issue 12,
//! item 16).

use std::time::Duration;

use bytes::Bytes;
use proptest::prelude::*;
use tower_vigil_core::memory::Value;
use tower_vigil_core::{Backend, MemoryBackend};

#[derive(Debug, Clone)]
enum Op {
    Set(u8, usize, u64),
    Incr(u8, u64),
    Typed(u8, usize, u64),
    SetAdd(u8, u8, u64),
    SetRemove(u8, u8),
    HashSet(u8, u8, usize, u64),
    HashDelete(u8, u8),
    Expire(u8, u64),
    Delete(u8),
    TwoKeys(u8, u8, u64),
    Advance(u64),
}

/// Keys over four concerns and "other", few enough to collide often.
fn key(k: u8) -> String {
    let concern = ["ratelimit", "apikey", "session", "idempotency", ""][usize::from(k % 5)];
    if concern.is_empty() {
        format!("k{k}")
    } else {
        format!("{concern}:{{{k}}}")
    }
}

fn op() -> impl Strategy<Value = Op> {
    let k = 0u8..40;
    let ttl = 1u64..20_000;
    prop_oneof![
        (k.clone(), 0usize..8_000, ttl.clone()).prop_map(|(k, n, t)| Op::Set(k, n, t)),
        (k.clone(), ttl.clone()).prop_map(|(k, t)| Op::Incr(k, t)),
        (k.clone(), 0usize..2_000, ttl.clone()).prop_map(|(k, n, t)| Op::Typed(k, n, t)),
        (k.clone(), any::<u8>(), ttl.clone()).prop_map(|(k, m, t)| Op::SetAdd(k, m, t)),
        (k.clone(), any::<u8>()).prop_map(|(k, m)| Op::SetRemove(k, m)),
        (k.clone(), 0u8..8, 0usize..2_000, ttl.clone())
            .prop_map(|(k, f, n, t)| Op::HashSet(k, f, n, t)),
        (k.clone(), 0u8..8).prop_map(|(k, f)| Op::HashDelete(k, f)),
        (k.clone(), 0u64..5_000).prop_map(|(k, t)| Op::Expire(k, t)),
        k.clone().prop_map(Op::Delete),
        (k.clone(), k, ttl).prop_map(|(a, b, t)| Op::TwoKeys(a, b, t)),
        (0u64..1_000).prop_map(Op::Advance),
    ]
}

async fn apply(backend: &MemoryBackend, op: Op) {
    let ms = Duration::from_millis;
    // Type errors are part of the workload: they must leave the counters right too.
    match op {
        Op::Set(k, n, t) => drop(backend.set(&key(k), Bytes::from(vec![1; n]), ms(t)).await),
        Op::Incr(k, t) => drop(backend.incr_by(&key(k), 1, ms(t)).await),
        Op::Typed(k, n, t) => backend.update(&key(k), |slot| {
            slot.set_sized(Value::Any(Box::new(vec![0u8; n])), ms(t), n);
        }),
        Op::SetAdd(k, m, t) => {
            drop(
                backend
                    .set_add(&key(k), &[Bytes::from(vec![m; usize::from(m)])], ms(t))
                    .await,
            );
        }
        Op::SetRemove(k, m) => {
            drop(
                backend
                    .set_remove(&key(k), &[Bytes::from(vec![m; usize::from(m)])])
                    .await,
            );
        }
        Op::HashSet(k, f, n, t) => {
            let field = format!("f{f}");
            drop(
                backend
                    .hash_set(&key(k), &[(&field, Bytes::from(vec![2; n]))], ms(t))
                    .await,
            );
        }
        Op::HashDelete(k, f) => drop(backend.hash_delete(&key(k), &[&format!("f{f}")]).await),
        Op::Expire(k, t) => drop(backend.expire(&key(k), ms(t)).await),
        Op::Delete(k) => drop(backend.delete(&key(k)).await),
        Op::TwoKeys(a, b, t) if a != b => backend.atomic(&[&key(a), &key(b)], |slots| {
            let [x, y] = slots else { unreachable!() };
            x.set(
                Value::Bytes(Bytes::from(vec![3; usize::from(a) * 10])),
                ms(t),
            );
            if y.value().is_some() {
                y.remove();
            } else {
                y.set(Value::Int(1), ms(t * 2));
            }
        }),
        Op::TwoKeys(..) => {}
        Op::Advance(t) => tokio::time::advance(ms(t)).await,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn counters_equal_a_full_walk(
        ops in proptest::collection::vec(op(), 1..400),
        by_bytes in any::<bool>(),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        rt.block_on(async {
            // Small budgets, so the workload evicts as well as expires: a byte budget small
            // enough for one shard, or an entry budget over four shards.
            let (max_bytes, shards) = if by_bytes { (64 << 10, 1) } else { (16 << 20, 4) };
            let backend = MemoryBackend::builder()
                .max_entries(24)
                .max_bytes(max_bytes)
                .shards(shards)
                .build().unwrap();
            for op in ops {
                apply(&backend, op).await;
                let usage = backend.usage();
                prop_assert_eq!(&usage, &backend.recount_usage());
                prop_assert!(usage.entries <= 24 && usage.bytes <= max_bytes, "{:?}", usage);
                let info = backend.info().await.unwrap();
                prop_assert_eq!(info.key_count, usage.entries as u64);
                prop_assert_eq!(info.used_memory, usage.bytes as u64);
            }
            Ok(())
        })?;
    }
}

/// Within budget, nothing but expiry removes an entry: the lazily refiled index never purges a
/// live entry, and never keeps an expired one visible. Checked against a model of expiries.
#[derive(Debug, Clone)]
enum TtlOp {
    Set(u8, u64),
    Expire(u8, u64),
    Delete(u8),
    Advance(u64),
}

fn ttl_op() -> impl Strategy<Value = TtlOp> {
    prop_oneof![
        (0u8..30, 1u64..3_000).prop_map(|(k, t)| TtlOp::Set(k, t)),
        (0u8..30, 0u64..3_000).prop_map(|(k, t)| TtlOp::Expire(k, t)),
        (0u8..30).prop_map(TtlOp::Delete),
        (0u64..400).prop_map(TtlOp::Advance),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn entries_live_exactly_until_their_expiry(ops in proptest::collection::vec(ttl_op(), 1..300)) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        rt.block_on(async {
            let backend = MemoryBackend::builder().shards(2).build().unwrap();
            let mut model = std::collections::HashMap::new();
            let ms = Duration::from_millis;
            for op in ops {
                let now = tokio::time::Instant::now();
                match op {
                    TtlOp::Set(k, t) => {
                        backend.set(&key(k), Bytes::from_static(b"v"), ms(t)).await.unwrap();
                        model.insert(k, now + ms(t));
                    }
                    TtlOp::Expire(k, t) => {
                        let live = model.get(&k).is_some_and(|at| *at > now);
                        prop_assert_eq!(backend.expire(&key(k), ms(t)).await.unwrap(), live);
                        if live {
                            // A TTL reaches every backend as whole ms, at least 1 (`PX 0` is
                            // an error in Redis), in memory as on Redis.
                            model.insert(k, now + ms(t.max(1)));
                        }
                    }
                    TtlOp::Delete(k) => {
                        backend.delete(&key(k)).await.unwrap();
                        model.remove(&k);
                    }
                    TtlOp::Advance(t) => tokio::time::advance(ms(t)).await,
                }
                let now = tokio::time::Instant::now();
                for k in 0..30u8 {
                    let expected = model.get(&k).filter(|at| **at > now).map(|at| *at - now);
                    prop_assert_eq!(backend.ttl(&key(k)).await.unwrap(), expected, "key {}", k);
                }
                prop_assert_eq!(backend.usage(), backend.recount_usage());
            }
            prop_assert_eq!(backend.evictions(), 0);
            Ok(())
        })?;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn counters_stay_exact_under_concurrent_writers() {
    // Tasks write, grow, shrink, move and delete entries across shards at once, under budgets
    // small enough that they evict all the time.
    let backend = MemoryBackend::builder()
        .max_entries(64)
        .shards(4)
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..8u8)
        .map(|t| {
            let backend = backend.clone();
            tokio::spawn(async move {
                for i in 0..2_000u16 {
                    let k = |n: u16| key(u8::try_from((n + u16::from(t) * 7) % 200).unwrap());
                    let ttl = Duration::from_millis(u64::from(i % 50) + 1);
                    match i % 5 {
                        0 => backend
                            .set(&k(i), Bytes::from(vec![0; usize::from(i % 300)]), ttl)
                            .await
                            .unwrap(),
                        1 => drop(backend.delete(&k(i + 3)).await),
                        2 => backend.atomic(&[&k(i), &k(i + 1)], |slots| {
                            for slot in slots.iter_mut() {
                                slot.set(Value::Int(1), ttl);
                            }
                        }),
                        3 => drop(backend.expire(&k(i + 2), ttl * 3).await),
                        _ => backend.update(&k(i), |slot| {
                            slot.set_sized(Value::Any(Box::new(i)), ttl, usize::from(i % 100));
                        }),
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let usage = backend.usage();
    assert_eq!(usage, backend.recount_usage());
    assert!(usage.entries <= 64);
    assert!(usage.evictions > 0, "{usage:?}");
}
