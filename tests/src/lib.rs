//! Test support for tower-vigil: real `redis-server` processes, never a mock.
//!
//! - [`RedisServer`]: one server on a free loopback port (`--save "" --appendonly no`, its own
//!   temp dir), killed on drop; [`stop`](RedisServer::stop) and
//!   [`restart`](RedisServer::restart) on the same port for fault tests.
//! - [`RedisCluster`]: three masters joined with `redis-cli --cluster create`, ready once every
//!   node reports `cluster_state:ok`; [`RedisCluster::with_replicas`] adds a replica to each,
//!   with helpers to kill a master, wait for its replica's promotion, bring the old master back
//!   as a replica, and hold a replica's replication back.
//! - [`fixtures`]: backends for a test — on a server shared by the whole test binary, each test
//!   under its own key prefix — and [`conformance`]: the `Backend` suite, written once and run
//!   on every backend.
//! - [`inspect`]: every key under a prefix with its TTL and values, to prove no secret is
//!   stored in plain text; [`metrics::Counters`]: a counting `metrics` recorder;
//!   [`stalling::Stalling`]: a backend whose lease renewals hang, as on a frozen server.
//! - [`fault_proxy::FaultProxy`]: a TCP proxy in front of a server that stalls, heals, cuts
//!   or delays its connections on command; [`faults::Faulty`]: a backend behind one (or on a
//!   cluster of its own, frozen to stall) for the layers' fault suites.
//! - [`pressure::Pressure`]: a small `maxmemory` and an eviction policy on a server or every
//!   cluster master, filled until it refuses writes (`OOM`) or evicts.
//!
//! - [`RedisSentinel`]: a master, a replica and three sentinels, with failovers asked for or
//!   forced by killing the master.
//! - [`NatsServer`]: a `nats-server -js` on a free loopback port, its JetStream store in a
//!   temp dir, for the worker tests.
//!
//! Servers are started through a small shell wrapper that kills them when the test process's
//! pipe closes, so even a test binary that aborts leaves no server behind.
//!
//! ```no_run
//! use tower_vigil_tests::RedisServer;
//!
//! let mut server = RedisServer::start();
//! println!("{}", server.url());
//! server.stop();
//! server.restart();
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod cluster;
pub mod conformance;
mod failover;
pub mod fault_proxy;
pub mod faults;
pub mod fixtures;
pub mod inspect;
pub mod intercept;
pub mod metrics;
mod nats;
pub mod pressure;
mod process;
mod sentinel;
mod server;
pub mod stalling;

pub use cluster::RedisCluster;
pub use failover::key_slot;
pub use nats::NatsServer;
pub use sentinel::RedisSentinel;
pub use server::RedisServer;
