//! The Lua scripts (Redis) and their Rust twins (memory) give the same answers for random
//! sequences of store operations, run through `Backend::run` with the same keys and arguments
//! (an index written by an earlier version, a plain set, included); the load among them, which
//! reads through `Backend::hash_read` (on Redis two plain commands, in memory core's twin) and
//! checks in Rust. Timestamps are left out of the comparison: Redis takes them
//! from its own `TIME`, which a test cannot inject; the expiry arithmetic on them is covered
//! by the timed conformance cases on both backends. Deadlines (`Expiry::not_after`, the user
//! index's scores) are compared coarsely: past, or how many seconds ahead.

use std::collections::BTreeMap;

use bytes::Bytes;
use proptest::prelude::*;
use tower_vigil_core::Backend;
use tower_vigil_session::__private::{self as store, Expiry, StoredSession};
use tower_vigil_tests::fixtures;

const KEYS: [&str; 2] = ["session:{k0}", "session:{k1}"];
const SECRETS: [&str; 2] = ["s0", "s1"];
const FIELDS: [&str; 4] = ["d:a", "d:b", "_user", "d:c"];
const INDEX: &str = "session:user:{u}";
const HOUR: u64 = 3_600_000;
/// Deadlines an operation may carry: none, long past, in half an hour.
const DEADLINES: usize = 3;

/// The deadline `choice` names, from the case's start `base` (the same on both stores).
fn deadline(choice: usize, base: u64) -> u64 {
    match choice {
        0 => 0,
        1 => 1,
        _ => base + HOUR / 2,
    }
}

fn wall_ms() -> u64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    u64::try_from(since.as_millis()).unwrap()
}

#[derive(Debug, Clone)]
enum Op {
    Create {
        key: usize,
        secret: usize,
        fields: Vec<(usize, u8)>,
        deadline: usize,
    },
    Write {
        key: usize,
        secret: usize,
        set: Vec<(usize, u8)>,
        delete: Vec<usize>,
        deadline: usize,
        reindex: bool,
    },
    Cycle {
        key: usize,
        from: usize,
        to: usize,
    },
    Load {
        key: usize,
        secret: Option<usize>,
    },
    Destroy {
        key: usize,
        secret: Option<usize>,
    },
    IndexAdd {
        member: u8,
        minutes: u64,
    },
    IndexRemove {
        member: u8,
    },
    IndexMembers,
    IndexTtl,
    /// The index as an earlier version wrote it: a plain set with a TTL.
    LegacyIndex {
        members: Vec<u8>,
        hours: u64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0..KEYS.len();
    let secret = 0..SECRETS.len();
    let pairs = proptest::collection::vec((0..FIELDS.len(), any::<u8>()), 0..4);
    prop_oneof![
        (key.clone(), secret.clone(), pairs.clone(), 0..DEADLINES).prop_map(
            |(key, secret, fields, deadline)| Op::Create {
                key,
                secret,
                fields,
                deadline
            }
        ),
        (
            key.clone(),
            secret.clone(),
            pairs,
            proptest::collection::vec(0..FIELDS.len(), 0..3),
            0..DEADLINES,
            any::<bool>()
        )
            .prop_map(|(key, secret, set, delete, deadline, reindex)| Op::Write {
                key,
                secret,
                set,
                delete,
                deadline,
                reindex
            }),
        (key.clone(), secret.clone(), secret.clone()).prop_map(|(key, from, to)| Op::Cycle {
            key,
            from,
            to
        }),
        (key.clone(), proptest::option::of(secret.clone()))
            .prop_map(|(key, secret)| Op::Load { key, secret }),
        (key, proptest::option::of(secret)).prop_map(|(key, secret)| Op::Destroy { key, secret }),
        (0u8..4, 1u64..3).prop_map(|(member, minutes)| Op::IndexAdd { member, minutes }),
        (0u8..4).prop_map(|member| Op::IndexRemove { member }),
        Just(Op::IndexMembers),
        Just(Op::IndexTtl),
        (proptest::collection::vec(0u8..4, 1..4), 1u64..3)
            .prop_map(|(members, hours)| Op::LegacyIndex { members, hours }),
    ]
}

/// A session without the store-clock fields, whether an absolute expiry is set, whether the
/// TTL is in range, and whether it was capped by a half-hour deadline.
type Comparable = (BTreeMap<String, Bytes>, bool, bool, bool);

fn comparable(s: Option<StoredSession>) -> Option<Comparable> {
    s.map(|s| {
        let abs = s.absolute_at_ms() > 0;
        let ttl_ok = s.ttl().as_millis() > 0 && s.ttl().as_millis() <= u128::from(HOUR);
        let capped = s.ttl().as_millis() <= u128::from(HOUR / 2);
        let mut f = s.raw_fields().clone();
        for meta in ["_created", "_last", "_abs"] {
            assert!(f.remove(meta).is_some(), "{meta} missing");
        }
        assert!(!f.contains_key("_sec"), "a load returned the secret");
        (f, abs, ttl_ok, capped)
    })
}

fn fields(pairs: &[(usize, u8)]) -> Vec<(String, Bytes)> {
    pairs
        .iter()
        .map(|(f, v)| (FIELDS[*f].to_owned(), Bytes::from(v.to_string())))
        .collect()
}

async fn apply<B: Backend>(b: &B, op: &Op, expiry: Expiry, base: u64) -> String {
    let capped = |d: &usize| expiry.not_after(deadline(*d, base));
    let secret = |s: &Option<usize>| s.map(|s| SECRETS[s]);
    match op {
        Op::Create {
            key,
            secret,
            fields: f,
            deadline: d,
        } => {
            format!(
                "{:?}",
                store::create(b, KEYS[*key], SECRETS[*secret], &fields(f), capped(d)).await
            )
        }
        Op::Write {
            key,
            secret,
            set,
            delete,
            deadline: d,
            reindex,
        } => {
            let delete: Vec<String> = delete.iter().map(|d| FIELDS[*d].to_owned()).collect();
            let expiry = capped(d).reindex_within(if *reindex { HOUR / 4 } else { 0 });
            format!(
                "{:?}",
                store::write(
                    b,
                    KEYS[*key],
                    SECRETS[*secret],
                    &fields(set),
                    &delete,
                    expiry
                )
                .await
            )
        }
        Op::Cycle { key, from, to } => {
            let set = [("_sec".to_owned(), Bytes::from(SECRETS[*to]))];
            format!(
                "{:?}",
                store::write(b, KEYS[*key], SECRETS[*from], &set, &[], expiry).await
            )
        }
        Op::Load { key, secret: s } => {
            format!(
                "{:?}",
                store::load(b, KEYS[*key], secret(s)).await.map(comparable)
            )
        }
        Op::Destroy { key, secret: s } => {
            format!("{:?}", store::destroy(b, KEYS[*key], secret(s)).await)
        }
        Op::IndexAdd { member, minutes } => {
            let ttl = std::time::Duration::from_secs(60 * minutes);
            let want = wall_ms() + 60_000 * minutes;
            let deadline = store::index_add(b, INDEX, &member.to_string(), ttl).await;
            // The store's clock plus the TTL, give or take the test's own delays.
            format!("{:?}", deadline.map(|d| d.abs_diff(want) < 5_000))
        }
        Op::IndexRemove { member } => {
            format!(
                "{:?}",
                store::index_remove(b, INDEX, &[member.to_string()]).await
            )
        }
        Op::IndexMembers => format!(
            "{:?}",
            store::index_members(b, INDEX).await.map(|mut m| {
                m.sort();
                m
            })
        ),
        // The index lives until its latest member's deadline plus the grace: whole 10 s.
        Op::IndexTtl => format!(
            "{:?}",
            b.ttl(INDEX)
                .await
                .map(|t| t.map(|t| (t.as_millis() + 5_000) / 10_000))
        ),
        Op::LegacyIndex { members, hours } => {
            let members: Vec<Bytes> = members.iter().map(|m| Bytes::from(m.to_string())).collect();
            let ttl = std::time::Duration::from_secs(3600 * hours);
            let deleted = b.delete(INDEX).await;
            format!("{deleted:?} {:?}", b.set_add(INDEX, &members, ttl).await)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]
    #[test]
    fn redis_scripts_match_the_memory_twins(
        ops in proptest::collection::vec(op(), 1..32),
        absolute in any::<bool>(),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let memory = fixtures::memory();
            let redis = fixtures::redis().await;
            let expiry = Expiry::new(HOUR, if absolute { 2 * HOUR } else { 0 });
            let base = wall_ms();
            for op in &ops {
                let m = apply(&memory, op, expiry, base).await;
                let r = apply(&redis, op, expiry, base).await;
                assert_eq!(m, r, "after {op:?}");
            }
        });
    }
}
