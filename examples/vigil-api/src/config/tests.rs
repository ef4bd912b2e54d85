//! The configuration: the demo file, the environment on top, and every bad value a startup
//! error naming its setting.

use super::*;
use crate::client_ip::ClientIp;

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
fn sentinels_and_their_master_name_the_backend() {
    let s = Settings::from_lookup(env(&[
        ("REDIS_SENTINEL_URLS", "redis://s1:26379, redis://s2:26379"),
        ("REDIS_SENTINEL_MASTER", "mymaster"),
    ]))
    .unwrap();
    assert_eq!(
        s.backend,
        BackendTarget::Sentinel {
            urls: vec!["redis://s1:26379".into(), "redis://s2:26379".into()],
            master: "mymaster".into(),
        }
    );
    let err =
        Settings::from_lookup(env(&[("REDIS_SENTINEL_URLS", "redis://s1:26379")])).unwrap_err();
    assert!(err.contains("REDIS_SENTINEL_MASTER"), "{err}");
    let err = Settings::from_lookup(env(&[("REDIS_SENTINEL_MASTER", "mymaster")])).unwrap_err();
    assert!(err.contains("without REDIS_SENTINEL_URLS"), "{err}");
}

#[test]
fn the_sentinel_masters_credentials_come_from_the_environment() {
    let sentinel = [
        ("REDIS_SENTINEL_URLS", "redis://s1:26379"),
        ("REDIS_SENTINEL_MASTER", "mymaster"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut vars = sentinel.to_vec();
        vars.extend_from_slice(extra);
        Settings::from_lookup(env(&vars))
    };
    assert_eq!(with(&[]).unwrap().sentinel_master_auth, None);
    assert_eq!(
        with(&[
            ("REDIS_SENTINEL_MASTER_USERNAME", "app"),
            ("REDIS_SENTINEL_MASTER_PASSWORD", "secret"),
        ])
        .unwrap()
        .sentinel_master_auth,
        Some((Some("app".into()), "secret".into()))
    );
    let err = with(&[("REDIS_SENTINEL_MASTER_USERNAME", "app")]).unwrap_err();
    assert!(
        err.contains("needs REDIS_SENTINEL_MASTER_PASSWORD"),
        "{err}"
    );
    let err =
        Settings::from_lookup(env(&[("REDIS_SENTINEL_MASTER_PASSWORD", "secret")])).unwrap_err();
    assert!(err.contains("for a Sentinel backend"), "{err}");
}

#[test]
fn naming_two_redis_setups_is_a_startup_error() {
    for pair in [
        [
            ("REDIS_URL", "redis://a:1"),
            ("REDIS_CLUSTER_URLS", "redis://b:2"),
        ],
        [
            ("REDIS_URL", "redis://a:1"),
            ("REDIS_SENTINEL_URLS", "redis://s:3"),
        ],
        [
            ("REDIS_CLUSTER_URLS", "redis://b:2"),
            ("REDIS_SENTINEL_URLS", "redis://s:3"),
        ],
    ] {
        let mut vars = pair.to_vec();
        vars.push(("REDIS_SENTINEL_MASTER", "m"));
        let err = Settings::from_lookup(env(&vars)).unwrap_err();
        assert!(err.contains(pair[0].0) && err.contains(pair[1].0), "{err}");
    }
    // Blank counts as unset.
    let s = Settings::from_lookup(env(&[
        ("REDIS_URL", "redis://a:1"),
        ("REDIS_CLUSTER_URLS", " "),
    ]))
    .unwrap();
    assert_eq!(s.backend, BackendTarget::Redis("redis://a:1".into()));
}

/// Loads the demo config with `edit` applied to its text.
fn load_edited(
    edit: impl Fn(String) -> String,
    extra_env: &[(&str, &str)],
) -> Result<Settings, String> {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), edit(DEMO_CONFIG.to_owned())).unwrap();
    let path = file.path().to_str().unwrap().to_owned();
    let mut pairs = vec![("VIGIL_CONFIG", path.as_str())];
    pairs.extend_from_slice(extra_env);
    Settings::from_lookup(env(&pairs))
}

fn set(key: &'static str, value: &'static str) -> impl Fn(String) -> String {
    move |text: String| {
        text.lines()
            .map(|l| match l.split_once('=') {
                Some((k, _)) if k.trim() == key => format!("{key} = {value}"),
                _ => l.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[test]
fn trusted_proxies_come_from_the_file_or_the_environment() {
    let s = Settings::from_lookup(env(&[])).unwrap();
    assert!(matches!(s.limits.client_ip, ClientIp::Peer(_)), "{s:?}");

    let in_file = set("trusted_proxies", r#"["10.0.0.0/8", "::1"]"#);
    let s = load_edited(&in_file, &[]).unwrap();
    assert_eq!(s.config.server.trusted_proxies, ["10.0.0.0/8", "::1"]);
    assert!(matches!(s.limits.client_ip, ClientIp::BehindProxies(_)));

    let s = load_edited(
        |t| t,
        &[("VIGIL_TRUSTED_PROXIES", "127.0.0.1/32, 10.0.0.0/8")],
    )
    .unwrap();
    assert!(matches!(s.limits.client_ip, ClientIp::BehindProxies(_)));
    // Set but empty: the file's proxies are no longer trusted.
    let s = load_edited(&in_file, &[("VIGIL_TRUSTED_PROXIES", "")]).unwrap();
    assert!(matches!(s.limits.client_ip, ClientIp::Peer(_)));
}

#[test]
fn an_invalid_trusted_proxy_stops_the_server() {
    let err = load_edited(set("trusted_proxies", r#"["10.0.0.0/33"]"#), &[]).unwrap_err();
    assert!(
        err.contains("server.trusted_proxies") && err.contains("10.0.0.0/33"),
        "{err}"
    );
    let err = load_edited(
        |t| t,
        &[("VIGIL_TRUSTED_PROXIES", "10.0.0.1,proxy.internal")],
    )
    .unwrap_err();
    assert!(
        err.contains("server.trusted_proxies") && err.contains("proxy.internal"),
        "{err}"
    );
}

/// Issue 12, item 17: absurd windows, timeouts and quotas are startup errors naming the
/// setting, never a panic and never a silently different limit.
#[test]
fn console_origins_are_checked_at_startup() {
    let s = load_edited(
        set("console_origins", r#"["https://console.example.com"]"#),
        &[],
    )
    .unwrap();
    assert_eq!(
        s.config.server.console_origins,
        ["https://console.example.com"]
    );
    for bad in [
        r#"["null"]"#,
        r#"["https://console.example.com/app"]"#,
        r#"["console.example.com"]"#,
    ] {
        let err = load_edited(set("console_origins", bad), &[]).unwrap_err();
        assert!(err.contains("server.console_origins"), "{bad}: {err}");
    }
}

#[test]
fn absurd_windows_timeouts_and_quotas_are_startup_errors() {
    let i64_max = "9223372036854775807";
    for (key, value, named) in [
        ("window_seconds", i64_max, "ratelimit.window_seconds"),
        ("window_seconds", "0", "ratelimit.window_seconds"),
        // Two years: within the backends' longest TTL, beyond what the limiter can represent.
        ("window_seconds", "63072000", "window_seconds"),
        ("timeout_ms", i64_max, "backend.timeout_ms"),
        ("timeout_ms", "0", "backend.timeout_ms"),
        ("login_per_window", "0", "ratelimit.login_per_window"),
        ("login_per_window", i64_max, "ratelimit.login_per_window"),
        (
            "auth_failures_per_window",
            "0",
            "ratelimit.auth_failures_per_window",
        ),
        ("rate_limit", i64_max, "rate_limit"),
        ("rate_limit", "0", "rate_limit"),
    ] {
        let err =
            load_edited(set(key, value), &[]).expect_err(&format!("{key} = {value} was accepted"));
        assert!(err.contains(named), "{key} = {value}: {err}");
    }
    // A long window the limiter can represent is fine.
    let edit = |t: String| set("login_per_window", "5")(set("window_seconds", "86400")(t));
    let s = load_edited(edit, &[]).unwrap();
    assert_eq!(s.limits.window, Duration::from_secs(86_400));
}

#[test]
fn typos_in_the_file_are_errors() {
    let dir = std::env::temp_dir().join(format!("vigil-cfg-{}", std::process::id()));
    std::fs::write(
        &dir,
        "[server]\nsecure_cookie = false\napi_keys = []\nusers = []\n",
    )
    .unwrap();
    let err = Settings::from_lookup(env(&[("VIGIL_CONFIG", dir.to_str().unwrap())])).unwrap_err();
    std::fs::remove_file(&dir).unwrap();
    assert!(err.contains("secure_cookie"), "{err}");
}

#[test]
fn nats_comes_from_the_environment_or_the_file() {
    let s = Settings::from_lookup(env(&[])).unwrap();
    assert_eq!(s.nats_url, None, "the demo runs without NATS");
    let s = Settings::from_lookup(env(&[("NATS_URL", " nats://127.0.0.1:4333 ")])).unwrap();
    assert_eq!(s.nats_url.as_deref(), Some("nats://127.0.0.1:4333"));

    let file = "api_keys = []\nusers = []\n[nats]\nurl = \"nats://file:4222\"\n";
    let s = Settings::from_toml(file, env(&[])).unwrap();
    assert_eq!(s.nats_url.as_deref(), Some("nats://file:4222"));
    let s = Settings::from_toml(file, env(&[("NATS_URL", "nats://env:4222")])).unwrap();
    assert_eq!(s.nats_url.as_deref(), Some("nats://env:4222"));
    // Set but blank is unset, as for REDIS_URL: the file's URL still counts.
    let s = Settings::from_toml(file, env(&[("NATS_URL", "  ")])).unwrap();
    assert_eq!(s.nats_url.as_deref(), Some("nats://file:4222"));
}

#[test]
fn flags_win_over_the_environment() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let path = dir.join("custom.toml");
    let custom = DEMO_CONFIG.replace("prefix = \"vigil\"", "prefix = \"from-flag\"");
    std::fs::write(&path, custom).unwrap();
    let overrides = Overrides {
        config: Some(path),
        addr: Some("127.0.0.1:7777".parse().unwrap()),
        db: Some(dir.join("flag.db")),
    };
    // Variables the flags replace are not even read: a bad VIGIL_ADDR is no error.
    let s = Settings::from_sources(
        &overrides,
        env(&[
            ("VIGIL_CONFIG", "/nonexistent/vigil.toml"),
            ("VIGIL_ADDR", "not an address"),
            ("VIGIL_DB", "/nonexistent/env.db"),
        ]),
    )
    .unwrap();
    assert_eq!(s.config.backend.prefix, "from-flag");
    assert_eq!(s.addr.port(), 7777);
    assert_eq!(s.db_path, dir.join("flag.db"));
}

#[test]
fn a_missing_config_file_is_an_error_naming_it() {
    let overrides = Overrides {
        config: Some("/nonexistent/custom.toml".into()),
        ..Overrides::default()
    };
    let err = Settings::from_sources(&overrides, env(&[])).unwrap_err();
    assert!(err.contains("--config /nonexistent/custom.toml"), "{err}");
    let err = Settings::from_lookup(env(&[("VIGIL_CONFIG", "/nonexistent/env.toml")])).unwrap_err();
    assert!(err.contains("VIGIL_CONFIG=/nonexistent/env.toml"), "{err}");
}

#[test]
fn a_key_quota_set_at_runtime_is_checked_like_the_files() {
    let s = Settings::from_lookup(env(&[])).unwrap();
    assert!(s.limits.check_key_rate_limit(1).is_ok());
    // limit × window in µs stays below 2^52: about 75 million per 60 s.
    assert!(s.limits.check_key_rate_limit(75_000_000).is_ok());
    assert!(s.limits.check_key_rate_limit(u64::from(u32::MAX)).is_err());
    assert!(s.limits.check_key_rate_limit(0).is_err());
    assert!(
        s.limits
            .check_key_rate_limit(u64::from(u32::MAX) + 1)
            .is_err()
    );
    // A sliding-window log keeps one entry per request: it represents less.
    let s = load_edited(set("algorithm", r#""sliding-window""#), &[]).unwrap();
    assert!(s.limits.check_key_rate_limit(10_000).is_ok());
    assert!(s.limits.check_key_rate_limit(10_001).is_err());
}
