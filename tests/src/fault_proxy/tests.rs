//! The proxy in front of a tiny echo server: each mode does what it says, byte for byte.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::{FaultProxy, NewConnections};

/// Long enough that bytes which could pass would have; a stall holds them far longer.
const QUIET: Duration = Duration::from_millis(300);
/// A hang check: anything that should come comes well within this.
const SOON: Duration = Duration::from_secs(5);

/// An upstream that echoes every byte back on every connection.
async fn echo_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = s.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    port
}

async fn client(proxy: &FaultProxy) -> TcpStream {
    TcpStream::connect(("127.0.0.1", proxy.port()))
        .await
        .unwrap()
}

/// Reads exactly `n` bytes, or fails the test after [`SOON`].
async fn read_n(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0; n];
    tokio::time::timeout(SOON, s.read_exact(&mut buf))
        .await
        .expect("bytes within the hang bound")
        .expect("the connection stays open");
    buf
}

/// True when nothing arrives within [`QUIET`].
async fn silent(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 1];
    tokio::time::timeout(QUIET, s.read(&mut buf)).await.is_err()
}

/// True when the connection is closed (EOF or reset) within [`SOON`].
async fn closed(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 16];
    match tokio::time::timeout(SOON, s.read(&mut buf)).await {
        Ok(Ok(0) | Err(_)) => true,
        Ok(Ok(_)) | Err(_) => false,
    }
}

#[tokio::test]
async fn passes_bytes_both_ways() {
    let proxy = FaultProxy::start(echo_server().await).await;
    let mut c = client(&proxy).await;
    c.write_all(b"hello").await.unwrap();
    assert_eq!(read_n(&mut c, 5).await, b"hello");
    assert_eq!(proxy.open_connections(), 1);
    assert_eq!(proxy.accepted_connections(), 1);
}

#[tokio::test]
async fn a_stall_holds_bytes_without_closing_and_heal_releases_them_in_order() {
    let proxy = FaultProxy::start(echo_server().await).await;
    let mut c = client(&proxy).await;
    c.write_all(b"a").await.unwrap();
    assert_eq!(read_n(&mut c, 1).await, b"a");

    proxy.stall();
    c.write_all(b"bc").await.unwrap();
    c.write_all(b"de").await.unwrap();
    assert!(silent(&mut c).await, "nothing passes a stall");
    // A connection made during the stall is held too, not refused.
    let mut late = client(&proxy).await;
    late.write_all(b"x").await.unwrap();
    assert!(silent(&mut late).await);
    assert_eq!(proxy.open_connections(), 2);

    proxy.heal();
    assert_eq!(
        read_n(&mut c, 4).await,
        b"bcde",
        "held bytes arrive, in order"
    );
    assert_eq!(read_n(&mut late, 1).await, b"x");
    c.write_all(b"f").await.unwrap();
    assert_eq!(read_n(&mut c, 1).await, b"f", "and bytes pass again");
}

#[tokio::test]
async fn a_stall_holds_replies_already_on_their_way_back() {
    // The request reached the server before the stall; its reply must still be held.
    let proxy = FaultProxy::start(echo_server().await).await;
    let mut c = client(&proxy).await;
    c.write_all(b"1").await.unwrap();
    assert_eq!(read_n(&mut c, 1).await, b"1");
    proxy.latency(QUIET / 2);
    c.write_all(b"2").await.unwrap();
    // The chunk is on its way (delayed) when the stall begins: the stall wins.
    tokio::time::sleep(QUIET / 4).await;
    proxy.stall();
    assert!(silent(&mut c).await);
    proxy.heal();
    assert_eq!(read_n(&mut c, 1).await, b"2");
}

#[tokio::test]
async fn a_cut_closes_every_connection_and_accepts_new_ones() {
    let proxy = FaultProxy::start(echo_server().await).await;
    let mut a = client(&proxy).await;
    let mut b = client(&proxy).await;
    a.write_all(b"a").await.unwrap();
    b.write_all(b"b").await.unwrap();
    read_n(&mut a, 1).await;
    read_n(&mut b, 1).await;

    proxy.cut(NewConnections::Accept);
    assert!(closed(&mut a).await);
    assert!(closed(&mut b).await);
    let mut c = client(&proxy).await;
    c.write_all(b"c").await.unwrap();
    assert_eq!(read_n(&mut c, 1).await, b"c");
    assert_eq!(proxy.open_connections(), 1);
    assert_eq!(proxy.accepted_connections(), 3);
}

#[tokio::test]
async fn a_refusing_cut_closes_new_connections_until_heal() {
    let proxy = FaultProxy::start(echo_server().await).await;
    let mut a = client(&proxy).await;
    a.write_all(b"a").await.unwrap();
    read_n(&mut a, 1).await;
    proxy.cut(NewConnections::Refuse);
    assert!(closed(&mut a).await);
    let mut refused = client(&proxy).await;
    assert!(closed(&mut refused).await);
    assert_eq!(proxy.accepted_connections(), 1);

    proxy.heal();
    let mut c = client(&proxy).await;
    c.write_all(b"ok").await.unwrap();
    assert_eq!(read_n(&mut c, 2).await, b"ok");
}

#[tokio::test]
async fn a_cut_during_a_stall_drops_what_was_held() {
    let proxy = FaultProxy::start(echo_server().await).await;
    let mut a = client(&proxy).await;
    proxy.stall();
    a.write_all(b"held").await.unwrap();
    assert!(silent(&mut a).await);
    proxy.cut(NewConnections::Accept);
    assert!(closed(&mut a).await, "closed, without the held bytes");
}

#[tokio::test]
async fn latency_delays_each_chunk() {
    let proxy = FaultProxy::start(echo_server().await).await;
    let mut c = client(&proxy).await;
    let delay = Duration::from_millis(200);
    proxy.latency(delay);
    let start = Instant::now();
    c.write_all(b"slow").await.unwrap();
    assert_eq!(read_n(&mut c, 4).await, b"slow");
    // Delayed once on the way in and once on the way out: a lower bound, not a speed claim.
    assert!(start.elapsed() >= delay * 2, "{:?}", start.elapsed());
}

#[tokio::test]
async fn dropping_the_proxy_closes_its_connections() {
    let proxy = FaultProxy::start(echo_server().await).await;
    let mut c = client(&proxy).await;
    c.write_all(b"a").await.unwrap();
    read_n(&mut c, 1).await;
    drop(proxy);
    assert!(closed(&mut c).await);
}

#[tokio::test]
async fn a_black_hole_holds_open_connections_for_good_and_passes_new_ones() {
    let proxy = FaultProxy::start(echo_server().await).await;
    let mut old = client(&proxy).await;
    old.write_all(b"a").await.unwrap();
    read_n(&mut old, 1).await;
    proxy.black_hole();
    old.write_all(b"b").await.unwrap();
    let mut new = client(&proxy).await;
    new.write_all(b"c").await.unwrap();
    assert_eq!(read_n(&mut new, 1).await, b"c");
    proxy.heal();
    assert!(silent(&mut old).await, "held even after heal");
    proxy.cut(NewConnections::Accept);
    assert!(closed(&mut old).await);
}
