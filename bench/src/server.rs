//! In-process axum servers on loopback ports, the `vigil-api` release binary as a child
//! process, and the backend every Redis part connects to its own redis-server with.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::Router;
use tower_vigil_core::RedisBackend;

/// An axum server on `127.0.0.1:<free port>`, stopped on drop.
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Serves `router` with `ConnectInfo<SocketAddr>` (the peer-IP keys read it).
    pub(crate) async fn spawn(router: Router) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding a loopback port");
        let addr = listener.local_addr().expect("local addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await;
        });
        Self { addr, task }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The `vigil-api` binary, killed on drop.
pub(crate) struct VigilApi {
    pub(crate) addr: SocketAddr,
    child: Child,
    dir: PathBuf,
}

/// Where the release build of `vigil-api` is: `VIGIL_API_BIN`, else `$CARGO_TARGET_DIR/release`,
/// else the workspace's `target/release`.
pub(crate) fn vigil_api_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("VIGIL_API_BIN") {
        return Some(PathBuf::from(p));
    }
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace.join("target"), PathBuf::from);
    [target, workspace.join("target")]
        .into_iter()
        .map(|t| t.join("release").join("vigil-api"))
        .find(|p| p.is_file())
}

impl VigilApi {
    /// Starts it with the demo configuration, its per-key quota raised so that the load
    /// measures admitted requests (the demo's 100 per minute would make nearly every request
    /// a deny-cache 429), on memory or on `redis_url`.
    pub(crate) fn start(binary: &PathBuf, redis_url: Option<&str>) -> Result<Self, String> {
        let demo =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/vigil-api/vigil.toml");
        let config = std::fs::read_to_string(&demo)
            .map_err(|e| format!("reading {}: {e}", demo.display()))?
            .replace("rate_limit = 100 ", "rate_limit = 10000000 ");
        let dir = std::env::temp_dir().join(format!(
            "vigil-bench-api-{}-{}",
            std::process::id(),
            u8::from(redis_url.is_some())
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        std::fs::write(dir.join("vigil.toml"), config).map_err(|e| e.to_string())?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut cmd = Command::new(binary);
        cmd.env("VIGIL_ADDR", addr.to_string())
            .env("VIGIL_DB", dir.join("vigil.db"))
            .env("VIGIL_CONFIG", dir.join("vigil.toml"))
            .env("RUST_LOG", "warn")
            .env_remove("REDIS_URL")
            .env_remove("REDIS_CLUSTER_URLS")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(url) = redis_url {
            cmd.env("REDIS_URL", url);
        }
        let child = cmd
            .spawn()
            .map_err(|e| format!("starting {}: {e}", binary.display()))?;
        let mut api = Self { addr, child, dir };
        let started = Instant::now();
        while std::net::TcpStream::connect(addr).is_err() {
            if let Ok(Some(status)) = api.child.try_wait() {
                return Err(format!("vigil-api exited: {status}"));
            }
            if started.elapsed() > Duration::from_secs(30) {
                return Err("vigil-api did not listen within 30 s".to_owned());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(api)
    }
}

impl Drop for VigilApi {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A backend on the bench's own redis-server at `url`, with a timeout no healthy local call
/// reaches (a timeout here would be a failed measurement, not a figure).
pub(crate) async fn bench_backend(url: &str) -> RedisBackend {
    RedisBackend::builder(url)
        .timeout(Duration::from_secs(5))
        .connect()
        .await
        .expect("redis backend")
}
