//! The configuration file each test writes: the demo's keys and users (plus a key with a
//! small quota), under a key prefix of its own, with the limits the test needs.

use tower_vigil_tests::fixtures::unique_prefix;

/// The demo config's keys and users (see `vigil.toml`).
pub const DEMO_KEY: &str = "vg_demo_8f3b2c1d9e7a4b6c5d0e1f2a3b4c5d6e";
pub const READONLY_KEY: &str = "vg_demo_readonly_0a1b2c3d4e5f60718293a4b5";
pub const EXPIRED_KEY: &str = "vg_demo_expired_9f8e7d6c5b4a39281706f5e4";
/// A key added by the tests: permission `analyze`, `rate_limit = 3`.
pub const SMALL_KEY: &str = "vg_test_small_quota_5e4d3c2b1a09f8e7d6c5";
pub const SMALL_KEY_LIMIT: u64 = 3;
pub const ALICE: (&str, &str) = ("alice", "correct-horse-battery-staple");
pub const BOB: (&str, &str) = ("bob", "hunter2-but-longer");

/// The parts of the config a test varies; the keys and users are the demo's plus `k-small`.
#[derive(Debug, Clone)]
pub struct Config {
    pub prefix: String,
    pub algorithm: &'static str,
    pub window_seconds: u64,
    pub login_per_window: u64,
    pub auth_failures_per_window: u64,
    pub timeout_ms: u64,
    /// `[server] trusted_proxies`.
    pub trusted_proxies: Vec<&'static str>,
    /// `[server] secure_cookies` (off: the suite speaks plain http to 127.0.0.1; the browser
    /// suite turns it on, as browsers keep `Secure` cookies for `http://localhost`).
    pub secure_cookies: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            prefix: unique_prefix(),
            algorithm: "gcra",
            window_seconds: 60,
            login_per_window: 10,
            auth_failures_per_window: 30,
            timeout_ms: 250,
            trusted_proxies: Vec::new(),
            secure_cookies: false,
        }
    }
}

impl Config {
    /// The file's text.
    pub fn toml(&self) -> String {
        let Self {
            prefix,
            algorithm,
            window_seconds,
            login_per_window,
            auth_failures_per_window,
            timeout_ms,
            trusted_proxies,
            secure_cookies,
        } = self;
        let trusted_proxies = trusted_proxies
            .iter()
            .map(|p| format!("{p:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            r#"
[server]
secure_cookies = {secure_cookies}
trusted_proxies = [{trusted_proxies}]

[backend]
prefix = "{prefix}"
timeout_ms = {timeout_ms}

[ratelimit]
algorithm = "{algorithm}"
window_seconds = {window_seconds}
login_per_window = {login_per_window}
auth_failures_per_window = {auth_failures_per_window}
on_backend_error = "open"

[[api_keys]]
id = "k-demo"
key = "{DEMO_KEY}"
user_id = "u-alice"
organization_id = "org-acme"
permissions = ["analyze"]
rate_limit = 100
valid_until = "2030-01-01T00:00:00Z"

[[api_keys]]
id = "k-readonly"
key = "{READONLY_KEY}"
user_id = "u-bob"
organization_id = "org-acme"
permissions = []
rate_limit = 100
valid_until = "2030-01-01T00:00:00Z"

[[api_keys]]
id = "k-expired"
key = "{EXPIRED_KEY}"
user_id = "u-bob"
organization_id = "org-acme"
permissions = ["analyze"]
rate_limit = 100
valid_until = "2020-01-01T00:00:00Z"

[[api_keys]]
id = "k-small"
key = "{SMALL_KEY}"
user_id = "u-bob"
organization_id = "org-acme"
permissions = ["analyze"]
rate_limit = {SMALL_KEY_LIMIT}
valid_until = "2030-01-01T00:00:00Z"

[[users]]
username = "{alice}"
password = "{alice_pw}"
user_id = "u-alice"
permissions = ["admin"]

[[users]]
username = "{bob}"
password = "{bob_pw}"
user_id = "u-bob"
permissions = []
"#,
            alice = ALICE.0,
            alice_pw = ALICE.1,
            bob = BOB.0,
            bob_pw = BOB.1,
        )
    }
}

/// The suite speaks for the demo a new user runs: its keys and passwords are the demo's.
#[test]
fn the_test_keys_and_users_are_the_demo_configs() {
    let demo = include_str!("../../vigil.toml");
    for secret in [DEMO_KEY, READONLY_KEY, EXPIRED_KEY, ALICE.1, BOB.1] {
        assert!(
            demo.contains(&format!("\"{secret}\"")),
            "{secret} is not in vigil.toml"
        );
    }
}
