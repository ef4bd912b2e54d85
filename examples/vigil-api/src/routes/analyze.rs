//! `POST /v1/analyze`: the protected work behind API key, rate limit and idempotency.

use axum::Json;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::problem::JsonBody;
use vigil_api::analyze::analyze;

/// The request body: exactly `{"text": "..."}`. Read through a JSON object so that an array
/// (which serde would otherwise accept for a struct) is a 422 too.
#[derive(Debug, Deserialize)]
#[serde(try_from = "Map<String, Value>")]
pub struct AnalyzeRequest {
    pub text: String,
}

impl TryFrom<Map<String, Value>> for AnalyzeRequest {
    type Error = String;

    fn try_from(mut object: Map<String, Value>) -> Result<Self, Self::Error> {
        let text = match object.remove("text") {
            Some(Value::String(text)) => text,
            Some(_) => return Err("`text` must be a string".into()),
            None => return Err("missing field `text`".into()),
        };
        if let Some(extra) = object.keys().next() {
            return Err(format!("unknown field `{extra}`, expected `text`"));
        }
        Ok(Self { text })
    }
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
