//! Running the real `vigil-api` binary: a config file per test, a free port, the address read
//! from the `listening on` line, the child killed on drop and its logs printed when a test
//! fails.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use parking_lot::Mutex;
use tower_vigil_tests::fixtures::{shared_cluster, shared_server};

use crate::config::Config;

/// Which backend the server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Memory,
    Redis,
    Cluster,
}

impl Mode {
    /// What `/health/redis` and the `listening` line call it.
    pub fn backend_name(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Redis => "redis",
            Self::Cluster => "redis-cluster",
        }
    }

    /// The environment that selects this backend (on the binary's shared servers).
    fn env(self) -> Vec<(&'static str, String)> {
        match self {
            Self::Memory => Vec::new(),
            Self::Redis => vec![("REDIS_URL", shared_server().url())],
            Self::Cluster => vec![("REDIS_CLUSTER_URLS", shared_cluster().urls().join(","))],
        }
    }
}

/// The mode's environment; starting the shared Redis or cluster blocks, so off the runtime.
async fn env_of(mode: Mode) -> Vec<(&'static str, String)> {
    tokio::task::spawn_blocking(move || mode.env())
        .await
        .expect("starting the shared Redis")
}

/// Where a server keeps its files: the config and the SQLite database. Two instances given
/// the same `Files` share the database (as two replicas of one service would).
pub struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    pub fn new(config: &Config) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("vigil.toml"), config.toml()).expect("writing the config");
        Self { dir }
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("vigil.toml")
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("db.sqlite")
    }
}

/// How long the binary may take to print its address (a debug build seeding Argon2 hashes on
/// a loaded 2-core machine).
const START_LIMIT: Duration = Duration::from_secs(30);

/// A running `vigil-api`; killed on drop, its stderr printed if the test is failing.
pub struct Server {
    child: Child,
    pub base: String,
    logs: Arc<Mutex<String>>,
    name: String,
    _files: Option<Files>,
}

impl Server {
    /// Starts a server in `mode` with its own files written from `config`.
    pub async fn start(mode: Mode, config: Config) -> Self {
        let files = Files::new(&config);
        let mut server = Self::start_with(env_of(mode).await, &files, mode.backend_name()).await;
        server._files = Some(files);
        server
    }

    /// As [`start`](Self::start), with `extra` variables set too (say `NATS_URL`).
    pub async fn start_with_env(
        mode: Mode,
        config: Config,
        extra: Vec<(&'static str, String)>,
    ) -> Self {
        let files = Files::new(&config);
        let mut env = env_of(mode).await;
        env.extend(extra);
        let mut server = Self::start_with(env, &files, mode.backend_name()).await;
        server._files = Some(files);
        server
    }

    /// Runs a server in memory with `extra` variables that must stop it at startup: its exit
    /// code and stderr, once it exited (within [`START_LIMIT`]).
    pub async fn fails_to_start(
        config: Config,
        extra: Vec<(&'static str, String)>,
    ) -> (Option<i32>, String) {
        let exit = Self::run_to_exit(config, extra, Vec::new()).await;
        (exit.code, exit.stderr)
    }

    /// Runs the binary (memory, its own files written from `config`) with `extra` variables
    /// and the command-line `args`, expecting it to exit by itself within [`START_LIMIT`]:
    /// its exit code and output.
    pub async fn run_to_exit(
        config: Config,
        extra: Vec<(&'static str, String)>,
        args: Vec<String>,
    ) -> Exit {
        let files = Files::new(&config);
        tokio::task::spawn_blocking(move || {
            let mut cmd = Self::command(&extra, &files.config(), &files.db());
            cmd.args(&args);
            let mut child = cmd.spawn().expect("spawning the vigil-api binary");
            let read_all = |mut from: Box<dyn Read + Send>| {
                std::thread::spawn(move || {
                    let mut text = String::new();
                    let _ = from.read_to_string(&mut text);
                    text
                })
            };
            let stdout = read_all(Box::new(child.stdout.take().expect("piped stdout")));
            let stderr = read_all(Box::new(child.stderr.take().expect("piped stderr")));
            let deadline = std::time::Instant::now() + START_LIMIT;
            let status = loop {
                if let Some(status) = child.try_wait().expect("waiting for vigil-api") {
                    break status;
                }
                if std::time::Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "vigil-api {args:?} kept running; stdout:\n{}\nstderr:\n{}",
                        stdout.join().unwrap_or_default(),
                        stderr.join().unwrap_or_default()
                    );
                }
                std::thread::sleep(Duration::from_millis(50));
            };
            Exit {
                code: status.code(),
                stdout: stdout.join().unwrap_or_default(),
                stderr: stderr.join().unwrap_or_default(),
            }
        })
        .await
        .expect("running vigil-api")
    }

    /// Starts a server in memory on its own files written from `config`, with `extra`
    /// variables and the command-line `args`.
    pub async fn start_with_args(
        config: Config,
        extra: Vec<(&'static str, String)>,
        args: Vec<String>,
    ) -> Self {
        let files = Files::new(&config);
        let (config_path, db) = (files.config(), files.db());
        let mut server = tokio::task::spawn_blocking(move || {
            let mut cmd = Self::command(&extra, &config_path, &db);
            cmd.args(&args);
            Self::spawn(cmd, "memory")
        })
        .await
        .expect("spawning vigil-api");
        server._files = Some(files);
        server
    }

    /// Starts a server in `mode` on `files` kept by the caller (shared by several instances).
    pub async fn start_shared(mode: Mode, files: &Files) -> Self {
        Self::start_with(env_of(mode).await, files, mode.backend_name()).await
    }

    /// Starts a server on the master the sentinels of `setup` name (a setup the test
    /// controls).
    pub async fn start_on_sentinel(
        setup: &tower_vigil_tests::RedisSentinel,
        config: Config,
    ) -> Self {
        let files = Files::new(&config);
        let env = vec![
            ("REDIS_SENTINEL_URLS", setup.sentinel_urls().join(",")),
            ("REDIS_SENTINEL_MASTER", setup.master_name().to_owned()),
        ];
        let mut server = Self::start_with(env, &files, "redis-sentinel").await;
        server._files = Some(files);
        server
    }

    /// Starts a server on the Redis at `url` (one the test controls).
    pub async fn start_on_redis(url: &str, config: Config) -> Self {
        let files = Files::new(&config);
        let mut server =
            Self::start_with(vec![("REDIS_URL", url.to_owned())], &files, "redis").await;
        server._files = Some(files);
        server
    }

    async fn start_with(env: Vec<(&'static str, String)>, files: &Files, kind: &str) -> Self {
        let (config, db) = (files.config(), files.db());
        tokio::task::spawn_blocking({
            let kind = kind.to_owned();
            move || Self::spawn(Self::command(&env, &config, &db), &kind)
        })
        .await
        .expect("spawning vigil-api")
    }

    /// The binary with `env` on a clean environment, its output piped.
    fn command(env: &[(&str, String)], config: &Path, db: &Path) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_vigil-api"));
        cmd.env_remove("REDIS_URL")
            .env_remove("REDIS_CLUSTER_URLS")
            .env_remove("REDIS_SENTINEL_URLS")
            .env_remove("REDIS_SENTINEL_MASTER")
            .env_remove("REDIS_SENTINEL_MASTER_USERNAME")
            .env_remove("REDIS_SENTINEL_MASTER_PASSWORD")
            .env_remove("NATS_URL")
            .env("VIGIL_ADDR", "127.0.0.1:0")
            .env("VIGIL_CONFIG", config)
            .env("VIGIL_DB", db)
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    fn spawn(mut cmd: Command, kind: &str) -> Self {
        let mut child = cmd.spawn().expect("spawning the vigil-api binary");

        let logs = Arc::new(Mutex::new(String::new()));
        let mut stderr = child.stderr.take().expect("piped stderr");
        std::thread::spawn({
            let logs = logs.clone();
            move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = stderr.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    logs.lock().push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            }
        });
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
            // Keep draining so the server never blocks on a full pipe.
            for _ in lines {}
        });

        let mut server = Self {
            child,
            base: String::new(),
            logs,
            name: kind.to_owned(),
            _files: None,
        };
        let line = match rx.recv_timeout(START_LIMIT) {
            Ok(line) => line,
            Err(e) => {
                let status = server.child.try_wait();
                panic!(
                    "vigil-api did not print its address ({e}; exit: {status:?}); stderr:\n{}",
                    server.logs.lock()
                );
            }
        };
        // `vigil-api listening on http://127.0.0.1:PORT (backend: KIND)`
        let rest = line
            .strip_prefix("vigil-api listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
        let (url, backend) = rest
            .split_once(" (backend: ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
        assert_eq!(backend.trim_end_matches(')'), kind, "{line}");
        server.base = url.to_owned();
        server
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The server's stderr so far.
    pub fn logs(&self) -> String {
        self.logs.lock().clone()
    }
}

/// How a run of the binary ended.
#[derive(Debug)]
pub struct Exit {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "---- vigil-api ({}, {}) stderr ----\n{}",
                self.name,
                self.base,
                self.logs()
            );
        }
    }
}

/// A client with a cookie jar (a browser, for the session routes).
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("reqwest client")
}

/// A client without cookies (an API caller, or a browser whose cookies the test sets itself).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("reqwest client")
}

/// Generates one `#[tokio::test]` per mode from an `async fn(Mode)`.
macro_rules! per_mode {
    ($($case:ident),* $(,)?) => {
        $(
            mod $case {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn memory() {
                    super::$case($crate::server::Mode::Memory).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn redis() {
                    super::$case($crate::server::Mode::Redis).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn cluster() {
                    super::$case($crate::server::Mode::Cluster).await;
                }
            }
        )*
    };
}
pub(crate) use per_mode;
