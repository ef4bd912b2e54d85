//! Who "the client" is for every per-IP limit: the connection's peer, or — when the server runs
//! behind proxies named in `[server] trusted_proxies` — the client those proxies forwarded.
//!
//! One extractor for every per-IP limit, so the login limit and the API-key failure limit can
//! never disagree about whose bucket a request is in.

use serde::Deserialize;
use tower_vigil_core::ConfigError;
use tower_vigil_ratelimit::key::{
    ForwardedHeader, KeyExtractor, PeerIp, RequestHead, TrustedProxies,
};

/// Which header the trusted proxies write (`[server] forwarded_header`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForwardedHeaderChoice {
    /// `X-Forwarded-For: client, proxy1` (nginx, most load balancers).
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client`.
    Forwarded,
}

impl From<ForwardedHeaderChoice> for ForwardedHeader {
    fn from(choice: ForwardedHeaderChoice) -> Self {
        match choice {
            ForwardedHeaderChoice::XForwardedFor => Self::XForwardedFor,
            ForwardedHeaderChoice::Forwarded => Self::Forwarded,
        }
    }
}

/// The client address a per-IP limit keys on.
#[derive(Debug, Clone)]
pub enum ClientIp {
    /// No trusted proxies: the peer is the client, and forwarding headers are ignored (a client
    /// could write anything there and pick its own bucket).
    Peer(PeerIp),
    /// Behind trusted proxies: the right-most hop no trusted proxy wrote.
    BehindProxies(TrustedProxies),
}

impl ClientIp {
    /// The peer address when `trusted_proxies` is empty, else the client behind them as read
    /// from `header`. A malformed CIDR is an error naming the setting.
    pub fn new(
        trusted_proxies: &[String],
        header: ForwardedHeaderChoice,
    ) -> Result<Self, ConfigError> {
        if trusted_proxies.is_empty() {
            return Ok(Self::Peer(PeerIp::new()));
        }
        let proxies = TrustedProxies::new(trusted_proxies)?.header(header.into());
        Ok(Self::BehindProxies(proxies))
    }
}

impl KeyExtractor for ClientIp {
    fn extract(&self, req: &RequestHead<'_>) -> Option<String> {
        match self {
            Self::Peer(peer) => peer.extract(req),
            Self::BehindProxies(proxies) => proxies.extract(req),
        }
    }

    /// The wrapped extractor's own settings (its IPv6 prefix), checked by the layer's
    /// `build()`.
    fn check(&self) -> Result<(), tower_vigil_core::ConfigError> {
        match self {
            Self::Peer(peer) => peer.check(),
            Self::BehindProxies(proxies) => proxies.check(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;

    fn key(client: &ClientIp, headers: &[(&str, &str)]) -> Option<String> {
        let mut req = http::Request::builder();
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let mut req = req.body(()).unwrap();
        req.extensions_mut()
            .insert("127.0.0.1:40000".parse::<SocketAddr>().unwrap());
        client.extract(&RequestHead::new(&req))
    }

    #[test]
    fn without_trusted_proxies_forwarding_headers_are_ignored() {
        let client = ClientIp::new(&[], ForwardedHeaderChoice::default()).unwrap();
        let spoofed = [
            ("x-forwarded-for", "198.51.100.7"),
            ("forwarded", "for=198.51.100.7"),
        ];
        assert_eq!(key(&client, &spoofed).as_deref(), Some("ip:127.0.0.1"));
    }

    #[test]
    fn behind_a_trusted_proxy_the_forwarded_client_is_the_key() {
        let trusted = ["127.0.0.1/32".to_owned()];
        let xff = ClientIp::new(&trusted, ForwardedHeaderChoice::XForwardedFor).unwrap();
        let headers = [("x-forwarded-for", "6.6.6.6, 198.51.100.7")];
        assert_eq!(key(&xff, &headers).as_deref(), Some("ip:198.51.100.7"));
        let fwd = ClientIp::new(&trusted, ForwardedHeaderChoice::Forwarded).unwrap();
        let headers = [("forwarded", "for=198.51.100.8")];
        assert_eq!(key(&fwd, &headers).as_deref(), Some("ip:198.51.100.8"));
    }

    #[test]
    fn a_malformed_cidr_is_a_config_error() {
        let err = ClientIp::new(
            &["10.0.0.0/33".to_owned()],
            ForwardedHeaderChoice::default(),
        )
        .unwrap_err();
        assert_eq!(err.field(), "trusted_proxies");
    }
}
