//! The Lua scripts (Redis) and their Rust twins (memory) give the same answers for random
//! sequences of store operations. Timestamps are left out of the comparison: Redis takes them
//! from its own `TIME`, which a test cannot inject; the expiry arithmetic on them is covered
//! by the timed conformance cases on both backends.

use std::collections::BTreeMap;

use bytes::Bytes;
use proptest::prelude::*;
use tower_vigil_session::SessionStore;
use tower_vigil_session::store::{Expiry, StoredSession};
use tower_vigil_tests::fixtures;

const KEYS: [&str; 2] = ["session:{k0}", "session:{k1}"];
const SECRETS: [&str; 2] = ["s0", "s1"];
const FIELDS: [&str; 4] = ["d:a", "d:b", "_user", "d:c"];
const INDEX: &str = "session:user:{u}";
const HOUR: u64 = 3_600_000;

#[derive(Debug, Clone)]
enum Op {
    Create {
        key: usize,
        secret: usize,
        fields: Vec<(usize, u8)>,
    },
    Write {
        key: usize,
        secret: usize,
        set: Vec<(usize, u8)>,
        delete: Vec<usize>,
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
    },
    IndexRemove {
        member: u8,
    },
    IndexMembers,
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0..KEYS.len();
    let secret = 0..SECRETS.len();
    let pairs = proptest::collection::vec((0..FIELDS.len(), any::<u8>()), 0..4);
    prop_oneof![
        (key.clone(), secret.clone(), pairs.clone()).prop_map(|(key, secret, fields)| Op::Create {
            key,
            secret,
            fields
        }),
        (
            key.clone(),
            secret.clone(),
            pairs,
            proptest::collection::vec(0..FIELDS.len(), 0..3)
        )
            .prop_map(|(key, secret, set, delete)| Op::Write {
                key,
                secret,
                set,
                delete
            }),
        (key.clone(), secret.clone(), secret.clone()).prop_map(|(key, from, to)| Op::Cycle {
            key,
            from,
            to
        }),
        (key.clone(), proptest::option::of(secret.clone()))
            .prop_map(|(key, secret)| Op::Load { key, secret }),
        (key, proptest::option::of(secret)).prop_map(|(key, secret)| Op::Destroy { key, secret }),
        (0u8..4).prop_map(|member| Op::IndexAdd { member }),
        (0u8..4).prop_map(|member| Op::IndexRemove { member }),
        Just(Op::IndexMembers),
    ]
}

/// A session without the store-clock fields, whether an absolute expiry is set, and whether
/// the TTL is in range.
fn comparable(s: Option<StoredSession>) -> Option<(BTreeMap<String, Bytes>, bool, bool)> {
    s.map(|s| {
        let abs = s.absolute_at_ms() > 0;
        let ttl_ok = s.ttl().as_millis() > 0 && s.ttl().as_millis() <= u128::from(HOUR);
        let mut f = s.raw_fields().clone();
        for meta in ["_created", "_last", "_abs"] {
            assert!(f.remove(meta).is_some(), "{meta} missing");
        }
        assert!(!f.contains_key("_sec"), "a load returned the secret");
        (f, abs, ttl_ok)
    })
}

fn fields(pairs: &[(usize, u8)]) -> Vec<(String, Bytes)> {
    pairs
        .iter()
        .map(|(f, v)| (FIELDS[*f].to_owned(), Bytes::from(v.to_string())))
        .collect()
}

async fn apply<S: SessionStore>(store: &S, op: &Op, expiry: Expiry) -> String {
    let secret = |s: &Option<usize>| s.map(|s| SECRETS[s]);
    match op {
        Op::Create {
            key,
            secret,
            fields: f,
        } => {
            format!(
                "{:?}",
                store
                    .create(KEYS[*key], SECRETS[*secret], &fields(f), expiry)
                    .await
            )
        }
        Op::Write {
            key,
            secret,
            set,
            delete,
        } => {
            let delete: Vec<String> = delete.iter().map(|d| FIELDS[*d].to_owned()).collect();
            format!(
                "{:?}",
                store
                    .write(KEYS[*key], SECRETS[*secret], &fields(set), &delete, expiry)
                    .await
            )
        }
        Op::Cycle { key, from, to } => {
            let set = [("_sec".to_owned(), Bytes::from(SECRETS[*to]))];
            format!(
                "{:?}",
                store
                    .write(KEYS[*key], SECRETS[*from], &set, &[], expiry)
                    .await
            )
        }
        Op::Load { key, secret: s } => {
            format!(
                "{:?}",
                store.load(KEYS[*key], secret(s)).await.map(comparable)
            )
        }
        Op::Destroy { key, secret: s } => {
            format!("{:?}", store.destroy(KEYS[*key], secret(s)).await)
        }
        Op::IndexAdd { member } => format!(
            "{:?}",
            store
                .index_add(
                    INDEX,
                    &member.to_string(),
                    std::time::Duration::from_secs(60)
                )
                .await
        ),
        Op::IndexRemove { member } => {
            format!(
                "{:?}",
                store.index_remove(INDEX, &[member.to_string()]).await
            )
        }
        Op::IndexMembers => format!(
            "{:?}",
            store.index_members(INDEX).await.map(|mut m| {
                m.sort();
                m
            })
        ),
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
            for op in &ops {
                let m = apply(&memory, op, expiry).await;
                let r = apply(&redis, op, expiry).await;
                assert_eq!(m, r, "after {op:?}");
            }
        });
    }
}
