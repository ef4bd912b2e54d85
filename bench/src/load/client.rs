//! A small HTTP/1.1 client for setup requests (log in, create a session) and for the in-Rust
//! load generator's connections.

use std::net::SocketAddr;

use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

use super::Load;

/// A response read whole.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Reply {
    /// The value of the cookie `name` set by this response.
    pub(crate) fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(http::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .find_map(|pair| {
                let (n, value) = pair.split_once('=')?;
                (n.trim() == name).then(|| value.trim().to_owned())
            })
    }
}

pub(crate) async fn connect(addr: SocketAddr) -> std::io::Result<SendRequest<Full<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(std::io::Error::other)?;
    tokio::spawn(conn);
    Ok(sender)
}

pub(crate) fn build(addr: SocketAddr, load: &Load) -> Request<Full<Bytes>> {
    let mut b = Request::builder()
        .method(load.method)
        .uri(&load.path)
        .header(http::header::HOST, addr.to_string());
    for (n, v) in &load.headers {
        b = b.header(n.as_str(), v.as_str());
    }
    b.body(Full::new(Bytes::from(load.body.clone())))
        .expect("a valid request")
}

/// Sends one request on a new connection and reads the whole response.
pub(crate) async fn request(addr: SocketAddr, load: &Load) -> std::io::Result<Reply> {
    let mut sender = connect(addr).await?;
    let res = sender
        .send_request(build(addr, load))
        .await
        .map_err(std::io::Error::other)?;
    let (parts, body) = res.into_parts();
    let body = body
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    Ok(Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    })
}
