//! [`acquire`]: one atomic decision over several policies, in one backend round trip, on any
//! [`Backend`](tower_vigil_core::Backend).
//!
//! The decision is one [`Script`](tower_vigil_core::Script) (`script.rs`): one Lua script
//! holding every algorithm, run by Redis with `EVALSHA`, and its Rust twin (`twin.rs`), run by
//! the memory backend with the keys' entries locked. The keys of one request are
//! `ratelimit:{<escaped key>}:<policy>[:<algorithm>]` (`keys.rs`): they share a hash tag, so a
//! multi-policy decision runs on Redis Cluster too.
//!
//! ```
//! use tower_vigil_ratelimit::{Acquire, Algorithm, MemoryBackend, Mode, Policy, Quota, acquire};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower_vigil_core::BackendError> {
//! let backend = MemoryBackend::new();
//! let policies = [
//!     Policy::new("second", Quota::per_second(10)).unwrap(),
//!     Policy::with_algorithm("hour", Quota::per_hour(3), Algorithm::FixedWindow).unwrap(),
//! ];
//! let t0 = 1_700_000_000_000_000; // an injected clock, in µs since the Unix epoch
//! for _ in 0..3 {
//!     assert!(acquire(&backend, Acquire::new("user:7", &policies).at(t0)).await?.allowed());
//! }
//! // The hourly policy is spent: denied, and the per-second one is not charged for it.
//! let d = acquire(&backend, Acquire::new("user:7", &policies).at(t0)).await?;
//! assert!(!d.allowed());
//! assert_eq!(d.policies()[0].remaining(), 7);
//! // A refund gives a unit back.
//! acquire(&backend, Acquire::new("user:7", &policies).at(t0).mode(Mode::Refund)).await?;
//! assert!(acquire(&backend, Acquire::new("user:7", &policies).at(t0)).await?.allowed());
//! # Ok(())
//! # }
//! ```

mod args;
mod cell;
mod decide;
mod outcomes;
mod request;
mod reset;
mod script;
mod twin;

pub use self::decide::acquire;
pub(crate) use self::decide::{acquire_now, acquire_remote};
pub use self::request::Acquire;
pub use self::reset::reset;
pub(crate) use self::script::DECIDE;
