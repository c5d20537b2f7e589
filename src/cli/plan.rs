//! `plan`: print the plan for a snapshot file, one stored account (saved to its plan
//! history), or the whole demo portfolio.

use std::io::Read;
use std::path::PathBuf;

use clap::Args;

use super::{CliError, Common, StoreArgs, ViewFormat, load_policy};
use crate::engine::draft_plan;
use crate::model::input::from_str;
use crate::model::results::PlanResult;
use crate::model::{InputError, Snapshot};
use crate::service::{Planner, StepArgs};

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// A snapshot JSON file (one object or an array of them); `-` reads stdin.
    #[arg(value_name = "FILE", conflicts_with = "account")]
    pub file: Option<PathBuf>,
    /// A stored account's name or id (from --db, the default database, or --demo); the plan
    /// is saved to its history.
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
    /// --demo without --account plans every demo account.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Output format: markdown, the draft_plan tool's structured content (`full`), or one
    /// self-contained HTML file with the plan view (several plans are drawn one after another).
    #[arg(long, value_enum, default_value_t = ViewFormat::Markdown)]
    pub format: ViewFormat,
    #[command(flatten)]
    pub common: Common,
}

fn read_file(path: &PathBuf) -> Result<String, CliError> {
    if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| anyhow::anyhow!("cannot read stdin: {e}"))?;
        Ok(s)
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()).into())
    }
}

pub fn run(a: PlanArgs) -> Result<(), CliError> {
    let policy = load_policy(a.common.policy.as_ref())?;
    let as_of = a.common.as_of.clone();
    // Only --account needs the store; a snapshot file is planned as it is.
    let store = if a.account.is_some() || a.store.demo {
        crate::accounts::Accounts::from(a.store.open()?)
    } else {
        crate::accounts::Accounts::demo()
    };
    let planner = Planner::new(policy, store);
    let plans: Vec<PlanResult> = match (&a.file, &a.account) {
        (Some(path), _) => {
            let text = read_file(path)?;
            let value: serde_json::Value = from_str(&text)?;
            let items = match value {
                serde_json::Value::Array(items) => items,
                one => vec![one],
            };
            let many = items.len() > 1;
            let mut plans = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                let (s, day) = planner.load_snapshot(item, as_of.as_deref()).map_err(|e| {
                    if many {
                        e.prefixed(&format!("[{i}]"))
                    } else {
                        e
                    }
                })?;
                plans.push(draft_plan(&s, &planner.policy, day));
            }
            plans
        }
        (None, Some(name)) => {
            let loaded = planner.resolve(&StepArgs {
                account: Some(name.clone()),
                snapshot: None,
                as_of,
            })?;
            vec![planner.draft(&loaded)?]
        }
        (None, None) if a.store.demo => {
            let all: Vec<Snapshot> = crate::demo::portfolio()?.to_vec();
            let mut plans = Vec::with_capacity(all.len());
            for s in all {
                let args = StepArgs {
                    account: s.id.clone().or(Some(s.name.clone())),
                    snapshot: None,
                    as_of: as_of.clone(),
                };
                let (s, day) = planner.load(&args)?;
                plans.push(draft_plan(&s, &planner.policy, day));
            }
            plans
        }
        (None, None) => {
            return Err(InputError::one(
                "FILE",
                "is missing: give a snapshot file, --account NAME (a stored account), or --demo for the whole demo portfolio",
            )
            .into());
        }
    };
    let out = match a.format {
        ViewFormat::Markdown => plans
            .iter()
            .map(|p| p.markdown.as_str())
            .collect::<Vec<_>>()
            .join("\n\n---\n\n"),
        ViewFormat::Json | ViewFormat::Html => {
            let v = if plans.len() == 1 && a.file.is_some() || a.account.is_some() {
                serde_json::to_value(plans.first())
            } else {
                serde_json::to_value(&plans)
            }
            .map_err(|e| anyhow::anyhow!("cannot serialise the plan: {e}"))?;
            if a.format == ViewFormat::Html {
                crate::views::View::Plan.file(&v)
            } else {
                serde_json::to_string_pretty(&v)
            }
            .map_err(|e| anyhow::anyhow!("cannot serialise the plan: {e}"))?
        }
    };
    super::emit(&out)?;
    Ok(())
}
