//! [`Config`]: the address, the keys and their limit, and the backend, from the environment.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `VIGIL_GRPC_ADDR` | listen address | `127.0.0.1:50051` |
//! | `VIGIL_RATE_LIMIT` | calls per minute per key | `60` |
//! | `VIGIL_API_KEYS` | comma-separated extra keys granted `analyze` | none |
//! | `REDIS_URL` | keep quotas and the key cache in Redis | in memory |
//!
//! ```
//! use tonic_grpc::{Config, DEMO_KEY};
//!
//! let env = |name: &str| match name {
//!     "VIGIL_RATE_LIMIT" => Some("5".to_owned()),
//!     "VIGIL_API_KEYS" => Some("vg_mine_0123456789abcdef".to_owned()),
//!     _ => None,
//! };
//! let config = Config::from_lookup(env).unwrap();
//! assert_eq!(config.per_minute, 5);
//! assert_eq!(config.keys.len(), 3);
//! assert_eq!(config.keys[0].key, DEMO_KEY);
//! assert_eq!(config.keys[2].data.rate_limit, Some(5));
//! ```

use std::net::SocketAddr;

use tower_vigil_apikey::ApiKeyData;
use tower_vigil_core::ConfigError;

/// The demo key: permission `analyze`, the configured limit. Printed at start-up.
pub const DEMO_KEY: &str = "vg_demo_grpc_0123456789abcdef";

/// A key that is valid but lacks the `analyze` permission (`PERMISSION_DENIED`).
pub const READONLY_KEY: &str = "vg_demo_readonly_0123456789abcdef";

/// The permission `Analyze` requires.
pub(crate) const ANALYZE: &str = "analyze";

/// One API key the server accepts: the raw key (only its hash is stored) and its data.
#[derive(Debug, Clone)]
pub struct KeyEntry {
    /// The key clients send in `x-api-key`.
    pub key: String,
    /// Its id, owner, permissions and per-minute limit.
    pub data: ApiKeyData,
}

impl KeyEntry {
    /// A key granted `analyze` with `per_minute` calls per minute.
    pub fn analyzer(key: impl Into<String>, id: impl Into<String>, per_minute: u32) -> Self {
        Self {
            key: key.into(),
            data: ApiKeyData::new(id, "u-demo")
                .permission(ANALYZE)
                .rate_limit(u64::from(per_minute)),
        }
    }
}

/// The server's configuration.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Where to listen.
    pub addr: SocketAddr,
    /// Calls per minute for a key that has no limit of its own.
    pub per_minute: u32,
    /// The accepted keys.
    pub keys: Vec<KeyEntry>,
    /// Redis to keep the state in, if any.
    pub redis_url: Option<String>,
}

impl Config {
    /// `127.0.0.1:50051`, 60 calls per minute, [`DEMO_KEY`] and [`READONLY_KEY`], in memory.
    pub fn demo() -> Self {
        Self::with_limit(60)
    }

    /// [`Config::demo`] with `per_minute` calls per minute for the demo key.
    pub fn with_limit(per_minute: u32) -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 50051)),
            per_minute,
            keys: vec![
                KeyEntry::analyzer(DEMO_KEY, "k-demo", per_minute),
                KeyEntry {
                    key: READONLY_KEY.to_owned(),
                    data: ApiKeyData::new("k-readonly", "u-demo").permission("read"),
                },
            ],
            redis_url: None,
        }
    }

    /// Reads the process environment (see the module docs).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables through `env` (a map in tests, the environment in `main`).
    pub fn from_lookup(env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let per_minute = match env("VIGIL_RATE_LIMIT") {
            None => 60,
            Some(v) => v
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| ConfigError::new("VIGIL_RATE_LIMIT", "a positive integer"))?,
        };
        let mut config = Self::with_limit(per_minute);
        if let Some(addr) = env("VIGIL_GRPC_ADDR") {
            config.addr = addr.trim().parse().map_err(|_| {
                ConfigError::new("VIGIL_GRPC_ADDR", "an address like 0.0.0.0:50051")
            })?;
        }
        if let Some(keys) = env("VIGIL_API_KEYS") {
            let extra = keys.split(',').map(str::trim).filter(|k| !k.is_empty());
            for (n, key) in extra.enumerate() {
                let id = format!("k-env-{}", n + 1);
                config.keys.push(KeyEntry::analyzer(key, id, per_minute));
            }
        }
        config.redis_url = env("REDIS_URL").filter(|url| !url.trim().is_empty());
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_without_variables() {
        let config = Config::from_lookup(|_| None).unwrap();
        assert_eq!(config.addr.port(), 50051);
        assert_eq!(config.per_minute, 60);
        assert_eq!(config.keys.len(), 2);
        assert!(config.redis_url.is_none());
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (name, value) in [
            ("VIGIL_RATE_LIMIT", "0"),
            ("VIGIL_RATE_LIMIT", "many"),
            ("VIGIL_GRPC_ADDR", "localhost"),
        ] {
            let err = Config::from_lookup(|n| (n == name).then(|| value.to_owned())).unwrap_err();
            assert_eq!(err.field(), name);
        }
    }
}
