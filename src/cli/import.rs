//! `import`: load exports into the account store, each file all or nothing; or, with
//! `--suggest-map`, write a starting mapping file for an export.

use std::path::{Path, PathBuf};

use clap::Args;

use super::{CliError, Format, StoreArgs};
use crate::model::InputError;
use crate::store::mapping::{self, Mapping};

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Export files: .json (a snapshot or an array), .jsonl, or .csv / .tsv (one row per
    /// account, or long format with an `account` column). Each file is imported all or
    /// nothing, in the order given.
    #[arg(value_name = "FILE", required_unless_present = "suggest_map")]
    pub files: Vec<PathBuf>,
    /// A TOML mapping file for the CSV export's own column names and number/date formats, or
    /// the name of a built-in map: hubspot-companies, salesforce-accounts,
    /// gainsight-companies, totango-accounts, mixpanel-usage.
    #[arg(long, value_name = "MAP.toml|NAME")]
    pub map: Option<PathBuf>,
    /// Write a commented mapping file for this CSV export to stdout (each column matched to
    /// the likeliest snapshot path by its name and sample values) instead of importing.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["files", "map", "dry_run"])]
    pub suggest_map: Option<PathBuf>,
    /// Check every row and report what would change, without writing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format: markdown, or the import_accounts tool's structured content.
    #[arg(long, value_enum, default_value_t = Format::Markdown)]
    pub format: Format,
    /// A TOML file overriding policy thresholds: on PostgreSQL, each account's segment row
    /// is kept from import as this policy computes it, so give the one `serve` runs with
    /// (the same variable is read). A server with another policy assesses those accounts
    /// afresh on every `plan_segment`: the answers are right either way, only slower.
    #[arg(long, value_name = "FILE", env = "EXPANSION_PLANNER_POLICY")]
    pub policy: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// A file that cannot be opened is an operational failure (exit 1), found before any
/// database is opened or created.
fn check_readable(f: &Path, what: &str) -> Result<(), CliError> {
    let meta = std::fs::metadata(f)
        .map_err(|e| anyhow::anyhow!("cannot read {what} {}: {e}", f.display()))?;
    if meta.is_dir() {
        return Err(
            anyhow::anyhow!("cannot read {what} {}: it is a directory", f.display()).into(),
        );
    }
    std::fs::File::open(f)
        .map_err(|e| anyhow::anyhow!("cannot read {what} {}: {e}", f.display()))?;
    Ok(())
}

pub fn run(a: ImportArgs) -> Result<(), CliError> {
    if let Some(f) = &a.suggest_map {
        check_readable(f, "the export")?;
        let text = crate::store::suggest::suggest_map(f)?;
        return super::emit(text.trim_end());
    }
    for f in &a.files {
        check_readable(f, "the export")?;
    }
    if let Some(m) = &a.map
        && mapping::builtin_for(m).is_none()
    {
        check_readable(m, "the mapping file").map_err(|e| {
            anyhow::anyhow!(
                "{e} (or name a built-in map: {})",
                mapping::BUILTIN
                    .iter()
                    .map(|b| b.0)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        let text = std::fs::read_to_string(m)
            .map_err(|e| anyhow::anyhow!("cannot read the mapping file {}: {e}", m.display()))?;
        Mapping::from_toml(&text)
            .map_err(|e| InputError::one("--map", format!("{}: {e}", m.display())))?;
    }
    // A database this command creates is removed again when nothing was written to it.
    let created = a.store.path().filter(|p| !a.store.demo && !p.exists());
    let policy = super::load_policy(a.policy.as_ref())?;
    let store = a.store.open()?;
    store.keep_segment_rows(std::sync::Arc::new(policy));
    let mut failed = Vec::new();
    let mut written = false;
    let mut result = Ok(());
    for f in &a.files {
        let report = match store.import(f, a.map.as_deref(), a.dry_run) {
            Ok(r) => r,
            Err(e) => {
                result = Err(e.into());
                break;
            }
        };
        written |= report.written;
        let shown = match a.format {
            Format::Markdown => super::emit(&report.markdown()),
            Format::Json => serde_json::to_string_pretty(&report)
                .map_err(|e| anyhow::anyhow!("cannot serialise the report: {e}").into())
                .and_then(|t| super::emit(&t)),
        };
        if let Err(e) = shown {
            result = Err(e);
            break;
        }
        if !report.ok() {
            failed.push(f.display().to_string());
        }
    }
    drop(store);
    if let Some(p) = created
        && !written
    {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut s = p.clone().into_os_string();
            s.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(s));
        }
    }
    result?;
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
