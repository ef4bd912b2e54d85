//! The application: a plain async function from request to response, knowing nothing of
//! quotas or idempotency (the layers in front of it handle those).
//!
//! `POST /orders` with a JSON object answers `201 {"orderId": "<fresh uuid>", "order": …}`.
//! Errors are `application/problem+json`: 400 (not a JSON object), 413 (over 64 KiB), 404,
//! 405.
//!
//! ```
//! use http_body_util::{BodyExt, Full};
//! use hyper_plain::handler::handle;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let req = http::Request::post("/orders").body(Full::from(r#"{"item":"book"}"#)).unwrap();
//! let res = handle(req).await.unwrap();
//! assert_eq!(res.status(), 201);
//! let body: serde_json::Value =
//!     serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
//! assert_eq!(body["order"]["item"], "book");
//! assert_eq!(body["orderId"].as_str().unwrap().len(), 36);
//! # }
//! ```

use std::convert::Infallible;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Body;
use tower_vigil_core::http::{PROBLEM_JSON, Problem};

/// The largest order accepted.
pub const MAX_BODY: usize = 64 * 1024;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Routes a request: `POST /orders`, else 404 / 405.
pub async fn handle<B>(req: Request<B>) -> Result<Response<Full<Bytes>>, Infallible>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let response = match (req.method(), req.uri().path()) {
        (&Method::POST, "/orders") => create_order(req.into_body()).await,
        (_, "/orders") => {
            let mut res = problem(
                Problem::new(StatusCode::METHOD_NOT_ALLOWED)
                    .title("Method not allowed")
                    .detail("/orders accepts POST"),
            );
            res.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            res
        }
        _ => problem(
            Problem::new(StatusCode::NOT_FOUND)
                .title("Not found")
                .detail("try POST /orders"),
        ),
    };
    Ok(response)
}

/// Reads the order and answers it with a fresh id.
async fn create_order<B>(body: B) -> Response<Full<Bytes>>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let bytes = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(err) if err.is::<LengthLimitError>() => {
            return problem(
                Problem::new(StatusCode::PAYLOAD_TOO_LARGE)
                    .title("Order too large")
                    .detail("an order is at most 64 KiB"),
            );
        }
        Err(_) => {
            return problem(
                Problem::new(StatusCode::BAD_REQUEST)
                    .title("Unreadable body")
                    .detail("the request body could not be read"),
            );
        }
    };
    let order = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(order @ serde_json::Value::Object(_)) => order,
        _ => {
            return problem(
                Problem::new(StatusCode::BAD_REQUEST)
                    .title("Invalid order")
                    .detail("the body must be a JSON object"),
            );
        }
    };
    let reply = serde_json::json!({
        "orderId": uuid::Uuid::new_v4().to_string(),
        "order": order,
    });
    let mut res = Response::new(Full::from(reply.to_string()));
    *res.status_mut() = StatusCode::CREATED;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// A problem+json response with the handler's body type.
fn problem(problem: Problem) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::from(problem.to_json()));
    *res.status_mut() = problem.status();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn call(method: Method, path: &str, body: &'static str) -> Response<Full<Bytes>> {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .body(Full::from(body))
            .unwrap();
        handle(req).await.unwrap()
    }

    #[tokio::test]
    async fn each_order_gets_a_fresh_id() {
        let mut ids = Vec::new();
        for _ in 0..2 {
            let res = call(Method::POST, "/orders", "{}").await;
            let body = res.into_body().collect().await.unwrap().to_bytes();
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
            ids.push(body["orderId"].as_str().unwrap().to_owned());
        }
        assert_ne!(ids[0], ids[1]);
    }

    #[tokio::test]
    async fn bad_requests_are_problems() {
        for (method, path, body, status) in [
            (Method::POST, "/orders", "[1]", StatusCode::BAD_REQUEST),
            (Method::POST, "/orders", "{", StatusCode::BAD_REQUEST),
            (Method::GET, "/orders", "", StatusCode::METHOD_NOT_ALLOWED),
            (Method::POST, "/nope", "{}", StatusCode::NOT_FOUND),
        ] {
            let res = call(method, path, body).await;
            assert_eq!(res.status(), status, "{path} {body}");
            assert_eq!(res.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
        }
    }

    #[tokio::test]
    async fn oversized_orders_are_413() {
        let big = format!("{{\"note\":\"{}\"}}", "x".repeat(MAX_BODY));
        let req = Request::post("/orders").body(Full::from(big)).unwrap();
        let res = handle(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
}
