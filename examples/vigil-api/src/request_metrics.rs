//! How long each request took, by route and status class: the histogram
//! `vigil_api_request_duration_seconds{route, status}`, beside each layer's own backend-call
//! histograms. `route` is the matched route pattern (`/v1/analyze/jobs/{id}`, never the raw
//! path, so a client cannot mint label values), `status` the class (`2xx`, `4xx`, ...).

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics::Unit;
use tokio::time::Instant;

/// The histogram's name.
pub const REQUEST_DURATION_SECONDS: &str = "vigil_api_request_duration_seconds";

/// Registers the histogram's description, so `/metrics` has its `# HELP` line.
pub fn describe() {
    metrics::describe_histogram!(
        REQUEST_DURATION_SECONDS,
        Unit::Seconds,
        "Duration of HTTP requests through every layer, by matched route and status class."
    );
}

/// The middleware: times the request through the layers and the handler.
pub async fn record(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let start = Instant::now();
    let res = next.run(req).await;
    let status = match res.status().as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    metrics::histogram!(REQUEST_DURATION_SECONDS, "route" => route, "status" => status)
        .record(start.elapsed().as_secs_f64());
    res
}
