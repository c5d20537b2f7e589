//! Any bytes as one line on the server's stdin: the screen that turns a line into a JSON-RPC
//! message, or into an error answer naming where it went wrong, must never panic, and an
//! error it answers must stay short whatever the line held.

#![no_main]

use expansion_planner::mcp::stdio::{Screened, screen};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Screened::Reject { error, .. } = screen(data) {
        assert!(
            error.message.len() <= 2_000 + data.len().min(2_000),
            "a {} byte answer to a {} byte line",
            error.message.len(),
            data.len()
        );
    }
});
