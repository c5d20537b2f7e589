//! HTTP hosting that serves any router, MCP's included: connections bounded in number and
//! in how long they may dawdle ([`conn`]), and bearer tokens checked before a byte of the
//! body is read ([`auth`]), and `/healthz` ([`health`]). `mcp::http` puts rmcp's service on
//! top of them.

pub mod auth;
pub mod conn;
pub mod health;
pub mod tee;

use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode, header};

/// A short reply in plain text, for refusals before or beside rmcp.
pub fn plain(status: StatusCode, text: String) -> Response<Body> {
    let mut r = Response::new(Body::from(format!("{text}\n")));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}
