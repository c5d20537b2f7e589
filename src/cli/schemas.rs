//! `schemas`: write every tool's input and output schema, the snapshot's and the policy's.

use std::path::PathBuf;

use clap::Args;

use super::CliError;

#[derive(Debug, Args)]
pub struct SchemasArgs {
    /// Directory to write into (created if absent).
    #[arg(long, value_name = "DIR", default_value = "schemas")]
    pub out: PathBuf,
}

pub fn run(a: SchemasArgs) -> Result<(), CliError> {
    std::fs::create_dir_all(&a.out)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", a.out.display()))?;
    for (file, text) in crate::mcp::schemas::all_files() {
        let path = a.out.join(&file);
        std::fs::write(&path, text)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
