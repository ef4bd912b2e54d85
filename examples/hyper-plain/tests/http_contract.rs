//! The server started on a free port and driven over real HTTP with reqwest: rate limiting by
//! peer IP, idempotent replay and key reuse, on memory, a real Redis and a Redis Cluster.

use std::net::SocketAddr;

use hyper_plain::{Config, serve};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower_vigil_core::Backend;

/// A running server; it stops when this is dropped.
struct Running {
    base: String,
    http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Running {
    async fn start<B: Backend>(backend: B, limit: u32) -> Self {
        let config = Config::with_limit(limit);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            serve(backend, &config, listener, async {
                let _ = stopped.await;
            })
            .await
            .expect("the server runs");
        });
        Self {
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
            stop: Some(stop),
            task: Some(task),
        }
    }

    async fn order(&self, key: Option<&str>, body: &Value) -> reqwest::Response {
        let mut req = self.http.post(format!("{}/orders", self.base)).json(body);
        if let Some(key) = key {
            req = req.header("idempotency-key", format!("\"{key}\""));
        }
        req.send().await.unwrap()
    }

    /// Stops the server and waits until it has shut down gracefully.
    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.take().unwrap().await.unwrap();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn header<'a>(res: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    res.headers().get(name).map(|v| v.to_str().unwrap())
}

async fn order_id(res: reqwest::Response) -> String {
    let body: Value = res.json().await.unwrap();
    body["orderId"].as_str().expect("an orderId").to_owned()
}

async fn quota_exhausted_is_429_with_retry_after<B>(backend: B)
where
    B: Backend,
{
    let server = Running::start(backend, 3).await;
    for n in 0..3 {
        let res = server.order(None, &json!({"n": n})).await;
        assert_eq!(res.status(), StatusCode::CREATED, "request {n}");
        assert_eq!(header(&res, "x-ratelimit-limit"), Some("3"));
        let remaining = (2 - n).to_string();
        assert_eq!(header(&res, "x-ratelimit-remaining"), Some(&*remaining));
    }
    let res = server.order(None, &json!({"n": 3})).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        header(&res, "content-type"),
        Some("application/problem+json")
    );
    let retry_after: u64 = header(&res, "retry-after")
        .expect("retry-after")
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "retry-after {retry_after}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], 429);
    assert_eq!(body["retryAfter"], retry_after);
    server.stop().await;
}

async fn repeated_key_replays_the_stored_response<B>(backend: B)
where
    B: Backend,
{
    let server = Running::start(backend, 100).await;
    let order = json!({"item": "book", "qty": 2});
    let first = server.order(Some("order-1"), &order).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert_eq!(header(&first, "idempotent-replayed"), None);
    let first_id = order_id(first).await;

    let replay = server.order(Some("order-1"), &order).await;
    assert_eq!(replay.status(), StatusCode::CREATED);
    assert_eq!(header(&replay, "idempotent-replayed"), Some("true"));
    assert_eq!(header(&replay, "content-type"), Some("application/json"));
    assert_eq!(
        order_id(replay).await,
        first_id,
        "a replay, not a new order"
    );

    // Another key, or none, runs the handler again.
    let other = server.order(Some("order-2"), &order).await;
    assert_ne!(order_id(other).await, first_id);
    let unkeyed = server.order(None, &order).await;
    assert_eq!(header(&unkeyed, "idempotent-replayed"), None);
    assert_ne!(order_id(unkeyed).await, first_id);
    server.stop().await;
}

async fn same_key_with_another_body_is_422<B>(backend: B)
where
    B: Backend,
{
    let server = Running::start(backend, 100).await;
    let first = server
        .order(Some("order-9"), &json!({"item": "book"}))
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first_id = order_id(first).await;

    let reuse = server.order(Some("order-9"), &json!({"item": "pen"})).await;
    assert_eq!(reuse.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        header(&reuse, "content-type"),
        Some("application/problem+json")
    );
    let body: Value = reuse.json().await.unwrap();
    assert_eq!(body["status"], 422);

    // The stored response is untouched by the refused reuse.
    let replay = server
        .order(Some("order-9"), &json!({"item": "book"}))
        .await;
    assert_eq!(header(&replay, "idempotent-replayed"), Some("true"));
    assert_eq!(order_id(replay).await, first_id);
    server.stop().await;
}

async fn handler_errors_pass_through_as_problems<B>(backend: B)
where
    B: Backend,
{
    let server = Running::start(backend, 100).await;
    let res = server
        .http
        .post(format!("{}/orders", server.base))
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = server
        .http
        .get(format!("{}/elsewhere", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        header(&res, "content-type"),
        Some("application/problem+json")
    );
    server.stop().await;
}

async fn clients_are_told_apart_by_ip<B>(backend: B)
where
    B: Backend,
{
    let server = Running::start(backend, 2).await;
    // A second client on another loopback address (Linux routes all of 127.0.0.0/8 locally).
    let other = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap();
    let order = json!({"item": "book"});
    let mine = order_id(server.order(Some("shared-key"), &order).await).await;
    let res = server.order(None, &order).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = server.order(None, &order).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);

    // Its own quota, and its own idempotency scope: the same key is a new order for it.
    let res = other
        .post(format!("{}/orders", server.base))
        .header("idempotency-key", "\"shared-key\"")
        .json(&order)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(header(&res, "idempotent-replayed"), None);
    assert_ne!(order_id(res).await, mine);
    server.stop().await;
}

macro_rules! on_backends {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(tower_vigil_tests::fixtures::memory()).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(tower_vigil_tests::fixtures::redis().await).await;
                }
            )*
        }
        mod cluster {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(tower_vigil_tests::fixtures::cluster().await).await;
                }
            )*
        }
    };
}

on_backends!(
    quota_exhausted_is_429_with_retry_after,
    repeated_key_replays_the_stored_response,
    same_key_with_another_body_is_422,
    handler_errors_pass_through_as_problems,
    clients_are_told_apart_by_ip,
);
