//! Spawning `redis-server` under a reaper wrapper, free ports, and readiness checks.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The wrapper: runs redis-server, waits for a line (or EOF when the test process dies) on
/// stdin, kills the server, and removes its directory unless told to keep it.
const WRAPPER: &str = r#"
redis-server "$@" >"$VIGIL_DIR/server.log" 2>&1 &
pid=$!
read -r cmd
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
[ "$cmd" = keep ] || rm -rf "$VIGIL_DIR"
"#;

/// A running redis-server under its wrapper.
pub(crate) struct Process {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Process {
    /// Stops the server; the directory survives when `keep`.
    pub(crate) fn stop(mut self, keep: bool) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.write_all(if keep { b"keep\n" } else { b"drop\n" });
        }
        let _ = self.child.wait();
    }

    pub(crate) fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }
}

/// Fails the test with install instructions when redis-server is not on the PATH.
pub(crate) fn require_redis() {
    static CHECKED: OnceLock<()> = OnceLock::new();
    CHECKED.get_or_init(|| {
        require(
            "redis-server",
            "The tests start their own Redis servers: install it with `sudo apt-get install \
             redis-server redis-tools` (Debian/Ubuntu)",
        );
    });
}

/// Fails the test with `how` to install `binary` when it is not on the PATH.
pub(crate) fn require(binary: &str, how: &str) {
    let found = Command::new(binary)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "{binary} was not found on the PATH. {how}, or run ./scripts/test, which does that for \
         you."
    );
}

/// Starts redis-server on `port` with its data in `dir` and `extra` arguments.
pub(crate) fn spawn(port: u16, dir: &Path, extra: &[&str]) -> Process {
    require_redis();
    let port_s = port.to_string();
    let dir_s = dir.to_string_lossy().into_owned();
    let mut args: Vec<&str> = vec![
        "--port",
        &port_s,
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        &dir_s,
        "--daemonize",
        "no",
        "--protected-mode",
        "no",
    ];
    args.extend_from_slice(extra);
    spawn_raw(dir, &args)
}

/// Starts redis-server with exactly `argv` (a config file first, say, as `--sentinel` needs),
/// its log and wrapper state in `dir`.
pub(crate) fn spawn_raw(dir: &Path, argv: &[&str]) -> Process {
    require_redis();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(WRAPPER)
        .arg("redis-wrapper")
        .args(argv)
        .env("VIGIL_DIR", dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawning sh to run redis-server");
    let stdin = child.stdin.take();
    Process { child, stdin }
}

/// Waits until the server on `port` answers PING; false when `process` died or time ran out.
pub(crate) fn wait_ready(port: u16, process: &mut Process, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if process.has_exited() {
            return false;
        }
        if command(port, &["PING"]).is_some_and(|r| r.contains("PONG")) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Sends one inline command and returns the first reply line (or the bulk body), or `None`
/// when nothing answered.
pub(crate) fn command(port: u16, args: &[&str]) -> Option<String> {
    let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let mut req = format!("*{}\r\n", args.len());
    for a in args {
        req.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    stream.write_all(req.as_bytes()).ok()?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    if let Some(len) = line.strip_prefix('$') {
        let len: i64 = len.trim().parse().ok()?;
        if len < 0 {
            return Some(String::new());
        }
        let mut body = vec![0u8; usize::try_from(len).ok()? + 2];
        reader.read_exact(&mut body).ok()?;
        body.truncate(body.len() - 2);
        return Some(String::from_utf8_lossy(&body).into_owned());
    }
    Some(line.trim_end().to_owned())
}

/// A loopback port nothing listens on now (and, with `bus`, port + 10000 too, for cluster
/// nodes).
pub(crate) fn free_port(bus: bool) -> u16 {
    loop {
        let port = if bus {
            // Cluster nodes also need port + 10000 for the bus. Both stay below Linux's
            // ephemeral range (32768 and up): a node restarted by a test must get its port
            // back, and a port in that range can meanwhile be taken by any outgoing
            // connection's source port or any `bind(0)` (a CI run once saw a node fail to
            // restart on 33658 under failover load).
            10_000 + (u16::from_le_bytes(rand2()) % 12_700)
        } else {
            TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .expect("binding a loopback port")
        };
        let free = |p: u16| TcpListener::bind((Ipv4Addr::LOCALHOST, p)).is_ok();
        if free(port) && (!bus || free(port + 10000)) {
            return port;
        }
    }
}

fn rand2() -> [u8; 2] {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mix = nanos ^ std::process::id().rotate_left(16);
    let [a, b, ..] = mix.wrapping_mul(2_654_435_761).to_le_bytes();
    [a, b]
}

/// The last `lines` lines of the server log in `dir` (what the wrapper writes), for a failure
/// message.
pub(crate) fn log_tail(dir: &Path, lines: usize) -> String {
    let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
    let all: Vec<&str> = log.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A fresh directory for one server; removed by the wrapper or by the owner.
pub(crate) fn new_dir() -> PathBuf {
    tempfile::Builder::new()
        .prefix("tower-vigil-redis-")
        .tempdir()
        .expect("creating a temp dir")
        .keep()
}

/// The process id the server on `port` reports (`INFO server`).
pub(crate) fn pid(port: u16) -> Option<String> {
    let info = command(port, &["INFO", "server"])?;
    info.lines()
        .find_map(|l| l.strip_prefix("process_id:"))
        .map(|p| p.trim().to_owned())
}

/// Sends `signal` (`-STOP`, `-CONT`) to process `pid`.
///
/// # Panics
/// When `kill` fails.
pub(crate) fn signal(signal: &str, pid: &str) {
    let ok = Command::new("kill")
        .args([signal, pid])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill {signal} {pid}");
}
