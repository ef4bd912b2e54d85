//! Two instances sharing one Redis (and one database, as two replicas of a service would):
//! an API key revoked through one is rejected by the other, which had it cached, within 1 s.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::config::{ALICE, Config, DEMO_KEY};
use crate::http::{analyze, delete, expect_json, expect_status, get, login, metric_total};
use crate::server::{Files, Mode, Server, browser, client};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_on_one_instance_is_rejected_by_the_other_on_redis() {
    revoked_on_a_rejected_on_b(Mode::Redis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_on_one_instance_is_rejected_by_the_other_on_cluster() {
    revoked_on_a_rejected_on_b(Mode::Cluster).await;
}

/// How soon the other instance must reject a revoked key (the figure).
const PROPAGATION: Duration = Duration::from_secs(1);

async fn revoked_on_a_rejected_on_b(mode: Mode) {
    let files = Files::new(&Config::default());
    let (a, b) = tokio::join!(
        Server::start_shared(mode, &files),
        Server::start_shared(mode, &files)
    );
    let api = client();
    let body = json!({"text": "hello"});

    // B validates the key (store → L2 → L1), then serves it from its own cache: in-process
    // entries count once B's invalidation subscription is live, so wait for an L1 hit.
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
            "instance B never served the key from its L1 cache:\n{metrics}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let admin = browser();
    expect_status(login(&admin, &a, ALICE).await, StatusCode::OK).await;
    expect_status(
        delete(&admin, &a, "/admin/api-keys/k-demo").await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let revoked_at = Instant::now();

    // A itself rejects it at once.
    let res = analyze(&api, &a, Some(DEMO_KEY), None, &body).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let mut attempts = 0;
    loop {
        attempts += 1;
        let status = analyze(&api, &b, Some(DEMO_KEY), None, &body)
            .await
            .status();
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(status, StatusCode::OK, "unexpected status from instance B");
        assert!(
            revoked_at.elapsed() < PROPAGATION,
            "instance B still accepts the key {:?} after it was revoked on A ({attempts} attempts)",
            revoked_at.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // And it stays rejected.
    let res = analyze(&api, &b, Some(DEMO_KEY), None, &body).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
