//! The memory backend's bound covers everything it stores (entries, bytes, its index), and one
//! concern's flood evicts that concern's entries, not another's state (issue 12, items 14-15).

use std::time::Duration;

use bytes::Bytes;
use tower_vigil_core::memory::{MIN_MAX_BYTES, Value};
use tower_vigil_core::{Backend, MemoryBackend};

const LONG: Duration = Duration::from_secs(3600);

#[tokio::test(start_paused = true)]
async fn one_key_rewritten_100k_times_keeps_one_index_record() {
    let backend = MemoryBackend::builder().shards(1).build().unwrap();
    for i in 0..100_000u64 {
        // A long TTL that moves to another 100 ms bucket on every write, as a busy client's
        // GCRA state does.
        backend.update("ratelimit:{client}:default", |slot| {
            slot.set(Value::Int(1), LONG + Duration::from_millis(100 * i));
        });
        tokio::time::advance(Duration::from_micros(10)).await;
    }
    let usage = backend.usage();
    assert_eq!(usage.entries, 1);
    assert_eq!(usage.index_records, 1, "{usage:?}");
    // The same through `atomic` (several keys, refiled after being taken).
    for i in 0..10_000u64 {
        backend.atomic(&["ratelimit:{a}:x", "ratelimit:{b}:x"], |slots| {
            for slot in slots.iter_mut() {
                slot.set(Value::Int(1), LONG + Duration::from_millis(100 * i));
            }
        });
    }
    assert_eq!(backend.usage().index_records, 3);
    assert_eq!(backend.usage(), backend.recount_usage());
}

fn rate_limit_key(i: u32) -> String {
    format!("ratelimit:{{10.0.{}.{}}}:default", i / 256, i % 256)
}

#[tokio::test(start_paused = true)]
async fn a_flood_of_negative_apikey_records_leaves_rate_limit_state_alone() {
    let backend = MemoryBackend::builder()
        .max_entries(4_000)
        .shards(4)
        .build()
        .unwrap();
    // Rate-limit state for 1,000 clients, well within its fair share. GCRA state lives only
    // until the client's quota is whole again: a few seconds.
    for i in 0..1_000 {
        backend.update(&rate_limit_key(i), |slot| {
            slot.set(Value::Int(i64::from(i)), Duration::from_secs(5));
        });
    }
    // 100,000 random keys: negative API-key records, each living longer (30 s) than every
    // rate-limit entry, so "evict the soonest to expire" alone would take the rate-limit
    // state first.
    for i in 0..100_000u32 {
        let key = format!("apikey:{{{:064x}}}", u128::from(i) * 0x9e37_79b9_7f4a_7c15);
        backend
            .set(&key, Bytes::from_static(b"-"), Duration::from_secs(30))
            .await
            .unwrap();
    }
    let usage = backend.usage();
    assert!(usage.entries <= 4_000, "{usage:?}");
    assert!(usage.evictions >= 96_000, "{usage:?}");
    assert_eq!(usage.concern("ratelimit").unwrap().entries, 1_000);
    for i in 0..1_000 {
        let kept = backend.read(
            &rate_limit_key(i),
            |v| matches!(v, Some((Value::Int(n), _)) if *n == i64::from(i)),
        );
        assert!(kept, "rate-limit state of client {i} was evicted");
    }
}

#[tokio::test(start_paused = true)]
async fn large_values_stay_within_the_byte_budget() {
    let budget = 8 << 20;
    let backend = MemoryBackend::builder().max_bytes(budget).build().unwrap();
    for i in 0..1_000 {
        backend.update(&rate_limit_key(i), |slot| {
            slot.set(Value::Int(1), Duration::from_secs(60));
        });
    }
    let one_mib = Bytes::from(vec![7u8; 1 << 20]);
    for i in 0..100 {
        backend
            .set(&format!("idempotency:{{{i}}}"), one_mib.clone(), LONG)
            .await
            .unwrap();
        let usage = backend.usage();
        assert!(
            usage.bytes <= budget,
            "{} > {budget} after {i}",
            usage.bytes
        );
    }
    let usage = backend.usage();
    assert!(
        usage.concern("idempotency").unwrap().entries >= 3,
        "{usage:?}"
    );
    assert_eq!(usage.concern("ratelimit").unwrap().entries, 1_000);
    // A value that grows in place (a hash gaining fields) is held to the budget too.
    for i in 0..64 {
        backend
            .hash_set(
                "session:{big}",
                &[(&format!("f{i}"), one_mib.slice(..256 << 10))],
                LONG,
            )
            .await
            .unwrap();
        assert!(backend.usage().bytes <= budget);
    }
    assert_eq!(backend.usage(), backend.recount_usage());
}

#[tokio::test(start_paused = true)]
async fn a_value_larger_than_a_shard_is_not_kept() {
    let backend = MemoryBackend::builder()
        .max_bytes(MIN_MAX_BYTES)
        .build()
        .unwrap();
    backend
        .set(
            "idempotency:{huge}",
            Bytes::from(vec![0u8; MIN_MAX_BYTES]),
            LONG,
        )
        .await
        .unwrap();
    assert_eq!(backend.get("idempotency:{huge}").await.unwrap(), None);
    assert_eq!(backend.usage().bytes, 0);
    assert_eq!(backend.evictions(), 1);
}

#[test]
fn a_byte_budget_below_the_minimum_is_a_config_error() {
    let err = MemoryBackend::builder()
        .max_bytes(MIN_MAX_BYTES - 1)
        .build()
        .unwrap_err();
    assert_eq!(err.field(), "max_bytes");
    assert!(
        MemoryBackend::builder()
            .max_bytes(usize::MAX)
            .build()
            .is_ok()
    );
    // Checked at build, whatever the order of the setters.
    let err = MemoryBackend::builder()
        .max_bytes(1)
        .prefix("fine")
        .shards(4)
        .build()
        .unwrap_err();
    assert_eq!(err.field(), "max_bytes");
    let err = MemoryBackend::builder()
        .prefix("no spaces")
        .build()
        .unwrap_err();
    assert_eq!(err.field(), "prefix");
}

#[tokio::test(start_paused = true)]
async fn typed_state_is_measured_by_its_type_and_declared_heap() {
    let backend = MemoryBackend::builder().shards(1).build().unwrap();
    let base = |backend: &MemoryBackend| backend.usage().bytes;
    backend.update("x:small", |slot| slot.set(Value::Any(Box::new(1u8)), LONG));
    let small = base(&backend);
    backend.update("x:large", |slot| {
        slot.set(Value::Any(Box::new([0u64; 64])), LONG);
    });
    assert_eq!(
        base(&backend) - small,
        small + 511,
        "a [u64; 64] weighs 511 more than a u8"
    );
    let log: Vec<i64> = vec![0; 10_000];
    let before = base(&backend);
    backend.update("x:log", |slot| {
        slot.set_sized(Value::Any(Box::new(log)), LONG, 10_000 * 8);
    });
    assert!(base(&backend) - before >= 80_000);
    assert_eq!(backend.usage(), backend.recount_usage());
}

#[tokio::test(start_paused = true)]
async fn the_entry_bound_holds_across_concerns() {
    let backend = MemoryBackend::builder()
        .max_entries(200)
        .shards(2)
        .build()
        .unwrap();
    for i in 0..5_000u32 {
        let key = match i % 3 {
            0 => format!("ratelimit:{{{i}}}"),
            1 => format!("session:{{{i}}}"),
            _ => format!("k{i}"),
        };
        backend
            .set(
                &key,
                Bytes::from_static(b"x"),
                LONG + Duration::from_secs(u64::from(i)),
            )
            .await
            .unwrap();
        assert!(backend.usage().entries <= 200);
    }
    let usage = backend.usage();
    // Three concerns flooding at the same rate end up with about equal shares.
    for c in &usage.concerns {
        if c.entries > 0 {
            assert!((60..=74).contains(&c.entries), "{usage:?}");
        }
    }
}
