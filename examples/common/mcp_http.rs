//! What the HTTP examples (`bench_http`, `team_load`) share: reading the answer to one
//! request out of a streamable-HTTP reply. Each includes this file with `#[path]`.

use serde_json::{Value, json};

/// The JSON-RPC message answering `id`, from a JSON or an SSE reply.
pub fn answer(body: &str, id: u64) -> Option<Value> {
    let trimmed = body.trim_start();
    let candidates: Vec<&str> = if trimmed.starts_with('{') {
        vec![trimmed]
    } else {
        body.lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(str::trim)
            .collect()
    };
    candidates
        .into_iter()
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .find(|m| m.get("id") == Some(&json!(id)))
}
