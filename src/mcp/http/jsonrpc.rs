//! What rmcp's HTTP answers lack for a JSON-RPC client: a deadline that ends in a JSON-RPC
//! error carrying the request's id, JSON-RPC errors for bodies rmcp cannot read (a batch,
//! broken JSON), and a hold on shutdown until each POST's reply has gone.
//!
//! The body passes through to rmcp (which reads it under its own size limit) by
//! [`crate::http::tee`], which keeps what rmcp read and refuses what is not strict JSON;
//! this layer looks at it only when it has to answer for rmcp: to find the id of a request
//! that timed out, or to say what is wrong with a body rmcp or the check refused.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::time::{Instant, Sleep};
use tokio_util::task::TaskTracker;
use tokio_util::task::task_tracker::TaskTrackerToken;

use crate::http::plain;
use crate::http::tee::Kept;
use crate::logging::MAX_FIELD_CHARS;

/// JSON-RPC code for a request that ran out of time (the MCP SDKs' `RequestTimeout`).
pub const REQUEST_TIMEOUT_CODE: i64 = -32001;
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;

#[derive(Clone)]
pub(super) struct Deadline {
    pub timeout: Duration,
    /// Every POST holds a token from its first byte to its reply's last.
    pub tracker: TaskTracker,
}

/// The request's id, when the body is a JSON object that has one.
fn id_of(body: &[u8]) -> Option<Value> {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(default)]
        id: Option<Value>,
    }
    // A derived struct also reads from an array, whose first element would pass for `id`.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return None;
    }
    serde_json::from_slice::<Probe>(body).ok()?.id
}

/// The middleware around rmcp for `/mcp`.
pub(super) async fn deadline(State(cfg): State<Deadline>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        // GET opens the session's SSE stream, DELETE ends a session: no body, no deadline
        // (the stream is meant to stay open; the session's idle timeout bounds it).
        return next.run(req).await;
    }
    let token = cfg.tracker.token();
    let deadline = Instant::now() + cfg.timeout;
    let seen = Kept::default();
    let req = req.map(|inner| seen.body(inner));
    let reply = match tokio::time::timeout_at(deadline, next.run(req)).await {
        Ok(reply) => reply,
        Err(_elapsed) => {
            return match seen.whole() {
                None => plain(
                    StatusCode::REQUEST_TIMEOUT,
                    format!(
                        "request timeout: the request body did not arrive within {} \
                         (--request-timeout-secs)",
                        secs(cfg.timeout)
                    ),
                ),
                Some(body) => {
                    tracing::warn!(
                        timeout_secs = cfg.timeout.as_secs_f64(),
                        "request timed out before its handler answered"
                    );
                    timed_out(id_of(&body).as_ref(), cfg.timeout)
                }
            };
        }
    };
    if let Some(problem) = seen.take_refused() {
        let id = seen.whole().and_then(|b| id_of(&b));
        let e = super::super::stdio::problem_error(problem);
        tracing::warn!(code = e.code.0, "{}", e.message);
        return json_reply(
            StatusCode::BAD_REQUEST,
            &json!({"jsonrpc": "2.0", "id": id, "error": {"code": e.code.0, "message": e.message}}),
        );
    }
    if reply.status() == StatusCode::UNSUPPORTED_MEDIA_TYPE
        && let Some(body) = seen.whole()
    {
        // rmcp answers 415 both for a wrong Content-Type, before reading the body, and
        // for a body it cannot deserialize, after; only the second is a JSON-RPC matter.
        return unreadable(&body, reply).await;
    }
    let sse = reply
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/event-stream"));
    // A JSON reply is complete; an SSE reply may still be waiting for the handler, and
    // rmcp ends the stream once the answer has gone.
    let expiry = sse.then(|| Expiry {
        sleep: Box::pin(tokio::time::sleep_until(deadline)),
        seen: seen.clone(),
        timeout: cfg.timeout,
    });
    drop(seen);
    reply.map(|inner| {
        Body::new(Held {
            inner,
            expiry,
            _token: token,
            done: false,
        })
    })
}

fn secs(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
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

fn json_reply(status: StatusCode, value: &Value) -> Response {
    let mut r = Response::new(Body::from(value.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// The reply to a request whose handler did not answer in time: a JSON-RPC error carrying
/// the request's id, so the client can match it like any other answer.
fn timed_out(id: Option<&Value>, timeout: Duration) -> Response {
    let status = if id.is_some() {
        StatusCode::OK
    } else {
        StatusCode::GATEWAY_TIMEOUT
    };
    json_reply(status, &timeout_error(id, timeout))
}

/// A JSON-RPC error for a body rmcp could not deserialize, saying what is wrong with it.
async fn unreadable(body: &[u8], rmcp: Response) -> Response {
    let first = body.iter().copied().find(|b| !b.is_ascii_whitespace());
    let (code, message, id) = match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
        Err(e) => (
            PARSE_ERROR,
            format!("parse error: the request body is not JSON ({e})"),
            None,
        ),
        Ok(_) if first == Some(b'[') => (
            INVALID_REQUEST,
            "invalid request: JSON-RPC batches are not supported; MCP over streamable HTTP \
             takes one message per POST"
                .to_string(),
            None,
        ),
        Ok(_) => {
            // rmcp's own account of the problem (a serde message: no request content).
            let why = axum::body::to_bytes(rmcp.into_body(), 4096)
                .await
                .map(|b| String::from_utf8_lossy(&b).trim().to_string())
                .unwrap_or_default();
            let why: String = why.chars().take(MAX_FIELD_CHARS).collect();
            (
                INVALID_REQUEST,
                format!(
                    "invalid request: not a JSON-RPC 2.0 request, notification or response \
                     ({why})"
                ),
                id_of(body),
            )
        }
    };
    json_reply(
        StatusCode::BAD_REQUEST,
        &json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}}),
    )
}

/// The end of an SSE reply's time: an error event for the request's id, if the stream is
/// still open then.
struct Expiry {
    sleep: Pin<Box<Sleep>>,
    seen: Kept,
    timeout: Duration,
}

impl Expiry {
    fn event(&self) -> Bytes {
        let id = self.seen.whole().and_then(|b| id_of(&b));
        // The leading newline ends any event the stream was in the middle of.
        Bytes::from(format!(
            "\nevent: message\ndata: {}\n\n",
            timeout_error(id.as_ref(), self.timeout)
        ))
    }
}

/// rmcp's reply body, holding the drain token until its last byte has gone (or the client
/// has gone), and ended with a timeout event if its deadline passes first.
struct Held {
    inner: Body,
    expiry: Option<Expiry>,
    _token: TaskTrackerToken,
    done: bool,
}

impl http_body::Body for Held {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(None) => {
                this.done = true;
                return Poll::Ready(None);
            }
            Poll::Ready(some) => return Poll::Ready(some),
            Poll::Pending => {}
        }
        if let Some(expiry) = &mut this.expiry
            && expiry.sleep.as_mut().poll(cx).is_ready()
        {
            this.done = true;
            let event = expiry.event();
            tracing::warn!(
                timeout_secs = expiry.timeout.as_secs_f64(),
                "request timed out before its handler answered"
            );
            this.expiry = None;
            return Poll::Ready(Some(Ok(Frame::data(event))));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_of_reads_the_id_of_an_object_only() {
        assert_eq!(
            id_of(br#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#),
            Some(json!(7))
        );
        assert_eq!(id_of(br#"{"jsonrpc":"2.0","method":"x"}"#), None);
        assert_eq!(id_of(br#"[{"id":1}]"#), None);
        assert_eq!(id_of(b"not json"), None);
    }
}
