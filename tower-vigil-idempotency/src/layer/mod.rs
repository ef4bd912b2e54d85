//! The middleware: [`IdempotencyLayer`] (built by [`IdempotencyLayer::new`] or
//! [`IdempotencyLayer::builder`]), its service [`Idempotency`] and [`ResponseFuture`], the
//! typed [`IdempotencyRejection`] and the layer's own answers (`response.rs`).
//!
//! ```
//! use std::time::Duration;
//! use tower_vigil_core::MemoryBackend;
//! use tower_vigil_idempotency::IdempotencyLayer;
//!
//! # fn main() -> Result<(), tower_vigil_core::ConfigError> {
//! let defaults = IdempotencyLayer::new(MemoryBackend::new());
//! let waiting = IdempotencyLayer::builder(MemoryBackend::new())
//!     .wait_for_in_flight(Duration::from_secs(5))
//!     .build()?;
//! # Ok(())
//! # }
//! ```

mod builder;
mod future;
#[allow(clippy::module_inception)]
mod layer;
pub(crate) mod rejection;
pub(crate) mod response;
mod service;

pub use builder::IdempotencyLayerBuilder;
pub use future::ResponseFuture;
pub use layer::IdempotencyLayer;
pub use rejection::{IdempotencyRejection, IdempotencyRejectionKind};
pub use service::Idempotency;
