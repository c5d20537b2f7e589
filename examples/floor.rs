//! The floor: the least an MCP server over stdio can do. It reads each line, parses it as
//! JSON (as any server must), and answers a request with a fixed result: `initialize` with a
//! fixed server description, anything else (`tools/call` included) with a fixed tool result.
//! Notifications get no answer. No runtime, no threads, no routing, no computing.
//!
//! `scripts/bench` measures our server against this one in the same run: the ratio is what
//! the server costs on top of the pipe and the JSON every server has to read.

use std::io::{BufRead, Write};

const INITIALIZE: &str = r#"{"protocolVersion":"2025-06-18","capabilities":{"tools":{}},"serverInfo":{"name":"floor","version":"0"}}"#;
const TOOL_RESULT: &str =
    r#"{"content":[{"type":"text","text":"ok"}],"structuredContent":{"ok":true},"isError":false}"#;

fn main() -> std::io::Result<()> {
    // FLOOR_TEXT_BYTES: pad the tool result's text to this many bytes, to see what the size of
    // an answer costs on its own (the plan's answers are 2-25 KB).
    let pad: usize = std::env::var("FLOOR_TEXT_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let padded = format!(
        r#"{{"content":[{{"type":"text","text":"{}"}}],"structuredContent":{{"ok":true}},"isError":false}}"#,
        "x".repeat(pad)
    );
    let tool_result = if pad > 0 {
        padded.as_str()
    } else {
        TOOL_RESULT
    };
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        let Some(id) = msg.get("id") else {
            continue;
        };
        let result = if msg.get("method").and_then(|m| m.as_str()) == Some("initialize") {
            INITIALIZE
        } else {
            tool_result
        };
        writeln!(out, r#"{{"jsonrpc":"2.0","id":{id},"result":{result}}}"#)?;
        out.flush()?;
    }
}
