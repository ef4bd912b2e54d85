//! Which Redis to talk to: the flagship's environment (`REDIS_URL`, `REDIS_CLUSTER_URLS`,
//! `REDIS_SENTINEL_URLS` + `REDIS_SENTINEL_MASTER`, `VIGIL_PREFIX`), with flags overriding it.

use std::time::Duration;

use clap::Args;
use tower_vigil_core::RedisBackend;

use crate::Failure;

/// The backend flags, global to every command.
#[derive(Debug, Args)]
pub(crate) struct BackendArgs {
    /// One Redis server [env: REDIS_URL].
    #[arg(long, global = true, value_name = "URL")]
    redis_url: Option<String>,
    /// Redis Cluster nodes, comma-separated [env: REDIS_CLUSTER_URLS].
    #[arg(long, global = true, value_name = "URLS")]
    cluster_urls: Option<String>,
    /// Redis Sentinels, comma-separated [env: REDIS_SENTINEL_URLS].
    #[arg(long, global = true, value_name = "URLS")]
    sentinel_urls: Option<String>,
    /// The master's name the sentinels know [env: REDIS_SENTINEL_MASTER].
    #[arg(long, global = true, value_name = "NAME")]
    sentinel_master: Option<String>,
    /// The key prefix of the deployment [env: VIGIL_PREFIX] [default: vigil].
    #[arg(long, global = true)]
    prefix: Option<String>,
    /// Per-call timeout in milliseconds.
    #[arg(long, global = true, default_value_t = 2000, value_name = "MS")]
    timeout_ms: u64,
}

/// Where the backend is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Topology {
    /// One server.
    Redis(String),
    /// A cluster, by some of its nodes.
    Cluster(Vec<String>),
    /// A Sentinel-managed master.
    Sentinel {
        /// The sentinels.
        urls: Vec<String>,
        /// The master's name.
        master: String,
    },
}

impl Topology {
    /// `redis`, `redis-cluster` or `redis-sentinel`, as the flagship's configuration names them.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::Redis(_) => "redis",
            Self::Cluster(_) => "redis-cluster",
            Self::Sentinel { .. } => "redis-sentinel",
        }
    }
}

/// A resolved backend choice.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) topology: Topology,
    pub(crate) prefix: String,
    pub(crate) timeout: Duration,
}

fn split_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Set but blank counts as unset, as in the flagship.
fn non_blank(v: Option<String>) -> Option<String> {
    v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

impl BackendArgs {
    /// The backend named by the flags, else by the environment (`env`): exactly one of the
    /// three kinds, or a usage error.
    pub(crate) fn resolve(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<Target, Failure> {
        let flags = [
            non_blank(self.redis_url.clone()),
            non_blank(self.cluster_urls.clone()),
            non_blank(self.sentinel_urls.clone()),
        ];
        // Any backend flag replaces the environment's backend as a whole.
        let [redis, cluster, sentinels] = if flags.iter().any(Option::is_some) {
            flags
        } else {
            [
                non_blank(env("REDIS_URL")),
                non_blank(env("REDIS_CLUSTER_URLS")),
                non_blank(env("REDIS_SENTINEL_URLS")),
            ]
        };
        let master = non_blank(self.sentinel_master.clone())
            .or_else(|| non_blank(env("REDIS_SENTINEL_MASTER")));
        let prefix = non_blank(self.prefix.clone())
            .or_else(|| non_blank(env("VIGIL_PREFIX")))
            .unwrap_or_else(|| "vigil".to_owned());
        let named: Vec<&str> = [
            ("REDIS_URL", redis.is_some()),
            ("REDIS_CLUSTER_URLS", cluster.is_some()),
            ("REDIS_SENTINEL_URLS", sentinels.is_some()),
        ]
        .into_iter()
        .filter_map(|(n, set)| set.then_some(n))
        .collect();
        let topology = match (redis, cluster, sentinels) {
            _ if named.len() > 1 => {
                return Err(Failure::Usage(format!(
                    "{} are all set: set exactly one of --redis-url/REDIS_URL, \
                     --cluster-urls/REDIS_CLUSTER_URLS and --sentinel-urls/REDIS_SENTINEL_URLS",
                    named.join(" and ")
                )));
            }
            (Some(url), None, None) => Topology::Redis(url),
            (None, Some(urls), None) => Topology::Cluster(at_least_one(&urls, "--cluster-urls")?),
            (None, None, Some(urls)) => Topology::Sentinel {
                urls: at_least_one(&urls, "--sentinel-urls")?,
                master: master.ok_or_else(|| {
                    Failure::Usage(
                        "a Sentinel backend needs the master's name: --sentinel-master or \
                         REDIS_SENTINEL_MASTER"
                            .into(),
                    )
                })?,
            },
            _ => {
                return Err(Failure::Usage(
                    "no backend: set one of --redis-url/REDIS_URL, --cluster-urls/REDIS_CLUSTER_URLS \
                     or --sentinel-urls/REDIS_SENTINEL_URLS (with --sentinel-master/\
                     REDIS_SENTINEL_MASTER); the in-memory backend has nothing to inspect from \
                     outside its process"
                        .into(),
                ));
            }
        };
        Ok(Target {
            topology,
            prefix,
            timeout: Duration::from_millis(self.timeout_ms.max(1)),
        })
    }
}

fn at_least_one(list: &str, what: &str) -> Result<Vec<String>, Failure> {
    let urls = split_list(list);
    if urls.is_empty() {
        Err(Failure::Usage(format!(
            "{what}: at least one URL is needed"
        )))
    } else {
        Ok(urls)
    }
}

impl Target {
    /// Connects the library's backend (same prefix, key names and scripts as the services).
    pub(crate) async fn connect(&self) -> Result<RedisBackend, Failure> {
        let builder = match &self.topology {
            Topology::Redis(url) => RedisBackend::builder(url),
            Topology::Cluster(urls) => RedisBackend::cluster_builder(urls),
            Topology::Sentinel { urls, master } => RedisBackend::sentinel_builder(urls, master),
        };
        builder
            .prefix(&self.prefix)
            .timeout(self.timeout)
            .connect_timeout(self.timeout)
            .connect()
            .await
            .map_err(|e| {
                Failure::Backend(format!("cannot connect to {}: {e}", self.topology.name()))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(redis: Option<&str>, cluster: Option<&str>) -> BackendArgs {
        BackendArgs {
            redis_url: redis.map(Into::into),
            cluster_urls: cluster.map(Into::into),
            sentinel_urls: None,
            sentinel_master: None,
            prefix: None,
            timeout_ms: 2000,
        }
    }

    #[test]
    fn flags_override_the_environment() {
        let env = |n: &str| match n {
            "REDIS_URL" => Some("redis://env:1".to_owned()),
            "VIGIL_PREFIX" => Some("app".to_owned()),
            _ => None,
        };
        let t = args(None, Some("redis://a:1, redis://b:2"))
            .resolve(&env)
            .unwrap();
        assert_eq!(
            t.topology,
            Topology::Cluster(vec!["redis://a:1".into(), "redis://b:2".into()])
        );
        assert_eq!(t.prefix, "app");
        let t = args(None, None).resolve(&env).unwrap();
        assert_eq!(t.topology, Topology::Redis("redis://env:1".into()));
    }

    #[test]
    fn exactly_one_backend() {
        let none = |_: &str| None;
        assert!(matches!(
            args(None, None).resolve(&none),
            Err(Failure::Usage(_))
        ));
        assert!(matches!(
            args(Some("redis://a"), Some("redis://b")).resolve(&none),
            Err(Failure::Usage(_))
        ));
        let sentinel_without_master =
            |n: &str| (n == "REDIS_SENTINEL_URLS").then(|| "redis://s".into());
        assert!(matches!(
            args(None, None).resolve(&sentinel_without_master),
            Err(Failure::Usage(_))
        ));
        let blank = |n: &str| (n == "REDIS_URL").then(|| " ".into());
        assert!(matches!(
            args(None, None).resolve(&blank),
            Err(Failure::Usage(_))
        ));
    }
}
