//! `GET /health/redis` and `GET /metrics`.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use reqwest::StatusCode;
use serde_json::json;

use tower_vigil_tests::RedisServer;
use {
    tower_vigil_apikey::metrics as apikey, tower_vigil_idempotency::metrics as idempotency,
    tower_vigil_ratelimit::metrics as ratelimit, tower_vigil_session::metrics as session,
};

use crate::config::{ALICE, Config, DEMO_KEY, READONLY_KEY, SMALL_KEY, SMALL_KEY_LIMIT};
use crate::http::{analyze, expect_json, expect_status, get, login, metric_total};
use crate::server::{Mode, Server, browser, client, per_mode};

per_mode!(
    health_reports_the_backend,
    metrics_count_every_layer,
    metrics_pass_promtool
);

async fn health_reports_the_backend(mode: Mode) {
    let server = Server::start(mode, Config::default()).await;
    let (_, body) = expect_json(
        get(&client(), &server, "/health/redis").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["status"], "healthy", "{body}");
    assert_eq!(body["backend"], mode.backend_name(), "{body}");
    assert_eq!(body["connected"], true, "{body}");
    assert!(body["latencyMs"].is_number(), "{body}");
    assert!(body.get("usedMemory").is_some(), "{body}");
    assert!(body.get("keyCount").is_some(), "{body}");
    assert!(body.get("error").is_none(), "{body}");
}

/// A Redis that evicts when full can drop locks and idempotency records: the probe still
/// answers 200 (it serves) but says `degraded`, why, and what to set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_warns_when_redis_can_evict_state() {
    let redis = tokio::task::spawn_blocking(RedisServer::start)
        .await
        .expect("starting redis");
    let server = Server::start_on_redis(&redis.url(), Config::default()).await;
    let config = |name: &str, value: &str| {
        assert_eq!(
            redis.command(&["CONFIG", "SET", name, value]).as_deref(),
            Some("+OK")
        );
    };
    config("maxmemory", "64mb");
    let (_, body) = expect_json(
        get(&client(), &server, "/health/redis").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["status"], "healthy", "noeviction is safe: {body}");
    assert_eq!(body["evictionPolicy"], "noeviction", "{body}");
    assert_eq!(body["maxmemory"], 64 << 20, "{body}");

    config("maxmemory-policy", "allkeys-lru");
    let (_, body) = expect_json(
        get(&client(), &server, "/health/redis").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["status"], "degraded", "{body}");
    assert_eq!(body["evictionPolicy"], "allkeys-lru", "{body}");
    let warning = &body["warnings"][0];
    assert_eq!(warning["code"], "eviction-policy", "{body}");
    assert!(
        warning["message"]
            .as_str()
            .is_some_and(|m| m.contains("noeviction")),
        "{body}"
    );
}

async fn metrics_count_every_layer(mode: Mode) {
    let server = Server::start(mode, Config::default()).await;
    let api = client();
    let body = json!({"text": "hello"});
    // Allowed, limited, a store lookup, an idempotent run, a replay and a mismatch.
    for _ in 0..=SMALL_KEY_LIMIT {
        analyze(&api, &server, Some(SMALL_KEY), None, &body).await;
    }
    for text in ["hello", "hello", "other"] {
        analyze(
            &api,
            &server,
            Some(DEMO_KEY),
            Some("m-1"),
            &json!({"text": text}),
        )
        .await;
    }
    // A session saved and loaded.
    let b = browser();
    expect_status(login(&b, &server, ALICE).await, StatusCode::OK).await;
    expect_status(get(&b, &server, "/me").await, StatusCode::OK).await;

    let res = get(&api, &server, "/metrics").await;
    let content_type = res.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let (_, text) = expect_status(res, StatusCode::OK).await;
    for (name, at_least) in [
        (ratelimit::ALLOWED_TOTAL, (SMALL_KEY_LIMIT + 2) as f64),
        (ratelimit::LIMITED_TOTAL, 1.0),
        (apikey::STORE_LOOKUPS_TOTAL, 2.0),
        (idempotency::STORED_TOTAL, 1.0),
        (idempotency::REPLAYS_TOTAL, 1.0),
        (idempotency::MISMATCHES_TOTAL, 1.0),
        (session::SAVES_TOTAL, 1.0),
        (session::LOADS_TOTAL, 1.0),
    ] {
        let got = metric_total(&text, name);
        assert!(
            got >= at_least,
            "{name} = {got}, expected at least {at_least}:\n{text}"
        );
    }
    // Each crate describes its metrics when its layer is built: the exporter prints HELP
    // lines for them, the backend latency histograms included.
    let described = [
        &ratelimit::ALL[..],
        &apikey::ALL[..],
        &idempotency::ALL[..],
        &session::ALL[..],
    ]
    .concat();
    for name in [
        ratelimit::LIMITED_TOTAL,
        ratelimit::BACKEND_DURATION_SECONDS,
        apikey::STORE_LOOKUPS_TOTAL,
        apikey::BACKEND_DURATION_SECONDS,
        idempotency::REPLAYS_TOTAL,
        idempotency::BACKEND_DURATION_SECONDS,
        session::LOADS_TOTAL,
        session::BACKEND_DURATION_SECONDS,
    ] {
        let (_, help) = described.iter().find(|(n, _)| *n == name).unwrap();
        let line = format!("# HELP {name} {help}");
        assert!(text.lines().any(|l| l == line), "no `{line}` in:\n{text}");
    }
}

/// `promtool` on the `PATH` (Debian's `prometheus` package; `.ci/run` installs it).
fn promtool() -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join("promtool"))
        .find(|p| p.is_file())
}

/// After traffic through every layer (the per-IP failure limits, API keys, permissions, the
/// per-key quota, idempotency, sessions), `/metrics` passes `promtool check metrics`: every
/// metric has HELP and TYPE, counters end in `_total`, latencies are histograms in seconds.
async fn metrics_pass_promtool(mode: Mode) {
    let server = Server::start(mode, Config::default()).await;
    let api = client();
    let body = json!({"text": "hello"});
    // Unknown key (401, charged to the IP's failures), no permission (403), over quota (429).
    analyze(
        &api,
        &server,
        Some("vg_unknown_key_0000000000000000"),
        None,
        &body,
    )
    .await;
    analyze(&api, &server, Some(READONLY_KEY), None, &body).await;
    for _ in 0..=SMALL_KEY_LIMIT {
        analyze(&api, &server, Some(SMALL_KEY), None, &body).await;
    }
    // Stored, replayed, mismatched.
    for text in ["hello", "hello", "other"] {
        analyze(
            &api,
            &server,
            Some(DEMO_KEY),
            Some("p-1"),
            &json!({"text": text}),
        )
        .await;
    }
    // A failed login (charged to the login limit), a session saved, loaded and destroyed.
    let b = browser();
    expect_status(
        login(&b, &server, (ALICE.0, "wrong password")).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_status(login(&b, &server, ALICE).await, StatusCode::OK).await;
    expect_status(get(&b, &server, "/me").await, StatusCode::OK).await;
    b.post(server.url("/logout"))
        .send()
        .await
        .expect("POST /logout");

    let (_, text) = expect_status(get(&api, &server, "/metrics").await, StatusCode::OK).await;
    // Latencies are histograms, one per layer's backend calls.
    for name in [
        ratelimit::BACKEND_DURATION_SECONDS,
        apikey::BACKEND_DURATION_SECONDS,
        idempotency::BACKEND_DURATION_SECONDS,
        session::BACKEND_DURATION_SECONDS,
    ] {
        let line = format!("# TYPE {name} histogram");
        assert!(text.lines().any(|l| l == line), "no `{line}` in:\n{text}");
        assert!(
            text.contains(&format!("{name}_bucket{{")),
            "no buckets of {name}:\n{text}"
        );
    }

    // And the time of each request through every layer, by route and status class.
    let name = "vigil_api_request_duration_seconds";
    assert!(
        text.lines()
            .any(|l| l == format!("# TYPE {name} histogram")),
        "no {name}:\n{text}"
    );
    assert!(
        text.contains(&format!(
            "{name}_bucket{{route=\"/v1/analyze\",status=\"2xx\""
        )),
        "no /v1/analyze 2xx buckets:\n{text}"
    );

    let Some(promtool) = promtool() else {
        eprintln!(
            "NOTICE: promtool is not on the PATH (Debian: apt-get install prometheus); \
             /metrics was not checked with it"
        );
        return;
    };
    let output = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(&promtool)
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("running {}: {e}", promtool.display()));
        child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(text.as_bytes())
            .expect("writing /metrics to promtool");
        (
            child.wait_with_output().expect("waiting for promtool"),
            text,
        )
    })
    .await
    .expect("promtool");
    let (output, text) = output;
    assert!(
        output.status.success(),
        "promtool check metrics failed ({}):\n{}{}\n---- /metrics ----\n{text}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
}
