//! Small request helpers and the checks every error response must pass.

use reqwest::header::{CONTENT_TYPE, HeaderMap};
use reqwest::{Response, StatusCode};
use serde_json::Value;

use crate::server::Server;

/// `POST /v1/analyze` with `key` in `X-API-Key` (none when `None`) and an optional
/// `Idempotency-Key`.
pub async fn analyze(
    client: &reqwest::Client,
    server: &Server,
    key: Option<&str>,
    idempotency_key: Option<&str>,
    body: &Value,
) -> Response {
    let mut req = client.post(server.url("/v1/analyze")).json(body);
    if let Some(key) = key {
        req = req.header("x-api-key", key);
    }
    if let Some(idem) = idempotency_key {
        req = req.header("idempotency-key", idem);
    }
    req.send().await.expect("POST /v1/analyze")
}

/// `POST /login`.
pub async fn login(client: &reqwest::Client, server: &Server, user: (&str, &str)) -> Response {
    client
        .post(server.url("/login"))
        .json(&serde_json::json!({"username": user.0, "password": user.1}))
        .send()
        .await
        .expect("POST /login")
}

/// `GET path`.
pub async fn get(client: &reqwest::Client, server: &Server, path: &str) -> Response {
    client
        .get(server.url(path))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

/// `DELETE path`.
pub async fn delete(client: &reqwest::Client, server: &Server, path: &str) -> Response {
    client
        .delete(server.url(path))
        .send()
        .await
        .unwrap_or_else(|e| panic!("DELETE {path}: {e}"))
}

/// `PUT path` with `body` as `application/json` (as given: it may be malformed on purpose).
pub async fn put_json(
    client: &reqwest::Client,
    server: &Server,
    path: &str,
    body: &str,
) -> Response {
    client
        .put(server.url(path))
        .header(CONTENT_TYPE, "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap_or_else(|e| panic!("PUT {path}: {e}"))
}

/// Asserts the status and returns the headers and the JSON body.
pub async fn expect_json(res: Response, status: StatusCode) -> (HeaderMap, Value) {
    let (headers, text) = expect_status(res, status).await;
    let body =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("body is not JSON ({e}): {text:?}"));
    (headers, body)
}

/// Asserts the status and returns the headers and the body text.
pub async fn expect_status(res: Response, status: StatusCode) -> (HeaderMap, String) {
    let got = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.expect("reading the body");
    assert_eq!(
        got, status,
        "unexpected status; headers {headers:?}, body {text}"
    );
    (headers, text)
}

/// Asserts a problem+json error with `status` and returns its body.
pub async fn expect_problem(res: Response, status: StatusCode) -> (HeaderMap, Value) {
    let (headers, body) = expect_json(res, status).await;
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("application/problem+json"),
        "content-type {content_type:?} of {body}"
    );
    assert_eq!(body["status"], status.as_u16(), "{body}");
    for field in ["type", "title", "detail"] {
        assert!(body[field].is_string(), "problem without {field}: {body}");
    }
    (headers, body)
}

/// A header as text, or panic naming it.
pub fn header<'h>(headers: &'h HeaderMap, name: &str) -> &'h str {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header in {headers:?}"))
        .to_str()
        .unwrap_or_else(|_| panic!("{name} is not text"))
}

/// A header as an integer.
pub fn header_u64(headers: &HeaderMap, name: &str) -> u64 {
    let v = header(headers, name);
    v.parse()
        .unwrap_or_else(|_| panic!("{name}: {v:?} is not an integer"))
}

/// The sum of every sample of `name` (over its label sets) in Prometheus text.
pub fn metric_total(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
