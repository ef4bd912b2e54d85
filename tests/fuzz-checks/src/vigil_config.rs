//! vigil-api's configuration (`examples/vigil-api/src/config.rs`, `limits.rs`): any file is
//! refused with a message or loaded into settings that are exactly what it says, within the
//! documented bounds (a backend timeout of 1 ms to 60 s, a window a backend can hold, quotas
//! of 1 to `u32::MAX`), and every key's `valid_until` reads as tower-vigil-apikey reads it.

use std::time::Duration;

use tower_vigil_apikey::ValidUntil;
use tower_vigil_core::backend::MAX_TTL;
use vigil_api::config::{BackendChoice, BackendTarget, Settings};
use vigil_api::limits::parse_algorithm;

/// Loads `data` as the configuration file, without environment overrides.
pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let settings = match Settings::from_toml(&text, |_| None) {
        Ok(s) => s,
        Err(message) => {
            assert!(!message.is_empty());
            return;
        }
    };
    let c = &settings.config;
    let timeout = settings.backend_timeout;
    assert!(timeout >= Duration::from_millis(1) && timeout <= Duration::from_secs(60));
    assert_eq!(timeout, Duration::from_millis(c.backend.timeout_ms));
    let target_kind = match &settings.backend {
        BackendTarget::Memory => BackendChoice::Memory,
        BackendTarget::Redis(url) => {
            assert_eq!(Some(url), c.backend.url.as_ref());
            BackendChoice::Redis
        }
        BackendTarget::Cluster(urls) => {
            assert!(!urls.is_empty());
            assert_eq!(urls, &c.backend.cluster_urls);
            BackendChoice::RedisCluster
        }
        BackendTarget::Sentinel { urls, master } => {
            assert!(!urls.is_empty());
            assert_eq!(urls, &c.backend.sentinel_urls);
            assert_eq!(Some(master), c.backend.sentinel_master.as_ref());
            BackendChoice::RedisSentinel
        }
    };
    assert_eq!(target_kind, c.backend.kind);

    let l = &settings.limits;
    let rl = &c.ratelimit;
    assert_eq!(l.window, Duration::from_secs(rl.window_seconds));
    assert!(!l.window.is_zero() && l.window <= MAX_TTL, "{:?}", l.window);
    assert_eq!(
        Ok(l.algorithm),
        parse_algorithm(&rl.algorithm).map_err(|_| ())
    );
    for (policy, count) in [
        (&l.login, rl.login_per_window),
        (&l.auth_failures, rl.auth_failures_per_window),
    ] {
        assert_eq!(u64::from(policy.quota().limit()), count);
        assert!(count >= 1);
        assert_eq!(policy.quota().period(), l.window);
        assert_eq!(policy.algorithm(), l.algorithm);
    }
    let largest = c.api_keys.iter().map(|k| k.rate_limit).max().unwrap_or(100);
    assert_eq!(u64::from(l.per_key_default.limit()), largest);
    for k in &c.api_keys {
        assert!((1..=u64::from(u32::MAX)).contains(&k.rate_limit));
        if let Some(v) = &k.valid_until {
            let flagship = vigil_api::time::parse_rfc3339(v).ok();
            let apikey = ValidUntil::parse_rfc3339(v).map(ValidUntil::unix_seconds);
            assert_eq!(flagship, apikey, "valid_until {v:?}");
        }
    }
}
