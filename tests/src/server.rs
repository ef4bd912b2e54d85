//! [`RedisServer`]: one real redis-server on a free loopback port.

use std::path::PathBuf;
use std::time::Duration;

use crate::process::{self, Process};

/// A standalone redis-server for tests. Killed (and its directory removed) on drop.
pub struct RedisServer {
    port: u16,
    dir: PathBuf,
    process: Option<Process>,
    /// The process id while frozen.
    frozen: Option<String>,
}

impl RedisServer {
    /// Starts a server on a free loopback port and waits until it answers.
    ///
    /// # Panics
    /// When redis-server is not installed (with a message saying how to install it) or does
    /// not come up within 10 s.
    pub fn start() -> Self {
        for _ in 0..5 {
            let port = process::free_port(false);
            let dir = process::new_dir();
            let mut p = process::spawn(port, &dir, &[]);
            if process::wait_ready(port, &mut p, Duration::from_secs(10)) {
                return Self {
                    port,
                    dir,
                    process: Some(p),
                    frozen: None,
                };
            }
            // Most likely another process took the port first: try another.
            p.stop(false);
        }
        panic!("redis-server did not start after 5 attempts");
    }

    /// The loopback port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (as a crash would: `SIGKILL`) and returns once it is dead. The port
    /// stays reserved for `restart`.
    pub fn stop(&mut self) {
        self.frozen = None;
        if let Some(p) = self.process.take() {
            p.stop(true);
        }
    }

    /// Freezes the server (`SIGSTOP`): connections stay open and calls hang until their
    /// timeout, as with a server stuck in a long command or cut off by a partition.
    ///
    /// # Panics
    /// When the server does not report its process id.
    pub fn freeze(&mut self) {
        let pid = process::pid(self.port).expect("redis-server reports its process id");
        process::signal("-STOP", &pid);
        self.frozen = Some(pid);
    }

    /// Resumes a frozen server (`SIGCONT`).
    pub fn thaw(&mut self) {
        if let Some(pid) = self.frozen.take() {
            process::signal("-CONT", &pid);
        }
    }

    /// True while the server process is up (frozen or not).
    pub fn is_running(&self) -> bool {
        self.process.is_some()
    }

    /// Starts the server again on the same port (empty: nothing is persisted).
    ///
    /// # Panics
    /// When it does not come back within 10 s.
    pub fn restart(&mut self) {
        self.stop();
        let mut p = process::spawn(self.port, &self.dir, &[]);
        assert!(
            process::wait_ready(self.port, &mut p, Duration::from_secs(10)),
            "redis-server did not restart on port {}",
            self.port
        );
        self.process = Some(p);
    }

    /// Runs one command against the server and returns its first reply line (or bulk body).
    pub fn command(&self, args: &[&str]) -> Option<String> {
        process::command(self.port, args)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(p) = self.process.take() {
            p.stop(false);
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl std::fmt::Debug for RedisServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisServer")
            .field("port", &self.port)
            .finish()
    }
}
