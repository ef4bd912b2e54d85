//! The cache and revocation suite, written once and run on memory, Redis and Redis Cluster:
//! the cache's behaviour (`cases`), revocation generations (`generations`) and the loss of
//! the invalidation subscription (`subscription_loss`).

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod cases;
mod generations;
mod subscription_loss;
