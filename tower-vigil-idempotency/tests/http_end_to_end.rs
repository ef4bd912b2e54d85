//! Over real HTTP/1.1 (axum::serve on a loopback port, a raw TCP client): replay, and a
//! client that disconnects mid-request, whose outcome is still recorded.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::post;
use http::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower_vigil_core::{MemoryBackend, Principal};
use tower_vigil_idempotency::IdempotencyLayer;

async fn serve(runs: Arc<AtomicUsize>) -> std::net::SocketAddr {
    let app = Router::new()
        .route(
            "/orders",
            post(move |body: String| async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                let n = runs.fetch_add(1, Ordering::SeqCst) + 1;
                (StatusCode::CREATED, format!("order {n}: {body}"))
            }),
        )
        .layer(IdempotencyLayer::new(MemoryBackend::new()))
        .layer(axum::middleware::map_request(authenticate));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// Stands in for an authentication layer: every caller is the same user.
async fn authenticate(mut req: axum::extract::Request) -> axum::extract::Request {
    req.extensions_mut().insert(Principal::user("client"));
    req
}

fn request(key: &str, body: &str) -> String {
    format!(
        "POST /orders HTTP/1.1\r\nHost: test\r\nIdempotency-Key: \"{key}\"\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

async fn exchange(addr: std::net::SocketAddr, raw: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(raw.as_bytes()).await.unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_over_http_is_replayed() {
    let runs = Arc::new(AtomicUsize::new(0));
    let addr = serve(runs.clone()).await;
    let first = exchange(addr, &request("k1", "book")).await;
    assert!(first.starts_with("HTTP/1.1 201"), "{first}");
    assert!(first.ends_with("order 1: book"), "{first}");
    let again = exchange(addr, &request("k1", "book")).await;
    assert!(again.starts_with("HTTP/1.1 201"), "{again}");
    assert!(again.contains("idempotent-replayed: true"), "{again}");
    assert!(again.contains("content-length: 13"), "{again}");
    assert!(again.ends_with("order 1: book"), "{again}");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_hangs_up_still_gets_its_order_recorded() {
    let runs = Arc::new(AtomicUsize::new(0));
    let addr = serve(runs.clone()).await;
    {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(request("k2", "pen").as_bytes())
            .await
            .unwrap();
        // Hang up while the handler sleeps (hyper drops the response future once it notices).
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut retry = String::new();
    for _ in 0..50 {
        retry = exchange(addr, &request("k2", "pen")).await;
        if !retry.starts_with("HTTP/1.1 409") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(retry.starts_with("HTTP/1.1 201"), "{retry}");
    assert!(retry.contains("idempotent-replayed: true"), "{retry}");
    assert!(retry.ends_with("order 1: pen"), "{retry}");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}
