//! What the HTTP transport writes to the log, and how long any of it may be.
//!
//! One line per `/mcp` request: `tower_http`'s trace layer opens [`request_span`], the
//! token check records the token's name and the tool call the tool and its outcome on it,
//! and [`line`] writes the line once the reply has ended. [`fields`] formats every field
//! of every log line (rmcp's included) cut to [`MAX_FIELD_CHARS`] with control characters
//! escaped, so a 900 KB request id or resource URI costs a short line, and a value cannot
//! forge a line of its own.

use std::fmt::{self, Write as _};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use axum::middleware::Next;
use tracing::Span;
use tracing::field::Empty;
use tracing_subscriber::field::MakeExt;
use tracing_subscriber::fmt::FormatFields;
use tracing_subscriber::fmt::format::Writer;

/// The longest a logged value may be, in characters, before it is cut.
pub const MAX_FIELD_CHARS: usize = 256;
/// Request ids and names chosen by clients are shown shorter still.
const MAX_NAME_CHARS: usize = 64;
const HEADER_SESSION_ID: &str = "mcp-session-id";
// SEP-2243: clients may repeat the JSON-RPC method in a header; reading it costs nothing,
// unlike parsing the body again. The tool is recorded by the call itself.
const HEADER_MCP_METHOD: &str = "mcp-method";

/// The span of one `/mcp` request: the token's name is recorded into it once checked, the
/// tool and its outcome once the tool has run.
pub(super) fn request_span(req: &Request<Body>) -> Span {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(p)| p.to_string());
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| clean(v, MAX_NAME_CHARS))
    };
    tracing::info_span!(
        "mcp",
        http = %req.method(),
        path = %clean(req.uri().path(), MAX_NAME_CHARS),
        peer = %peer.as_deref().unwrap_or("-"),
        token = Empty,
        session = %header(HEADER_SESSION_ID).map(|s| s.chars().take(8).collect::<String>()).as_deref().unwrap_or("-"),
        method = %header(HEADER_MCP_METHOD).as_deref().unwrap_or("-"),
        tool = Empty,
        outcome = Empty,
    )
}

/// The span of a `/mcp` request, carried in the request's extensions so that the tool call
/// (which runs in rmcp's session task, given the request's `http::request::Parts`) records
/// the tool and its outcome on the request's line.
#[derive(Clone)]
pub struct RequestSpan(pub Span);

/// The request's line, written when its reply ends (an SSE reply's last event, or the
/// client going away), so that it names the tool the request ran and how it ended.
/// Refusals an operator should see without turning on `info` are warnings.
pub(super) async fn line(mut req: Request<Body>, next: Next) -> Response<Body> {
    let started = Instant::now();
    let span = Span::current();
    req.extensions_mut().insert(RequestSpan(span.clone()));
    let (parts, body) = next.run(req).await.into_parts();
    let new_session = parts
        .headers
        .get(HEADER_SESSION_ID)
        .and_then(|v| v.to_str().ok())
        .map(|s| clean(&s.chars().take(8).collect::<String>(), 8));
    let line = Line {
        status: parts.status,
        new_session,
        started,
        span,
    };
    Response::from_parts(
        parts,
        Body::new(Logged {
            body,
            line: Some(line),
        }),
    )
}

struct Line {
    status: StatusCode,
    new_session: Option<String>,
    started: Instant,
    span: Span,
}

impl Line {
    fn write(self) {
        let _in = self.span.enter();
        let status = self.status;
        let duration_ms = (self.started.elapsed().as_secs_f64() * 10_000.0).round() / 10.0;
        let new_session = self.new_session.as_deref().unwrap_or("-");
        let alarming = matches!(
            status,
            StatusCode::UNAUTHORIZED
                | StatusCode::FORBIDDEN
                | StatusCode::PAYLOAD_TOO_LARGE
                | StatusCode::REQUEST_TIMEOUT
                | StatusCode::TOO_MANY_REQUESTS
        ) || status.is_server_error();
        macro_rules! line {
            ($level:expr) => {
                tracing::event!(
                    $level,
                    status = status.as_u16(),
                    duration_ms,
                    new_session = %new_session,
                    "mcp request"
                )
            };
        }
        if alarming {
            line!(tracing::Level::WARN);
        } else {
            line!(tracing::Level::INFO);
        }
    }
}

/// A reply body that writes its request's line once it ends or is dropped.
struct Logged {
    body: Body,
    line: Option<Line>,
}

impl http_body::Body for Logged {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let frame = Pin::new(&mut self.body).poll_frame(cx);
        if let Poll::Ready(None) = frame
            && let Some(line) = self.line.take()
        {
            line.write();
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

impl Drop for Logged {
    fn drop(&mut self) {
        if let Some(line) = self.line.take() {
            line.write();
        }
    }
}

/// A short reply in plain text, for refusals before or beside rmcp.
pub(super) fn plain(status: StatusCode, text: String) -> Response<Body> {
    let mut r = Response::new(Body::from(format!("{text}\n")));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// A caller-chosen string made safe for one log line: at most `max` characters, anything
/// outside a conservative set replaced.
pub(super) fn clean(s: &str, max: usize) -> String {
    let mut out: String = s
        .chars()
        .take(max)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ':') {
                c
            } else {
                '?'
            }
        })
        .collect();
    if s.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

/// The field formatter of the whole process's log: every value, the message included, cut
/// to [`MAX_FIELD_CHARS`] with control characters escaped.
pub fn fields() -> impl for<'w> FormatFields<'w> + Send + Sync + 'static {
    tracing_subscriber::fmt::format::debug_fn(|w: &mut Writer<'_>, field, value| {
        if field.name() != "message" {
            write!(w, "{}=", field.name())?;
        }
        let mut cut = Cut {
            out: w,
            left: MAX_FIELD_CHARS,
            dropped: 0,
        };
        write!(cut, "{value:?}")?;
        if cut.dropped > 0 {
            let dropped = cut.dropped;
            write!(w, "…[{dropped} more bytes]")?;
        }
        Ok(())
    })
    .delimited(" ")
}

/// Writes through at most `left` characters, escaping control characters, and counts the
/// bytes it drops; nothing is buffered, so a huge value costs no memory.
struct Cut<'a, 'w> {
    out: &'a mut Writer<'w>,
    left: usize,
    dropped: usize,
}

impl fmt::Write for Cut<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            if self.left == 0 {
                self.dropped += c.len_utf8();
                continue;
            }
            self.left -= 1;
            if c.is_control() {
                write!(self.out, "{}", c.escape_default())?;
            } else {
                self.out.write_char(c)?;
            }
        }
        Ok(())
    }
}

/// At most one line a second for an event that a flood can trigger a thousand times a
/// second (a connection refused, a header timeout), with the count of the lines held back.
pub(super) struct Throttle {
    state: Mutex<(Option<Instant>, u64)>,
}

impl Throttle {
    pub(super) const fn new() -> Throttle {
        Throttle {
            state: Mutex::new((None, 0)),
        }
    }

    /// `Some(n)` when a line should be written now, `n` being how many were held back
    /// since the last one.
    pub(super) fn admit(&self) -> Option<u64> {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        match state.0 {
            Some(last) if now.duration_since(last) < Duration::from_secs(1) => {
                state.1 += 1;
                None
            }
            _ => {
                let held = state.1;
                *state = (Some(now), 0);
                Some(held)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_keeps_log_lines_whole() {
        assert_eq!(clean("check_health", 64), "check_health");
        assert_eq!(clean("a\nINFO forged=1", 64), "a?INFO?forged?1");
        assert_eq!(clean(&"x".repeat(100), 64).chars().count(), 65);
    }

    #[test]
    fn fields_are_cut_and_escaped() {
        let mut s = String::new();
        let mut w = Writer::new(&mut s);
        let mut cut = Cut {
            out: &mut w,
            left: 5,
            dropped: 0,
        };
        write!(cut, "a\nbcdefgh").unwrap();
        assert_eq!(cut.dropped, 4);
        assert_eq!(s, "a\\nbcd");
    }

    #[test]
    fn throttle_admits_one_a_second() {
        let t = Throttle::new();
        assert_eq!(t.admit(), Some(0));
        assert_eq!(t.admit(), None);
        assert_eq!(t.admit(), None);
    }
}
