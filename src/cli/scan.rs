//! `scan`: the segment plan for a segment, a CSM's book or every stored account.

use clap::Args;

use super::{CliError, Common, StoreArgs, ViewFormat, load_policy};
use crate::model::portfolio::AccountFilter;
use crate::service::{Planner, parse_as_of};

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Only this segment (case-insensitive), e.g. Mid-Market.
    #[arg(long, value_name = "SEGMENT")]
    pub segment: Option<String>,
    /// Only this CSM's book (case-insensitive).
    #[arg(long, value_name = "NAME")]
    pub csm: Option<String>,
    /// Output format: markdown, the plan_segment tool's structured content, or one
    /// self-contained HTML file with the segment view.
    #[arg(long, value_enum, default_value_t = ViewFormat::Markdown)]
    pub format: ViewFormat,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub common: Common,
}

pub fn run(a: ScanArgs) -> Result<(), CliError> {
    let policy = load_policy(a.common.policy.as_ref())?;
    let as_of = parse_as_of(a.common.as_of.as_deref(), "--as-of")?;
    let store = a.store.open()?;
    let filter = AccountFilter {
        segment: a.segment.clone(),
        csm: a.csm.clone(),
    };
    let planner = Planner::new(policy, store);
    planner.check_segment(&filter, "--segment")?;
    let plan = planner.plan_segment(&filter, as_of)?;
    match a.format {
        ViewFormat::Markdown => super::emit(&plan.markdown)?,
        ViewFormat::Html => super::emit(
            &crate::views::View::Segment
                .file(&plan)
                .map_err(|e| anyhow::anyhow!("cannot serialise the segment plan: {e}"))?,
        )?,
        ViewFormat::Json => super::emit(
            &serde_json::to_string_pretty(&plan)
                .map_err(|e| anyhow::anyhow!("cannot serialise the segment plan: {e}"))?,
        )?,
    }
    Ok(())
}
