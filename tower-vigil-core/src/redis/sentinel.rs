//! Redis Sentinel: finding the master the sentinels name, and following it when they fail it
//! over.
//!
//! redis-rs' own Sentinel client resolves the master once and keeps talking to that address:
//! after a failover its connection reconnects to the demoted node, and every write fails with
//! `READONLY` until a restart (redis-rs issue #1057). Here the connection's
//! [`Connect`](super::reconnecting::Connect) asks the sentinels each time it runs, and three
//! things make it run:
//!
//! - a call failing with a connection error or `READONLY` ([`needs_new_master`]);
//! - the sentinels announcing `+switch-master` for this master ([`watch`]);
//! - a connection falling silent (the [`Reconnecting`](super::reconnecting) rule for every
//!   backend).
//!
//! Subscriptions move too: on `+switch-master` each one reconnects, and asks the sentinels
//! where. Until the sentinels reconfigure it, a demoted master still takes writes and
//! publishes (a split brain of up to their INFO period, 10 s), so a subscriber left on it
//! would miss what is published on the new master.
//!
//! A master is only taken once it says so itself (`ROLE`): a sentinel that has not yet
//! learnt of a failover can name the old master, which is then refused and the next sentinel
//! asked.

use std::sync::Weak;
use std::time::Duration;

use futures_util::StreamExt;
use redis::{Client, ConnectionAddr, ConnectionInfo, ErrorKind, RedisError, RedisResult};

use super::connection::Conn;

/// The channel sentinels announce a completed failover on: `<name> <old ip> <old port> <new
/// ip> <new port>`.
const SWITCH_MASTER: &str = "+switch-master";
/// How long the watcher waits before trying the sentinels again after losing them all.
const RETRY: Duration = Duration::from_millis(500);

/// The sentinels, the name of the master they monitor, and how to connect to that master.
pub(crate) struct SentinelTarget {
    pub(crate) sentinels: Vec<Client>,
    pub(crate) master_name: String,
    /// The master's scheme, user, password and db; its address is the sentinels' answer.
    pub(crate) master: ConnectionInfo,
    /// The bound on asking one sentinel and checking the master it names.
    pub(crate) ask_timeout: Duration,
    /// Bumped at each `+switch-master` for this master: subscriptions move on it.
    pub(crate) switched: tokio::sync::watch::Sender<u64>,
}

impl std::fmt::Debug for SentinelTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentinelTarget")
            .field("sentinels", &self.sentinels.len())
            .field("master_name", &self.master_name)
            .finish_non_exhaustive()
    }
}

impl SentinelTarget {
    /// A client for the current master: the first sentinel's answer that the named server
    /// confirms (`ROLE` is `master`).
    pub(crate) async fn master(&self) -> RedisResult<Client> {
        let mut last = None;
        for sentinel in &self.sentinels {
            match tokio::time::timeout(self.ask_timeout, self.ask(sentinel)).await {
                Ok(Ok(client)) => return Ok(client),
                Ok(Err(e)) => last = Some(e),
                Err(_) => {
                    last = Some(RedisError::from((
                        ErrorKind::Io,
                        "a sentinel or the master it named did not answer in time",
                    )));
                }
            }
        }
        Err(last.unwrap_or_else(|| RedisError::from((ErrorKind::EmptySentinelList, "no sentinel"))))
    }

    async fn ask(&self, sentinel: &Client) -> RedisResult<Client> {
        let mut conn = sentinel.get_multiplexed_async_connection().await?;
        let named: Option<(String, u16)> = redis::cmd("SENTINEL")
            .arg("get-master-addr-by-name")
            .arg(&self.master_name)
            .query_async(&mut conn)
            .await?;
        let Some((host, port)) = named else {
            return Err(RedisError::from((
                ErrorKind::MasterNameNotFoundBySentinel,
                "the sentinel does not monitor this master name",
            )));
        };
        let client = Client::open(self.master.clone().set_addr(self.address(host, port)))?;
        let mut master = client.get_multiplexed_async_connection().await?;
        let role: Vec<redis::Value> = redis::cmd("ROLE").query_async(&mut master).await?;
        match role.first() {
            Some(redis::Value::BulkString(r)) if r == b"master" => Ok(client),
            _ => Err(RedisError::from((
                ErrorKind::Io,
                "the server the sentinel named is not a master (yet)",
            ))),
        }
    }

    /// The master's address in the scheme of the configured connection (TLS or not).
    fn address(&self, host: String, port: u16) -> ConnectionAddr {
        match self.master.addr() {
            ConnectionAddr::TcpTls {
                insecure,
                tls_params,
                ..
            } => ConnectionAddr::TcpTls {
                host,
                port,
                insecure: *insecure,
                tls_params: tls_params.clone(),
            },
            _ => ConnectionAddr::Tcp(host, port),
        }
    }

    /// True when `message` (a `+switch-master` payload) is about this master.
    fn concerns(&self, message: &[u8]) -> bool {
        message
            .split(|b| *b == b' ')
            .next()
            .is_some_and(|name| name == self.master_name.as_bytes())
    }
}

/// True when a call's error says the connection may not reach the master any more: it broke,
/// was refused, or the server has become a replica (`READONLY`).
pub(crate) fn needs_new_master(e: &RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || matches!(
            e.kind(),
            ErrorKind::Server(redis::ServerErrorKind::ReadOnly)
        )
}

/// Listens for `+switch-master` on the sentinels (one at a time, the next when one is lost)
/// and makes `conns` connect to the new master at once. Ends when `alive` is gone (the
/// backend was dropped).
pub(crate) async fn watch<T: Send + Sync>(
    target: std::sync::Arc<SentinelTarget>,
    conns: Vec<Conn>,
    alive: Weak<T>,
) {
    loop {
        for sentinel in &target.sentinels {
            if alive.strong_count() == 0 {
                return;
            }
            let subscribed = async {
                let mut pubsub = sentinel.get_async_pubsub().await?;
                pubsub.subscribe(SWITCH_MASTER).await?;
                Ok::<_, RedisError>(pubsub)
            };
            let Ok(Ok(mut pubsub)) = tokio::time::timeout(target.ask_timeout, subscribed).await
            else {
                continue;
            };
            let mut messages = pubsub.on_message();
            loop {
                // Wake now and then to notice a dropped backend.
                match tokio::time::timeout(Duration::from_secs(1), messages.next()).await {
                    Ok(Some(msg)) => {
                        if target.concerns(msg.get_payload_bytes()) {
                            tracing::warn!(master = %target.master_name, "sentinels switched the master; reconnecting");
                            for conn in &conns {
                                conn.reconnect();
                            }
                            target.switched.send_modify(|n| *n += 1);
                        }
                    }
                    Ok(None) => break,
                    Err(_) => {}
                }
                if alive.strong_count() == 0 {
                    return;
                }
            }
        }
        tokio::time::sleep(RETRY).await;
    }
}
