//! The `expansion-planner` binary: parse arguments, set up logging on stderr, dispatch.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use expansion_planner::cli::{Cli, run};

fn main() -> ExitCode {
    // stdout is the MCP channel on stdio: logs go to stderr only, level from RUST_LOG. The
    // HTTP transport's one line per request is on by default: a shared server needs it.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("warn,expansion_planner::mcp::http=info")),
        )
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
