//! `serve`: the MCP server over stdio, or over streamable HTTP with `--http`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use clap::builder::RangedU64ValueParser;

use super::{CliError, Common, StoreArgs, load_policy};
use crate::accounts::Accounts;
use crate::mcp::http::{
    ConnLimits, DEFAULT_ADDR, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_CONNECTIONS_PER_PEER, DEFAULT_MAX_SESSIONS, DEFAULT_MAX_SESSIONS_PER_TOKEN,
    ENV_TOKEN_NAME, HttpOptions, Tokens,
};
use crate::model::InputError;
use crate::service::Planner;

/// The environment variable holding one bearer token (named `env` in the logs).
pub const TOKEN_ENV: &str = "EXPANSION_PLANNER_TOKEN";

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// A directory the import_accounts tool may read exports from (repeatable); without
    /// one, the tool refuses every path.
    #[arg(long, value_name = "DIR")]
    pub import_dir: Vec<PathBuf>,
    /// Offer no MCP App views (the plan and the segment drawn inside the client), even to
    /// clients that support them; every answer keeps its text and structured content.
    #[arg(long)]
    pub no_views: bool,
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub http: HttpArgs,
}

/// Options of the HTTP transport; each needs `--http`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Streamable HTTP")]
pub struct HttpArgs {
    /// Serve MCP over streamable HTTP at http://ADDR/mcp (and GET /healthz) instead of stdio;
    /// ADDR defaults to 127.0.0.1:8765.
    #[arg(
        long,
        value_name = "ADDR",
        num_args = 0..=1,
        default_missing_value = DEFAULT_ADDR,
    )]
    pub http: Option<String>,
    /// Keep no sessions on the server: replicas behind a load balancer need no sticky sessions.
    #[arg(long, requires = "http")]
    pub stateless: bool,
    /// Bearer tokens, one `name:token` per line (or one bare token, named `default`).
    /// Also read: the token in EXPANSION_PLANNER_TOKEN (named `env`). Required off loopback.
    #[arg(long, value_name = "FILE", requires = "http")]
    pub auth_token_file: Option<PathBuf>,
    /// Another accepted Host header value (`name` or `name:port`); repeatable. Loopback names
    /// and the IP bound are always accepted.
    #[arg(long, value_name = "HOST", requires = "http")]
    pub allowed_host: Vec<String>,
    /// Another accepted browser Origin (`https://app.example.com`, `http://host:*`);
    /// repeatable. Loopback origins are always accepted; any other Origin gets 403.
    #[arg(long, value_name = "ORIGIN", requires = "http")]
    pub allowed_origin: Vec<String>,
    /// Largest request body accepted (413 above).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES,
          value_parser = RangedU64ValueParser::<usize>::new().range(1024..=64 * 1024 * 1024),
          requires = "http")]
    pub max_body_bytes: usize,
    /// Deadline of one request, from its first byte to its reply; also how long shutdown
    /// waits for calls in flight.
    #[arg(long, value_name = "SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600), requires = "http")]
    pub request_timeout_secs: u64,
    /// Most sessions open at once (503 for new ones beyond it); idle sessions expire after 5 minutes.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_SESSIONS,
          value_parser = RangedU64ValueParser::<usize>::new().range(1..=1_000_000),
          requires = "http")]
    pub max_sessions: usize,
    /// Most sessions one token holds at once (429 beyond it); without tokens, one client
    /// address (all of loopback is one client then).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_SESSIONS_PER_TOKEN,
          value_parser = RangedU64ValueParser::<usize>::new().range(1..=1_000_000),
          requires = "http")]
    pub max_sessions_per_token: usize,
    /// Time a client has to send a request's head, from connecting or from the end of the
    /// previous reply; the connection is closed after it.
    #[arg(long, value_name = "SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=3600), requires = "http")]
    pub header_read_timeout_secs: u64,
    /// A connection with no request for this long after a reply is closed.
    #[arg(long, value_name = "SECS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..=3600), requires = "http")]
    pub idle_timeout_secs: u64,
    /// Most connections open at once; more are closed on arrival. Keep it under the
    /// process's file-descriptor limit (`ulimit -n`).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CONNECTIONS,
          value_parser = RangedU64ValueParser::<usize>::new().range(1..=1_000_000),
          requires = "http")]
    pub max_connections: usize,
    /// Most connections open at once from one client address.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CONNECTIONS_PER_PEER,
          value_parser = RangedU64ValueParser::<usize>::new().range(1..=1_000_000),
          requires = "http")]
    pub max_connections_per_peer: usize,
}

/// The allowed import directories, resolved once so that a later `..` or symlink cannot
/// widen them.
pub fn import_dirs(dirs: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    dirs.iter()
        .map(|d| {
            let real = d
                .canonicalize()
                .map_err(|e| anyhow::anyhow!("--import-dir {}: {e}", d.display()))?;
            if !real.is_dir() {
                return Err(
                    anyhow::anyhow!("--import-dir {} is not a directory", d.display()).into(),
                );
            }
            Ok(real)
        })
        .collect()
}

pub fn run(a: ServeArgs) -> Result<(), CliError> {
    let policy = load_policy(a.common.policy.as_ref())?;
    // Validate everything the user typed before starting anything.
    let http = match &a.http.http {
        Some(addr) => Some(http_config(&a.http, addr)?),
        None => None,
    };
    let dirs = import_dirs(&a.import_dir)?;
    let accounts = if http.is_some() {
        // A team server: a database that cannot be opened stops it at once.
        Accounts::from(a.store.open()?)
    } else {
        // One client on a pipe, which waits for the answer to `initialize` before anything
        // else: the database opens after that answer, on the warm-up thread.
        let store = a.store.clone();
        Accounts::deferred(move || {
            store
                .open()
                .map_err(|e| format!("cannot open the account store: {e}"))
        })
    };
    let planner = Planner::new(policy, accounts)
        .with_import_dirs(dirs)
        .with_views(!a.no_views)
        .labelled_demo(a.store.demo);
    match http {
        Some((addr, opts)) => {
            // Many clients at once: one worker per core.
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .max_blocking_threads(crate::mcp::MAX_BLOCKING_THREADS)
                .build()
                .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
            rt.block_on(serve_http(planner, addr, opts))?;
        }
        None => {
            // One client on one pipe: a single thread answers a call with no hand-offs
            // between threads (see the stdio bench); tool calls run on its blocking pool,
            // so that pings are answered while a long one runs.
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .max_blocking_threads(crate::mcp::MAX_BLOCKING_THREADS)
                .build()
                .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
            rt.block_on(crate::mcp::serve_stdio(planner))?;
        }
    }
    Ok(())
}

fn http_config(a: &HttpArgs, addr: &str) -> Result<(SocketAddr, HttpOptions), CliError> {
    let addr: SocketAddr = addr.parse().map_err(|_| {
        InputError::one(
            "--http",
            format!("`{addr}` is not an IP:PORT address such as {DEFAULT_ADDR} or 0.0.0.0:8765"),
        )
    })?;
    let mut pairs = Vec::new();
    if let Some(path) = &a.auth_token_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read the token file {}: {e}", path.display()))?;
        pairs = Tokens::parse_file(&text).map_err(|e| {
            InputError::one("--auth-token-file", format!("{}: {e}", path.display()))
        })?;
    }
    if let Some(value) = std::env::var_os(TOKEN_ENV) {
        let token = value
            .into_string()
            .map_err(|_| InputError::one(TOKEN_ENV, "is not valid UTF-8"))?;
        let token = token.trim();
        if token.is_empty() {
            return Err(
                InputError::one(TOKEN_ENV, "is set but empty; unset it or give a token").into(),
            );
        }
        let env = (ENV_TOKEN_NAME.to_string(), token.to_string());
        // Checked on its own first, so a bad token here is not blamed on the file.
        Tokens::new(vec![env.clone()]).map_err(|e| InputError::one(TOKEN_ENV, e))?;
        pairs.push(env);
    }
    let tokens = Tokens::new(pairs).map_err(|e| InputError::one("--auth-token-file", e))?;
    if tokens.is_empty() && !addr.ip().is_loopback() {
        return Err(InputError::one(
            "--http",
            format!(
                "{addr} is not a loopback address: serving beyond this machine needs a bearer \
                 token; give --auth-token-file FILE or set {TOKEN_ENV}"
            ),
        )
        .into());
    }
    let opts = HttpOptions {
        stateless: a.stateless,
        tokens,
        allowed_hosts: a.allowed_host.clone(),
        allowed_origins: a.allowed_origin.clone(),
        max_body_bytes: a.max_body_bytes,
        request_timeout: Duration::from_secs(a.request_timeout_secs),
        max_sessions: a.max_sessions,
        max_sessions_per_token: a.max_sessions_per_token,
        conn: ConnLimits {
            header_read_timeout: Duration::from_secs(a.header_read_timeout_secs),
            idle_timeout: Duration::from_secs(a.idle_timeout_secs),
            max_connections: a.max_connections,
            max_connections_per_peer: a.max_connections_per_peer,
        },
        // Set in `serve_http`, once the store is known.
        readiness: None,
    };
    Ok((addr, opts))
}

/// The HTTP server's own lines are logged under its module, which the default filter
/// shows at `info`.
const HTTP_LOG: &str = "expansion_planner::mcp::http";

/// Completes on SIGTERM or Ctrl-C (SIGINT).
async fn shutdown_signal() {
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
        () = ctrl_c => tracing::info!(target: HTTP_LOG, "Ctrl-C received"),
        () = term => tracing::info!(target: HTTP_LOG, "SIGTERM received"),
    }
}

/// `serve --http`: binds `addr`, serves the expansion planner until SIGTERM or Ctrl-C.
async fn serve_http(
    planner: Planner,
    addr: SocketAddr,
    mut opts: HttpOptions,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
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
        target: HTTP_LOG,
        url = %format!("http://{local}/mcp"),
        stateless = opts.stateless,
        auth = %auth,
        allowed_hosts = ?opts.allowed_hosts,
        allowed_origins = ?opts.allowed_origins,
        max_body_bytes = opts.max_body_bytes,
        request_timeout_secs = opts.request_timeout.as_secs_f64(),
        max_sessions = opts.max_sessions,
        max_sessions_per_token = opts.max_sessions_per_token,
        header_read_timeout_secs = opts.conn.header_read_timeout.as_secs_f64(),
        idle_timeout_secs = opts.conn.idle_timeout.as_secs_f64(),
        max_connections = opts.conn.max_connections,
        max_connections_per_peer = opts.conn.max_connections_per_peer,
        "serving MCP over streamable HTTP"
    );
    if opts.conn.idle_timeout > opts.conn.header_read_timeout {
        tracing::warn!(
            "--idle-timeout-secs is longer than --header-read-timeout-secs: hyper's header \
             timer also runs while a connection waits for its next request, so idle \
             connections close after the header timeout"
        );
    }
    check_fd_limit(opts.conn.max_connections);
    // `/healthz` answers 503 while the account store does not (a team's PostgreSQL gone).
    let store = planner.clone();
    opts.readiness = Some(crate::http::health::Readiness::new(move || {
        store.check_store()
    }));
    let proto = crate::mcp::ExpansionServer::new(planner);
    crate::mcp::http::HttpServer::new(move || proto.clone(), opts)
        .serve(listener, shutdown_signal())
        .await
        .map_err(|e| anyhow::anyhow!("HTTP server on {local} failed: {e}"))
}

/// File descriptors kept free of connections: the listener, the database, log files.
const SPARE_FDS: u64 = 64;

/// Raises the soft limit on open files to the hard one, as Go's runtime does, so that the
/// connection cap, not the file-descriptor limit, is what a flood of sockets meets; warns
/// when the cap is still above what the limit allows (accepting then fails with EMFILE,
/// and `/healthz` goes unanswered, until connections close).
fn check_fd_limit(max_connections: usize) {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let limit = getrlimit(Resource::Nofile);
        let mut current = limit.current;
        // `None` is unlimited: raise only a finite soft limit below the hard one.
        let below_hard = match (current, limit.maximum) {
            (Some(soft), Some(hard)) => soft < hard,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if below_hard {
            let raised = Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            };
            match setrlimit(Resource::Nofile, raised) {
                Ok(()) => current = limit.maximum,
                Err(e) => tracing::debug!("cannot raise the open-file limit: {e}"),
            }
        }
        if let Some(fds) = current
            && max_connections as u64 + SPARE_FDS > fds
        {
            tracing::warn!(
                open_file_limit = fds,
                "--max-connections {max_connections} does not fit under the open-file limit \
                 ({fds}, less {SPARE_FDS} spare): lower it, or raise `ulimit -n`"
            );
        }
    }
    #[cfg(not(unix))]
    let _ = max_connections;
}
