//! [`FaultProxy`]: a TCP proxy between a client and Redis that a test switches, at run time,
//! between the ways a network fails in production.
//!
//! - [`heal`](FaultProxy::heal) (the start state): bytes pass at once.
//! - [`stall`](FaultProxy::stall): every byte is held, in both directions, and nothing is
//!   closed — a partition, or a server stuck in a long command. Calls hang until their timeout.
//!   New connections are accepted and held the same way.
//! - [`heal`](FaultProxy::heal) after a stall: what was held is released, late (replies to
//!   calls that already timed out arrive now), then bytes pass again.
//! - [`cut`](FaultProxy::cut): every current connection is closed; new ones are accepted or
//!   refused (accepted and closed at once) per [`NewConnections`].
//! - [`black_hole`](FaultProxy::black_hole): the connections open now hold every byte for
//!   good, nothing closed, while new connections pass.
//! - [`latency`](FaultProxy::latency): every chunk read is forwarded after a delay (a stall
//!   that begins during the delay holds the chunk).
//!
//! The proxy runs on the test's tokio runtime, on a free loopback port, and stops when dropped
//! (closing every connection). A Redis Cluster announces its nodes' addresses (`CLUSTER
//! SLOTS`, `MOVED`): [`FaultProxy::for_cluster`] puts one proxy per node and makes each node
//! announce its proxy's port instead. [`RedisCluster::freeze`](crate::RedisCluster::freeze)
//! stalls a cluster without proxies.
//!
//! ```no_run
//! # async fn t() {
//! use tower_vigil_tests::{RedisServer, fault_proxy::{FaultProxy, NewConnections}};
//!
//! let server = RedisServer::start();
//! let proxy = FaultProxy::start(server.port()).await;
//! let url = proxy.url(); // give this to the client instead of server.url()
//! proxy.stall();
//! proxy.heal();
//! proxy.cut(NewConnections::Accept);
//! # }
//! ```

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What happens to connections arriving after a [`cut`](FaultProxy::cut).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewConnections {
    /// Accepted and forwarded as usual.
    Accept,
    /// Accepted and closed at once (the client sees the connection drop) until the next
    /// [`heal`](FaultProxy::heal).
    Refuse,
}

/// How bytes move right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flow {
    Pass,
    Stall,
    Delay(Duration),
}

#[derive(Clone, Copy, Debug)]
struct State {
    flow: Flow,
    /// Bumped by every cut: a connection ends when it sees a value other than its own.
    cuts: u64,
    /// Bumped by every black hole: a connection holds its bytes once it sees a value other
    /// than its own.
    holes: u64,
    refuse: bool,
}

/// A fault-injecting TCP proxy to one upstream loopback port. See the [module docs](self).
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    state: watch::Sender<State>,
    open: Arc<AtomicUsize>,
    accepted: Arc<AtomicUsize>,
    listener: JoinHandle<()>,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `127.0.0.1:{upstream}`, bytes passing.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub async fn start(upstream: u16) -> Self {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("binding a loopback port for the fault proxy");
        let addr = listener.local_addr().expect("the proxy's address");
        let (state, _) = watch::channel(State {
            flow: Flow::Pass,
            cuts: 0,
            holes: 0,
            refuse: false,
        });
        let open = Arc::new(AtomicUsize::new(0));
        let accepted = Arc::new(AtomicUsize::new(0));
        let upstream = SocketAddr::from((Ipv4Addr::LOCALHOST, upstream));
        let listener = tokio::spawn(accept_loop(
            listener,
            upstream,
            state.subscribe(),
            Arc::clone(&open),
            Arc::clone(&accepted),
        ));
        Self {
            addr,
            state,
            open,
            accepted,
            listener,
        }
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `redis://127.0.0.1:{port}`: the URL a client uses to go through the proxy.
    pub fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// Holds every byte in both directions from now on, keeping every connection open.
    pub fn stall(&self) {
        self.state.send_modify(|s| s.flow = Flow::Stall);
    }

    /// Releases what was held (late) and passes bytes at once from now on; accepts new
    /// connections again after a refusing cut.
    pub fn heal(&self) {
        self.state.send_modify(|s| {
            s.flow = Flow::Pass;
            s.refuse = false;
        });
    }

    /// Forwards every chunk `delay` after it was read, in both directions. The chunks of one
    /// direction of a connection wait in turn, as on a slow link.
    pub fn latency(&self, delay: Duration) {
        self.state.send_modify(|s| s.flow = Flow::Delay(delay));
    }

    /// Holds every byte of the connections open now, for good (until a cut or the drop),
    /// while new connections pass: a NAT or firewall that lost its state, or a failover that
    /// left old sockets dangling. Nothing tells the client; only a new connection works.
    pub fn black_hole(&self) {
        self.state.send_modify(|s| s.holes += 1);
    }

    /// Closes every current connection (bytes held by a stall are dropped with them); what
    /// happens to new ones is `new`. The flow (pass, stall, latency) is unchanged.
    pub fn cut(&self, new: NewConnections) {
        self.state.send_modify(|s| {
            s.cuts += 1;
            s.refuse = new == NewConnections::Refuse;
        });
    }

    /// Connections open through the proxy right now.
    pub fn open_connections(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// Connections accepted and forwarded since the start (refused ones not counted).
    pub fn accepted_connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        // Connection tasks end when the state sender goes (their `changed()` fails).
        self.listener.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    upstream: SocketAddr,
    state: watch::Receiver<State>,
    open: Arc<AtomicUsize>,
    accepted: Arc<AtomicUsize>,
) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        if state.borrow().refuse {
            drop(client);
            continue;
        }
        accepted.fetch_add(1, Ordering::SeqCst);
        let state = state.clone();
        let open = Arc::clone(&open);
        tokio::spawn(async move {
            let _open = OpenGuard::new(open);
            connection(client, upstream, state).await;
        });
    }
}

/// Counts one open connection for as long as it lives.
struct OpenGuard(Arc<AtomicUsize>);

impl OpenGuard {
    fn new(open: Arc<AtomicUsize>) -> Self {
        open.fetch_add(1, Ordering::SeqCst);
        Self(open)
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Forwards one client connection until either side ends it or a cut comes.
async fn connection(client: TcpStream, upstream: SocketAddr, mut state: watch::Receiver<State>) {
    let (born, hole) = {
        let s = state.borrow_and_update();
        (s.cuts, s.holes)
    };
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let (up, down) = (state.clone(), state.clone());
    let both = async move {
        let _ = tokio::try_join!(
            pump(client_read, server_write, up, hole),
            pump(server_read, client_write, down, hole),
        );
    };
    let cut = async {
        // Ends on a cut or when the proxy is dropped (the sender is gone).
        let _ = state.wait_for(|s| s.cuts != born).await;
    };
    // Returning drops all four halves: both sockets close.
    tokio::select! {
        () = both => {}
        () = cut => {}
    }
}

/// Copies `from` to `to` chunk by chunk, each chunk (and the end of the stream) waiting while
/// the flow is stalled or once a black hole swallowed this connection (born at `hole`).
async fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    mut state: watch::Receiver<State>,
    hole: u64,
) -> std::io::Result<()> {
    let held = move |s: &State| s.flow == Flow::Stall || s.holes != hole;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = from.read(&mut buf).await?;
        loop {
            let flow = state
                .wait_for(|s| !held(s))
                .await
                .map_err(|_| std::io::Error::other("proxy dropped"))?
                .flow;
            if let Flow::Delay(delay) = flow {
                tokio::time::sleep(delay).await;
                // A stall that began during the delay holds this chunk too.
                if held(&state.borrow()) {
                    continue;
                }
            }
            break;
        }
        if n == 0 {
            to.shutdown().await?;
            return Ok(());
        }
        to.write_all(&buf[..n]).await?;
    }
}

mod cluster;
#[cfg(test)]
mod tests;
