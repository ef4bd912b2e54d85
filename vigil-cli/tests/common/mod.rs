//! Runs the real `vigil` binary against the harness's Redis, Cluster and Sentinel, each test
//! under a prefix of its own.
#![allow(dead_code, unreachable_pub)]

use std::process::Output;
use std::time::Duration;

use tower_vigil_core::RedisBackend;
use tower_vigil_tests::fixtures::{self, TEST_TIMEOUT};

/// A backend for the layers and the flags that point `vigil` at the same keys.
pub struct Deploy {
    pub backend: RedisBackend,
    pub prefix: String,
    pub flags: Vec<String>,
    pub kind: &'static str,
}

impl Deploy {
    pub async fn redis() -> Self {
        let url = fixtures::shared_server().url();
        Self::with(
            "redis",
            RedisBackend::builder(&url),
            vec!["--redis-url".into(), url],
        )
        .await
    }

    pub async fn cluster() -> Self {
        let urls = fixtures::shared_cluster().urls();
        let flags = vec!["--cluster-urls".into(), urls.join(",")];
        Self::with("cluster", RedisBackend::cluster_builder(&urls), flags).await
    }

    pub async fn sentinel() -> Self {
        let s = fixtures::shared_sentinel();
        let flags = vec![
            "--sentinel-urls".into(),
            s.sentinel_urls().join(","),
            "--sentinel-master".into(),
            s.master_name().into(),
        ];
        Self::with(
            "sentinel",
            RedisBackend::sentinel_builder(s.sentinel_urls(), s.master_name()),
            flags,
        )
        .await
    }

    async fn with(
        kind: &'static str,
        builder: tower_vigil_core::redis::RedisBackendBuilder,
        mut flags: Vec<String>,
    ) -> Self {
        let prefix = fixtures::unique_prefix();
        let backend = builder
            .prefix(&prefix)
            .timeout(TEST_TIMEOUT)
            .connect_timeout(TEST_TIMEOUT)
            .connect()
            .await
            .expect("connecting to the test redis");
        flags.extend(["--prefix".into(), prefix.clone()]);
        Self {
            backend,
            prefix,
            flags,
            kind,
        }
    }

    /// Runs `vigil <flags> <args>`.
    pub async fn vigil(&self, args: &[&str]) -> Run {
        let mut all: Vec<&str> = self.flags.iter().map(String::as_str).collect();
        all.extend_from_slice(args);
        vigil(&all, &[]).await
    }

    /// Runs `vigil <flags> <args> --json` and parses its output.
    pub async fn vigil_json(&self, args: &[&str]) -> (i32, serde_json::Value) {
        let mut all = args.to_vec();
        all.push("--json");
        let run = self.vigil(&all).await;
        let json =
            serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {run:?}"));
        (run.code, json)
    }
}

/// What a run printed and its exit status.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the binary with `args` and only the environment variables in `env` among those it
/// reads (the machine's own `REDIS_URL` and friends are removed).
pub async fn vigil(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_vigil"));
    cmd.args(args);
    for var in [
        "REDIS_URL",
        "REDIS_CLUSTER_URLS",
        "REDIS_SENTINEL_URLS",
        "REDIS_SENTINEL_MASTER",
        "VIGIL_PREFIX",
        "VIGIL_APIKEY_PEPPER",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out: Output = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("vigil finished within 60 s")
        .expect("vigil ran");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs each case on Redis, Redis Cluster and Redis Sentinel.
#[macro_export]
macro_rules! on_every_redis {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn redis() {
                super::$case($crate::common::Deploy::redis().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn cluster() {
                super::$case($crate::common::Deploy::cluster().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sentinel() {
                super::$case($crate::common::Deploy::sentinel().await).await;
            }
        }
    )*};
}
