//! Micro: decisions per second of each algorithm on `MemoryBackend` against governor's keyed
//! limiter (same quota), and of GCRA on Redis through our backend against `redis-benchmark`
//! running `EVALSHA` of the very same script with the same arguments.

use std::hint::black_box;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use governor::{Quota as GovernorQuota, RateLimiter};
use tower_vigil_core::{MemoryBackend, RedisBackend};
use tower_vigil_ratelimit::{Acquire, Algorithm, Policy, Quota, acquire};
use tower_vigil_tests::RedisServer;

use crate::stats::median;

/// The quota of every micro comparison (the sliding log's cap is 10,000).
const LIMIT: u32 = 10_000;

/// Distinct keys of the "many keys" runs.
pub(crate) const MANY_KEYS: usize = 100_000;

/// Redis concurrency levels.
pub(crate) const IN_FLIGHT: [usize; 3] = [1, 16, 64];

pub(crate) struct MemoryRow {
    pub(crate) algorithm: Algorithm,
    pub(crate) keys: usize,
    pub(crate) ours: Vec<f64>,
    pub(crate) governor: Vec<f64>,
}

pub(crate) struct RedisRow {
    pub(crate) in_flight: usize,
    pub(crate) ours: Vec<f64>,
    pub(crate) raw: Vec<f64>,
}

pub(crate) struct MicroResult {
    pub(crate) memory: Vec<MemoryRow>,
    pub(crate) redis: Vec<RedisRow>,
    pub(crate) calls_per_redis_run: usize,
    pub(crate) redis_benchmark: String,
}

fn keys(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("ip:10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255))
        .collect()
}

async fn ours(store: &MemoryBackend, policies: &[Policy], keys: &[String], run: Duration) -> f64 {
    let started = Instant::now();
    let mut n = 0usize;
    while started.elapsed() < run {
        for _ in 0..1_000 {
            let key = &keys[n % keys.len()];
            black_box(acquire(store, Acquire::new(key, policies)).await.ok());
            n += 1;
        }
    }
    n as f64 / started.elapsed().as_secs_f64()
}

fn governor(keys: &[String], run: Duration) -> f64 {
    let quota = GovernorQuota::per_second(NonZeroU32::new(LIMIT).expect("non-zero"));
    let limiter = RateLimiter::keyed(quota);
    // The same warm-up as ours: every key exists before timing.
    for k in keys {
        black_box(limiter.check_key(k).is_ok());
    }
    let started = Instant::now();
    let mut n = 0usize;
    while started.elapsed() < run {
        for _ in 0..1_000 {
            black_box(limiter.check_key(&keys[n % keys.len()]).is_ok());
            n += 1;
        }
    }
    n as f64 / started.elapsed().as_secs_f64()
}

async fn memory(run: Duration, rounds: usize) -> Vec<MemoryRow> {
    let mut rows = Vec::new();
    for n in [1, MANY_KEYS] {
        let keys = keys(n);
        let mut these: Vec<MemoryRow> = Algorithm::ALL
            .iter()
            .map(|&algorithm| MemoryRow {
                algorithm,
                keys: n,
                ours: Vec::new(),
                governor: Vec::new(),
            })
            .collect();
        for round in 0..rounds {
            for row in &mut these {
                let policies =
                    [
                        Policy::with_algorithm("default", Quota::per_second(LIMIT), row.algorithm)
                            .expect("policy"),
                    ];
                let store = MemoryBackend::new();
                for k in &keys {
                    black_box(acquire(&store, Acquire::new(k, &policies)).await.ok());
                }
                row.ours.push(ours(&store, &policies, &keys, run).await);
                row.governor.push(governor(&keys, run));
                eprintln!(
                    "micro memory round {}/{rounds}: {:<24} {:>6} keys  ours {:>10.0}/s  governor {:>10.0}/s",
                    round + 1,
                    row.algorithm.to_string(),
                    n,
                    row.ours[round],
                    row.governor[round]
                );
            }
        }
        rows.extend(these);
    }
    rows
}

/// `calls` GCRA decisions over `MANY_KEYS` keys, `in_flight` at a time on our backend's one
/// multiplexed connection.
async fn ours_on_redis(
    store: &RedisBackend,
    policies: &Arc<[Policy]>,
    keys: &Arc<Vec<String>>,
    in_flight: usize,
    calls: usize,
) -> f64 {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..in_flight {
        let (store, policies, keys, next) =
            (store.clone(), policies.clone(), keys.clone(), next.clone());
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= calls {
                    break;
                }
                let key = &keys[(i * 7_919) % keys.len()];
                black_box(
                    acquire(&store, Acquire::new(key, &policies))
                        .await
                        .expect("acquire"),
                );
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    calls as f64 / started.elapsed().as_secs_f64()
}

/// `redis-benchmark -c in_flight -n calls -r MANY_KEYS EVALSHA <sha> 1 <key> <args>`: calls/s
/// (tried three times: under a heavy load it can give up on a connection and print no row).
async fn raw_redis(args: &[String]) -> f64 {
    let mut last = String::new();
    for _ in 0..3 {
        let out = tokio::process::Command::new("redis-benchmark")
            .args(args)
            .output()
            .await
            .expect("running redis-benchmark");
        let text = String::from_utf8_lossy(&out.stdout);
        // --csv: a header line, then `"EVALSHA …","<rps>",…`.
        let rps = text
            .lines()
            .skip(1)
            .filter_map(|l| l.split("\",\"").nth(1))
            .find_map(|v| v.trim_matches('"').parse().ok());
        if let Some(rps) = rps {
            return rps;
        }
        last = format!("{text}{}", String::from_utf8_lossy(&out.stderr));
    }
    panic!("unexpected redis-benchmark output:\n{last}");
}

async fn redis(run_calls: usize, rounds: usize) -> (Vec<RedisRow>, String) {
    let server = RedisServer::start();
    let store = crate::server::bench_backend(&server.url()).await;
    let quota = Quota::per_second(LIMIT);
    let policies: Arc<[Policy]> = Arc::new([Policy::new("default", quota).expect("policy")]);
    let keys = Arc::new(keys(MANY_KEYS));
    // Warm up: loads the script and the connection.
    ours_on_redis(&store, &policies, &keys, 16, 2_000).await;
    let sha = server
        .command(&[
            "SCRIPT",
            "LOAD",
            tower_vigil_ratelimit::__private::lua_source(),
        ])
        .expect("SCRIPT LOAD");
    assert_eq!(
        sha,
        redis::Script::new(tower_vigil_ratelimit::__private::lua_source()).get_hash(),
        "the script text differs from the one our store loads"
    );
    // The arguments our store sends for one GCRA policy: now ('' = Redis TIME), cost, mode
    // (acquire), then the policy's code, limit, period µs and burst.
    let period = quota.period().as_micros().to_string();
    let mut rows = Vec::new();
    let mut shown = String::new();
    for in_flight in IN_FLIGHT {
        let args: Vec<String> = [
            "-h",
            "127.0.0.1",
            "-p",
            &server.port().to_string(),
            "-c",
            &in_flight.to_string(),
            "-n",
            &run_calls.to_string(),
            "-r",
            &MANY_KEYS.to_string(),
            "--csv",
            "EVALSHA",
            &sha,
            "1",
            "vigil:ratelimit:{bench:__rand_int__}:default",
            "",
            "1",
            "0",
            "g",
            &LIMIT.to_string(),
            &period,
            &quota.burst_size().to_string(),
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        if in_flight == IN_FLIGHT[IN_FLIGHT.len() - 1] {
            shown = format!(
                "redis-benchmark {}",
                args.iter()
                    .map(|a| if a.is_empty() {
                        "''".to_owned()
                    } else {
                        a.clone()
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
        let mut row = RedisRow {
            in_flight,
            ours: Vec::new(),
            raw: Vec::new(),
        };
        for round in 0..rounds {
            row.ours
                .push(ours_on_redis(&store, &policies, &keys, in_flight, run_calls).await);
            row.raw.push(raw_redis(&args).await);
            eprintln!(
                "micro redis round {}/{rounds}: {in_flight:>2} in flight  ours {:>8.0}/s  redis-benchmark {:>8.0}/s",
                round + 1,
                row.ours[round],
                row.raw[round]
            );
        }
        rows.push(row);
    }
    (rows, shown)
}

pub(crate) async fn run(run: Duration, rounds: usize, redis_calls: usize) -> MicroResult {
    let memory = memory(run, rounds).await;
    let (redis, redis_benchmark) = redis(redis_calls, rounds).await;
    MicroResult {
        memory,
        redis,
        calls_per_redis_run: redis_calls,
        redis_benchmark,
    }
}

/// Median of one series (helper for the report).
pub(crate) fn med(v: &[f64]) -> f64 {
    median(v)
}
