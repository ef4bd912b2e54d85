//! Over real HTTP/1.1 (axum::serve on a loopback port, a raw TCP client): replay, a client
//! that disconnects mid-request, whose outcome is still recorded, and a streamed response
//! whose first chunk is on the wire before the handler has finished its body.

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
    request_to("/orders", key, body)
}

fn request_to(path: &str, key: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: test\r\nIdempotency-Key: \"{key}\"\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
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

/// A server whose `POST /events` streams what the test feeds it, chunk by chunk.
async fn serve_stream(
    feed: tokio::sync::mpsc::Receiver<Result<bytes::Bytes, std::io::Error>>,
) -> std::net::SocketAddr {
    let feed = Arc::new(std::sync::Mutex::new(Some(feed)));
    let app = Router::new()
        .route(
            "/events",
            post(move || async move {
                let rx = feed.lock().unwrap().take().expect("runs once");
                let chunks = futures_util::stream::unfold(rx, |mut rx| async move {
                    rx.recv().await.map(|chunk| (chunk, rx))
                });
                axum::body::Body::from_stream(chunks)
            }),
        )
        .layer(IdempotencyLayer::new(MemoryBackend::new()))
        .layer(axum::middleware::map_request(authenticate));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_response_reaches_the_wire_before_the_handler_finishes() {
    let (feed, rx) = tokio::sync::mpsc::channel(4);
    let addr = serve_stream(rx).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(request_to("/events", "k3", "").as_bytes())
        .await
        .unwrap();
    feed.send(Ok(bytes::Bytes::from_static(b"first-chunk")))
        .await
        .unwrap();
    // The head and the first chunk arrive while the handler's body is still open.
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    let wait = tokio::time::timeout(Duration::from_secs(10), async {
        while !String::from_utf8_lossy(&seen).contains("first-chunk") {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "the connection closed early");
            seen.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    assert!(wait.is_ok(), "the first chunk was held back: {seen:?}");
    assert!(String::from_utf8_lossy(&seen).starts_with("HTTP/1.1 200"));
    feed.send(Ok(bytes::Bytes::from_static(b"|last-chunk")))
        .await
        .unwrap();
    drop(feed);
    let mut rest = String::new();
    stream.read_to_string(&mut rest).await.unwrap();
    assert!(rest.contains("last-chunk"), "{rest}");
    // Recorded before the body's end went out: the retry is a replay of the whole body.
    let retry = exchange(addr, &request_to("/events", "k3", "")).await;
    assert!(retry.contains("idempotent-replayed: true"), "{retry}");
    assert!(retry.ends_with("first-chunk|last-chunk"), "{retry}");
}
