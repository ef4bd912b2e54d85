//! The Lua scripts and the in-memory twin answer every sequence of operations alike.
//!
//! Random sequences of claim / extend / complete / release by three owners with two
//! fingerprints over two keys run against Redis and memory side by side. TTLs are long, so
//! expiry (covered by the conformance suite) plays no part and no clock needs injecting; the
//! lease left on an in-flight marker is compared as "some", since the two clocks differ.

use std::time::Duration;

use bytes::Bytes;
use proptest::prelude::*;
use tower_vigil_idempotency::fingerprint::Fingerprint;
use tower_vigil_idempotency::store::{Claim, IdempotencyStore};

#[derive(Debug, Clone)]
enum Op {
    Claim {
        key: usize,
        fp: usize,
        owner: usize,
    },
    Extend {
        key: usize,
        owner: usize,
    },
    Complete {
        key: usize,
        owner: usize,
        record: u8,
    },
    Release {
        key: usize,
        owner: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let k = 0..2usize;
    let o = 0..3usize;
    prop_oneof![
        (k.clone(), 0..2usize, o.clone()).prop_map(|(key, fp, owner)| Op::Claim { key, fp, owner }),
        (k.clone(), o.clone()).prop_map(|(key, owner)| Op::Extend { key, owner }),
        (k.clone(), o.clone(), any::<u8>()).prop_map(|(key, owner, record)| Op::Complete {
            key,
            owner,
            record
        }),
        (k, o).prop_map(|(key, owner)| Op::Release { key, owner }),
    ]
}

const KEYS: [&str; 2] = ["idempotency:{p0}", "idempotency:{p1}"];
const LONG: Duration = Duration::from_secs(600);

async fn apply<S: IdempotencyStore>(s: &S, op: &Op) -> String {
    let fps = [
        Fingerprint::of(&http::Method::POST, "/a", None, b"0"),
        Fingerprint::of(&http::Method::POST, "/a", None, b"1"),
    ];
    let owner = |o: &usize| format!("owner-{o}").into_bytes();
    match op {
        Op::Claim { key, fp, owner: o } => {
            match s
                .claim(KEYS[*key], &fps[*fp], &owner(o), LONG)
                .await
                .unwrap()
            {
                Claim::InFlight { lease_remaining } => {
                    assert!(lease_remaining > Duration::ZERO);
                    "in-flight".to_owned()
                }
                other => format!("{other:?}"),
            }
        }
        Op::Extend { key, owner: o } => {
            format!("{}", s.extend(KEYS[*key], &owner(o), LONG).await.unwrap())
        }
        Op::Complete {
            key,
            owner: o,
            record,
        } => format!(
            "{}",
            s.complete(KEYS[*key], &owner(o), Bytes::from(vec![*record; 3]), LONG)
                .await
                .unwrap()
        ),
        Op::Release { key, owner: o } => {
            format!("{}", s.release(KEYS[*key], &owner(o)).await.unwrap())
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn lua_and_memory_agree(ops in proptest::collection::vec(op(), 1..40)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let redis = tower_vigil_tests::fixtures::redis().await;
            let memory = tower_vigil_tests::fixtures::memory();
            for op in &ops {
                let a = apply(&redis, op).await;
                let b = apply(&memory, op).await;
                assert_eq!(a, b, "after {op:?}");
            }
        });
    }
}
