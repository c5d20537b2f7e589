//! MCP over streamable HTTP for a team: rmcp's `StreamableHttpService` at `/mcp` and
//! `GET /healthz`, on [`crate::http`]'s connections and token check, with a layer each for
//! session owners, the JSON-RPC deadline and one log line per request, and a shutdown that
//! lets calls in flight finish. rmcp checks Host, Origin and the body limit. [`HttpServer`]
//! is generic over the handler so tests can put a deliberately slow one behind the same gate.

mod jsonrpc;
mod log;
mod sessions;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::get;
use rmcp::ServerHandler;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_http::trace::TraceLayer;

pub use self::jsonrpc::REQUEST_TIMEOUT_CODE;
pub use self::log::RequestSpan;
use self::sessions::BoundedSessions;
pub use crate::http::auth::{
    AuthFailure, DEFAULT_TOKEN_NAME, ENV_TOKEN_NAME, MIN_TOKEN_CHARS, Tokens,
};
pub use crate::http::conn::ConnLimits;
pub use crate::http::health::Readiness;
use crate::http::{auth, conn};

/// Where `serve --http` listens when no address is given.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8765";
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_MAX_SESSIONS: usize = 1024;
pub const DEFAULT_MAX_SESSIONS_PER_TOKEN: usize = 64;
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(5);
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
pub const DEFAULT_MAX_CONNECTIONS_PER_PEER: usize = 256;
/// How long shutdown waits, after the calls in flight are done, for clients to close
/// their connections.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

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
    /// Ceiling on the sessions one token (or, without tokens, one peer address) holds.
    pub max_sessions_per_token: usize,
    pub conn: ConnLimits,
    /// What `/healthz` checks besides draining (`serve` checks the account store).
    pub readiness: Option<Readiness>,
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
            max_sessions_per_token: DEFAULT_MAX_SESSIONS_PER_TOKEN,
            conn: ConnLimits {
                header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
                idle_timeout: DEFAULT_IDLE_TIMEOUT,
                max_connections: DEFAULT_MAX_CONNECTIONS,
                max_connections_per_peer: DEFAULT_MAX_CONNECTIONS_PER_PEER,
            },
            readiness: None,
        }
    }
}

/// Counts of what the server holds right now.
#[derive(Clone)]
pub struct Stats {
    sessions: Option<Arc<BoundedSessions>>,
    in_flight: TaskTracker,
    open: conn::Open,
}

impl Stats {
    /// Open sessions (always 0 when stateless).
    pub async fn sessions(&self) -> usize {
        match &self.sessions {
            Some(s) => s.len().await,
            None => 0,
        }
    }

    /// POST requests being read or answered.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Open connections.
    pub fn connections(&self) -> usize {
        self.open.count()
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
    conn: ConnLimits,
}

impl HttpServer {
    /// Builds the router; `factory` makes one handler per session (or per request when
    /// stateless). `/mcp` is rmcp's service under five layers, outermost first: the log
    /// span (`tower_http` trace), the log line (written when the reply ends), the bearer
    /// token, the session owner, and the JSON-RPC deadline.
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
        let deadline = jsonrpc::Deadline {
            timeout: opts.request_timeout,
            tracker: TaskTracker::new(),
        };
        let in_flight = deadline.tracker.clone();
        let (mcp, sessions) = if opts.stateless {
            let config = config
                .with_legacy_session_mode(false)
                .with_json_response(true);
            let service = StreamableHttpService::new(
                factory,
                Arc::new(NeverSessionManager::default()),
                config,
            );
            let mcp = Router::new()
                .route_service("/mcp", service)
                .layer(from_fn_with_state(deadline, jsonrpc::deadline));
            (mcp, None)
        } else {
            let sessions = Arc::new(BoundedSessions::new(
                opts.max_sessions,
                opts.max_sessions_per_token,
            ));
            let service = StreamableHttpService::new(factory, sessions.clone(), config);
            let mcp = Router::new()
                .route_service("/mcp", service)
                .layer(from_fn_with_state(deadline, jsonrpc::deadline))
                .layer(from_fn_with_state(sessions.clone(), sessions::guard));
            (mcp, Some(sessions))
        };
        // `layer` wraps what is already there: the last one added sees a request first.
        let mcp = mcp
            .layer(from_fn_with_state(opts.tokens, auth::require_token))
            .layer(axum::middleware::from_fn(log::line))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(log::request_span)
                    .on_request(())
                    .on_response(())
                    .on_body_chunk(())
                    .on_eos(())
                    .on_failure(()),
            );
        let (health, ready) = (draining.clone(), opts.readiness.clone());
        let router = Router::new().merge(mcp).route(
            "/healthz",
            get(move || crate::http::health::healthz(health.is_cancelled(), ready.clone())),
        );
        let stats = Stats {
            sessions,
            in_flight,
            open: conn::Open::new(opts.conn.max_connections),
        };
        HttpServer {
            router,
            stats,
            mcp_ct,
            draining,
            drain_deadline: opts.request_timeout,
            conn: opts.conn,
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
            conn,
        } = self;
        let conns = TaskTracker::new();
        let acceptor = tokio::spawn(conn::accept(
            listener,
            router,
            conn,
            stats.open.clone(),
            draining.clone(),
            conns.clone(),
        ));
        shutdown.await;
        let in_flight = stats.in_flight.clone();
        tracing::info!(
            in_flight = in_flight.len(),
            "shutting down: accepting no new connections, finishing requests in flight"
        );
        // Stops the accept loop (dropping the listener) and asks each connection to close
        // once its current request is answered.
        draining.cancel();
        if let Err(e) = acceptor.await {
            tracing::warn!("the accept loop ended abnormally: {e}");
        }
        in_flight.close();
        if tokio::time::timeout(drain_deadline, in_flight.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                in_flight = in_flight.len(),
                "requests still in flight at the drain deadline; closing them"
            );
        }
        // Only now end sessions and SSE streams: cancelling earlier would cut the replies
        // of the calls we just waited for.
        mcp_ct.cancel();
        conns.close();
        // A client that keeps its connection open after every stream has ended must not
        // hold the process up for ever.
        if tokio::time::timeout(CLOSE_GRACE, conns.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                open = stats.open.count(),
                "connections still open {} s after shutdown; exiting anyway",
                CLOSE_GRACE.as_secs()
            );
        }
        tracing::info!("HTTP server stopped");
        Ok(())
    }
}
