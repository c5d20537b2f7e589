//! `serve`: the MCP server over stdio.

use std::sync::Arc;

use clap::Args;

use super::{CliError, Common, load_policy};
use crate::accounts::Demo;
use crate::service::Planner;

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub common: Common,
}

pub fn run(a: ServeArgs) -> Result<(), CliError> {
    let policy = load_policy(a.common.policy.as_ref())?;
    let planner = Planner::new(policy, Arc::new(Demo));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    rt.block_on(crate::mcp::serve_stdio(planner))?;
    Ok(())
}
