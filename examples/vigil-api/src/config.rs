//! Configuration: the TOML file (`VIGIL_CONFIG`, default the demo `vigil.toml` beside this
//! crate) with the environment on top (`VIGIL_ADDR`, `VIGIL_DB`, `REDIS_URL`,
//! `REDIS_CLUSTER_URLS`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use tower_vigil_core::FailurePolicy;

/// The demo configuration, compiled in so the binary runs from any directory.
const DEMO_CONFIG: &str = include_str!("../vigil.toml");

/// The whole file. Unknown keys are errors, so a typo does not silently fall back to a default.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub backend: BackendConfig,
    #[serde(default)]
    pub ratelimit: RateLimitConfig,
    pub api_keys: Vec<ApiKeyConfig>,
    pub users: Vec<UserConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// `Secure` on the session cookie; false only for local plain http.
    pub secure_cookies: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            secure_cookies: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackendChoice {
    Memory,
    Redis,
    RedisCluster,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackendConfig {
    pub kind: BackendChoice,
    pub prefix: String,
    pub timeout_ms: u64,
    /// For `kind = "redis"` when `REDIS_URL` is not set.
    pub url: Option<String>,
    /// For `kind = "redis-cluster"` when `REDIS_CLUSTER_URLS` is not set.
    pub cluster_urls: Vec<String>,
}

impl Default for BackendConfig {
    fn default() -> Self {
        Self {
            kind: BackendChoice::Memory,
            prefix: "vigil".into(),
            timeout_ms: 250,
            url: None,
            cluster_urls: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    pub algorithm: String,
    pub window_seconds: u64,
    pub login_per_window: u64,
    pub on_backend_error: String,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            algorithm: "gcra".into(),
            window_seconds: 60,
            login_per_window: 10,
            on_backend_error: "open".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyConfig {
    pub id: String,
    /// The raw key; only its hash reaches the database.
    pub key: String,
    pub user_id: String,
    pub organization_id: String,
    #[serde(default)]
    pub permissions: Vec<String>,
    pub rate_limit: u64,
    /// RFC 3339, e.g. `2030-01-01T00:00:00Z`.
    pub valid_until: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    pub username: String,
    /// Demo only: hashed with Argon2id before it is stored.
    pub password: String,
    pub user_id: String,
    #[serde(default)]
    pub permissions: Vec<String>,
}

/// Where the backend lives, after the environment had its say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendTarget {
    Memory,
    Redis(String),
    Cluster(Vec<String>),
}

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    pub addr: SocketAddr,
    pub db_path: PathBuf,
    pub backend: BackendTarget,
    pub backend_timeout: Duration,
    pub failure_policy: FailurePolicy,
    pub config: Config,
}

impl Settings {
    /// Reads the configuration file and the environment.
    pub fn load() -> Result<Self, String> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`load`](Self::load), with the environment given as a lookup (for tests).
    pub fn from_lookup(env: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let text = match env("VIGIL_CONFIG") {
            Some(path) => std::fs::read_to_string(&path)
                .map_err(|e| format!("reading VIGIL_CONFIG={path}: {e}"))?,
            None => DEMO_CONFIG.to_owned(),
        };
        let config: Config = toml::from_str(&text).map_err(|e| format!("config: {e}"))?;
        let addr = env("VIGIL_ADDR")
            .unwrap_or_else(|| "127.0.0.1:8080".into())
            .parse()
            .map_err(|e| format!("VIGIL_ADDR: {e}"))?;
        let db_path = env("VIGIL_DB").map_or_else(|| PathBuf::from("vigil-api.db"), PathBuf::from);
        let cluster_env = env("REDIS_CLUSTER_URLS").map(|v| split_urls(&v));
        let backend = if let Some(urls) = cluster_env.filter(|u| !u.is_empty()) {
            BackendTarget::Cluster(urls)
        } else if let Some(url) = env("REDIS_URL").filter(|u| !u.trim().is_empty()) {
            BackendTarget::Redis(url.trim().to_owned())
        } else {
            match config.backend.kind {
                BackendChoice::Memory => BackendTarget::Memory,
                BackendChoice::Redis => BackendTarget::Redis(
                    config
                        .backend
                        .url
                        .clone()
                        .ok_or("backend.kind = \"redis\" needs backend.url or REDIS_URL")?,
                ),
                BackendChoice::RedisCluster => {
                    if config.backend.cluster_urls.is_empty() {
                        return Err("backend.kind = \"redis-cluster\" needs backend.cluster_urls or REDIS_CLUSTER_URLS".into());
                    }
                    BackendTarget::Cluster(config.backend.cluster_urls.clone())
                }
            }
        };
        let failure_policy = config
            .ratelimit
            .on_backend_error
            .parse()
            .map_err(|e| format!("ratelimit.on_backend_error: {e}"))?;
        if config.ratelimit.window_seconds == 0 {
            return Err("ratelimit.window_seconds must be at least 1".into());
        }
        Ok(Self {
            addr,
            db_path,
            backend,
            backend_timeout: Duration::from_millis(config.backend.timeout_ms.max(1)),
            failure_policy,
            config,
        })
    }
}

fn split_urls(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn the_demo_config_runs_in_memory() {
        let s = Settings::from_lookup(env(&[])).unwrap();
        assert_eq!(s.backend, BackendTarget::Memory);
        assert_eq!(s.addr.to_string(), "127.0.0.1:8080");
        assert!(!s.config.api_keys.is_empty());
        assert!(!s.config.users.is_empty());
    }

    #[test]
    fn the_environment_overrides_the_file() {
        let s = Settings::from_lookup(env(&[("REDIS_URL", "redis://127.0.0.1:7000")])).unwrap();
        assert_eq!(
            s.backend,
            BackendTarget::Redis("redis://127.0.0.1:7000".into())
        );
        let s = Settings::from_lookup(env(&[
            ("REDIS_URL", "redis://127.0.0.1:7000"),
            ("REDIS_CLUSTER_URLS", "redis://a:1, redis://b:2"),
            ("VIGIL_ADDR", "127.0.0.1:9999"),
        ]))
        .unwrap();
        assert_eq!(
            s.backend,
            BackendTarget::Cluster(vec!["redis://a:1".into(), "redis://b:2".into()])
        );
        assert_eq!(s.addr.port(), 9999);
    }

    #[test]
    fn typos_in_the_file_are_errors() {
        let dir = std::env::temp_dir().join(format!("vigil-cfg-{}", std::process::id()));
        std::fs::write(
            &dir,
            "[server]\nsecure_cookie = false\napi_keys = []\nusers = []\n",
        )
        .unwrap();
        let err =
            Settings::from_lookup(env(&[("VIGIL_CONFIG", dir.to_str().unwrap())])).unwrap_err();
        std::fs::remove_file(&dir).unwrap();
        assert!(err.contains("secure_cookie"), "{err}");
    }
}
