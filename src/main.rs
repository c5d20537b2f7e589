//! The `expansion-planner` binary: parse arguments, set up logging on stderr, dispatch.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use expansion_planner::cli::{Cli, run};

/// mimalloc rather than glibc's malloc. A tool call builds and drops thousands of small
/// strings and maps (the plan, its markdown, the JSON answer); under glibc, allocation was a
/// third of the instructions of a `draft_plan` call, including `malloc_consolidate` passes
/// triggered by each large buffer. See README, "Robustness and performance".
///
/// Built with mimalloc's `no_thp` feature: it does not ask the kernel for transparent huge
/// pages, so a 2 MiB page is not zeroed whole on its first touch when a few kilobytes of it
/// are used. That zeroing was 15 % of a segment plan's time (`scripts/bench-segment`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // stdout is the MCP channel on stdio: logs go to stderr only, level from RUST_LOG. The
    // HTTP transport's one line per request is on by default: a shared server needs it.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        // Every value cut short and escaped: a client's 900 KB request id or URI must not
        // reach the log whole (rmcp's own lines include ids and error messages).
        .fmt_fields(expansion_planner::logging::fields())
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| {
            EnvFilter::new("warn,expansion_planner::mcp::http=info,expansion_planner::http=info")
        }))
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(e.exit_code())
        }
    }
}
