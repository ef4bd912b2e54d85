//! [`RedisBackendBuilder`]: URL(s), prefix and timeouts, validated before connecting.

use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;

use super::connection::Conn;
use super::reconnecting::{Connect, Reconnecting};
use super::replication::WaitForReplicas;
use super::{DEFAULT_TIMEOUT, RedisBackend, Shared};
use crate::backend::check_ttl;
use crate::error::{BackendError, BackendErrorKind, ConfigError};
use crate::keys::KeyPrefix;

/// Builds a [`RedisBackend`]: set the prefix and timeouts, then [`connect`](Self::connect).
#[derive(Debug, Clone)]
#[must_use]
pub struct RedisBackendBuilder {
    target: Target,
    prefix: KeyPrefix,
    timeout: Duration,
    connect_timeout: Duration,
    wait: Option<WaitForReplicas>,
}

#[derive(Debug, Clone)]
enum Target {
    Standalone(redis::Client),
    Cluster(Vec<redis::Client>, Vec<String>),
}

fn parse(url: &str) -> Result<redis::Client, ConfigError> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("rediss://") && !cfg!(feature = "tls") {
        return Err(ConfigError::new(
            "url",
            "rediss:// needs the `tls` feature of tower-vigil-core",
        ));
    }
    if !(lower.starts_with("redis://") || lower.starts_with("rediss://")) {
        return Err(ConfigError::new(
            "url",
            "must start with redis:// or rediss://",
        ));
    }
    // The error text of a bad URL could echo a password, so it is not passed on.
    redis::Client::open(url).map_err(|_| ConfigError::new("url", "is not a valid Redis URL"))
}

impl RedisBackendBuilder {
    /// A standalone server at `url`.
    pub fn standalone(url: &str) -> Result<Self, ConfigError> {
        Ok(Self::with_target(Target::Standalone(parse(url)?)))
    }

    /// A cluster reachable through any of `urls` (one is enough; more survive a node being down).
    pub fn cluster<I, S>(urls: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let urls: Vec<String> = urls
            .into_iter()
            .map(|u| u.as_ref().trim().to_owned())
            .filter(|u| !u.is_empty())
            .collect();
        if urls.is_empty() {
            return Err(ConfigError::new(
                "cluster_urls",
                "at least one node URL is needed",
            ));
        }
        let clients = urls
            .iter()
            .map(|u| parse(u))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::with_target(Target::Cluster(clients, urls)))
    }

    fn with_target(target: Target) -> Self {
        Self {
            target,
            prefix: KeyPrefix::default(),
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: Duration::from_secs(1),
            wait: None,
        }
    }

    /// The prefix of every key and channel (default `vigil`).
    pub fn prefix(mut self, prefix: impl AsRef<str>) -> Result<Self, ConfigError> {
        self.prefix = KeyPrefix::new(prefix)?;
        Ok(self)
    }

    /// The bound on every call (default 250 ms). Zero or more than
    /// [`MAX_TTL`](crate::backend::MAX_TTL) fails [`connect`](Self::connect) with a
    /// [`Config`](BackendErrorKind::Config) error.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The bound on establishing a connection (default 1 s), checked as
    /// [`timeout`](Self::timeout) is.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Makes the writes a guarantee rests on — lease acquisition and extension (the
    /// [`Lock`](crate::Lock)), idempotency claims and completions — wait until `replicas`
    /// replicas acknowledged them (`WAIT`, for at most `timeout`), so an acknowledged lock or
    /// claim survives the master failing over. Off by default: Redis replicates
    /// asynchronously, and a write acknowledged just before a master dies can be missing on
    /// the replica promoted in its place (see the README, "What a failover can lose").
    ///
    /// Costs one more round trip plus the replication delay on those writes, and while a
    /// `WAIT` blocks, later commands on the same connection queue behind it. A write that
    /// fewer replicas acknowledged in time fails with
    /// [`Unavailable`](BackendErrorKind::Unavailable) (a lease or claim so taken is given
    /// back). `replicas` must be at least 1 and `timeout` at least 1 ms and below the
    /// per-call [`timeout`](Self::timeout), else [`connect`](Self::connect) fails with a
    /// [`Config`](BackendErrorKind::Config) error.
    pub fn wait_for_replicas(mut self, replicas: u32, timeout: Duration) -> Self {
        self.wait = Some(WaitForReplicas { replicas, timeout });
        self
    }

    /// Connects. Fails when a timeout is out of range (kind
    /// [`Config`](BackendErrorKind::Config)) or the server (or no cluster node) does not answer
    /// within the connect timeout.
    pub async fn connect(self) -> Result<RedisBackend, BackendError> {
        let Self {
            target,
            prefix,
            timeout,
            connect_timeout,
            wait,
        } = self;
        // Before any client library adds them to an `Instant`.
        for (field, d) in [("timeout", timeout), ("connect_timeout", connect_timeout)] {
            check_ttl(field, d).map_err(|e| {
                BackendError::with_source(BackendErrorKind::Config, e.to_string(), e)
            })?;
        }
        let wait = wait
            .map(|w| w.check(timeout))
            .transpose()
            .map_err(|e| BackendError::with_source(BackendErrorKind::Config, e.to_string(), e))?;
        let conn = open(&target, timeout, connect_timeout).await?;
        // Guarded writes get a connection of their own: a `WAIT` blocks every later command
        // on its connection, and must not hold up the other calls for its timeout.
        let guarded_conn = match wait {
            Some(_) => Some(open(&target, timeout, connect_timeout).await?),
            None => None,
        };
        let pubsub_clients = match target {
            Target::Standalone(client) => vec![client],
            Target::Cluster(clients, _) => clients,
        };
        Ok(RedisBackend {
            conn,
            shared: Arc::new(Shared {
                prefix,
                timeout,
                pubsub_clients,
                wait,
                guarded_conn,
            }),
        })
    }
}

/// One multiplexed connection (standalone) or connection set (cluster) to `target`.
async fn open(
    target: &Target,
    timeout: Duration,
    connect_timeout: Duration,
) -> Result<Conn, BackendError> {
    match target {
        Target::Standalone(client) => {
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(connect_timeout))
                .set_response_timeout(Some(timeout))
                .set_number_of_retries(1)
                .set_max_delay(Duration::from_secs(1));
            let client = client.clone();
            let connect: Connect<ConnectionManager> = Arc::new(move || {
                ConnectionManager::new_with_config(client.clone(), config.clone()).boxed()
            });
            let fut = Reconnecting::connect(connect, connect_timeout);
            Ok(Conn::Standalone(bounded(connect_timeout, fut).await?))
        }
        Target::Cluster(_, urls) => {
            let cluster = ClusterClient::builder(urls.clone())
                .connection_timeout(connect_timeout)
                .response_timeout(timeout)
                .retries(2)
                .min_retry_wait(10)
                .max_retry_wait(100)
                .build()
                .map_err(super::error::map)?;
            let connect: Connect<ClusterConnection> = Arc::new(move || {
                let cluster = cluster.clone();
                async move { cluster.get_async_connection().await }.boxed()
            });
            let fut = Reconnecting::connect(connect, connect_timeout);
            Ok(Conn::Cluster(bounded(connect_timeout, fut).await?))
        }
    }
}

async fn bounded<T>(
    limit: Duration,
    fut: impl Future<Output = redis::RedisResult<T>>,
) -> Result<T, BackendError> {
    match tokio::time::timeout(limit, fut).await {
        Ok(r) => r.map_err(super::error::map),
        Err(_) => Err(BackendError::timeout(limit)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_before_connecting() {
        assert!(RedisBackendBuilder::standalone("redis://127.0.0.1:6379/2").is_ok());
        assert!(RedisBackendBuilder::standalone("redis://user:pw@host:1").is_ok());
        assert_eq!(
            RedisBackendBuilder::standalone("http://host")
                .unwrap_err()
                .field(),
            "url"
        );
        assert!(RedisBackendBuilder::cluster(Vec::<String>::new()).is_err());
        assert!(RedisBackendBuilder::cluster(["redis://a:1", "nope"]).is_err());
        if !cfg!(feature = "tls") {
            assert!(RedisBackendBuilder::standalone("rediss://host").is_err());
        }
    }

    #[tokio::test]
    async fn an_absurd_timeout_is_a_config_error_before_connecting() {
        for (timeout, connect_timeout) in [
            (Duration::MAX, Duration::from_secs(1)),
            (Duration::from_secs(1), Duration::MAX),
            (Duration::ZERO, Duration::from_secs(1)),
        ] {
            // Port 1 on loopback: nothing is contacted, the check comes first.
            let err = RedisBackendBuilder::standalone("redis://127.0.0.1:1")
                .unwrap()
                .timeout(timeout)
                .connect_timeout(connect_timeout)
                .connect()
                .await
                .unwrap_err();
            assert_eq!(err.kind(), BackendErrorKind::Config, "{err}");
        }
    }

    #[test]
    fn a_bad_url_error_does_not_echo_the_password() {
        let err = RedisBackendBuilder::standalone("redis://u:hunter2@host:notaport").unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
    }
}
