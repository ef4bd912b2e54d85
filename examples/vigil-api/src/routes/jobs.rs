//! `POST /v1/analyze/jobs` and `GET /v1/analyze/jobs/{id}`: analysis as a background job,
//! published to NATS JetStream for the `detection-worker` example and read back from the work
//! ledger it records outcomes in.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{Extensions, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tower_vigil_core::{Backend, Principal};
use tower_vigil_idempotency::work::{WorkErrorKind, WorkState};
use vigil_api::jobs::{AnalyzeJob, JobResult, MAX_TEXT};

use crate::job_queue::JobQueue;
use crate::problem::{ApiError, JsonBody};
use crate::routes::analyze::AnalyzeRequest;
use crate::state::Shared;

/// `POST /v1/analyze/jobs`: records the job as the caller's, publishes it, and answers 202
/// once JetStream has stored it. Behind the idempotency layer, so a retry with the same
/// `Idempotency-Key` replays this 202 and publishes nothing.
pub async fn submit<B: Backend>(
    State(state): State<Shared<B>>,
    extensions: Extensions,
    JsonBody(req): JsonBody<AnalyzeRequest>,
) -> Result<Response, ApiError> {
    let queue = queue(&state)?;
    let owner = owner(&extensions)?;
    // The body limit keeps the text under this already; checked here too because it is the
    // contract the worker relies on, not an accident of the route's settings.
    if req.text.len() > MAX_TEXT {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("`text` is longer than {MAX_TEXT} bytes"),
        ));
    }
    let job = AnalyzeJob::new(uuid::Uuid::new_v4().to_string(), owner, req.text);
    // The row first: a worker may finish the job before the publish is even acknowledged,
    // and its owner must be known by the time the client asks.
    state
        .db
        .insert_job(job.id.clone(), job.owner.clone())
        .await
        .map_err(|e| ApiError::internal("recording the job", e))?;
    if let Err(e) = queue.publish(&job).await {
        tracing::warn!(error = %e, job_id = %job.id, "publishing an analysis job failed");
        // Its id is never given out, so no one can ask for it: drop the row. (If JetStream
        // did store it after all, a worker analyses a job no one reads; harmless.)
        if let Err(e) = state.db.delete_job(job.id.clone()).await {
            tracing::warn!(error = %e, job_id = %job.id, "removing an unpublished job failed");
        }
        return Err(ApiError::unavailable(
            "the job queue did not accept the job; nothing was submitted, retry later",
        ));
    }
    let location = format!("/v1/analyze/jobs/{}", job.id);
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(json!({ "jobId": job.id, "status": "pending" })),
    )
        .into_response())
}

/// `GET /v1/analyze/jobs/{id}`: `pending` (no worker has it yet), `running`, or `done` with
/// the result. Only the key that submitted the job sees it; to any other it does not exist.
pub async fn status<B: Backend>(
    State(state): State<Shared<B>>,
    extensions: Extensions,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let queue = queue(&state)?;
    let owner = owner(&extensions)?;
    let found = state
        .db
        .job_owner(id.clone())
        .await
        .map_err(|e| ApiError::internal("reading the job", e))?;
    // One answer for "no such job" and "someone else's": a 403 would confirm the id exists.
    if found.as_deref() != Some(owner.as_str()) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no analysis job with this id",
        ));
    }
    let state_of = queue.ledger().peek(&id).await.map_err(|e| {
        if e.kind() == WorkErrorKind::Backend {
            tracing::warn!(error = %e, job_id = %id, "reading a job's outcome failed");
            ApiError::unavailable("the job store is unavailable; retry later")
        } else {
            ApiError::internal("reading the job's outcome", e)
        }
    })?;
    Ok(Json(match state_of {
        None => json!({ "jobId": id, "status": "pending" }),
        Some(WorkState::InFlight { .. }) => json!({ "jobId": id, "status": "running" }),
        Some(WorkState::Done(stored)) => {
            let result = JobResult::from_bytes(&stored)
                .map_err(|e| ApiError::internal("decoding the job's stored result", e))?;
            json!({ "jobId": id, "status": "done", "result": result })
        }
    }))
}

/// The job queue, or 503 when the server runs without NATS. Asked after authentication (the
/// layers run first), so an unauthenticated caller still gets 401.
fn queue<B: Backend>(state: &Shared<B>) -> Result<&JobQueue<B>, ApiError> {
    state.jobs.as_ref().ok_or_else(|| {
        ApiError::unavailable("analysis jobs need NATS: this server was started without NATS_URL")
    })
}

/// The caller's principal scope, which owns the jobs it submits. The API-key layer in front
/// always puts a principal there; its absence is a wiring mistake, not the client's.
fn owner(extensions: &Extensions) -> Result<String, ApiError> {
    Principal::from_extensions(extensions)
        .map(Principal::scope)
        .ok_or_else(|| ApiError::internal("identifying the caller", "no principal in the request"))
}
