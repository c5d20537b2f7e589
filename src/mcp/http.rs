//! MCP over streamable HTTP for a team: rmcp's `StreamableHttpService` at `/mcp` and
//! `GET /healthz`, with what a shared server needs in front of `/mcp`: bearer tokens, Host
//! and Origin allow-lists, a body limit, a per-request deadline, a ceiling on open sessions,
//! one log line per request, and a shutdown that lets calls in flight finish.
//!
//! The server type is the one stdio serves ([`ExpansionServer`]); this module only adds the
//! transport around it. [`HttpServer`] is generic over the handler so tests can put a
//! deliberately slow one behind the same gate.

mod auth;
mod gate;
mod sessions;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::{any, get};
use axum::serve::ListenerExt;
use rmcp::ServerHandler;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub use self::auth::{AuthFailure, DEFAULT_TOKEN_NAME, ENV_TOKEN_NAME, MIN_TOKEN_CHARS, Tokens};
use self::gate::Gate;
use self::sessions::BoundedSessions;
use super::ExpansionServer;
use crate::service::Planner;

/// Where `serve --http` listens when no address is given.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8765";
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_MAX_SESSIONS: usize = 1024;

/// Host names always accepted: a request can only carry them if it reached the socket
/// directly, which a DNS-rebinding page cannot arrange.
const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];
/// Browser origins always accepted: pages served from this machine.
const LOOPBACK_ORIGINS: [&str; 6] = [
    "http://localhost:*",
    "http://127.0.0.1:*",
    "http://[::1]:*",
    "https://localhost:*",
    "https://127.0.0.1:*",
    "https://[::1]:*",
];

/// Everything configurable about the HTTP transport.
#[derive(Clone, Debug)]
pub struct HttpOptions {
    /// No server-side sessions: every POST is served on its own, with a JSON reply.
    pub stateless: bool,
    /// Bearer tokens; empty means no token is asked for (allowed on loopback only).
    pub tokens: Tokens,
    /// `Host` values accepted besides the loopback names (`name` or `name:port`).
    pub allowed_hosts: Vec<String>,
    /// `Origin` values accepted besides loopback origins (`https://app.example.com`,
    /// `https://app.example.com:8443`, `http://host:*`).
    pub allowed_origins: Vec<String>,
    pub max_body_bytes: usize,
    /// The deadline of one request, from its first byte to the end of its reply; also how
    /// long shutdown waits for calls in flight.
    pub request_timeout: Duration,
    /// Ceiling on open sessions (stateful mode).
    pub max_sessions: usize,
}

impl Default for HttpOptions {
    fn default() -> HttpOptions {
        HttpOptions {
            stateless: false,
            tokens: Tokens::default(),
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_sessions: DEFAULT_MAX_SESSIONS,
        }
    }
}

/// Counts of what the server holds right now: open sessions and requests in flight.
#[derive(Clone, Default)]
pub struct Stats {
    sessions: Option<Arc<BoundedSessions>>,
    in_flight: InFlight,
}

impl Stats {
    /// Open sessions (always 0 when stateless).
    pub async fn sessions(&self) -> usize {
        match &self.sessions {
            Some(s) => s.len().await,
            None => 0,
        }
    }

    /// Requests being read or answered.
    pub fn in_flight(&self) -> usize {
        self.in_flight.count()
    }
}

/// The number of requests in flight, and a way to wait until there are none.
#[derive(Clone, Default)]
struct InFlight(Arc<(AtomicUsize, Notify)>);

struct InFlightGuard(InFlight);

impl InFlight {
    fn enter(&self) -> InFlightGuard {
        self.0.0.fetch_add(1, Ordering::SeqCst);
        InFlightGuard(self.clone())
    }

    fn count(&self) -> usize {
        self.0.0.load(Ordering::SeqCst)
    }

    async fn idle(&self) {
        loop {
            let notified = self.0.1.notified();
            if self.count() == 0 {
                return;
            }
            notified.await;
        }
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        if self.0.0.0.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.0.1.notify_waiters();
        }
    }
}

/// The HTTP front end, built and ready to serve on a listener.
pub struct HttpServer {
    router: Router,
    stats: Stats,
    /// Cancelling this ends every session and open SSE stream.
    mcp_ct: CancellationToken,
    /// Cancelled when shutdown begins: `/healthz` then answers 503.
    draining: CancellationToken,
    drain_deadline: Duration,
}

impl HttpServer {
    /// Builds the router; `factory` makes one handler per session (or per request when
    /// stateless), so it should be cheap, e.g. a clone.
    pub fn new<S>(factory: impl Fn() -> S + Send + Sync + 'static, opts: HttpOptions) -> HttpServer
    where
        S: ServerHandler + Send + 'static,
    {
        let mcp_ct = CancellationToken::new();
        let draining = CancellationToken::new();
        let hosts: Vec<String> = LOOPBACK_HOSTS
            .iter()
            .map(|h| h.to_string())
            .chain(opts.allowed_hosts.iter().cloned())
            .collect();
        let origins: Vec<String> = LOOPBACK_ORIGINS
            .iter()
            .map(|o| o.to_string())
            .chain(opts.allowed_origins.iter().cloned())
            .collect();
        // rmcp validates Host and, once given a list, Origin; `enforce_origin_validation`
        // keeps Origin checked whatever the list holds (the spec says servers MUST).
        let config = StreamableHttpServerConfig::default()
            .with_allowed_hosts(hosts)
            .with_allowed_origins(origins)
            .enforce_origin_validation()
            .with_max_request_body_bytes(opts.max_body_bytes)
            .with_cancellation_token(mcp_ct.child_token());
        let factory = move || Ok(factory());
        let (mcp, sessions): (gate::McpService, _) = if opts.stateless {
            let config = config
                .with_legacy_session_mode(false)
                .with_json_response(true);
            let service = Arc::new(StreamableHttpService::new(
                factory,
                Arc::new(NeverSessionManager::default()),
                config,
            ));
            (
                Arc::new(move |req| {
                    let service = service.clone();
                    Box::pin(async move { service.handle(req).await })
                }),
                None,
            )
        } else {
            let sessions = Arc::new(BoundedSessions::new(opts.max_sessions));
            let service = Arc::new(StreamableHttpService::new(
                factory,
                sessions.clone(),
                config,
            ));
            (
                Arc::new(move |req| {
                    let service = service.clone();
                    Box::pin(async move { service.handle(req).await })
                }),
                Some(sessions),
            )
        };
        let stats = Stats {
            sessions,
            in_flight: InFlight::default(),
        };
        let gate = Arc::new(Gate {
            tokens: opts.tokens,
            max_body_bytes: opts.max_body_bytes,
            request_timeout: opts.request_timeout,
            stats: stats.clone(),
            mcp,
        });
        let health = draining.clone();
        let router = Router::new()
            .route("/mcp", any(gate::mcp).with_state(gate))
            .route(
                "/healthz",
                get(move || {
                    let draining = health.is_cancelled();
                    async move {
                        if draining {
                            (axum::http::StatusCode::SERVICE_UNAVAILABLE, "draining\n")
                        } else {
                            (axum::http::StatusCode::OK, "ok\n")
                        }
                    }
                }),
            );
        HttpServer {
            router,
            stats,
            mcp_ct,
            draining,
            drain_deadline: opts.request_timeout,
        }
    }

    /// A handle on the live counts, usable while [`HttpServer::serve`] runs.
    pub fn stats(&self) -> Stats {
        self.stats.clone()
    }

    /// Serves until `shutdown` completes, then stops accepting connections, lets requests
    /// in flight finish (up to the request timeout), closes every session and returns.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let HttpServer {
            router,
            stats,
            mcp_ct,
            draining,
            drain_deadline,
        } = self;
        let drainer = tokio::spawn({
            let draining = draining.clone();
            let mcp_ct = mcp_ct.clone();
            let in_flight = stats.in_flight.clone();
            async move {
                shutdown.await;
                tracing::info!(
                    in_flight = in_flight.count(),
                    "shutting down: accepting no new connections, finishing requests in flight"
                );
                draining.cancel();
                if tokio::time::timeout(drain_deadline, in_flight.idle())
                    .await
                    .is_err()
                {
                    tracing::warn!(
                        in_flight = in_flight.count(),
                        "requests still in flight at the drain deadline; closing them"
                    );
                }
                // Only now end sessions and SSE streams: cancelling earlier would cut the
                // replies of the calls we just waited for.
                mcp_ct.cancel();
            }
        });
        let app = router.into_make_service_with_connect_info::<SocketAddr>();
        // Replies go out in several small writes (headers, SSE events, the last chunk);
        // with Nagle on, each exchange can stall for a delayed ACK (tens of ms).
        let listener = listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!("cannot set TCP_NODELAY: {e}");
            }
        });
        let server =
            axum::serve(listener, app).with_graceful_shutdown(draining.clone().cancelled_owned());
        let result = tokio::select! {
            r = server.into_future() => r,
            // A client that keeps its connection open after every stream has ended must not
            // hold the process up for ever.
            () = async {
                mcp_ct.cancelled().await;
                tokio::time::sleep(Duration::from_secs(5)).await;
            } => {
                tracing::warn!("connections still open 5 s after shutdown; exiting anyway");
                Ok(())
            }
        };
        mcp_ct.cancel();
        drainer.abort();
        tracing::info!("HTTP server stopped");
        result
    }
}

/// Completes on SIGTERM or Ctrl-C (SIGINT).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C received"),
        () = term => tracing::info!("SIGTERM received"),
    }
}

/// `serve --http`: binds `addr`, serves the expansion planner until SIGTERM or Ctrl-C.
pub async fn serve(
    planner: Planner,
    addr: SocketAddr,
    mut opts: HttpOptions,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    let local = listener
        .local_addr()
        .map_err(|e| anyhow::anyhow!("cannot read the address bound for {addr}: {e}"))?;
    // A client reaching a specific address by IP sends that IP as Host; accepting it is
    // safe (rebinding needs a name the attacker controls) and saves a flag.
    if !local.ip().is_unspecified() && !local.ip().is_loopback() {
        opts.allowed_hosts.push(local.ip().to_string());
    }
    if !local.ip().is_loopback() && opts.allowed_hosts.is_empty() {
        tracing::warn!(
            "listening on all interfaces with only loopback Host names allowed: clients using \
             a host name get 403 until it is given with --allowed-host"
        );
    }
    let auth = if opts.tokens.is_empty() {
        "none (loopback only)".to_string()
    } else {
        format!("bearer, tokens: {}", opts.tokens.names().join(", "))
    };
    tracing::info!(
        url = %format!("http://{local}/mcp"),
        stateless = opts.stateless,
        auth = %auth,
        allowed_hosts = ?opts.allowed_hosts,
        allowed_origins = ?opts.allowed_origins,
        max_body_bytes = opts.max_body_bytes,
        request_timeout_secs = opts.request_timeout.as_secs_f64(),
        max_sessions = opts.max_sessions,
        "serving MCP over streamable HTTP"
    );
    let proto = ExpansionServer::new(planner);
    HttpServer::new(move || proto.clone(), opts)
        .serve(listener, shutdown_signal())
        .await
        .map_err(|e| anyhow::anyhow!("HTTP server on {local} failed: {e}"))
}
