//! Configuration: the TOML file (`--config`, else `VIGIL_CONFIG`, default the demo
//! `vigil.toml` beside this crate) with the environment on top (`VIGIL_ADDR`, `VIGIL_DB`,
//! `REDIS_URL`, `REDIS_CLUSTER_URLS`, `REDIS_SENTINEL_URLS` + `REDIS_SENTINEL_MASTER`,
//! `NATS_URL`, `VIGIL_TRUSTED_PROXIES`) and the command line's flags ([`Overrides`]) over
//! both. Every value is checked when it is loaded: a bad one stops the server at startup,
//! naming the setting.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use tower_vigil_core::FailurePolicy;

use crate::client_ip::ForwardedHeaderChoice;
use crate::limits::Limits;

mod backend;

pub use self::backend::{BackendChoice, BackendConfig, BackendTarget};

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
    #[serde(default)]
    pub nats: NatsConfig,
    pub api_keys: Vec<ApiKeyConfig>,
    pub users: Vec<UserConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// `Secure` on the session cookie; false only for local plain http.
    pub secure_cookies: bool,
    /// The proxies (CIDRs or addresses) whose forwarding header names the client for every
    /// per-IP limit. Empty (the default): the peer address is the client and forwarding
    /// headers are ignored, since a client could write anything there.
    pub trusted_proxies: Vec<String>,
    /// Which header those proxies write.
    pub forwarded_header: ForwardedHeaderChoice,
    /// The console's origins (`https://console.example.com`), trusted when a browser sends an
    /// `Origin` but no `Sec-Fetch-Site` (older browsers). Empty (the default): such a request
    /// needs the form's token alone, which every console form carries anyway. Checked at
    /// startup.
    pub console_origins: Vec<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            secure_cookies: true,
            trusted_proxies: Vec::new(),
            forwarded_header: ForwardedHeaderChoice::default(),
            console_origins: Vec::new(),
        }
    }
}

/// The NATS server the analysis jobs go through (`POST /v1/analyze/jobs`). Optional: without
/// one the server runs as before and the job routes answer 503.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NatsConfig {
    /// `nats://host:port`, used when `NATS_URL` is not set.
    pub url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    pub algorithm: String,
    pub window_seconds: u64,
    pub login_per_window: u64,
    /// Failed API-key authentications (401) per client IP per window, checked before the key
    /// caches and the database are asked.
    pub auth_failures_per_window: u64,
    pub on_backend_error: String,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            algorithm: "gcra".into(),
            window_seconds: 60,
            login_per_window: 10,
            auth_failures_per_window: 30,
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

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    pub addr: SocketAddr,
    pub db_path: PathBuf,
    pub backend: BackendTarget,
    /// The ACL user (if any) and password of the master a Sentinel backend connects to
    /// (`REDIS_SENTINEL_MASTER_USERNAME`, `REDIS_SENTINEL_MASTER_PASSWORD`); the sentinels'
    /// own go in their URLs.
    pub sentinel_master_auth: Option<(Option<String>, String)>,
    pub backend_timeout: Duration,
    /// The NATS server of the analysis jobs: `NATS_URL`, else `[nats] url`; `None` runs
    /// without jobs.
    pub nats_url: Option<String>,
    pub failure_policy: FailurePolicy,
    /// The rate limits, checked.
    pub limits: Limits,
    pub config: Config,
}

/// What the command line sets; each one wins over its environment variable (`--config` over
/// `VIGIL_CONFIG`, `--addr` over `VIGIL_ADDR`, `--db` over `VIGIL_DB`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// The configuration file.
    pub config: Option<PathBuf>,
    /// The address to listen on.
    pub addr: Option<SocketAddr>,
    /// The SQLite database file.
    pub db: Option<PathBuf>,
}

/// The longest `backend.timeout_ms`: a backend call allowed to take longer than this is no
/// longer a timeout that protects anyone.
const MAX_BACKEND_TIMEOUT_MS: u64 = 60_000;

impl Settings {
    /// Reads the configuration file and the environment, with `overrides` (the command
    /// line's flags) over them.
    pub fn load(overrides: &Overrides) -> Result<Self, String> {
        Self::from_sources(overrides, |name| std::env::var(name).ok())
    }

    /// As [`load`](Self::load) without flags, with the environment given as a lookup (for
    /// tests).
    pub fn from_lookup(env: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        Self::from_sources(&Overrides::default(), env)
    }

    /// As [`load`](Self::load), with the environment given as a lookup (for tests).
    pub fn from_sources(
        overrides: &Overrides,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let text = match (&overrides.config, env("VIGIL_CONFIG")) {
            (Some(path), _) => std::fs::read_to_string(path)
                .map_err(|e| format!("reading --config {}: {e}", path.display()))?,
            (None, Some(path)) => std::fs::read_to_string(&path)
                .map_err(|e| format!("reading VIGIL_CONFIG={path}: {e}"))?,
            (None, None) => DEMO_CONFIG.to_owned(),
        };
        // A flag hides its variable entirely: a stale, unparseable `VIGIL_ADDR` is no error
        // when `--addr` says where to listen.
        let env = |name: &str| match name {
            "VIGIL_ADDR" if overrides.addr.is_some() => None,
            "VIGIL_DB" if overrides.db.is_some() => None,
            _ => env(name),
        };
        let mut settings = Self::from_toml(&text, env)?;
        if let Some(addr) = overrides.addr {
            settings.addr = addr;
        }
        if let Some(db) = &overrides.db {
            settings.db_path.clone_from(db);
        }
        Ok(settings)
    }

    /// As [`from_lookup`](Self::from_lookup), with the file's text given.
    pub fn from_toml(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let config: Config = toml::from_str(text).map_err(|e| format!("config: {e}"))?;
        let addr = env("VIGIL_ADDR")
            .unwrap_or_else(|| "127.0.0.1:8080".into())
            .parse()
            .map_err(|e| format!("VIGIL_ADDR: {e}"))?;
        let db_path = env("VIGIL_DB").map_or_else(|| PathBuf::from("vigil-api.db"), PathBuf::from);
        let backend = backend::target(&config.backend, &env)?;
        let sentinel_master_auth = backend::sentinel_master_auth(&backend, &env)?;
        // Like REDIS_URL: set but blank counts as unset, so an emptied variable in a deployment
        // manifest falls back to the file rather than to an unparseable URL.
        let nats_url = env("NATS_URL")
            .filter(|u| !u.trim().is_empty())
            .or_else(|| config.nats.url.clone())
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty());
        let failure_policy = config
            .ratelimit
            .on_backend_error
            .parse()
            .map_err(|e| format!("ratelimit.on_backend_error: {e}"))?;
        let timeout_ms = config.backend.timeout_ms;
        if !(1..=MAX_BACKEND_TIMEOUT_MS).contains(&timeout_ms) {
            return Err(format!(
                "backend.timeout_ms: must be 1 to {MAX_BACKEND_TIMEOUT_MS}, found {timeout_ms}"
            ));
        }
        let trusted_proxies = match env("VIGIL_TRUSTED_PROXIES") {
            Some(list) => split_list(&list),
            None => config.server.trusted_proxies.clone(),
        };
        let limits = Limits::from_config(&config, &trusted_proxies)?;
        // Checked by the layer's own builder, so the server never starts with an origin the
        // console would then fail to build with.
        tower_vigil_session::CrossSiteLayer::builder()
            .trusted_origins(config.server.console_origins.iter().cloned())
            .build()
            .map(drop)
            .map_err(|e| format!("server.console_origins: {e}"))?;
        Ok(Self {
            addr,
            db_path,
            backend,
            sentinel_master_auth,
            backend_timeout: Duration::from_millis(timeout_ms),
            nats_url,
            failure_policy,
            limits,
            config,
        })
    }
}

/// A comma-separated list, trimmed, without empty items.
pub(crate) fn split_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests;
