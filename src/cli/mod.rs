//! The command line: parsing only what the user typed, then dispatching to one file per
//! subcommand. Exit codes: 0 success (a blocked plan is a successful answer), 1 an
//! operational failure (I/O, server), 2 invalid input or usage.

pub mod columns;
pub mod import;
pub mod plan;
pub mod scan;
pub mod schemas;
pub mod serve;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::accounts::SourceError;
use crate::engine::Policy;
use crate::model::InputError;
use crate::store::{Sqlite, Store, StoreError};

/// Deterministic expansion plans from a customer-success playbook, served over MCP.
#[derive(Debug, Parser)]
#[command(name = "expansion-planner", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Draft the expansion plan for a snapshot file, a stored account, or the whole demo portfolio.
    Plan(plan::PlanArgs),
    /// Plan a whole segment, a CSM's book or every stored account.
    Scan(scan::ScanArgs),
    /// Import CRM / CS-platform exports (JSON, JSONL, CSV) into the account store.
    Import(import::ImportArgs),
    /// List every column an import can fill: its snapshot path, type and meaning.
    Columns(columns::ColumnsArgs),
    /// Write the JSON Schemas of every tool, the snapshot and the policy.
    Schemas(schemas::SchemasArgs),
    /// Serve MCP over stdio, or over streamable HTTP with --http.
    Serve(serve::ServeArgs),
}

/// Options every command that computes shares.
#[derive(Debug, Args, Clone)]
pub struct Common {
    /// The day to compute from (YYYY-MM-DD); overrides the snapshot's `as_of`; default today.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// A TOML file overriding policy thresholds.
    #[arg(long, value_name = "FILE", env = "EXPANSION_PLANNER_POLICY")]
    pub policy: Option<PathBuf>,
}

/// Which account store a command uses.
#[derive(Debug, Args, Clone, Default)]
pub struct StoreArgs {
    /// The account database: an SQLite file, created on first use, or a PostgreSQL URL
    /// (`postgres://user:password@host:port/database`, shared by a team's replicas);
    /// default `<data dir>/expansion-planner/accounts.db`.
    #[arg(
        long,
        value_name = "PATH|URL",
        env = "EXPANSION_PLANNER_DB",
        hide_env_values = true
    )]
    pub db: Option<PathBuf>,
    /// Use the embedded demo portfolio in an in-memory database (nothing is written); wins
    /// over --db.
    #[arg(long)]
    pub demo: bool,
}

impl StoreArgs {
    /// The PostgreSQL URL --db gives, if it gives one.
    fn url(&self) -> Option<&str> {
        self.db
            .as_deref()
            .and_then(|p| p.to_str())
            .filter(|s| crate::store::postgres::is_url(s))
    }

    /// The database file this opens, when it is a file and one is known.
    pub fn path(&self) -> Option<PathBuf> {
        if self.url().is_some() {
            return None;
        }
        self.db.clone().or_else(Sqlite::default_path)
    }

    /// Opens the demo store, the --db file or server, or the default database.
    pub fn open(&self) -> Result<Box<dyn Store>, CliError> {
        if self.demo {
            return Ok(Box::new(Sqlite::demo()?));
        }
        if let Some(url) = self.url() {
            let store = crate::store::Postgres::open(url)?;
            tracing::info!(db = %store.location(), "opened the account store (PostgreSQL)");
            return Ok(Box::new(store));
        }
        let path = match &self.db {
            Some(p) => p.clone(),
            None => Sqlite::default_path().ok_or_else(|| {
                anyhow::anyhow!(
                    "no data directory is known for this user: pass --db PATH or set EXPANSION_PLANNER_DB"
                )
            })?,
        };
        tracing::info!(db = %path.display(), "opening the account store");
        Ok(Box::new(Sqlite::open(&path)?))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    #[default]
    Markdown,
    Json,
}

/// The output of the commands that have a view (`plan`, `scan`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ViewFormat {
    #[default]
    Markdown,
    Json,
    /// One self-contained HTML file: the MCP App view with the data embedded.
    Html,
}

/// A failure with the exit code it maps to.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Input(#[from] InputError),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<SourceError> for CliError {
    fn from(e: SourceError) -> CliError {
        match e {
            SourceError::Input(i) => CliError::Input(i),
            SourceError::Unavailable(msg) | SourceError::Unwritable(msg) => {
                CliError::Other(anyhow::anyhow!(msg))
            }
        }
    }
}

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> CliError {
        match e {
            StoreError::Input(i) => CliError::Input(i),
            other => CliError::Other(other.into()),
        }
    }
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Input(_) => 2,
            CliError::Other(_) => 1,
        }
    }
}

/// Writes a command's output to stdout. A closed pipe (`| head`) ends the output quietly:
/// the reader has what it wanted, and `println!` would panic there.
pub fn emit(text: &str) -> Result<(), CliError> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(anyhow::anyhow!("cannot write to stdout: {e}").into()),
    }
}

/// Reads the policy file when one is given.
pub fn load_policy(path: Option<&PathBuf>) -> Result<Policy, CliError> {
    match path {
        None => Ok(Policy::default()),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| anyhow::anyhow!("cannot read policy file {}: {e}", p.display()))?;
            Ok(Policy::from_toml(&text)?)
        }
    }
}

pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Plan(a) => plan::run(a),
        Command::Scan(a) => scan::run(a),
        Command::Import(a) => import::run(a),
        Command::Columns(a) => columns::run(a),
        Command::Schemas(a) => schemas::run(a),
        Command::Serve(a) => serve::run(a),
    }
}
