//! `GET /health/redis` and `GET /metrics`.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower_vigil_core::Backend;
use tower_vigil_core::health;

use crate::state::Shared;

/// The original system's probe: 200 when the backend answers, 503 when it does not. An
/// answering backend that can lose state the guarantees depend on (a Redis whose
/// `maxmemory-policy` evicts: locks, idempotency records and sessions all have TTLs) is
/// `"status": "degraded"` with `warnings` saying what to set; it still answers 200, as it
/// serves, so a load balancer keeps it while monitoring reads the warning.
pub async fn health_redis<B: Backend>(State(state): State<Shared<B>>) -> Response {
    let report = health::check(&state.backend).await;
    let status = if report.is_healthy() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(report)).into_response()
}

/// Every layer's counters in Prometheus text format.
pub async fn metrics<B: Backend>(State(state): State<Shared<B>>) -> Response {
    match &state.metrics {
        Some(handle) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            handle.render(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "metrics are not enabled").into_response(),
    }
}
