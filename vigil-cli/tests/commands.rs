//! Every command of the real `vigil` binary against real Redis, Redis Cluster and Redis
//! Sentinel, its effect checked through the layers the services run.

mod common;

use std::convert::Infallible;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use tower::{ServiceBuilder, ServiceExt};
use tower_vigil_apikey::{ApiKeyCache, ApiKeyData, ApiKeyLayer, StaticKeyStore};
use tower_vigil_core::Principal;
use tower_vigil_core::secret::SecretHasher;
use tower_vigil_idempotency::{IdempotencyLayer, RequestBody};
use tower_vigil_ratelimit::key::RequestHead;
use tower_vigil_ratelimit::{Quota, RateLimitLayer};
use tower_vigil_session::{Session, SessionManagerLayer};
use tower_vigil_tests::{RedisServer, fixtures};

use common::{Deploy, vigil};

fn ok_inner()
-> impl tower::Service<Request<String>, Response = Response<String>, Error = Infallible, Future: Send>
+ Clone
+ Send {
    tower::service_fn(|_req: Request<String>| async {
        Ok::<_, Infallible>(Response::new("ok".to_owned()))
    })
}

// --- ratelimit ---------------------------------------------------------------------------

async fn ratelimit_reset_admits_the_caller_again(d: Deploy) {
    // The caller's key is the `x-caller` header, so the CLI names it as is.
    let layer = RateLimitLayer::builder(d.backend.clone(), Quota::per_minute(2))
        .key(|req: &RequestHead<'_>| Some(req.headers().get("x-caller")?.to_str().ok()?.to_owned()))
        // No in-process deny cache: the reset is seen by the next request.
        .deny_cache(None)
        .build()
        .unwrap();
    let svc = ServiceBuilder::new().layer(layer).service(ok_inner());
    let call = || {
        let req = Request::builder()
            .header("x-caller", "caller-1")
            .body(String::new())
            .unwrap();
        svc.clone().oneshot(req)
    };
    assert_eq!(call().await.unwrap().status(), StatusCode::OK);
    assert_eq!(call().await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        call().await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );

    let policy = ["--limit", "2", "--window", "60"];
    let mut args = vec!["ratelimit", "inspect", "caller-1"];
    args.extend(policy);
    let (code, json) = d.vigil_json(&args).await;
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["state"], "limited", "{json}");
    assert_eq!(json["remaining"], 0);
    assert!(json["retryAfterMs"].as_u64().unwrap() > 0);

    let mut args = vec!["ratelimit", "reset", "caller-1"];
    args.extend(policy);
    let run = d.vigil(&args).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("reset"), "{run:?}");

    assert_eq!(
        call().await.unwrap().status(),
        StatusCode::OK,
        "admitted after the reset"
    );
    let mut args = vec!["ratelimit", "inspect", "caller-1"];
    args.extend(policy);
    let (_, json) = d.vigil_json(&args).await;
    assert_eq!(json["state"], "active", "{json}");
    assert_eq!(json["remaining"], 1);
}

// --- apikey ------------------------------------------------------------------------------

async fn apikey_invalidate_reaches_a_running_layer(d: Deploy) {
    const RAW: &str = "vk_cli_test_key_0123456789abcdef";
    let store = StaticKeyStore::<()>::new();
    let hash = SecretHasher::sha256().hash_hex(RAW.as_bytes());
    store.insert(&hash, ApiKeyData::new("k-cli", "u-cli"));
    let cache = ApiKeyCache::new(d.backend.clone(), store.clone());
    cache.ready().await;
    let svc = ServiceBuilder::new()
        .layer(ApiKeyLayer::new(cache.clone()))
        .service(ok_inner());
    let call = || {
        let req = Request::builder()
            .header("x-api-key", RAW)
            .body(String::new())
            .unwrap();
        svc.clone().oneshot(req)
    };
    assert_eq!(call().await.unwrap().status(), StatusCode::OK);
    // Deleted from the store: still served from the caches until revoked.
    assert!(store.remove(&hash));
    assert_eq!(call().await.unwrap().status(), StatusCode::OK);

    let run = d.vigil(&["apikey", "invalidate", "--key", RAW]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains(&hash), "{run:?}");
    let done = Instant::now();
    loop {
        let status = call().await.unwrap().status();
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert!(
            done.elapsed() < Duration::from_secs(1),
            "still {status} 1 s after `vigil apikey invalidate`"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// --- sessions ----------------------------------------------------------------------------

async fn sessions_revoke_ends_a_live_session(d: Deploy) {
    let layer = SessionManagerLayer::builder(d.backend.clone())
        .header_only(http::HeaderName::from_static("x-session"))
        .build()
        .unwrap();
    let svc = ServiceBuilder::new()
        .layer(layer)
        .service(tower::service_fn(|req: Request<String>| async move {
            let session = req.extensions().get::<Session>().unwrap().clone();
            let body = match req.uri().path() {
                "/login" => {
                    session.cycle_id().await.unwrap();
                    session.set_user_id("alice").await.unwrap();
                    "welcome".to_owned()
                }
                _ => session
                    .user_id()
                    .await
                    .ok()
                    .flatten()
                    .unwrap_or_else(|| "anonymous".into()),
            };
            Ok::<_, Infallible>(Response::new(body))
        }));
    let whoami = |token: String| {
        let req = Request::get("/whoami")
            .header("x-session", token)
            .body(String::new())
            .unwrap();
        let svc = svc.clone();
        async move {
            let res = svc.oneshot(req).await.unwrap();
            let body = http_body_util::BodyExt::collect(res.into_body())
                .await
                .unwrap()
                .to_bytes();
            String::from_utf8(body.to_vec()).unwrap()
        }
    };
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let res = svc
            .clone()
            .oneshot(Request::post("/login").body(String::new()).unwrap())
            .await
            .unwrap();
        let token = res.headers()["x-session"].to_str().unwrap().to_owned();
        assert_eq!(whoami(token.clone()).await, "alice");
        tokens.push(token);
    }

    let (code, json) = d.vigil_json(&["sessions", "list", "alice"]).await;
    assert_eq!(code, 0);
    let sessions = json["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{json}");
    let first = sessions[0]["idHash"].as_str().unwrap().to_owned();

    // One session by its id hash: one of the two tokens stops working.
    let run = d
        .vigil(&["sessions", "revoke", "alice", "--session", &first])
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    let mut live = 0;
    for t in &tokens {
        if whoami(t.clone()).await == "alice" {
            live += 1;
        }
    }
    assert_eq!(live, 1);

    let (code, json) = d
        .vigil_json(&["sessions", "revoke", "alice", "--all"])
        .await;
    assert_eq!(code, 0);
    assert_eq!(json["revoked"], 1, "{json}");
    for t in tokens {
        assert_eq!(whoami(t).await, "anonymous");
    }
    let (_, json) = d.vigil_json(&["sessions", "list", "alice"]).await;
    assert_eq!(json["sessions"].as_array().unwrap().len(), 0);
    // Neither --session nor --all: a usage error.
    assert_eq!(d.vigil(&["sessions", "revoke", "alice"]).await.code, 2);
}

// --- idempotency -------------------------------------------------------------------------

async fn idempotency_inspect_shows_in_flight_and_completed(d: Deploy) {
    let svc = ServiceBuilder::new()
        .layer(IdempotencyLayer::new(d.backend.clone()))
        .service(tower::service_fn(
            |req: Request<RequestBody<Full<Bytes>>>| async move {
                if req.uri().path() == "/hang" {
                    std::future::pending::<()>().await;
                }
                let mut res = Response::new(Full::new(Bytes::from_static(b"created")));
                *res.status_mut() = StatusCode::CREATED;
                Ok::<_, Infallible>(res)
            },
        ));
    let principal = Principal::api_key("k-demo");
    let scope = principal.scope();
    let post = |path: &str, key: &str| {
        let mut req = Request::post(path)
            .header("idempotency-key", format!("\"{key}\""))
            .body(Full::new(Bytes::from_static(b"{}")))
            .unwrap();
        req.extensions_mut().insert(principal.clone());
        svc.clone().oneshot(req)
    };

    let (code, json) = d
        .vigil_json(&["idempotency", "inspect", &scope, "order-1"])
        .await;
    assert_eq!(code, 0);
    assert_eq!(json["state"], "free", "{json}");

    let hang = tokio::spawn(post("/hang", "order-1"));
    let started = Instant::now();
    let json = loop {
        let (_, json) = d
            .vigil_json(&["idempotency", "inspect", &scope, "order-1"])
            .await;
        if json["state"] != "free" || started.elapsed() > Duration::from_secs(10) {
            break json;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(json["state"], "in-flight", "{json}");
    assert_eq!(json["ownerPresent"], true);
    assert!(json["leaseRemainingMs"].as_u64().unwrap() > 0);
    hang.abort();

    let res = post("/ok", "order-2").await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let run = d
        .vigil(&["idempotency", "inspect", &scope, "order-2"])
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("completed"), "{}", run.stdout);
    assert!(run.stdout.contains("201 Created"), "{}", run.stdout);
    let (_, json) = d
        .vigil_json(&["idempotency", "inspect", &scope, "order-2"])
        .await;
    assert_eq!(json["status"], 201);
    assert_eq!(json["replayable"], true);
    assert_eq!(json["bodyBytes"], 7);
}

// --- health and doctor -------------------------------------------------------------------

/// Writes `<prefix>:stray` without a TTL, on the node that holds it.
fn stray_key(d: &Deploy) -> String {
    let key = format!("{}:stray:no-ttl", d.prefix);
    let done = match d.kind {
        "redis" => fixtures::shared_server().command(&["SET", &key, "1"]),
        "cluster" => {
            let c = fixtures::shared_cluster();
            let node = c.master_of_slot(c.slot_of(&key).unwrap());
            c.command(node, &["SET", &key, "1"])
        }
        _ => fixtures::shared_sentinel().master_command(&["SET", &key, "1"]),
    };
    assert!(done.is_some(), "SET {key}");
    key
}

async fn health_and_doctor_pass_then_doctor_reports_a_key_without_ttl(d: Deploy) {
    let (code, json) = d.vigil_json(&["health"]).await;
    assert_eq!(code, 0, "{json}");
    assert!(json["connected"].as_bool().unwrap());
    let run = d.vigil(&["health"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("connected"), "{run:?}");

    // A few real keys under the prefix, all with TTLs.
    let policies = [tower_vigil_ratelimit::Policy::new("default", Quota::per_minute(5)).unwrap()];
    tower_vigil_ratelimit::acquire(
        &d.backend,
        tower_vigil_ratelimit::Acquire::new("doctor", &policies),
    )
    .await
    .unwrap();
    let (code, json) = d.vigil_json(&["doctor"]).await;
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["ok"], true);
    assert_eq!(json["scan"]["keysWithoutTtl"], 0);
    assert_eq!(json["scan"]["concerns"]["ratelimit"]["keys"], 1, "{json}");
    assert!(
        json["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["scripts"] == true)
    );
    match d.kind {
        "cluster" => {
            assert_eq!(json["nodes"].as_array().unwrap().len(), 3, "every master");
            assert!(
                json["nodes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|n| n["clusterSlotsOk"] == 16384)
            );
        }
        "sentinel" => {
            let s = json["sentinels"].as_array().unwrap();
            assert!(!s.is_empty() && s.iter().all(|s| s["ok"] == true), "{json}");
        }
        _ => {}
    }

    let key = stray_key(&d);
    let run = d.vigil(&["doctor"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains(&key) && run.stdout.contains("no TTL"),
        "{}",
        run.stdout
    );
    let (code, json) = d.vigil_json(&["doctor"]).await;
    assert_eq!(code, 1);
    assert_eq!(json["scan"]["keysWithoutTtl"], 1, "{json}");
    assert_eq!(json["scan"]["withoutTtl"][0], key.as_str());
}

on_every_redis!(
    ratelimit_reset_admits_the_caller_again,
    apikey_invalidate_reaches_a_running_layer,
    sessions_revoke_ends_a_live_session,
    idempotency_inspect_shows_in_flight_and_completed,
    health_and_doctor_pass_then_doctor_reports_a_key_without_ttl,
);

/// A server of its own: the test changes its configuration.
#[tokio::test]
async fn doctor_fails_on_an_evicting_policy() {
    let server = RedisServer::start();
    let url = server.url();
    let base = ["--redis-url", url.as_str(), "--prefix", "evict"];
    let run = vigil(&[&base[..], &["doctor"]].concat(), &[]).await;
    assert_eq!(run.code, 0, "{run:?}");
    server
        .command(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"])
        .expect("CONFIG SET");
    let run = vigil(&[&base[..], &["doctor"]].concat(), &[]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("allkeys-lru"), "{}", run.stdout);
    assert!(run.stdout.contains("noeviction"), "{}", run.stdout);
    assert!(run.stdout.contains("idempotency record"), "{}", run.stdout);
    // The environment works as the flags do.
    let run = vigil(&["doctor", "--no-scan"], &[("REDIS_URL", &url)]).await;
    assert_eq!(run.code, 1, "{run:?}");
    server
        .command(&["CONFIG", "SET", "maxmemory-policy", "volatile-ttl"])
        .expect("CONFIG SET");
    let run = vigil(&[&base[..], &["doctor", "--json"]].concat(), &[]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("volatile-ttl"), "{}", run.stdout);
}

#[tokio::test]
async fn health_of_a_dead_server_is_unhealthy() {
    let mut server = RedisServer::start();
    let url = server.url();
    server.stop();
    let run = vigil(&["--redis-url", &url, "--timeout-ms", "500", "health"], &[]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("unhealthy"), "{run:?}");
}

#[tokio::test]
async fn exactly_one_backend_or_exit_status_2() {
    let run = vigil(&["health"], &[]).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("REDIS_URL"), "{run:?}");
    let run = vigil(
        &["health"],
        &[
            ("REDIS_URL", "redis://127.0.0.1:1"),
            ("REDIS_CLUSTER_URLS", "redis://127.0.0.1:2"),
        ],
    )
    .await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("exactly one"), "{run:?}");
    let run = vigil(
        &["health"],
        &[("REDIS_SENTINEL_URLS", "redis://127.0.0.1:3")],
    )
    .await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("REDIS_SENTINEL_MASTER"), "{run:?}");
    // A bad hash is refused before any connection.
    let run = vigil(
        &[
            "--redis-url",
            "redis://127.0.0.1:1",
            "apikey",
            "invalidate",
            "--hash",
            "xyz",
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 2, "{run:?}");
}
