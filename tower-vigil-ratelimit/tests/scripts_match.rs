//! The Lua scripts (real Redis) and the Rust twins (memory) make identical decisions for random
//! request sequences under an injected clock: allowed, remaining, reset and retry-after, for
//! every algorithm, mode and mix of policies.

use std::sync::OnceLock;
use std::time::Duration;

use proptest::prelude::*;
use tower_vigil_ratelimit::{
    Acquire, Algorithm, MemoryBackend, Mode, Policy, Quota, RedisBackend, acquire,
};
use tower_vigil_tests::fixtures;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
    })
}

fn backends() -> &'static (MemoryBackend, RedisBackend) {
    static B: OnceLock<(MemoryBackend, RedisBackend)> = OnceLock::new();
    B.get_or_init(|| runtime().block_on(async { (fixtures::memory(), fixtures::redis().await) }))
}

fn algorithm() -> impl Strategy<Value = Algorithm> {
    prop::sample::select(Algorithm::ALL.to_vec())
}

fn policy(i: usize) -> impl Strategy<Value = Policy> {
    (
        algorithm(),
        1u32..12,
        prop::sample::select(vec![1_000u64, 7_000, 60_000, 1_500, 333]),
        prop::option::of(1u32..15),
    )
        .prop_map(move |(algo, limit, period_ms, burst)| {
            let mut q = Quota::new(limit, Duration::from_millis(period_ms));
            if let (Some(b), Algorithm::Gcra | Algorithm::TokenBucket) = (burst, algo) {
                q = q.burst(b);
            }
            Policy::with_algorithm(format!("p{i}"), q, algo).unwrap()
        })
}

fn policies() -> impl Strategy<Value = Vec<Policy>> {
    prop_oneof![
        policy(0).prop_map(|p| vec![p]),
        (policy(0), policy(1)).prop_map(|(a, b)| vec![a, b]),
        (policy(0), policy(1), policy(2)).prop_map(|(a, b, c)| vec![a, b, c]),
    ]
}

fn mode() -> impl Strategy<Value = Mode> {
    prop_oneof![
        6 => Just(Mode::Acquire),
        1 => Just(Mode::Peek),
        1 => Just(Mode::Charge),
        1 => Just(Mode::Refund),
    ]
}

/// How far the clock moves before a request.
#[derive(Debug, Clone, Copy)]
enum Advance {
    By(u64),
    /// Exactly the previous answer's retry-after (or reset) plus a few µs, to hit the
    /// boundaries where an off-by-one between the twins would show.
    ToRetry(u64),
    ToReset(u64),
}

/// (clock advance, cost, mode). Advances are often zero (bursts at one instant), sometimes
/// tiny, sometimes past a whole window, sometimes exactly to a boundary.
fn step() -> impl Strategy<Value = (Advance, u32, Mode)> {
    (
        prop_oneof![
            3 => Just(Advance::By(0)),
            2 => (0u64..2_000).prop_map(Advance::By),
            2 => (0u64..400_000).prop_map(Advance::By),
            1 => (0u64..20_000_000).prop_map(Advance::By),
            2 => (0u64..3).prop_map(Advance::ToRetry),
            1 => (0u64..3).prop_map(Advance::ToReset),
        ],
        prop_oneof![8 => 0u32..3, 1 => 0u32..20],
        mode(),
    )
}

static CASE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn lua_and_rust_decide_identically(
        policies in policies(),
        start in 1_600_000_000_000_000u64..1_900_000_000_000_000,
        steps in prop::collection::vec(step(), 1..40),
    ) {
        let (memory, redis) = backends();
        let key = format!("case-{}", CASE.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        let mut now = start;
        let mut last: Option<tower_vigil_ratelimit::Decision> = None;
        runtime().block_on(async {
            for (i, (advance, cost, mode)) in steps.iter().enumerate() {
                let micros = |d: Duration| u64::try_from(d.as_micros()).unwrap();
                now += match (advance, &last) {
                    (Advance::By(n), _) | (Advance::ToRetry(n) | Advance::ToReset(n), None) => *n,
                    (Advance::ToRetry(n), Some(d)) => d.retry_after().map_or(0, micros) + n,
                    (Advance::ToReset(n), Some(d)) => {
                        d.policies().iter().map(|p| micros(p.reset_after())).max().unwrap_or(0) + n
                    }
                };
                let req = Acquire::new(&key, &policies).cost(*cost).mode(*mode).at(now);
                let in_memory = acquire(memory, req).await.unwrap();
                let in_redis = acquire(redis, req).await.unwrap();
                prop_assert_eq!(
                    &in_memory, &in_redis,
                    "step {} ({:?}, cost {}, {:?})", i, advance, cost, mode
                );
                last = Some(in_memory);
            }
            Ok(())
        })?;
    }
}
