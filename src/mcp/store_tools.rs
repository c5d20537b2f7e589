//! The tools over the account store: listing and reading accounts, the segment plan, plan
//! history, reassessments due, and importing exports from the directories the operator
//! allowed at start.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::engine::segment;
use crate::model::InputError;
use crate::model::input::from_value;
use crate::model::portfolio::{
    AccountFilter, AccountList, AccountListing, DueList, ImportReport, PlanHistory, SegmentPlan,
    StoredAccount,
};
use crate::model::results::Outcome;
use crate::schemas::{input, output};
use crate::service::{Planner, parse_as_of};

use super::tools::{Answer, CallError, Structured, ToolDef};

fn filter(segment: Option<String>, csm: Option<String>) -> AccountFilter {
    let clean = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    AccountFilter {
        segment: clean(segment),
        csm: clean(csm),
    }
}

/// `list_accounts` arguments.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListArgs {
    /// Only accounts in this segment (case-insensitive), e.g. `Mid-Market`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// Only this CSM's book (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csm: Option<String>,
    /// Only accounts with this plan outcome: `blocked`, `not_ready`, `provisional`, `on_hold` or `ready`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// The day to assess on, YYYY-MM-DD; default each account's own `as_of`, else today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<String>,
    /// Accounts per page, 1-1000; default 50.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Accounts to skip, for the next page; default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
}

fn list_accounts(p: &Planner, args: serde_json::Value) -> Result<Answer, CallError> {
    let a: ListArgs = from_value(args)?;
    let as_of = parse_as_of(a.as_of.as_deref(), "as_of")?;
    let limit = a.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(
            InputError::one("limit", format!("must be from 1 to 1000 (got {limit})")).into(),
        );
    }
    let offset = a.offset.unwrap_or(0);
    let f = filter(a.segment, a.csm);
    p.check_segment(&f, "segment")?;
    let mut rows = p.segment_rows(&f, as_of)?;
    if let Some(o) = a.outcome {
        rows.retain(|r| r.outcome == o);
    }
    rows.sort_by(|x, y| x.name.cmp(&y.name).then_with(|| x.id.cmp(&y.id)));
    let total = u32::try_from(rows.len()).unwrap_or(u32::MAX);
    let accounts: Vec<AccountListing> = rows
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(|r| AccountListing {
            name: r.name,
            id: r.id,
            segment: r.segment,
            csm: r.csm,
            as_of: Some(r.as_of),
            currency: r.currency,
            arr: r.current_arr,
            outcome: r.outcome,
            status: r.status,
            utilisation_pct: r.utilisation_pct,
            score: r.score,
            top_reason: r.top_reason,
        })
        .collect();
    let mut md = format!(
        "# Accounts: {}{}\n\n{} of {total} (from {}).\n\n| Account | Id | Segment | CSM | Outcome | Utilisation | Score | Top reason |\n|---|---|---|---|---|---|---|---|\n",
        crate::markdown::md(&f.describe()),
        a.outcome
            .map(|o| format!(", outcome {}", o.as_str()))
            .unwrap_or_default(),
        accounts.len(),
        offset + 1
    );
    for r in &accounts {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            crate::markdown::md(&r.name),
            r.id.as_deref().map_or("-".into(), crate::markdown::text),
            r.segment
                .as_deref()
                .map_or("-".into(), crate::markdown::text),
            r.csm.as_deref().map_or("-".into(), crate::markdown::text),
            r.outcome.as_str(),
            r.utilisation_pct
                .map(crate::model::values::fmt_pct)
                .unwrap_or_else(|| "unknown".into()),
            r.score
                .map(crate::model::values::fmt_score)
                .unwrap_or_else(|| "unknown".into()),
            crate::markdown::md(&r.top_reason),
        ));
    }
    let list = AccountList {
        segment: f,
        outcome: a.outcome,
        total,
        offset,
        accounts,
        markdown: md,
    };
    Structured::with_markdown(list, |l| &mut l.markdown)
}

/// `get_account` and `plan_history` arguments.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountArgs {
    /// Name or id of a stored account.
    pub account: String,
    /// `plan_history` only: include each saved plan's rendered markdown (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_markdown: Option<bool>,
}

fn get_account(p: &Planner, args: serde_json::Value) -> Result<Answer, CallError> {
    let a: AccountArgs = from_value(args)?;
    let found = p.accounts.find(&a.account, "account")?;
    let mut plans = p.accounts.plans(found.key)?;
    let saved_plans = u32::try_from(plans.len()).unwrap_or(u32::MAX);
    let last_plan = plans.pop().map(|mut r| {
        r.markdown = None;
        r
    });
    let s = &found.snapshot;
    let md = format!(
        "# Account: {}\n\n- **Id:** {}\n- **Segment:** {}\n- **CSM:** {}\n- **As of:** {}\n- **Usage history readings:** {}\n- **Signals:** {}, **events:** {}\n- **Saved plans:** {saved_plans}{}\n\nThe snapshot is in the structured result; pass `account` to any step tool to plan with it.\n",
        crate::markdown::md(&s.name),
        s.id.as_deref().map_or("-".into(), crate::markdown::text),
        s.segment
            .as_deref()
            .map_or("-".into(), crate::markdown::text),
        s.csm.as_deref().map_or("-".into(), crate::markdown::text),
        s.as_of
            .map(|d| d.to_string())
            .unwrap_or_else(|| "not set (today)".into()),
        s.usage.history.len(),
        s.signals.len(),
        s.events.len(),
        last_plan
            .as_ref()
            .map(|r| format!(" (latest {}: {})", r.as_of, r.outcome.as_str()))
            .unwrap_or_default()
    );
    let out = StoredAccount {
        snapshot: found.snapshot,
        last_plan,
        saved_plans,
    };
    Ok(Answer {
        structured: Structured::new(out)?,
        markdown: md,
    })
}

/// `plan_segment` arguments.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentArgs {
    /// The segment to plan (case-insensitive), e.g. `Mid-Market`; omit for every segment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// Only this CSM's book (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csm: Option<String>,
    /// The day to assess every account on, YYYY-MM-DD; default each account's own `as_of`,
    /// else today. Reassessments are judged due against it (default today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<String>,
}

fn plan_segment(p: &Planner, args: serde_json::Value) -> Result<Answer, CallError> {
    let a: SegmentArgs = from_value(args)?;
    let as_of = parse_as_of(a.as_of.as_deref(), "as_of")?;
    let f = filter(a.segment, a.csm);
    p.check_segment(&f, "segment")?;
    let plan = p.plan_segment(&f, as_of)?;
    Structured::with_markdown(plan, |p| &mut p.markdown)
}

fn plan_history(p: &Planner, args: serde_json::Value) -> Result<Answer, CallError> {
    let a: AccountArgs = from_value(args)?;
    let found = p.accounts.find(&a.account, "account")?;
    let plans = p.accounts.plans(found.key)?;
    let h: PlanHistory = segment::history(
        &found.snapshot.name,
        found.snapshot.id.clone(),
        plans,
        a.include_markdown.unwrap_or(false),
    );
    Structured::with_markdown(h, |h| &mut h.markdown)
}

/// `due_reassessments` arguments.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DueArgs {
    /// Reassessments due on or before this day, YYYY-MM-DD; default today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<String>,
    /// Only accounts in this segment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// Only this CSM's book.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csm: Option<String>,
}

fn due_reassessments(p: &Planner, args: serde_json::Value) -> Result<Answer, CallError> {
    let a: DueArgs = from_value(args)?;
    let as_of = parse_as_of(a.as_of.as_deref(), "as_of")?.unwrap_or_else(p.today);
    let f = filter(a.segment, a.csm);
    let due = p.accounts.due(&f, as_of)?;
    let mut md = format!(
        "# Reassessments Due: {}\n\n_On or before {as_of}._\n\n",
        f.describe()
    );
    if due.is_empty() {
        md.push_str("None: no saved plan has a reassessment date that has come.\n");
    } else {
        md.push_str(&segment::due_table(&due));
        md.push_str("\nRun draft_plan for each to reassess it against the readiness signals.\n");
    }
    let out = DueList {
        as_of,
        segment: f,
        due,
        markdown: md,
    };
    Structured::with_markdown(out, |d| &mut d.markdown)
}

/// `import_accounts` arguments.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportArgs {
    /// The export to import: .json, .jsonl or .csv, under a directory the server allows
    /// (relative paths are taken from there).
    pub file: String,
    /// A TOML mapping file for a CSV export's own column names and formats, under an allowed directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map: Option<String>,
    /// Check the file and report what would change, without writing (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
}

/// Resolves a path argument to a file inside one of the allowed directories. The real path
/// (symlinks and `..` resolved) must lie under an allowed directory's real path.
pub fn allowed_file(dirs: &[PathBuf], given: &str, field: &str) -> Result<PathBuf, InputError> {
    if dirs.is_empty() {
        return Err(InputError::one(
            field,
            "cannot be imported: this server allows no import directory (start it with --import-dir DIR)",
        ));
    }
    let raw = Path::new(given.trim());
    if raw.as_os_str().is_empty() {
        return Err(InputError::one(field, "must not be empty"));
    }
    let candidates: Vec<PathBuf> = if raw.is_absolute() {
        vec![raw.to_path_buf()]
    } else {
        dirs.iter().map(|d| d.join(raw)).collect()
    };
    let mut outside = false;
    for c in candidates {
        let Ok(real) = c.canonicalize() else { continue };
        if dirs.iter().any(|d| real.starts_with(d)) {
            if real.is_file() {
                return Ok(real);
            }
        } else {
            outside = true;
        }
    }
    let shown: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    Err(InputError::one(
        field,
        if outside || raw.is_absolute() || given.contains("..") {
            format!(
                "`{given}` is outside the allowed import directories ({}): only files under them can be imported, and `..` or symlinks leading out are refused",
                shown.join(", ")
            )
        } else {
            format!(
                "`{given}` is not a file in the allowed import directories ({})",
                shown.join(", ")
            )
        },
    ))
}

fn import_accounts(p: &Planner, args: serde_json::Value) -> Result<Answer, CallError> {
    let a: ImportArgs = from_value(args)?;
    let file = allowed_file(&p.import_dirs, &a.file, "file")?;
    let map = a
        .map
        .as_deref()
        .map(|m| allowed_file(&p.import_dirs, m, "map"))
        .transpose()?;
    let report: ImportReport =
        p.accounts
            .import(&file, map.as_deref(), a.dry_run.unwrap_or(false))?;
    let markdown = report.markdown();
    Ok(Answer {
        structured: Structured::new(report)?,
        markdown,
    })
}

pub const LIST_ACCOUNTS: ToolDef = ToolDef {
    name: "list_accounts",
    title: "List stored accounts",
    description: "Lists the stored accounts, optionally only one segment, one CSM's book, or one plan outcome (`blocked`, `not_ready`, `provisional`, `on_hold`, `ready`), with each account's outcome, status, seat utilisation, health score and top reason as of `as_of`. Paginated: `limit` (default 50) and `offset`; `total` counts every match. Use a name or id from here as `account` in any step tool.",
    input: input::<ListArgs>,
    output: output::<AccountList>,
    run: list_accounts,
    reads_account: false,
    read_only: true,
};

pub const GET_ACCOUNT: ToolDef = ToolDef {
    name: "get_account",
    title: "Read a stored account",
    description: "Returns a stored account's whole snapshot (contract, usage and history, health, signals, events, offer) by name or id, with its latest saved plan. An unknown or ambiguous name is an error listing the closest matches.",
    input: input::<AccountArgs>,
    output: output::<StoredAccount>,
    run: get_account,
    reads_account: false,
    read_only: true,
};

pub const PLAN_SEGMENT: ToolDef = ToolDef {
    name: "plan_segment",
    title: "Plan a whole segment",
    description: "The expansion view of a segment, a CSM's book (`csm`) or every stored account: the distribution by outcome (blocked / not_ready / provisional / on_hold / ready) and by status (Healthy / Neutral / Unhealthy); a row per account (utilisation, score, outcome, top reason, expansion type, expansion ARR at 100% and 50%); the ready accounts ranked by expected expansion ARR (100% scenario weighted by confidence: High 100%, Medium 50%, Low 25%); right-size candidates with unused seats and ARR at stake; reassessments due from saved plans; and the gate check that fails most often across blocked accounts, a systemic pattern such as an onboarding gap. Present the markdown as it is; for one account's full plan call draft_plan with `account`.",
    input: input::<SegmentArgs>,
    output: output::<SegmentPlan>,
    run: plan_segment,
    reads_account: false,
    read_only: true,
};

pub const PLAN_HISTORY: ToolDef = ToolDef {
    name: "plan_history",
    title: "Plan history of an account",
    description: "Every plan draft_plan saved for a stored account, oldest first (outcome, status, utilisation, score, expansion, reassessment date, top reason), and how it moved between plans, e.g. `utilisation 26.7% -> 64.0%; outcome blocked -> ready`. Pass `include_markdown: true` for each saved plan's rendered text.",
    input: input::<AccountArgs>,
    output: output::<PlanHistory>,
    run: plan_history,
    reads_account: false,
    read_only: true,
};

pub const DUE_REASSESSMENTS: ToolDef = ToolDef {
    name: "due_reassessments",
    title: "Reassessments due",
    description: "Stored accounts whose latest saved plan (on or before `as_of`, default today) set a reassessment date that has come: blocked accounts to check again against the readiness signals. Optionally one segment or one CSM's book. Follow up with draft_plan for each.",
    input: input::<DueArgs>,
    output: output::<DueList>,
    run: due_reassessments,
    reads_account: false,
    read_only: true,
};

pub const IMPORT_ACCOUNTS: ToolDef = ToolDef {
    name: "import_accounts",
    title: "Import an account export",
    description: "Imports an export into the store: JSON (a snapshot or an array), JSONL, a CSV with one row per account and columns named by snapshot path (`contract.arr`), or a long-format CSV with an `account` column (usage history `account,date,active_users`, signals, events, goals, churn_signals, features, limits). `map` names a TOML mapping file for a CRM export's own column names and number/date formats. Accounts are upserted by id, else by name. All or nothing: a file with any bad row imports nothing and the report lists every bad row with its line, column and reason; `dry_run` reports without writing. Only files under the directories the server was started with (--import-dir) can be read.",
    input: input::<ImportArgs>,
    output: output::<ImportReport>,
    run: import_accounts,
    reads_account: false,
    read_only: false,
};
