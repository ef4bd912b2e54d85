//! Macro: an axum route under load on loopback, bare and behind each layer, every layer's
//! figures as ratios to the bare route measured in the same round.

pub(crate) mod apps;

use std::net::SocketAddr;
use std::time::Duration;

use tower_vigil_core::RedisBackend;
use tower_vigil_tests::RedisServer;

use crate::load::{Generator, Load, Sample, request};
use crate::server::{Server, VigilApi, vigil_api_binary};
use crate::stats::{median, median_ratio};

/// Connections of every run (`wrk -c64`).
pub(crate) const CONNECTIONS: usize = 64;

/// One configuration under load.
pub(crate) struct Row {
    pub(crate) id: &'static str,
    pub(crate) label: &'static str,
    /// One sample per round.
    pub(crate) samples: Vec<Sample>,
}

/// All rows; `rows[0]` is the bare route.
pub(crate) struct MacroResult {
    pub(crate) rows: Vec<Row>,
    pub(crate) load: String,
    pub(crate) rounds: usize,
    pub(crate) notes: Vec<String>,
    /// `INFO commandstats` of the shared redis-server after the run: (command, calls, µs per
    /// call), where most of a Redis-backed layer's cost goes on a 2-core machine.
    pub(crate) redis_commands: Vec<(String, u64, f64)>,
}

impl MacroResult {
    pub(crate) fn row(&self, id: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.id == id)
    }

    fn series(row: &Row, f: impl Fn(&Sample) -> f64) -> Vec<f64> {
        row.samples.iter().map(f).collect()
    }

    /// Median over rounds of `a`'s req/s over `b`'s in the same round.
    pub(crate) fn rps_ratio(&self, a: &str, b: &str) -> f64 {
        match (self.row(a), self.row(b)) {
            (Some(a), Some(b)) => {
                median_ratio(&Self::series(a, |s| s.rps), &Self::series(b, |s| s.rps))
            }
            _ => f64::NAN,
        }
    }

    pub(crate) fn latency_ratio(&self, a: &str, b: &str, p99: bool) -> f64 {
        let pick = |s: &Sample| if p99 { s.p99_us } else { s.p50_us };
        match (self.row(a), self.row(b)) {
            (Some(a), Some(b)) => median_ratio(&Self::series(a, pick), &Self::series(b, pick)),
            _ => f64::NAN,
        }
    }

    pub(crate) fn median_of(row: &Row, f: impl Fn(&Sample) -> f64) -> f64 {
        median(&Self::series(row, f))
    }
}

struct Scenario {
    id: &'static str,
    label: &'static str,
    addr: SocketAddr,
    load: Load,
    /// The server (or child process), kept alive for the whole run; `None` for a second
    /// route of a server another scenario holds.
    _server: Option<Box<dyn std::any::Any>>,
}

async fn backend(url: &str, prefix: &str) -> RedisBackend {
    backend_with(
        url,
        prefix,
        Some(tower_vigil_core::redis::DEFAULT_MAX_BATCH),
    )
    .await
}

/// A backend with group commit set to `max_batch` (`None`: off, the default).
async fn backend_with(url: &str, prefix: &str, max_batch: Option<usize>) -> RedisBackend {
    RedisBackend::builder(url)
        .prefix(prefix)
        .timeout(Duration::from_secs(2))
        .group_commit(max_batch)
        .connect()
        .await
        .expect("redis backend")
}

async fn in_process(
    id: &'static str,
    label: &'static str,
    router: axum::Router,
    load: Load,
) -> Scenario {
    let server = Server::spawn(router).await;
    Scenario {
        id,
        label,
        addr: server.addr,
        load,
        _server: Some(Box::new(server)),
    }
}

/// A session cookie from `GET /new`, as `name=value` for the `Cookie` header.
async fn session_cookie(addr: SocketAddr, name: &str) -> String {
    let reply = request(addr, &Load::get("/new")).await.expect("GET /new");
    let value = reply
        .cookie(name)
        .unwrap_or_else(|| panic!("no {name} cookie from /new: {:?}", reply.headers));
    format!("{name}={value}")
}

const ANALYZE: &str = r#"{"text": "The quick brown fox jumps over the lazy dog. It was a bright cold day in April."}"#;
const DEMO_KEY: &str = "vg_demo_8f3b2c1d9e7a4b6c5d0e1f2a3b4c5d6e";
const ORDER: &str = r#"{"amount":1000,"currency":"EUR","description":"benchmark order"}"#;

async fn scenarios(redis: &RedisServer, notes: &mut Vec<String>) -> Vec<Scenario> {
    let url = redis.url();
    let mut all = vec![
        in_process("bare", "bare axum route", apps::bare(), Load::get("/")).await,
        in_process(
            "governor",
            "+ tower-governor 0.8",
            apps::governor(),
            Load::get("/"),
        )
        .await,
        in_process(
            "rl-memory",
            "+ rate limit, memory",
            apps::rate_limit(tower_vigil_core::MemoryBackend::new(), true),
            Load::get("/"),
        )
        .await,
        in_process(
            "rl-memory-no-headers",
            "+ rate limit, memory, headers off",
            apps::rate_limit(tower_vigil_core::MemoryBackend::new(), false),
            Load::get("/"),
        )
        .await,
        in_process(
            "rl-redis",
            "+ rate limit, Redis",
            apps::rate_limit(backend(&url, "rl").await, true),
            Load::get("/"),
        )
        .await,
        in_process(
            "rl-redis-batched",
            "+ rate limit, Redis, group commit on",
            apps::rate_limit(
                backend_with(
                    &url,
                    "rlb",
                    Some(tower_vigil_core::redis::DEFAULT_MAX_BATCH),
                )
                .await,
                true,
            ),
            Load::get("/"),
        )
        .await,
        in_process(
            "minimal-evalsha",
            "+ minimal one-EVALSHA GCRA middleware",
            apps::minimal_evalsha(&url).await,
            Load::get("/"),
        )
        .await,
    ];
    let (router, key) = apps::api_key(backend(&url, "ak1").await, true).await;
    all.push(
        in_process(
            "apikey-l1",
            "+ API key, L1 hit",
            router,
            Load::get("/").header("x-api-key", &key),
        )
        .await,
    );
    let (router, key) = apps::api_key(backend(&url, "ak2").await, false).await;
    all.push(
        in_process(
            "apikey-l2",
            "+ API key, L2 (Redis) hit",
            router,
            Load::get("/").header("x-api-key", &key),
        )
        .await,
    );

    let ours = Server::spawn(apps::session(backend(&url, "sess").await)).await;
    let cookie = session_cookie(ours.addr, "__Host-vigil_session").await;
    let addr = ours.addr;
    all.push(Scenario {
        id: "session-read",
        label: "+ session read, Redis",
        addr,
        load: Load::get("/read").header("cookie", &cookie),
        _server: Some(Box::new(ours)),
    });
    all.push(in_process_shared(
        addr,
        "session-write",
        "+ session write, Redis",
        Load::get("/write").header("cookie", &cookie),
    ));
    let theirs = Server::spawn(apps::tower_sessions(&url, false).await).await;
    let cookie = session_cookie(theirs.addr, "id").await;
    let addr = theirs.addr;
    all.push(Scenario {
        id: "tower-sessions-read",
        label: "+ tower-sessions 0.14 read, Redis store",
        addr,
        load: Load::get("/read").header("cookie", &cookie),
        _server: Some(Box::new(theirs)),
    });
    all.push(in_process_shared(
        addr,
        "tower-sessions-write",
        "+ tower-sessions 0.14 write, Redis store",
        Load::get("/write").header("cookie", &cookie),
    ));
    let sliding = Server::spawn(apps::tower_sessions(&url, true).await).await;
    let cookie = session_cookie(sliding.addr, "id").await;
    all.push(Scenario {
        id: "tower-sessions-read-sliding",
        label: "+ tower-sessions 0.14 read, Redis store, sliding idle expiry (our semantics)",
        addr: sliding.addr,
        load: Load::get("/read").header("cookie", &cookie),
        _server: Some(Box::new(sliding)),
    });
    let replay = Load::post("/orders", ORDER).header("idempotency-key", "\"bench-replay-1\"");
    let s = in_process(
        "idempotent-replay",
        "+ idempotent replay, Redis",
        apps::idempotency(backend(&url, "idem").await),
        replay,
    )
    .await;
    // The first request runs the handler and stores the response; the load replays it.
    let _ = request(s.addr, &s.load).await;
    all.push(s);

    match vigil_api_binary() {
        None => notes.push(
            "vigil-api rows left out: no release binary (build it with `cargo build --release -p vigil-api`)".to_owned(),
        ),
        Some(bin) => {
            for (id, label, redis_url) in [
                ("vigil-api-memory", "full vigil-api stack, memory", None),
                ("vigil-api-redis", "full vigil-api stack, Redis", Some(url.as_str())),
            ] {
                match VigilApi::start(&bin, redis_url) {
                    Ok(api) => all.push(Scenario {
                        id,
                        label,
                        addr: api.addr,
                        load: Load::post("/v1/analyze", ANALYZE).header("x-api-key", DEMO_KEY),
                        _server: Some(Box::new(api)),
                    }),
                    Err(e) => notes.push(format!("{id} left out: {e}")),
                }
            }
        }
    }
    // Every scenario must answer 2xx before it is measured.
    let mut checked = Vec::new();
    for s in all {
        match request(s.addr, &s.load).await {
            Ok(r) if r.status.is_success() => checked.push(s),
            Ok(r) => notes.push(format!(
                "{} left out: answered {} ({})",
                s.id,
                r.status,
                String::from_utf8_lossy(&r.body)
            )),
            Err(e) => notes.push(format!("{} left out: {e}", s.id)),
        }
    }
    checked
}

/// A second route on a server already held by another scenario.
fn in_process_shared(
    addr: SocketAddr,
    id: &'static str,
    label: &'static str,
    load: Load,
) -> Scenario {
    Scenario {
        id,
        label,
        addr,
        load,
        _server: None,
    }
}

/// Runs every scenario (or, with `only`, the bare route and those named: for profiling one
/// layer, e.g. `perf record -g -- vigil-bench macro --only rl-memory`).
pub(crate) async fn run(
    generator: Generator,
    run: Duration,
    rounds: usize,
    only: &[String],
) -> MacroResult {
    let redis = RedisServer::start();
    let mut notes = Vec::new();
    let mut scenarios = scenarios(&redis, &mut notes).await;
    if !only.is_empty() {
        scenarios.retain(|s| s.id == "bare" || only.iter().any(|o| o == s.id));
    }
    for n in &notes {
        eprintln!("macro: {n}");
    }
    // Warm every server up (connections, caches, allocator) before the first round.
    for s in &scenarios {
        generator
            .run(s.addr, &s.load, CONNECTIONS, Duration::from_secs(1))
            .await;
    }
    let mut rows: Vec<Row> = scenarios
        .iter()
        .map(|s| Row {
            id: s.id,
            label: s.label,
            samples: Vec::new(),
        })
        .collect();
    for round in 0..rounds {
        for (s, row) in scenarios.iter().zip(&mut rows) {
            let sample = generator.run(s.addr, &s.load, CONNECTIONS, run).await;
            eprintln!(
                "macro round {}/{rounds}: {:<22} {:>9.0} req/s  p50 {:>7.0} µs  p99 {:>7.0} µs{}",
                round + 1,
                s.id,
                sample.rps,
                sample.p50_us,
                sample.p99_us,
                if sample.errors > 0 {
                    format!("  ({} non-2xx)", sample.errors)
                } else {
                    String::new()
                }
            );
            row.samples.push(sample);
        }
    }
    MacroResult {
        rows,
        load: generator.describe(CONNECTIONS, run),
        rounds,
        notes,
        redis_commands: command_stats(&redis),
    }
}

/// `cmdstat_<name>:calls=N,usec=U,usec_per_call=P,…` lines with more than 1,000 calls.
fn command_stats(redis: &RedisServer) -> Vec<(String, u64, f64)> {
    let text = redis.command(&["INFO", "commandstats"]).unwrap_or_default();
    let mut out: Vec<(String, u64, f64)> = text
        .lines()
        .filter_map(|l| {
            let (name, rest) = l.strip_prefix("cmdstat_")?.split_once(':')?;
            let field = |f: &str| {
                rest.split(',')
                    .find_map(|kv| kv.strip_prefix(f)?.strip_prefix('='))
                    .and_then(|v| v.parse::<f64>().ok())
            };
            let calls = field("calls")? as u64;
            (calls > 1_000).then(|| {
                (
                    name.to_owned(),
                    calls,
                    field("usec_per_call").unwrap_or(0.0),
                )
            })
        })
        .collect();
    out.sort_by_key(|c| std::cmp::Reverse(c.1));
    out
}
