//! The rate limits the server applies, built from the configuration when it is loaded: every
//! number is checked there, so a bad one (zero, an absurd window, a quota the limiter cannot
//! represent) stops the server at startup with the setting's name, never a panic and never a
//! limit silently different from the one configured.

use std::time::Duration;

use tower_vigil_core::ConfigError;
use tower_vigil_core::backend::check_ttl;
use tower_vigil_ratelimit::{Algorithm, Policy, Quota};

use crate::client_ip::ClientIp;
use crate::config::Config;

/// The policy name of failed logins per client IP (part of its backend key and headers).
pub const LOGIN_POLICY: &str = "login";
/// The policy name of failed API-key authentications per client IP.
pub const AUTH_FAILURES_POLICY: &str = "apikey-failures";

/// The validated limits.
#[derive(Debug, Clone)]
pub struct Limits {
    pub algorithm: Algorithm,
    pub window: Duration,
    /// Whose bucket a per-IP limit charges.
    pub client_ip: ClientIp,
    /// Failed logins per client IP.
    pub login: Policy,
    /// Failed API-key authentications per client IP, in front of the key store.
    pub auth_failures: Policy,
    /// The per-key quota of keys without a `rate_limit` of their own: the largest configured.
    pub per_key_default: Quota,
}

impl Limits {
    /// Checks `config`'s limits; `trusted_proxies` is the file's list or its override.
    pub fn from_config(config: &Config, trusted_proxies: &[String]) -> Result<Self, String> {
        let rl = &config.ratelimit;
        let algorithm = parse_algorithm(&rl.algorithm).map_err(setting("ratelimit.algorithm"))?;
        let window = check_ttl(
            "ratelimit.window_seconds",
            Duration::from_secs(rl.window_seconds),
        )
        .map_err(|e| e.to_string())?;
        let client_ip = ClientIp::new(trusted_proxies, config.server.forwarded_header)
            .map_err(setting("server.trusted_proxies"))?;
        let login = per_window(LOGIN_POLICY, rl.login_per_window, window, algorithm)
            .map_err(setting("ratelimit.login_per_window / window_seconds"))?;
        let auth_failures = per_window(
            AUTH_FAILURES_POLICY,
            rl.auth_failures_per_window,
            window,
            algorithm,
        )
        .map_err(setting(
            "ratelimit.auth_failures_per_window / window_seconds",
        ))?;
        let mut per_key_default = Quota::new(100, window);
        for (i, key) in config.api_keys.iter().enumerate() {
            let quota = per_window("default", key.rate_limit, window, algorithm)
                .map_err(|e| format!("api_keys[{i}] ({}): rate_limit: {e}", key.id))?
                .quota();
            if i == 0 || quota.limit() > per_key_default.limit() {
                per_key_default = quota;
            }
        }
        Ok(Self {
            algorithm,
            window,
            client_ip,
            login,
            auth_failures,
            per_key_default,
        })
    }
}

impl Limits {
    /// Checks an API key's `rate_limit` (per window) by the limiter's own rules, as the
    /// configuration's keys are at startup: at least 1, at most what the configured algorithm
    /// represents with this window.
    pub fn check_key_rate_limit(&self, rate_limit: u64) -> Result<(), ConfigError> {
        self.key_policy(rate_limit).map(drop)
    }

    /// The policy the per-key limit applies to a key with quota `rate_limit` (the layer's one
    /// policy, so named `default`).
    pub fn key_policy(&self, rate_limit: u64) -> Result<Policy, ConfigError> {
        per_window(
            tower_vigil_ratelimit::DEFAULT_POLICY_NAME,
            rate_limit,
            self.window,
            self.algorithm,
        )
    }
}

/// Prefixes a configuration error with the setting it came from.
fn setting(name: &'static str) -> impl Fn(ConfigError) -> String {
    move |e| format!("{name}: {e}")
}

/// `count` per `window`, checked by the limiter's own rules (at least 1, a window it can
/// represent with this count).
fn per_window(
    name: &str,
    count: u64,
    window: Duration,
    algorithm: Algorithm,
) -> Result<Policy, ConfigError> {
    let limit = u32::try_from(count)
        .map_err(|_| ConfigError::new("quota.limit", format!("{count} is above {}", u32::MAX)))?;
    Policy::with_algorithm(name, Quota::new(limit, window), algorithm)
}

/// `gcra | token-bucket | sliding-window | sliding-window-counter | fixed-window`.
pub fn parse_algorithm(name: &str) -> Result<Algorithm, ConfigError> {
    Ok(match name {
        "gcra" => Algorithm::Gcra,
        "token-bucket" => Algorithm::TokenBucket,
        "sliding-window" => Algorithm::SlidingWindowLog,
        "sliding-window-counter" => Algorithm::SlidingWindowCounter,
        "fixed-window" => Algorithm::FixedWindow,
        other => {
            return Err(ConfigError::new(
                "algorithm",
                format!("unknown algorithm {other:?}"),
            ));
        }
    })
}
