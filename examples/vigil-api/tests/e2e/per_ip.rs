//! The per-client-IP limits (issue 12): whose bucket a request is in behind trusted proxies
//! (item 18), failed API-key authentications limited before the key store (item 19), and both
//! limits holding under concurrency (item 1: at most the limit reaches the check).

use reqwest::StatusCode;
use reqwest::header::RETRY_AFTER;
use serde_json::json;
use tokio::task::JoinSet;

use crate::config::{ALICE, BOB, Config, DEMO_KEY};
use crate::http::{expect_json, expect_problem, expect_status, get, header_u64, metric_total};
use crate::server::{Mode, Server, client, per_mode};

per_mode!(
    forwarded_clients_get_their_own_buckets_behind_a_trusted_proxy,
    forwarding_headers_are_ignored_without_trusted_proxies,
    random_api_keys_are_limited_per_client_ip_before_the_key_store,
    concurrent_wrong_passwords_reach_the_password_check_at_most_limit_times,
    concurrent_random_api_keys_reach_the_key_store_at_most_limit_times,
    a_busy_client_with_a_valid_key_never_fills_the_failures_limit,
);

/// The metric counting `KeyStore` (SQLite) lookups behind the API-key caches.
const STORE_LOOKUPS: &str = tower_vigil_apikey::metrics::STORE_LOOKUPS_TOTAL;

/// `POST /login` with an optional `X-Forwarded-For`.
async fn login_from(server: &Server, xff: Option<&str>, user: (&str, &str)) -> reqwest::Response {
    let mut req = client()
        .post(server.url("/login"))
        .json(&json!({"username": user.0, "password": user.1}));
    if let Some(xff) = xff {
        req = req.header("x-forwarded-for", xff);
    }
    req.send().await.expect("POST /login")
}

/// `POST /v1/analyze` with `key` and an optional `X-Forwarded-For`.
async fn analyze_from(
    c: &reqwest::Client,
    server: &Server,
    xff: Option<&str>,
    key: &str,
) -> reqwest::Response {
    let mut req = c
        .post(server.url("/v1/analyze"))
        .header("x-api-key", key)
        .json(&json!({"text": "hello"}));
    if let Some(xff) = xff {
        req = req.header("x-forwarded-for", xff);
    }
    req.send().await.expect("POST /v1/analyze")
}

/// A key no one was ever given (and never sent before): unknown to every cache, so only the
/// database can say so.
fn random_key() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("vg_random_{nanos:x}_{}", N.fetch_add(1, Ordering::Relaxed))
}

async fn store_lookups(server: &Server) -> f64 {
    let (_, text) = expect_status(get(&client(), server, "/metrics").await, StatusCode::OK).await;
    metric_total(&text, STORE_LOOKUPS)
}

async fn expect_limited(res: reqwest::Response) {
    let (headers, _) = expect_problem(res, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(header_u64(&headers, RETRY_AFTER.as_str()) >= 1);
}

/// Limits of 2 per hour (GCRA: nothing refills during the test).
fn two_per_hour(trusted_proxies: Vec<&'static str>) -> Config {
    Config {
        window_seconds: 3600,
        login_per_window: 2,
        auth_failures_per_window: 2,
        trusted_proxies,
        ..Config::default()
    }
}

async fn forwarded_clients_get_their_own_buckets_behind_a_trusted_proxy(mode: Mode) {
    // The test client plays the proxy: it connects from 127.0.0.1 and names the client.
    let server = Server::start(mode, two_per_hour(vec!["127.0.0.1/32"])).await;
    let wrong = (BOB.0, "wrong");
    let (a, b) = (Some("198.51.100.1"), Some("198.51.100.2"));

    for _ in 0..2 {
        expect_problem(
            login_from(&server, a, wrong).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    expect_limited(login_from(&server, a, wrong).await).await;
    // Whatever the client writes left of what the proxy appended does not change its bucket.
    expect_limited(login_from(&server, Some("203.0.113.9, 198.51.100.1"), BOB).await).await;
    // Another client behind the same proxy has a bucket of its own, and so has the proxy.
    expect_problem(
        login_from(&server, b, wrong).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_json(login_from(&server, b, BOB).await, StatusCode::OK).await;
    expect_problem(
        login_from(&server, None, wrong).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    // The API-key failure limit keys on the same client.
    let api = client();
    for _ in 0..2 {
        let res = analyze_from(&api, &server, a, &random_key()).await;
        expect_problem(res, StatusCode::UNAUTHORIZED).await;
    }
    expect_limited(analyze_from(&api, &server, a, &random_key()).await).await;
    expect_problem(
        analyze_from(&api, &server, b, &random_key()).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_json(
        analyze_from(&api, &server, b, DEMO_KEY).await,
        StatusCode::OK,
    )
    .await;
}

async fn forwarding_headers_are_ignored_without_trusted_proxies(mode: Mode) {
    let server = Server::start(mode, two_per_hour(Vec::new())).await;
    let wrong = (BOB.0, "wrong");
    expect_problem(
        login_from(&server, Some("198.51.100.1"), wrong).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_problem(
        login_from(&server, Some("198.51.100.2"), wrong).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // A client cannot pick a fresh bucket by naming another address: all were the peer's.
    for xff in [Some("198.51.100.3"), Some("198.51.100.4, 10.0.0.1"), None] {
        expect_limited(login_from(&server, xff, ALICE).await).await;
    }
    let api = client();
    for xff in ["198.51.100.5", "198.51.100.6"] {
        let res = analyze_from(&api, &server, Some(xff), &random_key()).await;
        expect_problem(res, StatusCode::UNAUTHORIZED).await;
    }
    expect_limited(analyze_from(&api, &server, Some("198.51.100.7"), &random_key()).await).await;
}

async fn random_api_keys_are_limited_per_client_ip_before_the_key_store(mode: Mode) {
    let limit = 5;
    let config = Config {
        window_seconds: 3600,
        auth_failures_per_window: limit,
        ..Config::default()
    };
    let server = Server::start(mode, config).await;
    let api = client();
    let before = store_lookups(&server).await;
    for _ in 0..limit {
        let res = analyze_from(&api, &server, None, &random_key()).await;
        expect_problem(res, StatusCode::UNAUTHORIZED).await;
    }
    let reached = store_lookups(&server).await - before;
    assert_eq!(
        reached, limit as f64,
        "each unknown key is one store lookup"
    );

    // Past the limit the flood is answered before any cache or the database is asked.
    for _ in 0..20 {
        expect_limited(analyze_from(&api, &server, None, &random_key()).await).await;
    }
    // The IP is refused as a whole, a valid key included (else a guess that is right would
    // stand out from the 429s).
    expect_limited(analyze_from(&api, &server, None, DEMO_KEY).await).await;
    assert_eq!(
        store_lookups(&server).await - before,
        reached,
        "the key store was queried past the per-IP limit"
    );
}

/// Issue 12, item 1, in the flagship: 100 wrong passwords sent at once from one IP. The limit
/// is taken before the password check, so at most `login_per_window` of them reach it.
async fn concurrent_wrong_passwords_reach_the_password_check_at_most_limit_times(mode: Mode) {
    let limit = 10;
    let config = Config {
        window_seconds: 3600,
        login_per_window: limit,
        ..Config::default()
    };
    let server = std::sync::Arc::new(Server::start(mode, config).await);
    let mut attempts = JoinSet::new();
    for _ in 0..100 {
        let server = server.clone();
        attempts.spawn(async move { login_from(&server, None, (ALICE.0, "wrong")).await });
    }
    let (mut checked, mut limited) = (0, 0);
    while let Some(res) = attempts.join_next().await {
        let res = res.expect("a login task");
        match res.status() {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                expect_limited(res).await;
                limited += 1;
            }
            other => panic!("unexpected {other}: {:?}", res.text().await),
        }
    }
    assert!(
        (1..=limit).contains(&checked),
        "{checked} of 100 concurrent wrong passwords reached the password check (limit {limit}); {limited} got 429"
    );
}

/// Items 1 and 19 together: 100 random keys sent at once from one IP reach the key store at
/// most `auth_failures_per_window` times.
async fn concurrent_random_api_keys_reach_the_key_store_at_most_limit_times(mode: Mode) {
    let limit = 10;
    let config = Config {
        window_seconds: 3600,
        auth_failures_per_window: limit,
        ..Config::default()
    };
    let server = std::sync::Arc::new(Server::start(mode, config).await);
    let before = store_lookups(&server).await;
    let api = client();
    let mut attempts = JoinSet::new();
    for _ in 0..100 {
        let (server, api) = (server.clone(), api.clone());
        attempts.spawn(async move { analyze_from(&api, &server, None, &random_key()).await });
    }
    let (mut unauthorized, mut limited) = (0, 0);
    while let Some(res) = attempts.join_next().await {
        let res = res.expect("an analyze task");
        match res.status() {
            StatusCode::UNAUTHORIZED => unauthorized += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                expect_limited(res).await;
                limited += 1;
            }
            other => panic!("unexpected {other}: {:?}", res.text().await),
        }
    }
    let reached = store_lookups(&server).await - before;
    assert!(
        (1..=limit).contains(&unauthorized) && reached <= limit as f64,
        "{reached} store lookups and {unauthorized} 401s for 100 concurrent random keys \
         (limit {limit}); {limited} got 429"
    );
}

/// A failures-only limit must never slow a legitimate caller: 90 requests at once with a valid
/// key from one IP, behind a limit of 3 failures, are all served (each would otherwise hold a
/// unit while in flight, and on Redis most would see 429). The limit is intact afterwards:
/// 3 guesses reach the check, the 4th is refused, and then the valid key is refused too.
async fn a_busy_client_with_a_valid_key_never_fills_the_failures_limit(mode: Mode) {
    let limit = 3;
    let config = Config {
        window_seconds: 3600,
        auth_failures_per_window: limit,
        ..Config::default()
    };
    let server = std::sync::Arc::new(Server::start(mode, config).await);
    let api = client();
    // The first use verifies the key (it is not known yet, so it takes a unit and gets it back).
    expect_json(
        analyze_from(&api, &server, None, DEMO_KEY).await,
        StatusCode::OK,
    )
    .await;
    let mut busy = JoinSet::new();
    for _ in 0..90 {
        let (server, api) = (server.clone(), api.clone());
        busy.spawn(async move { analyze_from(&api, &server, None, DEMO_KEY).await });
    }
    let mut refused = Vec::new();
    while let Some(res) = busy.join_next().await {
        let res = res.expect("an analyze task");
        if res.status() != StatusCode::OK {
            refused.push(res.status());
        }
    }
    assert!(
        refused.is_empty(),
        "{} of 90 concurrent requests with a valid key were refused: {refused:?}",
        refused.len()
    );
    for _ in 0..limit {
        let res = analyze_from(&api, &server, None, &random_key()).await;
        expect_problem(res, StatusCode::UNAUTHORIZED).await;
    }
    expect_limited(analyze_from(&api, &server, None, &random_key()).await).await;
    expect_limited(analyze_from(&api, &server, None, DEMO_KEY).await).await;
}
