//! The L2 scripts exist twice (Lua on Redis, the Rust twin on memory) and get identical
//! inputs through `Backend::run`: random operation sequences must give the same answers on
//! memory, a Redis server and a Redis Cluster.
//!
//! Generations are floored with each backend's clock (`TIME` on Redis), so their values
//! differ between the two: answers are compared after replacing each generation by its rank
//! among the generations seen for that key (0 stays 0), and both must be strictly increasing
//! per key, also across an expired generation key.

use std::collections::BTreeSet;
use std::time::Duration;

use bytes::Bytes;
use proptest::prelude::*;
use tower_vigil_apikey::__private::{fill_record, read_record, record_keys, revoke_record};
use tower_vigil_core::Backend;

#[derive(Debug, Clone)]
enum Op {
    Read(u8),
    /// A fill naming one of the generations seen so far for the key (`pick` modulo how many).
    Fill {
        key: u8,
        pick: u8,
        value: u8,
    },
    Revoke(u8),
    /// The generation key's TTL runs out (deleted, which leaves the same state).
    Expire(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..2).prop_map(Op::Read),
        (0u8..2, any::<u8>(), any::<u8>()).prop_map(|(key, pick, value)| Op::Fill {
            key,
            pick,
            value
        }),
        (0u8..2).prop_map(Op::Revoke),
        (0u8..2).prop_map(Op::Expire),
    ]
}

#[derive(Debug, PartialEq)]
enum Out {
    Read(Option<Bytes>, usize),
    Fill(bool),
    Revoke(usize),
    Expire,
}

/// The generations seen per key, and the rank of one among them.
#[derive(Default)]
struct Seen([BTreeSet<u64>; 2]);

impl Seen {
    fn rank(&mut self, key: u8, generation: u64) -> usize {
        let set = &mut self.0[usize::from(key)];
        set.insert(0);
        set.insert(generation);
        set.range(..generation).count()
    }

    fn pick(&self, key: u8, pick: u8) -> u64 {
        let set = &self.0[usize::from(key)];
        set.iter()
            .nth(usize::from(pick) % set.len().max(1))
            .copied()
            .unwrap_or(0)
    }
}

async fn run<B: Backend>(b: &B, ops: &[Op]) -> Vec<Out> {
    let hash = |k: u8| format!("h{k}");
    let ttl = Duration::from_secs(60);
    let mut seen = Seen::default();
    let mut out = Vec::new();
    for op in ops {
        out.push(match op {
            Op::Read(k) => {
                let (rec, rev) = read_record(b, &hash(*k)).await.unwrap();
                Out::Read(rec, seen.rank(*k, rev))
            }
            Op::Fill { key, pick, value } => {
                let rev = seen.pick(*key, *pick);
                Out::Fill(
                    fill_record(b, &hash(*key), rev, &Bytes::from(vec![*value; 3]), ttl)
                        .await
                        .unwrap(),
                )
            }
            Op::Revoke(k) => {
                let rev = revoke_record(b, &hash(*k), ttl).await.unwrap();
                let before = seen.0[usize::from(*k)].last().copied().unwrap_or(0);
                assert!(rev > before, "generation {rev} does not exceed {before}");
                Out::Revoke(seen.rank(*k, rev))
            }
            Op::Expire(k) => {
                let (_, rev) = record_keys(&hash(*k));
                b.delete(&rev).await.unwrap();
                Out::Expire
            }
        });
    }
    out
}

#[test]
fn lua_and_memory_l2_operations_agree() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    proptest!(ProptestConfig::with_cases(24), |(ops in proptest::collection::vec(op(), 1..24))| {
        let (mem, redis, cluster) = rt.block_on(async {
            let memory = tower_vigil_tests::fixtures::memory();
            let redis = tower_vigil_tests::fixtures::redis().await;
            let cluster = tower_vigil_tests::fixtures::cluster().await;
            (
                run(&memory, &ops).await,
                run(&redis, &ops).await,
                run(&cluster, &ops).await,
            )
        });
        prop_assert_eq!(&mem, &redis);
        prop_assert_eq!(&mem, &cluster);
    });
}
