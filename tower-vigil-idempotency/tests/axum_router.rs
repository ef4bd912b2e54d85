//! The layer under a real axum `Router` (`Router::layer`), with a principal set by an outer
//! middleware.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::routing::post;
use http::StatusCode;
use http_body_util::BodyExt;
use tower::ServiceExt;
use tower_vigil_core::{MemoryBackend, Principal};
use tower_vigil_idempotency::IdempotencyLayer;

async fn authenticate(mut req: Request, next: Next) -> axum::response::Response {
    let user = req
        .headers()
        .get("x-user")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(user) = user {
        req.extensions_mut().insert(Principal::user(user));
    }
    next.run(req).await
}

fn app(runs: Arc<AtomicUsize>) -> Router {
    Router::new()
        .route(
            "/orders",
            post(move |body: String| async move {
                let n = runs.fetch_add(1, Ordering::SeqCst) + 1;
                (StatusCode::CREATED, format!("order {n}: {body}"))
            }),
        )
        .layer(IdempotencyLayer::new(MemoryBackend::new()))
        .layer(middleware::from_fn(authenticate))
}

fn order(user: &str, key: &str, body: &'static str) -> Request {
    Request::post("/orders")
        .header("x-user", user)
        .header("idempotency-key", key)
        .body(Body::from(body))
        .unwrap()
}

async fn text(res: axum::response::Response) -> String {
    String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

#[tokio::test]
async fn axum_router_replays_per_user() {
    let runs = Arc::new(AtomicUsize::new(0));
    let app = app(runs.clone());
    let first = app
        .clone()
        .oneshot(order("alice", "\"k1\"", "book"))
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    assert_eq!(text(first).await, "order 1: book");

    let again = app
        .clone()
        .oneshot(order("alice", "\"k1\"", "book"))
        .await
        .unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(text(again).await, "order 1: book");

    let bob = app
        .clone()
        .oneshot(order("bob", "\"k1\"", "book"))
        .await
        .unwrap();
    assert_eq!(text(bob).await, "order 2: book");

    let mismatch = app
        .clone()
        .oneshot(order("alice", "\"k1\"", "pen"))
        .await
        .unwrap();
    assert_eq!(mismatch.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}
