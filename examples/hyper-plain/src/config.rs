//! [`Config`]: address, quota and backend from the environment.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `VIGIL_HTTP_ADDR` | listen address | `127.0.0.1:3000` |
//! | `VIGIL_RATE_LIMIT` | requests per minute per client IP | `60` |
//! | `REDIS_URL` | keep quotas and idempotency records in Redis | in memory |
//!
//! ```
//! use hyper_plain::Config;
//!
//! let config = Config::from_lookup(|name| (name == "VIGIL_RATE_LIMIT").then(|| "5".into())).unwrap();
//! assert_eq!(config.per_minute, 5);
//! assert_eq!(config.addr.port(), 3000);
//! ```

use std::net::SocketAddr;

use tower_vigil_core::ConfigError;

/// The server's configuration.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Where to listen.
    pub addr: SocketAddr,
    /// Requests per minute per client IP.
    pub per_minute: u32,
    /// Redis to keep the state in, if any.
    pub redis_url: Option<String>,
}

impl Default for Config {
    /// `127.0.0.1:3000`, 60 requests per minute, in memory.
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            per_minute: 60,
            redis_url: None,
        }
    }
}

impl Config {
    /// The defaults with `per_minute` requests per minute per client IP.
    pub fn with_limit(per_minute: u32) -> Self {
        Self {
            per_minute,
            ..Self::default()
        }
    }

    /// Reads the process environment (see the module docs).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables through `env` (a closure in tests, the environment in `main`).
    pub fn from_lookup(env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut config = Self::default();
        if let Some(limit) = env("VIGIL_RATE_LIMIT") {
            config.per_minute = limit
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| ConfigError::new("VIGIL_RATE_LIMIT", "a positive integer"))?;
        }
        if let Some(addr) = env("VIGIL_HTTP_ADDR") {
            config.addr = addr
                .trim()
                .parse()
                .map_err(|_| ConfigError::new("VIGIL_HTTP_ADDR", "an address like 0.0.0.0:3000"))?;
        }
        config.redis_url = env("REDIS_URL").filter(|url| !url.trim().is_empty());
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_values_name_the_variable() {
        for (name, value) in [
            ("VIGIL_RATE_LIMIT", "0"),
            ("VIGIL_RATE_LIMIT", "-3"),
            ("VIGIL_HTTP_ADDR", "localhost"),
        ] {
            let err = Config::from_lookup(|n| (n == name).then(|| value.to_owned())).unwrap_err();
            assert_eq!(err.field(), name);
        }
    }

    #[test]
    fn redis_url_is_read_and_blank_means_memory() {
        let url = |v: &'static str| move |n: &str| (n == "REDIS_URL").then(|| v.to_owned());
        let config = Config::from_lookup(url("redis://127.0.0.1:7000")).unwrap();
        assert_eq!(config.redis_url.as_deref(), Some("redis://127.0.0.1:7000"));
        assert!(Config::from_lookup(url(" ")).unwrap().redis_url.is_none());
    }
}
