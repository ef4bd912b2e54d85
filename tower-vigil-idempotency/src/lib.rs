//! Exactly-once POSTs for tower services: the `Idempotency-Key` header
//! ([draft-ietf-httpapi-idempotency-key-header]) done properly, on memory, Redis or Redis
//! Cluster.
//!
//! A client sends `Idempotency-Key: "<unique id>"` with a POST (or PATCH). The first request
//! with that key runs; every later one with the same key gets the stored response back with
//! `Idempotent-Replayed: true`, without running the handler again, for 24 hours.
//!
//! - **Scoped**: keys live in the scope of the caller (the
//!   [`Principal`](tower_vigil_core::Principal) an authentication layer put in the request's
//!   extensions, or what [`IdempotencyLayerBuilder::scope`] chooses), so two callers using the same
//!   key never see each other's responses. The store key is a SHA-256 of the length-prefixed
//!   scope and key: a `:` in a key cannot reach another scope, and raw keys are never stored.
//!   A keyed request with no scope is refused with `401`
//!   ([`IdempotencyRejectionKind::Unscoped`]): put an authentication layer that publishes a
//!   principal in front (API keys do; sessions in their principal mode). One shared namespace for unscoped requests is an
//!   explicit, unsafe opt-in ([`Unscoped::SharedUnsafe`]).
//! - **Fingerprinted**: the key is bound to a SHA-256 of the method, path, query and body;
//!   reusing it for a different request is `422`.
//! - **Atomic**: one store operation claims the key or reports it in flight (`409` with
//!   `Retry-After`, or wait with [`IdempotencyLayerBuilder::wait_for_in_flight`]) or completed
//!   (replay). Of 200 concurrent duplicates exactly one runs.
//! - **Leased**: the in-flight marker carries an owner token and a lease (60 s) renewed while
//!   the handler runs, up to a maximum hold (10 min). A handler that panics releases the key;
//!   one whose process dies lets the lease lapse. The handler runs on its own task, so when
//!   the client disconnects its outcome is still recorded.
//! - **Careful capture**: status, headers (not `Set-Cookie`, `Date`, `Content-Length` nor
//!   hop-by-hop ones), body and trailers up to 1 MiB, in a versioned binary record. `5xx`
//!   responses (and gRPC server failures) are stored and replayed like any other by default
//!   ([`ServerErrors`]). A body of known size within the limit is stored before it is sent;
//!   any other body is **streamed** to the client frame by frame as the handler produces it,
//!   captured on the way, and stored when it ends.
//! - **Exactly once, even when the response cannot be kept**: a response larger than the
//!   limit, or whose body fails part way, is recorded as completed but not replayable; a retry
//!   gets `409` ([`IdempotencyRejectionKind::NotReplayable`], with the original status), never a second
//!   execution. Request bodies are buffered up to 1 MiB (`413` beyond). A stored record that
//!   cannot be read is a `500`, never a second execution.
//! - **Failure policy**: a failing store answers `503` (fail closed) by default;
//!   [`FailurePolicy::Open`](tower_vigil_core::FailurePolicy::Open) runs requests without
//!   idempotency instead.
//! - **gRPC**: unary calls take the key from `idempotency-key` metadata; rejections are gRPC
//!   statuses (`INVALID_ARGUMENT`, `ABORTED` in flight, `FAILED_PRECONDITION` on mismatch,
//!   `ALREADY_EXISTS` when not replayable, `UNAVAILABLE`).
//!
//! Every answer the layer gives by itself is an [`IdempotencyRejection`] (its
//! [`kind`](IdempotencyRejection::kind), and the family's
//! [`Rejection`](tower_vigil_core::Rejection) contract), turned into a response by the
//! builder's [`response`](IdempotencyLayerBuilder::response) (by default
//! `application/problem+json`, with `Retry-After` where a retry can succeed) and put in that
//! response's extensions.
//!
//! # Beyond HTTP
//!
//! Workers get the same records and leases for any unit of work with an id: see [`work`]
//! ([`WorkLedger`](work::WorkLedger), and [`ExactlyOnceLayer`](work::ExactlyOnceLayer) for a
//! tower `Service<M>`).
//!
//! # Example: an axum router
//!
//! The inner service receives a [`RequestBody`] (buffered for keyed requests, streaming
//! otherwise), which axum routes accept; the response body is wrapped in [`IdempotencyBody`].
//!
//! ```
//! use axum::{Router, body::Body, routing::post};
//! use http::{Request, StatusCode};
//! use tower::ServiceExt;
//! use tower_vigil_core::{MemoryBackend, Principal};
//! use tower_vigil_idempotency::IdempotencyLayer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let app = Router::new()
//!     .route("/payments", post(|body: String| async move { (StatusCode::CREATED, body) }))
//!     .layer(IdempotencyLayer::new(MemoryBackend::new()));
//!
//! let pay = || {
//!     Request::post("/payments")
//!         .header("idempotency-key", "\"3f1c2a9e-pay-42\"")
//!         // What an authentication layer (API keys, sessions) puts there: the key's scope.
//!         .extension(Principal::user("alice"))
//!         .body(Body::from("{\"amount\":10}"))
//!         .unwrap()
//! };
//! let first = app.clone().oneshot(pay()).await.unwrap();
//! assert_eq!(first.status(), StatusCode::CREATED);
//! let retry = app.clone().oneshot(pay()).await.unwrap();
//! assert_eq!(retry.status(), StatusCode::CREATED);
//! assert_eq!(retry.headers()["idempotent-replayed"], "true");
//! # }
//! ```
//!
//! With Redis, the same layer takes a [`RedisBackend`](tower_vigil_core::RedisBackend)
//! (standalone or cluster): `IdempotencyLayer::new(redis)`.
//!
//! # Metrics
//!
//! Replays, conflicts (409 in flight), records not replayable (409 completed), mismatches
//! (422), stored responses, store failures (labels `failure_policy`, `kind`) and a latency
//! histogram of store calls (label `op`), through the `metrics` facade: the names and their
//! descriptions are in [`metrics`].
//!
//! [draft-ietf-httpapi-idempotency-key-header]: https://datatracker.ietf.org/doc/draft-ietf-httpapi-idempotency-key-header/
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod body;
mod capture;
mod config;
mod decision;
mod execute;
mod failure_policy;
mod fingerprint;
mod flow;
mod inspect;
mod intake;
pub mod key;
mod layer;
mod lease;
pub mod metrics;
mod record;
mod replay;
mod scope;
mod shared;
mod store;
mod stream;
mod tee;
mod waiters;
pub mod work;

use std::time::Duration;

pub use crate::body::{IdempotencyBody, RequestBody};
pub use crate::capture::IDEMPOTENCY_STATUS;
pub use crate::config::ServerErrors;
pub use crate::inspect::{CompletedRecord, Inspection, inspect};
pub use crate::key::{IdempotencyKey, KeyError};
pub use crate::layer::{
    Idempotency, IdempotencyLayer, IdempotencyLayerBuilder, IdempotencyRejection,
    IdempotencyRejectionKind, ResponseFuture,
};
pub use crate::record::NotReplayableReason;
pub use crate::replay::IDEMPOTENT_REPLAYED;
pub use crate::scope::Unscoped;
pub use crate::stream::BoxError;

/// The default lease of an in-flight marker.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);
/// The default longest a handler may hold a key by renewing its lease.
pub const DEFAULT_MAX_HOLD: Duration = Duration::from_secs(600);
/// The default retention of completed responses (the original system's 24 hours).
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 3600);
/// The default request and response body limits (1 MiB).
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// Entry points for the fuzz targets (`fuzz/` at the workspace root) into the record
/// encoding, which is internal to this crate. **Not API**: hidden from the docs, exempt from
/// semver, and may change or vanish in any release.
#[doc(hidden)]
pub mod __fuzz {
    pub use crate::record::{
        DecodeError, NotReplayable, NotReplayableReason, Record, StoredResponse,
    };
}

/// Internals the crate's own tests (and the workspace's failover tests) reach: the store's
/// operations, run on any backend without the layer. **Not API**: hidden from the docs,
/// exempt from semver, and may change or vanish in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::fingerprint::Fingerprint;
    pub use crate::store::{
        Claim, announce, announcements, claim, complete, extend, peek, release,
    };

    /// The record key (relative to the backend prefix) of `client_key` sent by a caller whose
    /// principal (or scope closure) gave `scope`.
    pub fn record_key(scope: &str, client_key: &str) -> String {
        crate::store::keys::record_key(&crate::scope::principal_scope(scope), client_key)
    }
}
