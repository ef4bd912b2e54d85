//! The L2 operations exist twice (Lua on Redis, Rust on memory); random operation sequences
//! must give the same answers on both.

use std::time::Duration;

use bytes::Bytes;
use proptest::prelude::*;
use tower_vigil_apikey::ApiKeyBackend;

#[derive(Debug, Clone)]
enum Op {
    Read(u8),
    Fill { key: u8, rev: u64, value: u8 },
    Revoke(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..2).prop_map(Op::Read),
        (0u8..2, 0u64..4, any::<u8>()).prop_map(|(key, rev, value)| Op::Fill { key, rev, value }),
        (0u8..2).prop_map(Op::Revoke),
    ]
}

#[derive(Debug, PartialEq)]
enum Out {
    Read(Option<Bytes>, u64),
    Fill(bool),
    Revoke(u64),
}

async fn run<B: ApiKeyBackend>(b: &B, ops: &[Op]) -> Vec<Out> {
    let keys = |k: u8| (format!("apikey:{{h{k}}}"), format!("apikey:{{h{k}}}:rev"));
    let ttl = Duration::from_secs(60);
    let mut out = Vec::new();
    for op in ops {
        out.push(match op {
            Op::Read(k) => {
                let (r, v) = keys(*k);
                let (rec, rev) = b.read_record(&r, &v).await.unwrap();
                Out::Read(rec, rev)
            }
            Op::Fill { key, rev, value } => {
                let (r, v) = keys(*key);
                Out::Fill(
                    b.fill_record(&r, &v, *rev, Bytes::from(vec![*value; 3]), ttl)
                        .await
                        .unwrap(),
                )
            }
            Op::Revoke(k) => {
                let (r, v) = keys(*k);
                Out::Revoke(b.revoke_record(&r, &v, ttl).await.unwrap())
            }
        });
    }
    out
}

#[test]
fn lua_and_memory_l2_operations_agree() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    proptest!(ProptestConfig::with_cases(24), |(ops in proptest::collection::vec(op(), 1..24))| {
        let (mem, redis) = rt.block_on(async {
            let memory = tower_vigil_tests::fixtures::memory();
            let redis = tower_vigil_tests::fixtures::redis().await;
            (run(&memory, &ops).await, run(&redis, &ops).await)
        });
        prop_assert_eq!(mem, redis);
    });
}
