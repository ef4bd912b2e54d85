//! Group commit on Redis and Redis Cluster: concurrent runs of a batchable script go to Redis
//! in batches (fewer `EVALSHA`s than runs), each run still decided exactly as alone; a run
//! that fails fails alone; a stalled server fails queued runs within the timeout and the queue
//! recovers; callers that give up never strand the runs queued behind them.

use std::time::{Duration, Instant};

use tower_vigil_core::memory::Value;
use tower_vigil_core::script::{Arg, Reply, Script, TwinCall};
use tower_vigil_core::{Backend, BackendErrorKind, BackendResult, RedisBackend};
use tower_vigil_tests::{RedisCluster, RedisServer, fixtures};

/// Takes one unit from a counter that starts at `ARGV[1]`: the units left after the take, or
/// nil when none was left. `ARGV[2]` = `boom` raises a Lua error, `refuse` answers an error
/// reply: the failures a batch must keep to their own call.
static TAKE: Script<Option<i64>> = Script::new(
    "test.take",
    r"
if ARGV[2] == 'boom' then error('boom') end
if ARGV[2] == 'refuse' then return redis.error_reply('ERR refused') end
local left = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
if left <= 0 then return nil end
redis.call('SET', KEYS[1], left - 1, 'PX', 60000)
return left - 1
",
    take,
    |reply| match reply {
        Reply::Nil => Ok(None),
        other => Ok(Some(other.into_int()?)),
    },
)
.batchable();

fn take(call: &mut TwinCall<'_>) -> BackendResult<Option<i64>> {
    let start = call.args().int(0)?;
    let slot = call.slot(0)?;
    let left = match slot.value() {
        Some(Value::Int(n)) => *n,
        _ => start,
    };
    if left <= 0 {
        return Ok(None);
    }
    slot.set(Value::Int(left - 1), Duration::from_secs(60));
    Ok(Some(left - 1))
}

const HANG_BOUND: Duration = Duration::from_secs(3);

/// `cmdstat_evalsha` calls on each of `ports`, summed.
fn evalsha_calls(ports: &[u16], command: impl Fn(u16, &[&str]) -> Option<String>) -> u64 {
    ports
        .iter()
        .map(|&port| {
            let stats = command(port, &["INFO", "commandstats"]).unwrap_or_default();
            stats
                .lines()
                .find_map(|l| l.strip_prefix("cmdstat_evalsha:calls="))
                .and_then(|rest| rest.split(',').next())
                .map_or(0, |n| n.parse().unwrap())
        })
        .sum()
}

/// `n` runs at once, spread over `keys` keys, each counter starting at `units`: every key
/// hands out exactly `units`, whatever the batching.
async fn exact_under_concurrency(backend: &RedisBackend, n: usize, keys: usize, units: i64) {
    static ROUND: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let round = ROUND.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let backend = backend.clone();
            tokio::spawn(async move {
                let key = format!("gc:{round}:{}", i % keys);
                backend
                    .run(&TAKE, &[key.as_str()], &[Arg::Int(units), Arg::Bytes(b"")])
                    .await
            })
        })
        .collect();
    let mut granted = vec![0_i64; keys];
    for (i, t) in tasks.into_iter().enumerate() {
        if t.await.unwrap().unwrap().is_some() {
            granted[i % keys] += 1;
        }
    }
    let expected = units.min(i64::try_from(n / keys).unwrap());
    assert!(
        granted.iter().all(|&g| g == expected),
        "units granted per key: {granted:?}, expected {expected} each"
    );
}

async fn standalone(server: &RedisServer, max_batch: Option<usize>) -> RedisBackend {
    RedisBackend::builder(&server.url())
        .prefix(fixtures::unique_prefix())
        .timeout(Duration::from_millis(500))
        .group_commit(max_batch)
        .connect()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_runs_go_in_batches_and_stay_exact() {
    let server = RedisServer::start();
    let calls = |port: u16, args: &[&str]| {
        assert_eq!(port, server.port());
        server.command(args)
    };
    let backend = standalone(&server, Some(64)).await;
    let before = evalsha_calls(&[server.port()], calls);
    exact_under_concurrency(&backend, 2_000, 1, 500).await;
    let sent = evalsha_calls(&[server.port()], calls) - before;
    assert!(
        sent < 1_000,
        "2,000 concurrent runs took {sent} EVALSHA calls: not batched"
    );
    // Many keys at once, in batches too.
    exact_under_concurrency(&backend, 2_000, 100, 15).await;

    // Turned off, every run is a call of its own.
    let unbatched = standalone(&server, None).await;
    let before = evalsha_calls(&[server.port()], calls);
    exact_under_concurrency(&unbatched, 500, 1, 100).await;
    let sent = evalsha_calls(&[server.port()], calls) - before;
    assert!(sent >= 500, "{sent} EVALSHA calls for 500 unbatched runs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_on_a_cluster_hold_one_slot_each_and_stay_exact() {
    let cluster = RedisCluster::start();
    let backend = RedisBackend::cluster_builder(cluster.urls())
        .prefix(fixtures::unique_prefix())
        .timeout(Duration::from_millis(500))
        .group_commit(Some(64))
        .connect()
        .await
        .unwrap();
    let ports = cluster.ports();
    let calls = |port: u16, args: &[&str]| {
        let i = ports.iter().position(|&p| p == port).unwrap();
        cluster.command(i, args)
    };
    // Keys over every node and many slots: a batch mixing slots would fail with CROSSSLOT.
    exact_under_concurrency(&backend, 3_000, 300, 7).await;
    let before = evalsha_calls(&ports, calls);
    exact_under_concurrency(&backend, 2_000, 1, 500).await;
    let sent = evalsha_calls(&ports, calls) - before;
    assert!(
        sent < 1_000,
        "{sent} EVALSHA calls for 2,000 runs on one key"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_fails_fails_alone() {
    let server = RedisServer::start();
    let backend = standalone(&server, Some(64)).await;
    let tasks: Vec<_> = (0..600)
        .map(|i| {
            let backend = backend.clone();
            tokio::spawn(async move {
                let how: &[u8] = match i % 3 {
                    0 => b"",
                    1 => b"boom",
                    _ => b"refuse",
                };
                let key = format!("fail:{}", i % 7);
                (
                    i % 3,
                    backend
                        .run(&TAKE, &[key.as_str()], &[Arg::Int(1_000), Arg::Bytes(how)])
                        .await,
                )
            })
        })
        .collect();
    let mut granted = 0;
    for t in tasks {
        match t.await.unwrap() {
            (0, Ok(Some(_))) => granted += 1,
            (1 | 2, Err(e)) => assert_eq!(e.kind(), BackendErrorKind::Script, "{e}"),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(granted, 200);
    // Nil answers come back as nil, batched or not: a counter of 0 units.
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let backend = backend.clone();
            tokio::spawn(async move {
                backend
                    .run(&TAKE, &["empty"], &[Arg::Int(0), Arg::Bytes(b"")])
                    .await
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), None);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_server_fails_queued_runs_in_time_and_the_queue_recovers() {
    let mut server = RedisServer::start();
    let backend = standalone(&server, Some(64)).await;
    exact_under_concurrency(&backend, 50, 1, 10).await;
    server.freeze();
    let started = Instant::now();
    let tasks: Vec<_> = (0..300)
        .map(|i| {
            let backend = backend.clone();
            tokio::spawn(async move {
                let key = format!("stall:{i}");
                backend
                    .run(&TAKE, &[key.as_str()], &[Arg::Int(5), Arg::Bytes(b"")])
                    .await
            })
        })
        .collect();
    for t in tasks {
        let err = t
            .await
            .unwrap()
            .expect_err("a frozen server answers nothing");
        assert!(err.is_unavailable(), "{err}");
    }
    assert!(
        started.elapsed() < HANG_BOUND,
        "queued runs took {:?} to fail",
        started.elapsed()
    );
    server.thaw();
    // The queue is not stranded: runs succeed again, batched and exact.
    let deadline = Instant::now() + Duration::from_secs(20);
    while backend
        .run(&TAKE, &["after"], &[Arg::Int(1_000_000), Arg::Bytes(b"")])
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "the backend did not recover");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    exact_under_concurrency(&backend, 1_000, 10, 40).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_that_give_up_never_strand_the_queue() {
    let server = RedisServer::start();
    let backend = standalone(&server, Some(64)).await;
    for round in 0..20 {
        let tasks: Vec<_> = (0..100)
            .map(|i| {
                let backend = backend.clone();
                tokio::spawn(async move {
                    let key = format!("gone:{round}:{i}");
                    backend
                        .run(&TAKE, &[key.as_str()], &[Arg::Int(5), Arg::Bytes(b"")])
                        .await
                })
            })
            .collect();
        // Drop every other caller at once: the leader among them, often.
        for (i, t) in tasks.iter().enumerate() {
            if i % 2 == 0 {
                t.abort();
            }
        }
        let started = Instant::now();
        for t in tasks {
            if let Ok(result) = t.await {
                assert_eq!(result.unwrap(), Some(4));
            }
        }
        assert!(started.elapsed() < HANG_BOUND, "round {round} hung");
    }
    exact_under_concurrency(&backend, 500, 5, 100).await;
}
