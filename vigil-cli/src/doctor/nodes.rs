//! Which servers `doctor` looks at: the server itself, every master of a cluster (from
//! `CLUSTER NODES`), or the master the sentinels name (and each sentinel, for its quorum).

use std::time::Duration;

use redis::aio::MultiplexedConnection;

use crate::backend::{Target, Topology};

/// A server to check, by `host:port` and the URL to reach it.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) name: String,
    pub(crate) url: String,
}

/// What a sentinel says of the master's quorum (`SENTINEL CKQUORUM`).
#[derive(Debug, Clone)]
pub(crate) struct QuorumCheck {
    pub(crate) sentinel: String,
    pub(crate) ok: bool,
    pub(crate) answer: String,
}

/// The servers to check, sentinels' answers, and the problems met finding them.
#[derive(Debug, Default)]
pub(crate) struct Discovery {
    pub(crate) masters: Vec<Node>,
    pub(crate) quorum: Vec<QuorumCheck>,
    pub(crate) problems: Vec<String>,
}

/// A connection to `url`, within `timeout`.
pub(crate) async fn connect(url: &str, timeout: Duration) -> Result<MultiplexedConnection, String> {
    let client = redis::Client::open(url).map_err(|e| format!("{}: {e}", host_port(url)))?;
    match tokio::time::timeout(timeout, client.get_multiplexed_async_connection()).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(format!("{}: {e}", host_port(url))),
        Err(_) => Err(format!("{}: no answer within {timeout:?}", host_port(url))),
    }
}

/// `host:port` of a URL (for messages; never the credentials).
pub(crate) fn host_port(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or(rest);
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, a)| a)
        .to_owned()
}

/// `url` with its host and port replaced (scheme, credentials and database kept).
pub(crate) fn with_addr(url: &str, host: &str, port: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("redis", url));
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let user = authority.rsplit_once('@').map(|(u, _)| u);
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    match user {
        Some(u) => format!("{scheme}://{u}@{host}:{port}{path}"),
        None => format!("{scheme}://{host}:{port}{path}"),
    }
}

/// Finds the servers of `target`.
pub(crate) async fn discover(target: &Target) -> Discovery {
    let mut d = Discovery::default();
    match &target.topology {
        Topology::Redis(url) => d.masters.push(Node {
            name: host_port(url),
            url: url.clone(),
        }),
        Topology::Cluster(urls) => cluster_masters(urls, target.timeout, &mut d).await,
        Topology::Sentinel { urls, master } => sentinel(urls, master, target.timeout, &mut d).await,
    }
    d
}

async fn cluster_masters(urls: &[String], timeout: Duration, d: &mut Discovery) {
    let mut last_error = String::new();
    for url in urls {
        let mut con = match connect(url, timeout).await {
            Ok(c) => c,
            Err(e) => {
                last_error = e;
                continue;
            }
        };
        let nodes: String = match redis::cmd("CLUSTER")
            .arg("NODES")
            .query_async(&mut con)
            .await
        {
            Ok(n) => n,
            Err(e) => {
                last_error = format!("{}: CLUSTER NODES: {e}", host_port(url));
                continue;
            }
        };
        for line in nodes.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(addr), Some(flags)) = (fields.get(1), fields.get(2)) else {
                continue;
            };
            let flags: Vec<&str> = flags.split(',').collect();
            if !flags.contains(&"master") {
                continue;
            }
            let addr = addr.split(['@', ',']).next().unwrap_or(addr);
            let Some((host, port)) = addr.rsplit_once(':') else {
                continue;
            };
            if flags.iter().any(|f| f.starts_with("fail")) || host.is_empty() {
                d.problems.push(format!(
                    "cluster master {addr} is marked {}: its slots are not served",
                    flags.join(",")
                ));
                continue;
            }
            d.masters.push(Node {
                name: addr.to_owned(),
                url: with_addr(url, host, port),
            });
        }
        d.masters.sort_by(|a, b| a.name.cmp(&b.name));
        return;
    }
    d.problems.push(format!(
        "no cluster node answered CLUSTER NODES: {last_error}"
    ));
}

async fn sentinel(urls: &[String], master: &str, timeout: Duration, d: &mut Discovery) {
    for url in urls {
        let sentinel = host_port(url);
        let mut con = match connect(url, timeout).await {
            Ok(c) => c,
            Err(e) => {
                d.quorum.push(QuorumCheck {
                    sentinel,
                    ok: false,
                    answer: e,
                });
                continue;
            }
        };
        let quorum: Result<String, _> = redis::cmd("SENTINEL")
            .arg("CKQUORUM")
            .arg(master)
            .query_async(&mut con)
            .await;
        d.quorum.push(match quorum {
            Ok(answer) => QuorumCheck {
                sentinel: sentinel.clone(),
                ok: true,
                answer,
            },
            Err(e) => QuorumCheck {
                sentinel: sentinel.clone(),
                ok: false,
                answer: e.to_string(),
            },
        });
        if d.masters.is_empty() {
            let addr: Result<Option<(String, String)>, _> = redis::cmd("SENTINEL")
                .arg("GET-MASTER-ADDR-BY-NAME")
                .arg(master)
                .query_async(&mut con)
                .await;
            if let Ok(Some((host, port))) = addr {
                // The sentinels' scheme, without their credentials (a master's may differ).
                let scheme = url.split_once("://").map_or("redis", |(s, _)| s);
                d.masters.push(Node {
                    name: format!("{host}:{port}"),
                    url: with_addr(&format!("{scheme}://x"), &host, &port),
                });
            }
        }
    }
    for q in &d.quorum {
        if !q.ok {
            d.problems.push(format!(
                "sentinel {} cannot reach a quorum for {master:?}: {}",
                q.sentinel, q.answer
            ));
        }
    }
    if d.masters.is_empty() {
        d.problems
            .push(format!("no sentinel named a master for {master:?}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_swapped_and_credentials_kept() {
        assert_eq!(
            with_addr("rediss://u:p@a:1/2", "10.0.0.2", "7001"),
            "rediss://u:p@10.0.0.2:7001/2"
        );
        assert_eq!(with_addr("redis://a:1", "::1", "7"), "redis://[::1]:7");
        assert_eq!(host_port("redis://u:p@h:6380/0"), "h:6380");
    }
}
