//! End-to-end tests of the real `vigil-api` binary over HTTP (issue 7): the contract on memory,
//! Redis and a 3-master Redis Cluster, two instances sharing one Redis, and Redis stopped and
//! restarted under a running server; the analysis jobs over a NATS JetStream of their own.

// A test binary: `pub` marks what a module offers its siblings, nothing is exported.
#![allow(unreachable_pub)]

mod admin;
mod analyze;
mod browser;
mod cli;
mod config;
mod console;
mod http;
mod jobs;
mod ops;
mod outage;
mod per_ip;
mod sentinel;
mod server;
mod sessions;
mod two_instances;
