//! Load generation against a loopback HTTP/1.1 server: `wrk` when installed, else an in-Rust
//! generator with the same shape (one thread, fixed connections, bounded duration).

mod client;
mod rust;
mod wrk;

use std::net::SocketAddr;
use std::time::Duration;

pub(crate) use client::request;

/// One request, repeated by every connection for the whole run.
#[derive(Debug, Clone)]
pub(crate) struct Load {
    pub(crate) method: &'static str,
    pub(crate) path: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
}

impl Load {
    pub(crate) fn get(path: &str) -> Self {
        Self {
            method: "GET",
            path: path.to_owned(),
            headers: Vec::new(),
            body: String::new(),
        }
    }

    pub(crate) fn post(path: &str, body: &str) -> Self {
        Self {
            method: "POST",
            body: body.to_owned(),
            ..Self::get(path)
        }
        .header("content-type", "application/json")
    }

    pub(crate) fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// What one bounded run measured.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Sample {
    pub(crate) rps: f64,
    pub(crate) p50_us: f64,
    pub(crate) p99_us: f64,
    /// Responses that were not 2xx (a misconfigured scenario, e.g. a rate limit denying).
    pub(crate) errors: u64,
}

/// Which load generator runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Generator {
    Wrk,
    Rust,
}

impl Generator {
    /// `wrk` if it runs, else the in-Rust generator (saying how to install wrk);
    /// `VIGIL_BENCH_LOAD=rust` picks the in-Rust generator anyway.
    pub(crate) fn detect() -> Self {
        if std::env::var("VIGIL_BENCH_LOAD").is_ok_and(|v| v == "rust") {
            return Self::Rust;
        }
        let ok = std::process::Command::new("wrk")
            .arg("--version")
            .output()
            .is_ok();
        if ok {
            Self::Wrk
        } else {
            eprintln!(
                "wrk not found: using the in-Rust load generator (install wrk for the figures \
                 the targets were measured with: `apt-get install wrk`)"
            );
            Self::Rust
        }
    }

    pub(crate) fn describe(self, connections: usize, run: Duration) -> String {
        match self {
            Self::Wrk => format!("wrk -t1 -c{connections} -d{}s --latency", run.as_secs()),
            Self::Rust => format!(
                "in-Rust generator (hyper, 1 thread, {connections} connections, {} s)",
                run.as_secs()
            ),
        }
    }

    pub(crate) async fn run(
        self,
        addr: SocketAddr,
        load: &Load,
        connections: usize,
        run: Duration,
    ) -> Sample {
        match self {
            Self::Wrk => wrk::run(addr, load, connections, run).await,
            Self::Rust => rust::run(addr, load, connections, run).await,
        }
    }
}
