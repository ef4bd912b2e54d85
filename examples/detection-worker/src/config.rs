//! The worker's settings, from the environment; every value checked when read.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `NATS_URL` | required | the NATS server with JetStream |
//! | `REDIS_URL` / `REDIS_CLUSTER_URLS` / `REDIS_SENTINEL_URLS` + `REDIS_SENTINEL_MASTER` | memory (one worker only) | the backend shared with the API and the other workers |
//! | `VIGIL_PREFIX` | `vigil` | the backend's key prefix: the API's, so it reads the outcomes |
//! | `WORKER_DB` | `detection-results.db` | the SQLite file results are recorded in (shared by the workers of one machine) |
//! | `WORKER_NAME` | `worker-<pid>` | this worker's name in the results |
//! | `WORKER_CONCURRENCY` | `16` | jobs in flight per worker |
//! | `WORKER_ACK_WAIT_MS` | `30000` | the consumer's ack wait: a job not acked in time is redelivered |
//! | `WORKER_LEASE_MS` | `10000` | the ledger's and the lock's lease |
//! | `WORKER_ANALYSES_PER_SECOND` | off | a cap on analyser calls per second, shared by every worker on the backend |
//! | `WORKER_SLOW_EVERY` | off | for tests: every Nth job takes `WORKER_SLOW_MS` more (past the ack wait, to force redeliveries) |

use std::time::Duration;

/// Where the ledger and the locks live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendTarget {
    /// In process: only for one worker, since others cannot see its ledger.
    Memory,
    /// One Redis.
    Redis(String),
    /// A Redis Cluster, by some of its nodes.
    Cluster(Vec<String>),
    /// A master found (and followed across failovers) through these sentinels.
    Sentinel { urls: Vec<String>, master: String },
}

/// The checked settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub nats_url: String,
    pub backend: BackendTarget,
    pub prefix: String,
    pub db_path: String,
    pub name: String,
    pub concurrency: usize,
    pub ack_wait: Duration,
    pub lease: Duration,
    pub analyses_per_second: Option<u32>,
    pub slow_every: Option<u64>,
    pub slow_by: Duration,
}

impl Settings {
    /// Reads the environment.
    ///
    /// # Errors
    /// A message naming the variable that is missing or malformed.
    pub fn from_env() -> Result<Self, String> {
        let nats_url =
            var("NATS_URL").ok_or("NATS_URL is required (the NATS server with JetStream)")?;
        let list = |v: String| -> Vec<String> {
            v.split(',')
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let backend = match (
            var("REDIS_URL"),
            var("REDIS_CLUSTER_URLS"),
            var("REDIS_SENTINEL_URLS"),
        ) {
            (None, None, None) => BackendTarget::Memory,
            (Some(url), None, None) => BackendTarget::Redis(url),
            (None, Some(urls), None) => BackendTarget::Cluster(list(urls)),
            (None, None, Some(urls)) => BackendTarget::Sentinel {
                urls: list(urls),
                master: var("REDIS_SENTINEL_MASTER")
                    .ok_or("REDIS_SENTINEL_URLS needs REDIS_SENTINEL_MASTER, the master's name")?,
            },
            _ => {
                return Err(
                    "set one of REDIS_URL, REDIS_CLUSTER_URLS and REDIS_SENTINEL_URLS".into(),
                );
            }
        };
        Ok(Self {
            nats_url,
            backend,
            prefix: var("VIGIL_PREFIX").unwrap_or_else(|| "vigil".into()),
            db_path: var("WORKER_DB").unwrap_or_else(|| "detection-results.db".into()),
            name: var("WORKER_NAME").unwrap_or_else(|| format!("worker-{}", std::process::id())),
            concurrency: number("WORKER_CONCURRENCY", 16, 1..=1024)? as usize,
            ack_wait: Duration::from_millis(number("WORKER_ACK_WAIT_MS", 30_000, 100..=3_600_000)?),
            lease: Duration::from_millis(number("WORKER_LEASE_MS", 10_000, 100..=3_600_000)?),
            analyses_per_second: var("WORKER_ANALYSES_PER_SECOND")
                .map(|_| number("WORKER_ANALYSES_PER_SECOND", 0, 1..=1_000_000))
                .transpose()?
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
            slow_every: var("WORKER_SLOW_EVERY")
                .map(|_| number("WORKER_SLOW_EVERY", 0, 1..=u64::MAX))
                .transpose()?,
            slow_by: Duration::from_millis(number("WORKER_SLOW_MS", 0, 0..=600_000)?),
        })
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn number(name: &str, default: u64, range: std::ops::RangeInclusive<u64>) -> Result<u64, String> {
    let Some(raw) = var(name) else {
        return Ok(default);
    };
    raw.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            format!(
                "{name} must be a whole number from {} to {}, not {raw:?}",
                range.start(),
                range.end()
            )
        })
}
