//! The layer over HTTP (memory backend): extraction edge cases, response shapes, gRPC
//! statuses, extensions, header stripping and custom responses.

mod common;

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;

use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use tower_vigil_apikey::{
    ApiKeyData, ApiKeyLayer, ApiKeyRejection, ApiKeyRejectionKind, Permissions,
    RequirePermissionLayer, require,
};
use tower_vigil_core::http::ResponseBody;
use tower_vigil_core::{MemoryBackend, Principal, Rejection};

use common::{TestStore, add_key, cache, service};

const KEY: &str = "http-test-key-00000000001";

async fn setup() -> (common::Svc, TestStore) {
    let store = TestStore::default();
    let cache = cache(MemoryBackend::new(), &store).await;
    add_key(
        &cache,
        &store,
        KEY,
        ApiKeyData::new("k-1", "u-1")
            .organization("o-1")
            .permission("read"),
    );
    (service(ApiKeyLayer::new(cache)), store)
}

async fn send(svc: &common::Svc, headers: &[(&str, &[u8])]) -> Response<ResponseBody<String>> {
    let mut req = Request::new(String::new());
    for (k, v) in headers {
        req.headers_mut().append(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_bytes(v).unwrap(),
        );
    }
    svc.clone().oneshot(req).await.unwrap()
}

async fn body_json(res: Response<ResponseBody<String>>) -> serde_json::Value {
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

/// The `WWW-Authenticate` values, in order.
fn challenges<B>(res: &Response<B>) -> Vec<String> {
    res.headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn missing_key_is_401_problem_json_with_challenges() {
    let (svc, _) = setup().await;
    let res = send(&svc, &[]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let challenges: Vec<_> = res
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(challenges, ["Bearer realm=\"api\"", "ApiKey realm=\"api\""]);
    assert_eq!(
        res.extensions().get::<ApiKeyRejection>().unwrap().kind(),
        ApiKeyRejectionKind::Missing
    );
    let body = body_json(res).await;
    assert_eq!(body["status"], 401);
    assert_eq!(body["reason"], "missing");
}

#[tokio::test]
async fn malformed_credentials_are_401_and_never_looked_up() {
    let (svc, store) = setup().await;
    let long = vec![b'k'; 513];
    let cases: Vec<Vec<(&str, &[u8])>> = vec![
        vec![("x-api-key", b"caf\xc3\xa9-key-0000000000")],
        vec![("x-api-key", &long)],
        vec![("x-api-key", KEY.as_bytes()), ("x-api-key", KEY.as_bytes())],
        vec![
            ("x-api-key", KEY.as_bytes()),
            ("authorization", b"Bearer http-test-key-00000000002"),
        ],
        vec![("authorization", b"Bearer ")],
    ];
    for headers in cases {
        let res = send(&svc, &headers).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{headers:?}");
        assert_eq!(
            res.extensions().get::<ApiKeyRejection>().unwrap().kind(),
            ApiKeyRejectionKind::Malformed
        );
    }
    let res = send(&svc, &[("x-api-key", b"short")]).await;
    assert_eq!(
        res.extensions().get::<ApiKeyRejection>().unwrap().kind(),
        ApiKeyRejectionKind::InvalidFormat
    );
    assert_eq!(store.lookups(), 0);
}

#[tokio::test]
async fn bearer_and_header_agreeing_are_accepted() {
    let (svc, _) = setup().await;
    let bearer = format!("Bearer {KEY}");
    for headers in [
        vec![("authorization", bearer.as_bytes())],
        vec![
            ("x-api-key", KEY.as_bytes()),
            ("authorization", bearer.as_bytes()),
        ],
    ] {
        let res = send(&svc, &headers).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.into_body().collect().await.unwrap().to_bytes(), "k-1");
    }
}

#[tokio::test]
async fn unknown_key_is_401_invalid_token() {
    let (svc, _) = setup().await;
    let res = send(&svc, &[("x-api-key", b"http-test-key-unknown-000")]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(
        res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    assert_eq!(body_json(res).await["reason"], "unknown_key");
}

#[tokio::test]
async fn grpc_requests_get_grpc_statuses() {
    let store = TestStore::default();
    let cache = cache(MemoryBackend::new(), &store).await;
    add_key(&cache, &store, KEY, ApiKeyData::new("k-1", "u-1"));
    let svc = tower::ServiceBuilder::new()
        .layer(ApiKeyLayer::new(cache))
        .layer(require("write").unwrap())
        .service_fn(|_req: Request<String>| async {
            Ok::<_, Infallible>(Response::new(String::new()))
        });
    let grpc = |key: Option<&str>| {
        let mut b = Request::builder().header("content-type", "application/grpc");
        if let Some(k) = key {
            b = b.header("x-api-key", k);
        }
        b.body(String::new()).unwrap()
    };
    let res = svc.clone().oneshot(grpc(None)).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["grpc-status"], "16");
    let res = svc.oneshot(grpc(Some(KEY))).await.unwrap();
    assert_eq!(res.headers()["grpc-status"], "7");
}

#[tokio::test]
async fn extensions_carry_data_principal_and_permissions_and_credentials_can_be_stripped() {
    let store = TestStore::default();
    let cache = cache(MemoryBackend::new(), &store).await;
    add_key(
        &cache,
        &store,
        KEY,
        ApiKeyData::new("k-1", "u-1")
            .organization("o-1")
            .permission("read")
            .rate_limit(60),
    );
    let svc = tower::ServiceBuilder::new()
        .layer(
            ApiKeyLayer::builder(cache)
                .strip_credentials(true)
                .build()
                .unwrap(),
        )
        .service_fn(|req: Request<String>| async move {
            let data = req.extensions().get::<Arc<ApiKeyData>>().unwrap();
            let principal = Principal::from_extensions(req.extensions()).unwrap();
            let perms = req.extensions().get::<Permissions>().unwrap();
            assert_eq!(data.rate_limit, Some(60));
            assert_eq!(
                (
                    principal.id(),
                    principal.user_id(),
                    principal.organization_id()
                ),
                ("k-1", Some("u-1"), Some("o-1"))
            );
            assert!(perms.contains("read"));
            assert!(
                req.headers().get("x-api-key").is_none()
                    && req.headers().get("authorization").is_none()
            );
            Ok::<_, Infallible>(Response::new(String::new()))
        });
    let req = Request::builder()
        .header("authorization", format!("Bearer {KEY}"))
        .body(String::new())
        .unwrap();
    assert_eq!(svc.oneshot(req).await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn configured_header_name_and_bearer_off() {
    let store = TestStore::default();
    let cache = cache(MemoryBackend::new(), &store).await;
    add_key(&cache, &store, KEY, ApiKeyData::new("k-1", "u-1"));
    let layer = ApiKeyLayer::builder(cache)
        .header_name("x-vigil-key")
        .bearer(false)
        .build()
        .unwrap();
    let svc = service(layer);
    assert_eq!(
        send(&svc, &[("x-vigil-key", KEY.as_bytes())])
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        send(&svc, &[("x-api-key", KEY.as_bytes())]).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let bearer = format!("Bearer {KEY}");
    assert_eq!(
        send(&svc, &[("authorization", bearer.as_bytes())])
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn store_down_with_nothing_cached_is_503() {
    let (svc, store) = setup().await;
    store.set_failing(true);
    let res = send(&svc, &[("x-api-key", KEY.as_bytes())]).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers()["retry-after"], "1");
    assert_eq!(body_json(res).await["reason"], "unavailable");
}

#[tokio::test]
async fn a_hung_store_times_out_as_503() {
    let store = TestStore::default();
    let cache = tower_vigil_apikey::ApiKeyCache::builder(MemoryBackend::new(), store.clone())
        .store_timeout(std::time::Duration::from_millis(50))
        .build()
        .unwrap();
    cache.ready().await;
    add_key(&cache, &store, KEY, ApiKeyData::new("k-1", "u-1"));
    let gate = store.gate_next();
    let res = service(ApiKeyLayer::new(cache.clone()))
        .oneshot(
            Request::builder()
                .header("x-api-key", KEY)
                .body(String::new())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    drop(gate);
    let _held = store.gate_next();
    let err = cache
        .lookup_hash(&cache.hash_key("another-key-000000000001"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), tower_vigil_apikey::StoreErrorKind::Timeout);
}

#[tokio::test]
async fn custom_response_closure() {
    let store = TestStore::default();
    let cache = cache(MemoryBackend::new(), &store).await;
    let layer = ApiKeyLayer::builder(cache)
        .response(|r: &ApiKeyRejection| {
            let mut res = Response::new(Bytes::from(format!("nope: {}", r.kind().as_str())));
            *res.status_mut() = r.status();
            res
        })
        .build()
        .unwrap();
    let svc = service(layer);
    let res = send(&svc, &[]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.extensions().get::<ApiKeyRejection>().unwrap().kind(),
        ApiKeyRejectionKind::Missing
    );
    assert_eq!(
        res.into_body().collect().await.unwrap().to_bytes(),
        "nope: missing"
    );
}

/// A rejection decided after the lookup (an unknown key) is answered through the configured
/// response too, like one decided before it (no credential).
#[tokio::test]
async fn custom_response_answers_a_rejection_after_the_lookup() {
    let store = TestStore::default();
    let cache = cache(MemoryBackend::new(), &store).await;
    let layer = ApiKeyLayer::builder(cache)
        .realm("vigil")
        .response(|r: &ApiKeyRejection| {
            let mut res =
                Response::new(Bytes::from(format!("nope: {} in {}", r.kind(), r.realm())));
            *res.status_mut() = r.status();
            res
        })
        .build()
        .unwrap();
    let svc = service(layer);
    let res = send(&svc, &[("x-api-key", b"unknown-test-key-00000001")]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.extensions().get::<ApiKeyRejection>().unwrap().kind(),
        ApiKeyRejectionKind::UnknownKey
    );
    assert_eq!(
        res.into_body().collect().await.unwrap().to_bytes(),
        "nope: unknown_key in vigil"
    );
}

#[tokio::test]
async fn require_without_an_api_key_layer_is_401() {
    let svc = tower::ServiceBuilder::new()
        .layer(require("read").unwrap())
        .service_fn(|_req: Request<String>| async {
            Ok::<_, Infallible>(Response::new(String::new()))
        });
    let res = svc.oneshot(Request::new(String::new())).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(require("has space").is_err() && require("").is_err() && require("q\"uote").is_err());
}

#[tokio::test(start_paused = true)]
async fn l1_entries_expire_after_their_ttl() {
    let store = TestStore::default();
    let cache = tower_vigil_apikey::ApiKeyCache::builder(MemoryBackend::new(), store.clone())
        .l1_ttl(std::time::Duration::from_secs(30))
        .l2_ttl(std::time::Duration::from_secs(60))
        .build()
        .unwrap();
    cache.ready().await;
    add_key(&cache, &store, KEY, ApiKeyData::new("k-1", "u-1"));
    assert!(cache.check_key(KEY).await.is_valid());
    tokio::time::advance(std::time::Duration::from_secs(29)).await;
    assert!(cache.check_key(KEY).await.is_valid());
    assert_eq!(store.lookups(), 1, "L1 hit");
    // Past L1's TTL the L2 record answers; past L2's the store does.
    tokio::time::advance(std::time::Duration::from_secs(2)).await;
    assert!(cache.check_key(KEY).await.is_valid());
    assert_eq!(store.lookups(), 1, "L2 hit");
    tokio::time::advance(std::time::Duration::from_secs(61)).await;
    assert!(cache.check_key(KEY).await.is_valid());
    assert_eq!(store.lookups(), 2, "both tiers expired");
}

/// The realm set on the layer's builder is named by its challenges and by those of a
/// `RequirePermission` behind it; without an `ApiKeyLayer` in front, the default `api`.
#[tokio::test]
async fn the_configured_realm_is_named_by_every_challenge() {
    let store = TestStore::default();
    let cache = cache(MemoryBackend::new(), &store).await;
    add_key(&cache, &store, KEY, ApiKeyData::new("k-1", "u-1"));
    let svc = tower::ServiceBuilder::new()
        .layer(ApiKeyLayer::builder(cache).realm("vigil").build().unwrap())
        .layer(require("write").unwrap())
        .service_fn(|_req: Request<String>| async {
            Ok::<_, Infallible>(Response::new(String::new()))
        });
    let res = svc
        .clone()
        .oneshot(Request::new(String::new()))
        .await
        .unwrap();
    assert_eq!(
        challenges(&res),
        ["Bearer realm=\"vigil\"", "ApiKey realm=\"vigil\""]
    );
    let req = Request::builder()
        .header("x-api-key", KEY)
        .body(String::new())
        .unwrap();
    let res = svc.oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let rejection = res.extensions().get::<ApiKeyRejection>().unwrap();
    assert_eq!(rejection.kind(), ApiKeyRejectionKind::MissingPermission);
    assert_eq!(
        (rejection.realm(), rejection.permission()),
        ("vigil", Some("write"))
    );
    assert_eq!(
        challenges(&res),
        [
            "Bearer realm=\"vigil\", error=\"insufficient_scope\", scope=\"write\"",
            "ApiKey realm=\"vigil\""
        ]
    );
    let body = res.into_body().collect().await.unwrap().to_bytes();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["permission"], "write");

    let alone = tower::ServiceBuilder::new()
        .layer(require("write").unwrap())
        .service_fn(|_req: Request<String>| async {
            Ok::<_, Infallible>(Response::new(String::new()))
        });
    let res = alone.oneshot(Request::new(String::new())).await.unwrap();
    assert_eq!(challenges(&res)[0], "Bearer realm=\"api\"");
}

/// A `RequirePermission` rejection is an `ApiKeyRejection` answered through the configured
/// response, in its extensions like the layer's own.
#[tokio::test]
async fn require_answers_through_a_custom_response() {
    let store = TestStore::default();
    let cache = cache(MemoryBackend::new(), &store).await;
    add_key(&cache, &store, KEY, ApiKeyData::new("k-1", "u-1"));
    let teapot = |r: &ApiKeyRejection| {
        let mut res = Response::new(Bytes::from(format!(
            "{}:{}",
            r.kind(),
            r.permission().unwrap_or("-")
        )));
        *res.status_mut() = StatusCode::IM_A_TEAPOT;
        res
    };
    let svc = tower::ServiceBuilder::new()
        .layer(ApiKeyLayer::new(cache))
        .layer(
            RequirePermissionLayer::builder("write")
                .response(teapot)
                .build()
                .unwrap(),
        )
        .service_fn(|_req: Request<String>| async {
            Ok::<_, Infallible>(Response::new(String::new()))
        });
    let req = Request::builder()
        .header("x-api-key", KEY)
        .body(String::new())
        .unwrap();
    let res = svc.oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::IM_A_TEAPOT);
    assert!(res.extensions().get::<ApiKeyRejection>().is_some());
    // Through two layers: the inner body is boxed once per layer.
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, "missing_permission:write");
}
