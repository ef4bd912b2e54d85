//! [`ExactlyOnceLayer`]: exactly-once processing for a tower [`Service`](tower_service::Service)
//! of messages that name their unit of work ([`Job`](super::Job)), such as a worker's
//! handler of broker messages.

mod future;
#[allow(clippy::module_inception)]
mod layer;
mod service;

pub use self::future::ResponseFuture;
pub use self::layer::ExactlyOnceLayer;
pub use self::service::ExactlyOnce;
