//! [`RedisBackendBuilder`]: URL(s), prefix and timeouts, validated before connecting.

use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;

use super::connection::Conn;
use super::group_commit::GroupCommit;
use super::reconnecting::{Connect, Reconnecting};
use super::replication::WaitForReplicas;
use super::sentinel::{self, SentinelTarget};
use super::{DEFAULT_TIMEOUT, PubsubTarget, RedisBackend, Shared};
use crate::backend::BackendKind;
use crate::backend::check_ttl;
use crate::error::{BackendError, BackendErrorKind, ConfigError};
use crate::keys::KeyPrefix;

/// Builds a [`RedisBackend`]: set the prefix and timeouts, then [`connect`](Self::connect),
/// which checks every setting (URLs, prefix, timeouts) before it connects.
#[derive(Clone)]
#[must_use]
pub struct RedisBackendBuilder {
    /// Node URLs as given (one for a standalone server); parsed by `connect`.
    urls: Vec<String>,
    cluster: bool,
    prefix: String,
    timeout: Duration,
    connect_timeout: Duration,
    wait: Option<WaitForReplicas>,
    group_commit: Option<usize>,
    /// With [`sentinel`](Self::sentinel): the master's name and how to connect to it.
    sentinel: Option<SentinelMaster>,
}

/// How to reach the master a set of sentinels names.
#[derive(Clone, Default)]
struct SentinelMaster {
    name: String,
    username: Option<String>,
    password: Option<String>,
    db: i64,
    tls: bool,
}

impl std::fmt::Debug for RedisBackendBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // URLs may carry a password: show how many, not what.
        f.debug_struct("RedisBackendBuilder")
            .field("nodes", &self.urls.len())
            .field("cluster", &self.cluster)
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("wait", &self.wait)
            .field("group_commit", &self.group_commit)
            .field(
                "sentinel_master",
                &self.sentinel.as_ref().map(|m| m.name.as_str()),
            )
            .finish()
    }
}

#[derive(Debug, Clone)]
enum Target {
    Standalone(redis::Client),
    Cluster(Vec<redis::Client>, Vec<String>),
    Sentinel(Arc<SentinelTarget>),
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
    /// A standalone server at `url` (`redis://[user:password@]host:port[/db]`, or `rediss://`
    /// with the `tls` feature).
    pub fn standalone(url: &str) -> Self {
        Self::with_urls(vec![url.to_owned()], false)
    }

    /// A cluster reachable through any of `urls` (one is enough; more survive a node being down).
    pub fn cluster<I, S>(urls: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let urls = urls
            .into_iter()
            .map(|u| u.as_ref().trim().to_owned())
            .filter(|u| !u.is_empty())
            .collect();
        Self::with_urls(urls, true)
    }

    /// A master monitored by Redis Sentinel under `master_name`, found through any of the
    /// sentinels at `sentinel_urls` (`redis://[user:password@]host:26379`, or `rediss://`
    /// with the `tls` feature: the sentinels' own TLS and ACL user). How to connect to the
    /// master itself is set apart: [`master_auth`](Self::master_auth),
    /// [`master_db`](Self::master_db), [`master_tls`](Self::master_tls).
    ///
    /// The backend follows failovers without a restart: it asks the sentinels again when a
    /// call fails with a connection error or `READONLY`, when the sentinels announce
    /// `+switch-master`, and when the connection falls silent; pub/sub reconnects to the
    /// master they name.
    pub fn sentinel<I, S>(sentinel_urls: I, master_name: &str) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut builder = Self::cluster(sentinel_urls);
        builder.cluster = false;
        builder.sentinel = Some(SentinelMaster {
            name: master_name.to_owned(),
            ..SentinelMaster::default()
        });
        builder
    }

    /// The ACL user (or `None` for the default user) and password of the master a
    /// [`sentinel`](Self::sentinel) backend connects to (the sentinels' own are in their
    /// URLs). Only for a Sentinel backend: elsewhere [`connect`](Self::connect) fails.
    pub fn master_auth(mut self, username: Option<&str>, password: &str) -> Self {
        let master = self.sentinel_master();
        master.username = username.map(str::to_owned);
        master.password = Some(password.to_owned());
        self
    }

    /// The database of the master a [`sentinel`](Self::sentinel) backend uses (default 0).
    pub fn master_db(mut self, db: i64) -> Self {
        self.sentinel_master().db = db;
        self
    }

    /// Connects to the master a [`sentinel`](Self::sentinel) backend finds over TLS (needs
    /// the `tls` feature).
    pub fn master_tls(mut self, tls: bool) -> Self {
        self.sentinel_master().tls = tls;
        self
    }

    /// The master settings; on a builder that is no Sentinel one, a placeholder without a
    /// master name, which `check` refuses.
    fn sentinel_master(&mut self) -> &mut SentinelMaster {
        self.sentinel.get_or_insert_with(SentinelMaster::default)
    }

    fn with_urls(urls: Vec<String>, cluster: bool) -> Self {
        Self {
            urls,
            cluster,
            prefix: KeyPrefix::DEFAULT.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: Duration::from_secs(1),
            wait: None,
            group_commit: None,
            sentinel: None,
        }
    }

    /// The prefix of every key and channel (default `vigil`; checked by
    /// [`connect`](Self::connect) as [`KeyPrefix::new`] does).
    pub fn prefix(mut self, prefix: impl AsRef<str>) -> Self {
        self.prefix = prefix.as_ref().to_owned();
        self
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

    /// Group commit of [batchable](crate::script::Script::batchable) scripts (the rate-limit
    /// decision): while one run is in flight, the next runs on the same hash slot queue and
    /// go together in one `EVALSHA` of up to `max_batch` calls, each decided in turn as it
    /// would have been alone. Redis's cost per call (about 5 µs of parsing, dispatch and reply
    /// around a 1 µs decision) is then paid once per batch, so a loaded server decides
    /// several times more per second. A lone call still goes at once.
    ///
    /// Off by default (`None`: every run is its own call, pipelined on the connection), like
    /// a client's auto-pipelining: a run that arrives while a batch is in flight waits for
    /// it, so batching pays where Redis's CPU is the limit (many app instances on one
    /// server), and costs throughput where the app's own CPU is (on a 2-core machine running
    /// the app and Redis together, `vigil-bench` measures it below the pipelined calls; see
    /// BENCHMARKS.md). [`DEFAULT_MAX_BATCH`](crate::redis::DEFAULT_MAX_BATCH) is a good `max_batch`; it must be 2 to 1,000,
    /// else [`connect`](Self::connect) fails with a [`Config`](BackendErrorKind::Config)
    /// error.
    pub fn group_commit(mut self, max_batch: Option<usize>) -> Self {
        self.group_commit = max_batch;
        self
    }

    /// Every setting checked: the URLs, the prefix, the timeouts, the `WAIT` setting and the
    /// group commit's batch size. What
    /// [`connect`](Self::connect) checks first; call it to validate a configuration without
    /// connecting.
    pub fn check(&self) -> Result<(), ConfigError> {
        self.target()?;
        KeyPrefix::new(&self.prefix)?;
        for (field, d) in [
            ("timeout", self.timeout),
            ("connect_timeout", self.connect_timeout),
        ] {
            check_ttl(field, d)?;
        }
        self.wait.map(|w| w.check(self.timeout)).transpose()?;
        if let Some(n) = self.group_commit
            && !(2..=1_000).contains(&n)
        {
            return Err(ConfigError::new(
                "group_commit",
                format!("max_batch must be 2 to 1000, not {n}"),
            ));
        }
        Ok(())
    }

    fn target(&self) -> Result<Target, ConfigError> {
        if let Some(master) = &self.sentinel {
            return self
                .sentinel_target(master)
                .map(|t| Target::Sentinel(Arc::new(t)));
        }
        if !self.cluster {
            let url = self.urls.first().map_or("", String::as_str);
            return Ok(Target::Standalone(parse(url)?));
        }
        if self.urls.is_empty() {
            return Err(ConfigError::new(
                "cluster_urls",
                "at least one node URL is needed",
            ));
        }
        let clients = self
            .urls
            .iter()
            .map(|u| parse(u))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Target::Cluster(clients, self.urls.clone()))
    }

    fn sentinel_target(&self, master: &SentinelMaster) -> Result<SentinelTarget, ConfigError> {
        if master.name.is_empty() {
            return Err(ConfigError::new(
                "sentinel",
                "master_auth, master_db and master_tls are for a Sentinel backend (with a master name)",
            ));
        }
        if self.urls.is_empty() {
            return Err(ConfigError::new(
                "sentinel_urls",
                "at least one sentinel URL is needed",
            ));
        }
        if master.tls && !cfg!(feature = "tls") {
            return Err(ConfigError::new(
                "master_tls",
                "needs the `tls` feature of tower-vigil-core",
            ));
        }
        let sentinels = self
            .urls
            .iter()
            .map(|u| parse(u))
            .collect::<Result<Vec<_>, _>>()?;
        let scheme = if master.tls { "rediss" } else { "redis" };
        // The address is a placeholder: each connection asks the sentinels for the real one.
        let info = redis::IntoConnectionInfo::into_connection_info(format!(
            "{scheme}://127.0.0.1:6379/{}",
            master.db
        ))
        .map_err(|_| ConfigError::new("master_db", "is not a valid database number"))?;
        let mut settings = info.redis_settings().clone();
        if let Some(user) = &master.username {
            settings = settings.set_username(user);
        }
        if let Some(password) = &master.password {
            settings = settings.set_password(password);
        }
        Ok(SentinelTarget {
            sentinels,
            master_name: master.name.clone(),
            master: info.set_redis_settings(settings),
            ask_timeout: self.connect_timeout,
            switched: tokio::sync::watch::Sender::new(0),
        })
    }

    /// Connects. Fails with kind [`Config`](BackendErrorKind::Config) (the source a
    /// [`ConfigError`] naming the setting) when a setting is invalid (see
    /// [`check`](Self::check)), and otherwise when the server (or no cluster node) does not
    /// answer within the connect timeout.
    pub async fn connect(self) -> Result<RedisBackend, BackendError> {
        let config =
            |e: ConfigError| BackendError::with_source(BackendErrorKind::Config, e.to_string(), e);
        self.check().map_err(config)?;
        let target = self.target().map_err(config)?;
        let prefix = KeyPrefix::new(&self.prefix).map_err(config)?;
        let Self {
            timeout,
            connect_timeout,
            wait,
            group_commit,
            ..
        } = self;
        let wait = wait.map(|w| w.check(timeout)).transpose().map_err(config)?;
        let conn = open(&target, timeout, connect_timeout).await?;
        // Guarded writes get a connection of their own: a `WAIT` blocks every later command
        // on its connection, and must not hold up the other calls for its timeout.
        let guarded_conn = match wait {
            Some(_) => Some(open(&target, timeout, connect_timeout).await?),
            None => None,
        };
        let (pubsub, kind) = match &target {
            Target::Standalone(client) => (
                PubsubTarget::Nodes(vec![client.clone()]),
                BackendKind::Redis,
            ),
            Target::Cluster(clients, _) => (
                PubsubTarget::Nodes(clients.clone()),
                BackendKind::RedisCluster,
            ),
            Target::Sentinel(t) => (
                PubsubTarget::Sentinel(Arc::clone(t)),
                BackendKind::RedisSentinel,
            ),
        };
        let shared = Arc::new(Shared {
            prefix,
            timeout,
            kind,
            pubsub,
            wait,
            guarded_conn,
            group_commit: group_commit.map(GroupCommit::new),
        });
        if let Target::Sentinel(t) = target {
            let conns = std::iter::once(conn.clone())
                .chain(shared.guarded_conn.clone())
                .collect();
            tokio::spawn(sentinel::watch(t, conns, Arc::downgrade(&shared)));
        }
        Ok(RedisBackend { conn, shared })
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
        Target::Sentinel(sentinel) => {
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(connect_timeout))
                .set_response_timeout(Some(timeout))
                .set_number_of_retries(1)
                .set_max_delay(Duration::from_secs(1));
            let sentinel = Arc::clone(sentinel);
            // Each (re)connection asks the sentinels where the master is now.
            let connect: Connect<ConnectionManager> = Arc::new(move || {
                let (sentinel, config) = (Arc::clone(&sentinel), config.clone());
                async move {
                    let client = sentinel.master().await?;
                    ConnectionManager::new_with_config(client, config).await
                }
                .boxed()
            });
            // Asking a sentinel and the master it names is two connections: allow for both.
            let fut = Reconnecting::connect(connect, connect_timeout * 2);
            Ok(Conn::Standalone(bounded(connect_timeout * 2, fut).await?))
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

    fn check(b: RedisBackendBuilder) -> Result<(), ConfigError> {
        b.check()
    }

    #[test]
    fn urls_are_checked_before_connecting() {
        assert!(check(RedisBackendBuilder::standalone("redis://127.0.0.1:6379/2")).is_ok());
        assert!(check(RedisBackendBuilder::standalone("redis://user:pw@host:1")).is_ok());
        let err = check(RedisBackendBuilder::standalone("http://host")).unwrap_err();
        assert_eq!(err.field(), "url");
        assert!(check(RedisBackendBuilder::cluster(Vec::<String>::new())).is_err());
        assert!(check(RedisBackendBuilder::cluster(["redis://a:1", "nope"])).is_err());
        if !cfg!(feature = "tls") {
            assert!(check(RedisBackendBuilder::standalone("rediss://host")).is_err());
        }
    }

    #[test]
    fn sentinel_settings_are_checked_before_connecting() {
        let sentinel = || RedisBackendBuilder::sentinel(["redis://127.0.0.1:26379"], "m");
        assert!(check(sentinel().master_auth(Some("app"), "pw").master_db(2)).is_ok());
        let no_sentinel = RedisBackendBuilder::sentinel(Vec::<String>::new(), "m");
        assert_eq!(check(no_sentinel).unwrap_err().field(), "sentinel_urls");
        let no_name = RedisBackendBuilder::sentinel(["redis://127.0.0.1:26379"], "");
        assert_eq!(check(no_name).unwrap_err().field(), "sentinel");
        // The master's settings on a builder that is no Sentinel one are refused, whatever
        // the order of the calls.
        let standalone = RedisBackendBuilder::standalone("redis://127.0.0.1:1");
        assert_eq!(
            check(standalone.master_auth(None, "pw"))
                .unwrap_err()
                .field(),
            "sentinel"
        );
        let bad_sentinel_url = RedisBackendBuilder::sentinel(["http://x"], "m");
        assert_eq!(check(bad_sentinel_url).unwrap_err().field(), "url");
        if !cfg!(feature = "tls") {
            assert_eq!(
                check(sentinel().master_tls(true)).unwrap_err().field(),
                "master_tls"
            );
        }
        // The master's password is not shown.
        let shown = format!("{:?}", sentinel().master_auth(Some("app"), "hunter2"));
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn a_group_commit_batch_is_2_to_1000_calls() {
        let b = || RedisBackendBuilder::standalone("redis://127.0.0.1:1");
        for bad in [0, 1, 1_001] {
            let err = check(b().group_commit(Some(bad))).unwrap_err();
            assert_eq!(err.field(), "group_commit", "{bad}");
        }
        for good in [Some(2), Some(1_000), None] {
            assert!(check(b().group_commit(good)).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn setters_are_checked_whatever_their_order() {
        let bad_prefix = RedisBackendBuilder::standalone("redis://127.0.0.1:1").prefix("a b");
        assert_eq!(check(bad_prefix.clone()).unwrap_err().field(), "prefix");
        let later = bad_prefix.timeout(Duration::from_millis(100));
        assert_eq!(check(later).unwrap_err().field(), "prefix");
    }

    #[tokio::test]
    async fn a_bad_setting_fails_connect_as_a_config_error() {
        let err = RedisBackendBuilder::standalone("nope://x")
            .connect()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), BackendErrorKind::Config, "{err}");
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
        let builder = RedisBackendBuilder::standalone("redis://u:hunter2@host:notaport");
        assert!(!format!("{builder:?}").contains("hunter2"));
        let err = check(builder).unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
    }
}
