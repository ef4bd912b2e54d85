//! The detection worker: consumes analysis jobs from NATS JetStream (a durable pull consumer,
//! explicit acks) and records each job's result exactly once.
//!
//! - [`handle`]: one delivery through the worker's tower stack:
//!   [`ExactlyOnceLayer`](tower_vigil_idempotency::work::ExactlyOnceLayer) over a
//!   [`WorkLedger`](tower_vigil_idempotency::work::WorkLedger) (a duplicate delivery or
//!   republish gets the stored outcome; a job in flight elsewhere is redelivered later) around
//!   [`analyse::Analyse`]: a cap on analyser calls shared by every worker (the rate limiter's
//!   `acquire`), then the write under the owner's [`Lock`](tower_vigil_core::Lock) with its
//!   fencing token.
//! - [`sink`]: SQLite, refusing a write with an older fencing token.
//! - [`consume`]: the JetStream loop; [`config`]: the environment.
#![forbid(unsafe_code)]

pub mod analyse;
pub mod config;
pub mod consume;
pub mod handle;
pub mod sink;
