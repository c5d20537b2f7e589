//! `serve`: the MCP server over stdio, on the account store.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use super::{CliError, Common, StoreArgs, load_policy};
use crate::service::Planner;

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// A directory the import_accounts tool may read exports from (repeatable); without
    /// one, the tool refuses every path.
    #[arg(long, value_name = "DIR")]
    pub import_dir: Vec<PathBuf>,
    #[command(flatten)]
    pub common: Common,
}

/// The allowed import directories, resolved once so that a later `..` or symlink cannot
/// widen them.
pub fn import_dirs(dirs: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    dirs.iter()
        .map(|d| {
            let real = d
                .canonicalize()
                .map_err(|e| anyhow::anyhow!("--import-dir {}: {e}", d.display()))?;
            if !real.is_dir() {
                return Err(
                    anyhow::anyhow!("--import-dir {} is not a directory", d.display()).into(),
                );
            }
            Ok(real)
        })
        .collect()
}

pub fn run(a: ServeArgs) -> Result<(), CliError> {
    let policy = load_policy(a.common.policy.as_ref())?;
    let dirs = import_dirs(&a.import_dir)?;
    let store = a.store.open()?;
    let planner = Planner::new(policy, Arc::new(store)).with_import_dirs(dirs);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    rt.block_on(crate::mcp::serve_stdio(planner))?;
    Ok(())
}
