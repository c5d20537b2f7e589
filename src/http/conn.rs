//! Connections: hyper's HTTP/1 server with a header-read timeout, an idle keep-alive
//! timeout, and a cap on open connections in total and per peer address, so that clients
//! which trickle bytes or never send any cannot hold the server's sockets.
//!
//! This replaces `axum::serve`, which offers none of the three: hyper's
//! `http1::Builder::header_read_timeout` needs a timer and its own accept loop.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use crate::logging::Throttle;

/// How connections are bounded.
#[derive(Clone, Copy, Debug)]
pub struct ConnLimits {
    /// From accepting a connection, or finishing a reply on it, until a request's head
    /// has arrived whole.
    pub header_read_timeout: Duration,
    /// How long a connection may sit with no request after a reply.
    pub idle_timeout: Duration,
    pub max_connections: usize,
    pub max_connections_per_peer: usize,
}

static REFUSED_TOTAL: Throttle = Throttle::new();
static REFUSED_PEER: Throttle = Throttle::new();
static HEADER_TIMEOUT: Throttle = Throttle::new();
static IDLE: Throttle = Throttle::new();
static ACCEPT_ERROR: Throttle = Throttle::new();

/// The connections open per peer address.
#[derive(Default)]
struct Peers(Mutex<HashMap<IpAddr, usize>>);

/// One connection counted against its peer's cap, until dropped.
struct PeerSlot {
    peers: Arc<Peers>,
    ip: IpAddr,
}

impl Peers {
    fn enter(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<PeerSlot> {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let open = map.entry(ip).or_insert(0);
        if *open >= max {
            return None;
        }
        *open += 1;
        Some(PeerSlot {
            peers: self.clone(),
            ip,
        })
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut map = self.peers.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(open) = map.get_mut(&self.ip) {
            *open = open.saturating_sub(1);
            if *open == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

/// Open connections, for `mcp::http::Stats`.
#[derive(Clone)]
pub struct Open {
    total: Arc<Semaphore>,
    max: usize,
}

impl Open {
    pub fn new(max: usize) -> Open {
        Open {
            total: Arc::new(Semaphore::new(max)),
            max,
        }
    }

    pub fn count(&self) -> usize {
        self.max.saturating_sub(self.total.available_permits())
    }
}

/// Accepts connections until `stop` is cancelled, then drops the listener (new connections
/// are refused by the kernel) and asks every open connection to close once its current
/// request is answered. Each connection's task is tracked by `conns`.
pub async fn accept(
    listener: TcpListener,
    app: Router,
    limits: ConnLimits,
    open: Open,
    stop: CancellationToken,
    conns: TaskTracker,
) {
    let peers = Arc::new(Peers::default());
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, most likely: back off a little rather than
                    // spin; the connections open keep being served meanwhile.
                    if let Some(held) = ACCEPT_ERROR.admit() {
                        tracing::error!(held_back = held, "cannot accept a connection: {e}");
                    }
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_millis(50)) => {}
                        () = stop.cancelled() => break,
                    }
                    continue;
                }
            },
            () = stop.cancelled() => break,
        };
        let Ok(total) = open.total.clone().try_acquire_owned() else {
            refuse(
                &REFUSED_TOTAL,
                peer,
                "open connections",
                limits.max_connections,
                "--max-connections",
            );
            continue;
        };
        let Some(slot) = peers.enter(peer.ip(), limits.max_connections_per_peer) else {
            refuse(
                &REFUSED_PEER,
                peer,
                "open connections from this address",
                limits.max_connections_per_peer,
                "--max-connections-per-peer",
            );
            continue;
        };
        // Replies go out in several small writes (headers, SSE events, the last chunk);
        // with Nagle on, each exchange can stall for a delayed ACK (tens of ms).
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY: {e}");
        }
        conns.spawn(serve_one(
            stream,
            peer,
            app.clone(),
            http.clone(),
            limits,
            stop.clone(),
            (total, slot),
        ));
    }
    drop(listener);
}

fn refuse(throttle: &Throttle, peer: SocketAddr, what: &str, max: usize, flag: &str) {
    if let Some(held) = throttle.admit() {
        tracing::warn!(
            peer = %peer,
            max,
            held_back = held,
            "refused a connection: {max} {what} already ({flag})"
        );
    }
}

async fn serve_one(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    http: hyper::server::conn::http1::Builder,
    limits: ConnLimits,
    stop: CancellationToken,
    _slots: (OwnedSemaphorePermit, PeerSlot),
) {
    let (active, watch) = watch::channel(0usize);
    let active = Arc::new(active);
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        let busy = Busy::enter(active.clone());
        let app = app.clone();
        async move {
            let reply = app.oneshot(req).await;
            // The reply body holds `busy` until hyper drops it, after its last byte (or
            // when the client goes away).
            reply.map(|r| {
                r.map(|inner| {
                    Body::new(inner.map_frame(move |f| {
                        let _busy = &busy;
                        f
                    }))
                })
            })
        }
    });
    let conn = http.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let idle = idle(watch, limits.idle_timeout);
    tokio::pin!(idle);
    let mut closing = false;
    let result = loop {
        tokio::select! {
            result = conn.as_mut() => break result,
            () = &mut idle, if !closing => {
                closing = true;
                if let Some(held) = IDLE.admit() {
                    tracing::info!(
                        peer = %peer,
                        held_back = held,
                        "closing a connection idle for {} s (--idle-timeout-secs)",
                        limits.idle_timeout.as_secs_f64()
                    );
                }
                conn.as_mut().graceful_shutdown();
            }
            () = stop.cancelled(), if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    };
    match result {
        Ok(()) => {}
        Err(e) if e.is_timeout() => {
            if let Some(held) = HEADER_TIMEOUT.admit() {
                tracing::warn!(
                    peer = %peer,
                    held_back = held,
                    "closed a connection whose request head did not arrive within {} s \
                     (--header-read-timeout-secs)",
                    limits.header_read_timeout.as_secs_f64()
                );
            }
        }
        Err(e) => tracing::debug!(peer = %peer, "connection ended: {e}"),
    }
}

/// Completes once the connection has answered at least one request and then carried none
/// for `timeout`. Before the first request, hyper's header timer is the bound.
async fn idle(mut watch: watch::Receiver<usize>, timeout: Duration) {
    if watch.changed().await.is_err() {
        return std::future::pending().await;
    }
    loop {
        if watch.wait_for(|n| *n == 0).await.is_err() {
            return std::future::pending().await;
        }
        match tokio::time::timeout(timeout, watch.changed()).await {
            Err(_elapsed) => return,
            Ok(Ok(())) => {}
            Ok(Err(_closed)) => return std::future::pending().await,
        }
    }
}

/// One request on the connection, from its head to its reply's last byte.
struct Busy(Arc<watch::Sender<usize>>);

impl Busy {
    fn enter(active: Arc<watch::Sender<usize>>) -> Busy {
        active.send_modify(|n| *n += 1);
        Busy(active)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}
