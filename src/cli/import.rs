//! `import`: load exports into the account store, each file all or nothing.

use std::path::PathBuf;

use clap::Args;

use super::{CliError, Format, StoreArgs};
use crate::model::InputError;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Export files: .json (a snapshot or an array), .jsonl, or .csv / .tsv (one row per
    /// account, or long format with an `account` column). Each file is imported all or
    /// nothing, in the order given.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// A TOML mapping file for the CSV export's own column names and number/date formats.
    #[arg(long, value_name = "MAP.toml")]
    pub map: Option<PathBuf>,
    /// Check every row and report what would change, without writing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format: markdown, or the import_accounts tool's structured content.
    #[arg(long, value_enum, default_value_t = Format::Markdown)]
    pub format: Format,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub fn run(a: ImportArgs) -> Result<(), CliError> {
    let store = a.store.open()?;
    let mut failed = Vec::new();
    for f in &a.files {
        let report = store.import(f, a.map.as_deref(), a.dry_run)?;
        match a.format {
            Format::Markdown => super::emit(&report.markdown())?,
            Format::Json => super::emit(
                &serde_json::to_string_pretty(&report)
                    .map_err(|e| anyhow::anyhow!("cannot serialise the report: {e}"))?,
            )?,
        }
        if !report.ok() {
            failed.push(f.display().to_string());
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(InputError::one(
            "FILE",
            format!(
                "{} had problems and nothing was imported from {}: see the report",
                failed.join(", "),
                if failed.len() == 1 { "it" } else { "them" }
            ),
        )
        .into())
    }
}
