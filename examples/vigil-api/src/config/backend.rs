//! Where the backend lives: the file's `[backend]` section, overridden by the environment
//! (`REDIS_URL`, `REDIS_CLUSTER_URLS`, or `REDIS_SENTINEL_URLS` with `REDIS_SENTINEL_MASTER`).
//! Setting more than one of them is a startup error rather than a silent choice: a
//! deployment that names two Redis setups has a mistake in it.

use serde::Deserialize;

use super::split_list;

/// The kind of backend the file asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackendChoice {
    Memory,
    Redis,
    RedisCluster,
    RedisSentinel,
}

/// The `[backend]` section.
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
    /// For `kind = "redis-sentinel"` when `REDIS_SENTINEL_URLS` is not set.
    pub sentinel_urls: Vec<String>,
    /// For `kind = "redis-sentinel"` when `REDIS_SENTINEL_MASTER` is not set.
    pub sentinel_master: Option<String>,
}

impl Default for BackendConfig {
    fn default() -> Self {
        Self {
            kind: BackendChoice::Memory,
            prefix: "vigil".into(),
            timeout_ms: 250,
            url: None,
            cluster_urls: Vec::new(),
            sentinel_urls: Vec::new(),
            sentinel_master: None,
        }
    }
}

/// Where the backend lives, after the environment had its say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendTarget {
    Memory,
    Redis(String),
    Cluster(Vec<String>),
    /// A master found (and followed across failovers) through these sentinels.
    Sentinel {
        urls: Vec<String>,
        master: String,
    },
}

/// The backend from the environment if it names one, else from the file.
pub(super) fn target(
    file: &BackendConfig,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<BackendTarget, String> {
    // Set but blank counts as unset, so an emptied variable in a deployment manifest falls
    // back to the file rather than to an unparseable URL.
    let var = |name: &str| {
        env(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let redis = var("REDIS_URL");
    let cluster = var("REDIS_CLUSTER_URLS").map(|v| split_list(&v));
    let sentinels = var("REDIS_SENTINEL_URLS").map(|v| split_list(&v));
    let master = var("REDIS_SENTINEL_MASTER");
    let named: Vec<&str> = [
        ("REDIS_URL", redis.is_some()),
        ("REDIS_CLUSTER_URLS", cluster.is_some()),
        ("REDIS_SENTINEL_URLS", sentinels.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect();
    if named.len() > 1 {
        return Err(format!(
            "{} are all set: set one of REDIS_URL, REDIS_CLUSTER_URLS and REDIS_SENTINEL_URLS",
            named.join(" and ")
        ));
    }
    if master.is_some() && sentinels.is_none() && file.kind != BackendChoice::RedisSentinel {
        return Err("REDIS_SENTINEL_MASTER is set without REDIS_SENTINEL_URLS".into());
    }
    if let Some(url) = redis {
        return Ok(BackendTarget::Redis(url));
    }
    if let Some(urls) = cluster {
        return non_empty(urls, "REDIS_CLUSTER_URLS").map(BackendTarget::Cluster);
    }
    if let Some(urls) = sentinels {
        return sentinel(
            urls,
            master.or_else(|| file.sentinel_master.clone()),
            "REDIS_SENTINEL_URLS",
        );
    }
    match file.kind {
        BackendChoice::Memory => Ok(BackendTarget::Memory),
        BackendChoice::Redis => file
            .url
            .clone()
            .map(BackendTarget::Redis)
            .ok_or_else(|| "backend.kind = \"redis\" needs backend.url or REDIS_URL".into()),
        BackendChoice::RedisCluster => non_empty(
            file.cluster_urls.clone(),
            "backend.kind = \"redis-cluster\" needs backend.cluster_urls or REDIS_CLUSTER_URLS;",
        )
        .map(BackendTarget::Cluster),
        BackendChoice::RedisSentinel => sentinel(
            file.sentinel_urls.clone(),
            master.or_else(|| file.sentinel_master.clone()),
            "backend.kind = \"redis-sentinel\" needs backend.sentinel_urls or REDIS_SENTINEL_URLS;",
        ),
    }
}

fn non_empty(urls: Vec<String>, what: &str) -> Result<Vec<String>, String> {
    if urls.is_empty() {
        Err(format!("{what} at least one URL is needed"))
    } else {
        Ok(urls)
    }
}

fn sentinel(
    urls: Vec<String>,
    master: Option<String>,
    what: &str,
) -> Result<BackendTarget, String> {
    let urls = non_empty(urls, what)?;
    let master = master.ok_or(
        "a Sentinel backend needs the master's name: REDIS_SENTINEL_MASTER (or backend.sentinel_master)",
    )?;
    Ok(BackendTarget::Sentinel { urls, master })
}

/// The master's credentials for a Sentinel backend, from the environment only (a password
/// has no place in a config file checked into a repository). A username without a password,
/// or credentials without a Sentinel backend, is a startup error.
pub(super) fn sentinel_master_auth(
    target: &BackendTarget,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Option<(Option<String>, String)>, String> {
    let var = |name: &str| env(name).filter(|v| !v.is_empty());
    let user = var("REDIS_SENTINEL_MASTER_USERNAME");
    let password = var("REDIS_SENTINEL_MASTER_PASSWORD");
    let sentinel = matches!(target, BackendTarget::Sentinel { .. });
    match (user, password) {
        (None, None) => Ok(None),
        _ if !sentinel => Err(
            "REDIS_SENTINEL_MASTER_USERNAME/PASSWORD are for a Sentinel backend (REDIS_SENTINEL_URLS)"
                .into(),
        ),
        (Some(_), None) => {
            Err("REDIS_SENTINEL_MASTER_USERNAME needs REDIS_SENTINEL_MASTER_PASSWORD".into())
        }
        (user, Some(password)) => Ok(Some((user, password))),
    }
}
