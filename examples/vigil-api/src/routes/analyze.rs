//! `POST /v1/analyze`: the protected work behind API key, rate limit and idempotency.

use axum::Json;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::analyze::analyze;
use crate::problem::JsonBody;

/// The request body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalyzeRequest {
    pub text: String,
}

/// Scores the text. A fresh `requestId` per execution, so a replayed response is recognisable.
pub async fn handler(JsonBody(req): JsonBody<AnalyzeRequest>) -> Json<Value> {
    let verdict = analyze(&req.text);
    Json(json!({
        "requestId": uuid::Uuid::new_v4().to_string(),
        "verdict": verdict.verdict,
        "score": verdict.score,
        "categories": verdict.categories,
    }))
}
