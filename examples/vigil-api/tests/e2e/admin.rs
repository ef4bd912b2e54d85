//! `PUT /admin/api-keys/{id}/rate-limit`: an admin changes a key's quota at runtime, and every
//! instance sharing the backend applies it within 1 s, without a restart; anyone else, an
//! unknown key or a quota the limiter cannot apply is refused with problem+json.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::config::{ALICE, BOB, Config, DEMO_KEY, SMALL_KEY, SMALL_KEY_LIMIT};
use crate::http::{
    analyze, expect_json, expect_problem, expect_status, get, header_u64, login, metric_total,
    put_json,
};
use crate::server::{Files, Mode, Server, browser, client};

const SMALL_KEY_QUOTA: &str = "/admin/api-keys/k-small/rate-limit";

/// How soon the other instance must apply a changed quota (the issue's figure).
const PROPAGATION: Duration = Duration::from_secs(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quota_changed_on_one_instance_applies_on_the_other_on_redis() {
    quota_changed_on_a_applies_on_b(Mode::Redis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quota_changed_on_one_instance_applies_on_the_other_on_cluster() {
    quota_changed_on_a_applies_on_b(Mode::Cluster).await;
}

async fn quota_changed_on_a_applies_on_b(mode: Mode) {
    let files = Files::new(&Config::default());
    let (a, b) = tokio::join!(
        Server::start_shared(mode, &files),
        Server::start_shared(mode, &files)
    );
    let api = client();
    let body = json!({"text": "hello"});

    // B serves keys from its own cache once its invalidation subscription is live: wait for
    // an L1 hit (with another key, so the small key's quota is untouched).
    let start = Instant::now();
    loop {
        expect_json(
            analyze(&api, &b, Some(DEMO_KEY), None, &body).await,
            StatusCode::OK,
        )
        .await;
        let (_, metrics) = expect_status(get(&api, &b, "/metrics").await, StatusCode::OK).await;
        if metric_total(&metrics, tower_vigil_apikey::metrics::L1_HITS_TOTAL) >= 1.0 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "instance B never served a key from its L1 cache:\n{metrics}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The small key is limited on B at its configured quota.
    for _ in 0..SMALL_KEY_LIMIT {
        expect_json(
            analyze(&api, &b, Some(SMALL_KEY), None, &body).await,
            StatusCode::OK,
        )
        .await;
    }
    expect_problem(
        analyze(&api, &b, Some(SMALL_KEY), None, &body).await,
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;

    // The admin raises it through A.
    let admin = browser();
    expect_status(login(&admin, &a, ALICE).await, StatusCode::OK).await;
    let raised = 10;
    let (_, answer) = expect_json(
        put_json(
            &admin,
            &a,
            SMALL_KEY_QUOTA,
            &json!({ "rateLimit": raised }).to_string(),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(answer, json!({"id": "k-small", "rateLimit": raised}));
    let changed_at = Instant::now();

    // Within 1 s B admits the key again, beyond its old limit, at the new quota.
    let mut admitted = wait_for_limit(&api, &b, raised, changed_at).await;
    loop {
        let res = analyze(&api, &b, Some(SMALL_KEY), None, &body).await;
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        let (headers, _) = expect_json(res, StatusCode::OK).await;
        assert_eq!(header_u64(&headers, "x-ratelimit-limit"), raised);
        admitted += 1;
        assert!(admitted <= raised, "B admitted more than the new quota");
    }
    assert_eq!(
        admitted, raised,
        "B admitted {admitted} under the new quota of {raised}"
    );
    assert!(admitted > SMALL_KEY_LIMIT);

    // Lowering works the same way.
    let lowered = 2;
    expect_json(
        put_json(
            &admin,
            &a,
            SMALL_KEY_QUOTA,
            &json!({ "rateLimit": lowered }).to_string(),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let changed_at = Instant::now();
    let mut admitted = wait_for_limit(&api, &b, lowered, changed_at).await;
    loop {
        let res = analyze(&api, &b, Some(SMALL_KEY), None, &body).await;
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        expect_json(res, StatusCode::OK).await;
        admitted += 1;
        assert!(
            admitted <= lowered,
            "B admitted more than the lowered quota"
        );
    }
    // A applies it too (its own cache was dropped first).
    let res = analyze(&api, &a, Some(SMALL_KEY), None, &body).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header_u64(res.headers(), "x-ratelimit-limit"), lowered);
}

/// Sends the small key to `server` until it answers under the quota `limit` (its
/// `X-RateLimit-Limit`), which must happen within [`PROPAGATION`] of `changed_at`; until then
/// it must answer as before (200 or 429). Returns how many of the requests the new quota
/// admitted (0 or 1: the one that showed it).
async fn wait_for_limit(
    api: &reqwest::Client,
    server: &Server,
    limit: u64,
    changed_at: Instant,
) -> u64 {
    let body = json!({"text": "hello"});
    let mut attempts = 0;
    loop {
        attempts += 1;
        let res = analyze(api, server, Some(SMALL_KEY), None, &body).await;
        let status = res.status();
        assert!(
            status == StatusCode::OK || status == StatusCode::TOO_MANY_REQUESTS,
            "unexpected status {status}"
        );
        if header_u64(res.headers(), "x-ratelimit-limit") == limit {
            return u64::from(status == StatusCode::OK);
        }
        assert!(
            changed_at.elapsed() < PROPAGATION,
            "instance B still applies the old quota {:?} after the change ({attempts} attempts)",
            changed_at.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_an_admin_changes_a_quota_and_only_to_one_the_limiter_applies() {
    let server = Server::start(Mode::Memory, Config::default()).await;
    let ok = json!({"rateLimit": 5}).to_string();

    // No session: 401; a user without the admin permission: 403, whatever the body.
    expect_problem(
        put_json(&browser(), &server, SMALL_KEY_QUOTA, &ok).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let bob = browser();
    expect_status(login(&bob, &server, BOB).await, StatusCode::OK).await;
    for body in [ok.as_str(), r#"{"rateLimit": 0}"#] {
        expect_problem(
            put_json(&bob, &server, SMALL_KEY_QUOTA, body).await,
            StatusCode::FORBIDDEN,
        )
        .await;
    }

    let admin = browser();
    expect_status(login(&admin, &server, ALICE).await, StatusCode::OK).await;
    let (_, problem) = expect_problem(
        put_json(&admin, &server, "/admin/api-keys/k-nope/rate-limit", &ok).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("k-nope"),
        "{problem}"
    );
    for body in [
        r#"{"rateLimit": 0}"#,
        r#"{"rateLimit": -1}"#,
        r#"{"rateLimit": 1.5}"#,
        r#"{"rateLimit": "10"}"#,
        r#"{"rateLimit": null}"#,
        r#"{"rateLimit": 4294967295}"#,
        r#"{"rateLimit": 4294967296}"#,
        r#"{"rateLimit": 99999999999999999999999}"#,
        r#"{"rate_limit": 5}"#,
        r#"{"rateLimit": 5, "burst": 2}"#,
        r#"{}"#,
    ] {
        let (_, problem) = expect_problem(
            put_json(&admin, &server, SMALL_KEY_QUOTA, body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(problem["detail"].is_string(), "{body}: {problem}");
    }
    // Not JSON at all: 400, as on every JSON route.
    expect_problem(
        put_json(&admin, &server, SMALL_KEY_QUOTA, "{\"rateLimit\":").await,
        StatusCode::BAD_REQUEST,
    )
    .await;

    // None of that changed the quota; a good request does, on this instance at once.
    let api = client();
    let body = json!({"text": "hello"});
    let res = analyze(&api, &server, Some(SMALL_KEY), None, &body).await;
    assert_eq!(
        header_u64(res.headers(), "x-ratelimit-limit"),
        SMALL_KEY_LIMIT
    );
    expect_json(
        put_json(&admin, &server, SMALL_KEY_QUOTA, &ok).await,
        StatusCode::OK,
    )
    .await;
    let res = analyze(&api, &server, Some(SMALL_KEY), None, &body).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header_u64(res.headers(), "x-ratelimit-limit"), 5);
}
