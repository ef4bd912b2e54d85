//! [`NatsServer`]: one real `nats-server -js` (JetStream on, its store in a temp dir) on a
//! free loopback port, never the machine's shared one on 4222.

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::process;

/// Runs nats-server until a line (or EOF, when the test process dies) arrives on stdin, then
/// kills it and removes its directory.
const WRAPPER: &str = r#"
nats-server "$@" >"$VIGIL_DIR/server.log" 2>&1 &
pid=$!
read -r cmd
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
rm -rf "$VIGIL_DIR"
"#;

/// A `nats-server` with JetStream for tests. Killed (and its store removed) on drop.
pub struct NatsServer {
    port: u16,
    child: Child,
    stdin: Option<ChildStdin>,
}

impl NatsServer {
    /// Starts a server on a free loopback port, its JetStream store in a fresh temp dir, and
    /// waits until it greets with JetStream on.
    ///
    /// # Panics
    /// When nats-server is not installed (with a message saying how to install it) or does
    /// not come up within 10 s.
    pub fn start() -> Self {
        require_nats();
        for _ in 0..5 {
            let port = process::free_port(false);
            let dir = nats_dir();
            let port_s = port.to_string();
            let dir_s = dir.to_string_lossy().into_owned();
            let mut child = Command::new("sh")
                .arg("-c")
                .arg(WRAPPER)
                .arg("nats-wrapper")
                .args(["-js", "-a", "127.0.0.1", "-p", &port_s, "-sd", &dir_s])
                .env("VIGIL_DIR", &dir)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawning sh to run nats-server");
            let stdin = child.stdin.take();
            let mut server = Self { port, child, stdin };
            if server.wait_ready(Duration::from_secs(10)) {
                return server;
            }
            // Most likely another process took the port first: try another.
            server.kill();
        }
        panic!("nats-server did not start after 5 attempts");
    }

    /// `nats://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The loopback port.
    pub fn port(&self) -> u16 {
        self.port
    }

    fn wait_ready(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return false;
            }
            if greets_with_jetstream(self.port) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    fn kill(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.write_all(b"stop\n");
        }
        let _ = self.child.wait();
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

impl std::fmt::Debug for NatsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsServer")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

/// True when a server on `port` sends its `INFO` greeting with JetStream on.
fn greets_with_jetstream(port: u16) -> bool {
    let Ok(stream) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).is_ok()
        && line.starts_with("INFO ")
        && line.contains("\"jetstream\":true")
}

fn nats_dir() -> PathBuf {
    tempfile::Builder::new()
        .prefix("tower-vigil-nats-")
        .tempdir()
        .expect("creating a temp dir")
        .keep()
}

/// Fails the test with install instructions when nats-server is not on the PATH.
fn require_nats() {
    static CHECKED: OnceLock<()> = OnceLock::new();
    CHECKED.get_or_init(|| {
        process::require(
            "nats-server",
            "The worker tests start their own NATS server with JetStream: install it with \
             `sudo apt-get install nats-server` (Debian/Ubuntu)",
        );
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_starts_with_jetstream_and_stops_on_drop() {
        let server = NatsServer::start();
        let port = server.port();
        assert!(greets_with_jetstream(port));
        assert_ne!(port, 4222, "never the machine's shared server");
        drop(server);
        assert!(!greets_with_jetstream(port));
    }
}
