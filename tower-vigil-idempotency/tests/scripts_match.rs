//! The Lua scripts and their Rust twins answer every sequence of operations alike: the same
//! calls go through `Backend::run` on Redis and on memory, side by side.
//!
//! Random sequences of claim / extend / complete / release / peek by three owners with two
//! fingerprints over two keys, and now and then a value the layer did not write (what another
//! program leaves under a key). TTLs are long, so expiry (covered by the conformance suite)
//! plays no part and no clock needs injecting; the lease left on an in-flight marker is
//! compared as "some", since the two clocks differ. Errors are compared by kind.

use std::time::Duration;

use bytes::Bytes;
use proptest::prelude::*;
use tower_vigil_core::{Backend, BackendResult};
use tower_vigil_idempotency::__private::Fingerprint;
use tower_vigil_idempotency::__private::{self as store, Claim};

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
    /// A read of the key.
    Peek {
        key: usize,
    },
    /// Another program's value under the key (a plain string, as `SET NX` leaves).
    Foreign {
        key: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let k = 0..2usize;
    let o = 0..3usize;
    prop_oneof![
        5 => (k.clone(), 0..2usize, o.clone()).prop_map(|(key, fp, owner)| Op::Claim { key, fp, owner }),
        5 => (k.clone(), o.clone()).prop_map(|(key, owner)| Op::Extend { key, owner }),
        5 => (k.clone(), o.clone(), any::<u8>()).prop_map(|(key, owner, record)| Op::Complete {
            key,
            owner,
            record
        }),
        5 => (k.clone(), o).prop_map(|(key, owner)| Op::Release { key, owner }),
        3 => k.clone().prop_map(|key| Op::Peek { key }),
        1 => k.prop_map(|key| Op::Foreign { key }),
    ]
}

const KEYS: [&str; 2] = ["idempotency:{p0}", "idempotency:{p1}"];
const LONG: Duration = Duration::from_secs(600);

/// What `op` answered, as text: the value, or the error's kind.
fn shown<T: std::fmt::Display>(answer: BackendResult<T>) -> String {
    match answer {
        Ok(v) => v.to_string(),
        Err(e) => format!("error: {}", e.kind()),
    }
}

async fn apply<B: Backend>(s: &B, op: &Op) -> String {
    let fps = [
        Fingerprint::of(&http::Method::POST, "/a", None, b"0"),
        Fingerprint::of(&http::Method::POST, "/a", None, b"1"),
    ];
    let owner = |o: &usize| format!("owner-{o}").into_bytes();
    match op {
        Op::Claim { key, fp, owner: o } => {
            match store::claim(s, KEYS[*key], &fps[*fp], &owner(o), LONG).await {
                Ok(Claim::InFlight { lease_remaining }) => {
                    assert!(lease_remaining > Duration::ZERO);
                    "in-flight".to_owned()
                }
                Ok(other) => format!("{other:?}"),
                Err(e) => format!("error: {}", e.kind()),
            }
        }
        Op::Extend { key, owner: o } => shown(store::extend(s, KEYS[*key], &owner(o), LONG).await),
        Op::Complete {
            key,
            owner: o,
            record,
        } => shown(
            store::complete(
                s,
                KEYS[*key],
                &owner(o),
                &Bytes::copy_from_slice(&[*record; 3]),
                LONG,
            )
            .await,
        ),
        Op::Release { key, owner: o } => shown(store::release(s, KEYS[*key], &owner(o)).await),
        Op::Peek { key } => match store::peek(s, KEYS[*key]).await {
            Ok(Some(Claim::InFlight { lease_remaining })) => {
                assert!(lease_remaining > Duration::ZERO);
                "peek: in-flight".to_owned()
            }
            Ok(found) => format!("peek: {found:?}"),
            Err(e) => format!("error: {}", e.kind()),
        },
        Op::Foreign { key } => {
            s.set(KEYS[*key], Bytes::from_static(b"1"), LONG)
                .await
                .unwrap();
            "set".to_owned()
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
