//! `serve`: the MCP server over stdio.

use clap::Args;

use super::{CliError, Common};

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub common: Common,
}

pub fn run(_a: ServeArgs) -> Result<(), CliError> {
    Err(anyhow::anyhow!("serve is being built").into())
}
