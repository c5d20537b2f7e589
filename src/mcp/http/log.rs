//! What the HTTP transport writes to the log, and how long any of it may be.
//!
//! One line per `/mcp` request: `tower_http`'s trace layer opens [`request_span`], the
//! token check records the token's name and the tool call the tool and its outcome on it,
//! and [`line`] writes the line once the reply has ended. Every field is cut short and
//! escaped by the process's formatter, [`crate::logging::fields`].

use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response, StatusCode};
use axum::middleware::Next;
use tracing::Span;
use tracing::field::Empty;

use crate::logging::clean;

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
