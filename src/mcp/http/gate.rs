//! What every `/mcp` request passes before and after rmcp: the bearer token, the body limit
//! and the deadline, the session ceiling, and one log line when the reply has been sent.
//!
//! Order matters: the token is checked before a byte of the body is read, so a caller
//! without one costs a header parse; the body is read under both the size limit and the
//! deadline, so a slow or huge upload is cut off; the deadline keeps running through the
//! reply, which on the session path is an SSE stream that rmcp opens at once.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use http_body::{Frame, SizeHint};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::time::{Instant, Sleep};

use super::auth::{AuthFailure, Tokens};
use super::{InFlightGuard, Stats};

/// rmcp's service, type-erased so stateful and stateless share one gate.
pub(super) type McpService = Arc<
    dyn Fn(
            axum::http::Request<Full<Bytes>>,
        )
            -> Pin<Box<dyn Future<Output = axum::http::Response<BoxBody<Bytes, Infallible>>> + Send>>
        + Send
        + Sync,
>;

/// JSON-RPC code for a request that ran out of time (the MCP SDKs' `RequestTimeout`).
pub const REQUEST_TIMEOUT_CODE: i64 = -32001;
/// How much of a reply is kept to find its outcome for the log; a longer one is logged as
/// `unknown` rather than buffered.
const SCAN_LIMIT: usize = 4 * 1024 * 1024;
const HEADER_SESSION_ID: &str = "mcp-session-id";

pub(super) struct Gate {
    pub tokens: Tokens,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    pub stats: Stats,
    pub mcp: McpService,
}

/// The `/mcp` endpoint.
pub(super) async fn mcp(
    State(gate): State<Arc<Gate>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
) -> Response {
    let mut log = RequestLog::new(&req, peer);
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    match gate.tokens.authorize(presented) {
        Ok(name) => log.token = name,
        Err(failure) => {
            log.finish(StatusCode::UNAUTHORIZED, Outcome::Unauthorized);
            return unauthorized(failure);
        }
    }
    let (parts, body) = req.into_parts();
    if parts.method == Method::POST {
        return post(&gate, parts, body, log).await;
    }
    // GET opens the session's SSE stream, DELETE ends a session: no body, no deadline (the
    // stream is meant to stay open; the session's idle timeout bounds it).
    let reply = (gate.mcp)(axum::http::Request::from_parts(parts, Full::default())).await;
    let outcome = if reply.status().is_success() {
        Outcome::Ok
    } else {
        Outcome::Rejected
    };
    log.finish(reply.status(), outcome);
    reply.map(Body::new)
}

async fn post(
    gate: &Gate,
    parts: axum::http::request::Parts,
    body: Body,
    mut log: RequestLog,
) -> Response {
    // Counted from the first byte: shutdown waits for a request still uploading too.
    let in_flight = gate.stats.in_flight.enter();
    let deadline = Instant::now() + gate.request_timeout;
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > gate.max_body_bytes as u64) {
        log.finish(StatusCode::PAYLOAD_TOO_LARGE, Outcome::TooLarge);
        return too_large(gate.max_body_bytes);
    }
    let read =
        tokio::time::timeout_at(deadline, Limited::new(body, gate.max_body_bytes).collect()).await;
    let bytes = match read {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
            log.finish(StatusCode::PAYLOAD_TOO_LARGE, Outcome::TooLarge);
            return too_large(gate.max_body_bytes);
        }
        Ok(Err(e)) => {
            log.finish(StatusCode::BAD_REQUEST, Outcome::Rejected);
            return plain(
                StatusCode::BAD_REQUEST,
                format!("bad request: cannot read the request body: {e}"),
            );
        }
        Err(_elapsed) => {
            log.finish(StatusCode::REQUEST_TIMEOUT, Outcome::Timeout);
            return plain(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "request timeout: the request body did not arrive within {}",
                    secs(gate.request_timeout)
                ),
            );
        }
    };
    let probe = Probe::of(&bytes);
    log.method = probe.method.as_deref().map(clean);
    log.tool = probe.tool().map(clean);
    if probe.method.as_deref() == Some("initialize")
        && !parts.headers.contains_key(HEADER_SESSION_ID)
        && let Some(sessions) = &gate.stats.sessions
        && sessions.len().await >= sessions.max()
    {
        log.finish(StatusCode::SERVICE_UNAVAILABLE, Outcome::SessionLimit);
        let mut r = plain(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "too many open sessions (limit {}): end idle sessions with DELETE /mcp, or retry later",
                sessions.max()
            ),
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        return r;
    }
    let request = axum::http::Request::from_parts(parts, Full::new(bytes));
    let reply = match tokio::time::timeout_at(deadline, (gate.mcp)(request)).await {
        Ok(reply) => reply,
        Err(_elapsed) => {
            log.finish(StatusCode::OK, Outcome::Timeout);
            return timed_out(probe.id.as_ref(), gate.request_timeout);
        }
    };
    let status = reply.status();
    let kind = match reply
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        Some(ct) if ct.starts_with("text/event-stream") => ReplyKind::Sse,
        Some(ct) if ct.starts_with("application/json") => ReplyKind::Json,
        _ => ReplyKind::Other,
    };
    if let Some(session) = reply
        .headers()
        .get(HEADER_SESSION_ID)
        .and_then(|v| v.to_str().ok())
    {
        log.session = Some(short_session(session));
    }
    // Only an SSE reply can still be waiting for the handler; a JSON reply is complete.
    let expiry = (kind == ReplyKind::Sse && probe.id.is_some()).then(|| {
        let event = timeout_sse_event(probe.id.as_ref(), gate.request_timeout);
        (Box::pin(tokio::time::sleep_until(deadline)), event)
    });
    let scanner = Scanner {
        kind,
        expected: probe.id,
        buf: Vec::new(),
        found: None,
        gave_up: false,
    };
    reply.map(|inner| {
        Body::new(Tracked {
            inner,
            expiry,
            scanner,
            status,
            log: Some(log),
            _in_flight: in_flight,
            done: false,
        })
    })
}

fn secs(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

fn plain(status: StatusCode, text: String) -> Response {
    let mut r = Response::new(Body::from(format!("{text}\n")));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn too_large(max: usize) -> Response {
    plain(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("payload too large: the request body exceeds {max} bytes (--max-body-bytes)"),
    )
}

fn unauthorized(failure: AuthFailure) -> Response {
    let (challenge, text) = match failure {
        AuthFailure::Missing => (
            r#"Bearer realm="expansion-planner""#,
            "unauthorized: this server needs a bearer token (Authorization: Bearer <token>)",
        ),
        AuthFailure::Invalid => (
            r#"Bearer realm="expansion-planner", error="invalid_token""#,
            "unauthorized: the bearer token is not one this server accepts",
        ),
    };
    let mut r = plain(StatusCode::UNAUTHORIZED, text.to_string());
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    r
}

fn timeout_error(id: Option<&Value>, timeout: Duration) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": {
            "code": REQUEST_TIMEOUT_CODE,
            "message": format!("request timed out after {} (--request-timeout-secs)", secs(timeout)),
        }
    })
}

/// The reply to a request whose handler did not answer in time: a JSON-RPC error carrying
/// the request's id, so the client can match it like any other answer.
fn timed_out(id: Option<&Value>, timeout: Duration) -> Response {
    let mut r = Response::new(Body::from(timeout_error(id, timeout).to_string()));
    if id.is_none() {
        *r.status_mut() = StatusCode::GATEWAY_TIMEOUT;
    }
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn timeout_sse_event(id: Option<&Value>, timeout: Duration) -> Bytes {
    // The leading newline ends any event the stream was in the middle of.
    Bytes::from(format!(
        "\nevent: message\ndata: {}\n\n",
        timeout_error(id, timeout)
    ))
}

/// What the log needs from a JSON-RPC request, read without the schema: anything that
/// does not parse is simply `-` in the log (rmcp answers it).
#[derive(Default, Deserialize)]
struct Probe {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    params: Option<ProbeParams>,
}

#[derive(Deserialize)]
struct ProbeParams {
    #[serde(default)]
    name: Option<Value>,
}

impl Probe {
    fn of(body: &[u8]) -> Probe {
        serde_json::from_slice(body).unwrap_or_default()
    }

    fn tool(&self) -> Option<&str> {
        if self.method.as_deref() != Some("tools/call") {
            return None;
        }
        self.params.as_ref()?.name.as_ref()?.as_str()
    }
}

/// A caller-chosen string made safe for one log line: at most 64 characters, anything
/// outside a conservative set replaced, so a tool name cannot forge log lines.
fn clean(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ':') {
                c
            } else {
                '?'
            }
        })
        .collect();
    if s.chars().count() > 64 {
        out.push('…');
    }
    out
}

/// Enough of a session id to correlate log lines; the whole id is a capability.
fn short_session(id: &str) -> String {
    clean(&id.chars().take(8).collect::<String>())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ReplyKind {
    Sse,
    Json,
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Ok,
    ToolError,
    RpcError(i64),
    Accepted,
    Timeout,
    ClientClosed,
    Unauthorized,
    TooLarge,
    SessionLimit,
    Rejected,
    Unknown,
}

impl Outcome {
    fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::ToolError => "tool_error",
            Outcome::RpcError(_) => "rpc_error",
            Outcome::Accepted => "accepted",
            Outcome::Timeout => "timeout",
            Outcome::ClientClosed => "client_closed",
            Outcome::Unauthorized => "unauthorized",
            Outcome::TooLarge => "too_large",
            Outcome::SessionLimit => "session_limit",
            Outcome::Rejected => "rejected",
            Outcome::Unknown => "unknown",
        }
    }

    /// Outcomes an operator should see without turning on `info`.
    fn is_alarming(self) -> bool {
        matches!(
            self,
            Outcome::Unauthorized | Outcome::TooLarge | Outcome::Timeout | Outcome::SessionLimit
        )
    }
}

/// One line per request, written once when the reply has been sent (or abandoned).
struct RequestLog {
    http_method: Method,
    peer: SocketAddr,
    started: Instant,
    token: Option<Arc<str>>,
    method: Option<String>,
    tool: Option<String>,
    session: Option<String>,
}

impl RequestLog {
    fn new(req: &Request, peer: SocketAddr) -> RequestLog {
        RequestLog {
            http_method: req.method().clone(),
            peer,
            started: Instant::now(),
            token: None,
            method: None,
            tool: None,
            session: req
                .headers()
                .get(HEADER_SESSION_ID)
                .and_then(|v| v.to_str().ok())
                .map(short_session),
        }
    }

    fn finish(&self, status: StatusCode, outcome: Outcome) {
        let duration_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        let error_code = match outcome {
            Outcome::RpcError(code) => Some(code),
            Outcome::Timeout => Some(REQUEST_TIMEOUT_CODE),
            _ => None,
        };
        macro_rules! line {
            ($level:expr) => {
                tracing::event!(
                    $level,
                    http = %self.http_method,
                    peer = %self.peer,
                    token = %self.token.as_deref().unwrap_or("-"),
                    method = %self.method.as_deref().unwrap_or("-"),
                    tool = %self.tool.as_deref().unwrap_or("-"),
                    status = status.as_u16(),
                    outcome = %outcome.name(),
                    error_code,
                    duration_ms = (duration_ms * 10.0).round() / 10.0,
                    session = %self.session.as_deref().unwrap_or("-"),
                    "mcp request"
                )
            };
        }
        if outcome.is_alarming() || status.is_server_error() {
            line!(tracing::Level::WARN);
        } else {
            line!(tracing::Level::INFO);
        }
    }
}

/// Finds the reply to the request's id in what rmcp sends back, for the log.
struct Scanner {
    kind: ReplyKind,
    expected: Option<Value>,
    buf: Vec<u8>,
    found: Option<Outcome>,
    gave_up: bool,
}

#[derive(Deserialize)]
struct Reply {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    result: Option<ReplyResult>,
    #[serde(default)]
    error: Option<ReplyError>,
}

#[derive(Deserialize)]
struct ReplyResult {
    #[serde(default, rename = "isError")]
    is_error: Option<bool>,
}

#[derive(Deserialize)]
struct ReplyError {
    #[serde(default)]
    code: i64,
}

impl Scanner {
    fn feed(&mut self, data: &[u8]) {
        if self.found.is_some()
            || self.gave_up
            || self.expected.is_none()
            || self.kind == ReplyKind::Other
        {
            return;
        }
        // A CR can only be a line ending here: JSON escapes control characters.
        self.buf.extend(data.iter().filter(|b| **b != b'\r'));
        if self.buf.len() > SCAN_LIMIT {
            self.gave_up = true;
            self.buf = Vec::new();
            return;
        }
        if self.kind != ReplyKind::Sse {
            return;
        }
        while let Some(end) = self.buf.windows(2).position(|w| w == b"\n\n") {
            let event: Vec<u8> = self.buf.drain(..end + 2).collect();
            if let Some(outcome) = self.sse_event(&event) {
                self.found = Some(outcome);
                self.buf = Vec::new();
                return;
            }
        }
    }

    fn sse_event(&self, event: &[u8]) -> Option<Outcome> {
        let text = std::str::from_utf8(event).ok()?;
        let data: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(|d| d.strip_prefix(' ').unwrap_or(d))
            .collect();
        if data.is_empty() {
            return None;
        }
        self.reply(data.join("\n").as_bytes())
    }

    fn reply(&self, json: &[u8]) -> Option<Outcome> {
        let reply: Reply = serde_json::from_slice(json).ok()?;
        if reply.id.is_none() || reply.id != self.expected {
            return None;
        }
        Some(match (reply.error, reply.result) {
            (Some(e), _) => Outcome::RpcError(e.code),
            (None, Some(r)) if r.is_error == Some(true) => Outcome::ToolError,
            (None, Some(_)) => Outcome::Ok,
            (None, None) => Outcome::Unknown,
        })
    }

    fn outcome(&mut self, status: StatusCode) -> Outcome {
        if status == StatusCode::ACCEPTED {
            return Outcome::Accepted;
        }
        if !status.is_success() {
            // An error status with a JSON-RPC body (a header mismatch, say) is still a
            // rejection by the transport, not an answer from a handler.
            return Outcome::Rejected;
        }
        if let Some(found) = self.found {
            return found;
        }
        if self.kind == ReplyKind::Json
            && !self.gave_up
            && let Some(found) = self.reply(&self.buf)
        {
            return found;
        }
        Outcome::Unknown
    }
}

/// rmcp's reply body, watched: it ends the reply with a timeout error if the deadline
/// passes first, finds the outcome for the log, and keeps the request counted as in flight
/// until the last byte has gone (or the client has gone).
struct Tracked {
    inner: BoxBody<Bytes, Infallible>,
    expiry: Option<(Pin<Box<Sleep>>, Bytes)>,
    scanner: Scanner,
    status: StatusCode,
    log: Option<RequestLog>,
    _in_flight: InFlightGuard,
    done: bool,
}

impl Tracked {
    fn finish(&mut self, outcome: Option<Outcome>) {
        if let Some(log) = self.log.take() {
            let outcome = outcome.unwrap_or_else(|| self.scanner.outcome(self.status));
            log.finish(self.status, outcome);
        }
    }
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.scanner.feed(data);
                }
                return Poll::Ready(Some(Ok(frame)));
            }
            Poll::Ready(Some(Err(never))) => match never {},
            Poll::Ready(None) => {
                this.done = true;
                this.finish(None);
                return Poll::Ready(None);
            }
            Poll::Pending => {}
        }
        if let Some((sleep, _)) = &mut this.expiry
            && sleep.as_mut().poll(cx).is_ready()
        {
            this.done = true;
            // The handler may have answered just before the deadline; then the stream
            // simply ends.
            let late = this.scanner.found.is_none();
            let event = this.expiry.take().map(|(_, event)| event);
            if late {
                this.finish(Some(Outcome::Timeout));
                if let Some(event) = event {
                    return Poll::Ready(Some(Ok(Frame::data(event))));
                }
            } else {
                this.finish(None);
            }
            return Poll::Ready(None);
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.done || (self.expiry.is_none() && self.inner.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        if self.expiry.is_some() {
            SizeHint::default()
        } else {
            self.inner.size_hint()
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if self.log.is_some() {
            // hyper stops polling once `is_end_stream` says so (a complete JSON reply, an
            // empty 202); dropped before that, the client went away.
            let outcome = if http_body::Body::is_end_stream(self) {
                None
            } else {
                Some(Outcome::ClientClosed)
            };
            self.finish(outcome);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_keeps_log_lines_whole() {
        assert_eq!(clean("check_health"), "check_health");
        assert_eq!(clean("a\nINFO forged=1"), "a?INFO?forged?1");
        assert_eq!(clean(&"x".repeat(100)).chars().count(), 65);
    }

    #[test]
    fn probe_reads_method_tool_and_id() {
        let p = Probe::of(
            br#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"check_health","arguments":{"account":"x"}}}"#,
        );
        assert_eq!(p.id, Some(json!(7)));
        assert_eq!(p.tool(), Some("check_health"));
        let p = Probe::of(
            br#"{"jsonrpc":"2.0","id":"a","method":"prompts/get","params":{"name":"x"}}"#,
        );
        assert_eq!(p.tool(), None);
        let p = Probe::of(b"not json");
        assert!(p.method.is_none() && p.id.is_none());
    }

    fn scanner(kind: ReplyKind, id: Value) -> Scanner {
        Scanner {
            kind,
            expected: Some(id),
            buf: Vec::new(),
            found: None,
            gave_up: false,
        }
    }

    #[test]
    fn scanner_finds_the_reply_to_its_id_across_frames() {
        let mut s = scanner(ReplyKind::Sse, json!(3));
        s.feed(b"id: 0\nretry: 3000\ndata: \n\n");
        s.feed(b"data: {\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{}}\n\n");
        assert_eq!(s.found, None);
        s.feed(b"data: {\"jsonrpc\":\"2.0\",\"id\":3,\"res");
        s.feed(b"ult\":{\"isError\":true}}\r\n\r\n");
        assert_eq!(s.outcome(StatusCode::OK), Outcome::ToolError);

        let mut s = scanner(ReplyKind::Json, json!("x"));
        s.feed(br#"{"jsonrpc":"2.0","id":"x","error":{"code":-32602,"message":"m"}}"#);
        assert_eq!(s.outcome(StatusCode::OK), Outcome::RpcError(-32602));

        let mut s = scanner(ReplyKind::Sse, json!(1));
        s.feed(b"data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"content\":[]}}\n\n");
        assert_eq!(s.outcome(StatusCode::OK), Outcome::Ok);
        assert_eq!(s.outcome(StatusCode::ACCEPTED), Outcome::Accepted);
        assert_eq!(s.outcome(StatusCode::NOT_FOUND), Outcome::Rejected);
    }
}
