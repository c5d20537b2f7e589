//! The command line: parsing only what the user typed, then dispatching to one file per
//! subcommand. Exit codes: 0 success (a blocked plan is a successful answer), 1 an
//! operational failure (I/O, server), 2 invalid input or usage.

pub mod plan;
pub mod schemas;
pub mod serve;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::engine::Policy;
use crate::model::InputError;

/// Deterministic expansion plans from a customer-success playbook, served over MCP.
#[derive(Debug, Parser)]
#[command(name = "expansion-planner", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Draft the expansion plan for a snapshot file, a demo account, or the whole demo portfolio.
    Plan(plan::PlanArgs),
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    #[default]
    Markdown,
    Json,
}

/// A failure with the exit code it maps to.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Input(#[from] InputError),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Input(_) => 2,
            CliError::Other(_) => 1,
        }
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
        Command::Schemas(a) => schemas::run(a),
        Command::Serve(a) => serve::run(a),
    }
}
