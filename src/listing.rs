//! Reading the account store page by page, for any front end: listing and reading
//! accounts, one page of a segment plan, plan history, reassessments due, and imports from
//! the directories the operator allowed, and completing account and segment names. Each
//! function takes the query as its arguments struct (the MCP tools' input schemas are
//! generated from them) and returns the answer with its markdown; paging is by opaque
//! cursors tied to the query they came from.

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::accounts::SourceError;
use crate::engine::segment;
use crate::model::InputError;
use crate::model::portfolio::{
    AccountFilter, AccountList, AccountListing, DueList, ImportReport, PlanHistory, SegmentPlan,
    StoredAccount,
};
use crate::model::results::Outcome;
use crate::service::{Planner, parse_as_of};

type Result<T, E = SourceError> = std::result::Result<T, E>;

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
    /// Accounts per page, 1-1000 (pages hold at most 100, so that an answer stays small); default 50.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1000))]
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`, for the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Accounts to skip instead of a cursor; default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
}

/// Where a page starts, from `cursor` (or `offset`), checked against the query it came from.
///
/// A cursor is `<offset>.<fingerprint>`: opaque to the caller, and tied to the filter and
/// day it was made for, so a cursor from one query cannot silently page another.
fn page_start(
    cursor: Option<&str>,
    offset: Option<u32>,
    fingerprint: u32,
) -> Result<usize, InputError> {
    let Some(c) = cursor else {
        return Ok(usize::try_from(offset.unwrap_or(0)).unwrap_or(usize::MAX));
    };
    if offset.is_some() {
        return Err(InputError::one(
            "cursor",
            "give `cursor` or `offset`, not both",
        ));
    }
    let bad = || {
        InputError::one(
            "cursor",
            format!(
                "`{c}` is not a cursor this tool gave: pass `next_cursor` from the previous page as it is, or leave it out for the first page"
            ),
        )
    };
    let (start, fp) = c.trim().split_once('.').ok_or_else(bad)?;
    let start: usize = start.parse().map_err(|_| bad())?;
    let fp = u32::from_str_radix(fp, 16).map_err(|_| bad())?;
    if fp != fingerprint {
        return Err(InputError::one(
            "cursor",
            format!(
                "`{c}` belongs to another query (segment, csm, outcome or as_of differ): repeat that query's arguments with it, or leave it out to start again"
            ),
        ));
    }
    Ok(start)
}

fn next_cursor(next: usize, total: usize, fingerprint: u32) -> Option<String> {
    (next < total).then(|| format!("{next}.{fingerprint:08x}"))
}

/// FNV-1a over the query's arguments, normalised as the query compares them.
fn fingerprint(tool: &str, parts: &[Option<&str>]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    let mut eat = |b: u8| {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    };
    tool.bytes().for_each(&mut eat);
    for p in parts {
        eat(0xff);
        for b in p.unwrap_or("").trim().to_lowercase().bytes() {
            eat(b);
        }
    }
    h
}

/// Rows on one page of list_accounts or due_reassessments: 100 rows is about 50 KB of
/// answer, half the budget of any answer.
const MAX_LIST_PAGE: usize = 100;

fn check_limit(limit: Option<u32>, default: u32, max: u32) -> Result<usize, InputError> {
    let limit = limit.unwrap_or(default);
    if !(1..=max).contains(&limit) {
        return Err(InputError::one(
            "limit",
            format!("must be from 1 to {max} (got {limit})"),
        ));
    }
    Ok(usize::try_from(limit).unwrap_or(usize::MAX))
}

/// One page of `list_accounts`; its `markdown` holds the table.
pub fn list_accounts(p: &Planner, a: ListArgs) -> Result<AccountList> {
    let as_of = parse_as_of(a.as_of.as_deref(), "as_of")?;
    // 1000 was the limit before pages were bounded: still accepted, served 100 at a time.
    let limit = check_limit(a.limit, 50, 1000)?.min(MAX_LIST_PAGE);
    let fp = fingerprint(
        "list_accounts",
        &[
            a.segment.as_deref(),
            a.csm.as_deref(),
            a.outcome.map(|o| o.as_str()),
            a.as_of.as_deref(),
        ],
    );
    let start = page_start(a.cursor.as_deref(), a.offset, fp)?;
    let f = filter(a.segment, a.csm);
    p.check_segment(&f, "segment")?;
    let mut rows = p.segment_rows(&f, as_of)?;
    if let Some(o) = a.outcome {
        rows.retain(|r| r.outcome == o);
    }
    rows.sort_by(|x, y| x.name.cmp(&y.name).then_with(|| x.id.cmp(&y.id)));
    let all = rows.len();
    let total = u32::try_from(all).unwrap_or(u32::MAX);
    let offset = u32::try_from(start).unwrap_or(u32::MAX);
    let accounts: Vec<AccountListing> = rows
        .into_iter()
        .skip(start)
        .take(limit)
        .map(|r| AccountListing {
            name: r.name,
            id: r.id,
            segment: r.segment.map(|x| x.to_string()),
            csm: r.csm.map(|x| x.to_string()),
            as_of: Some(r.as_of),
            currency: r.currency.to_string(),
            arr: r.current_arr,
            outcome: r.outcome,
            status: r.status,
            utilisation_pct: r.utilisation_pct,
            score: r.score,
            top_reason: r.top_reason.to_string(),
        })
        .collect();
    let next = next_cursor(start + accounts.len(), all, fp);
    let mut md = format!(
        "# Accounts: {}{}{}\n\n| Account | Id | Segment | CSM | Outcome | Utilisation | Score | Top reason |\n|---|---|---|---|---|---|---|---|\n",
        crate::markdown::md(&f.describe()),
        a.outcome
            .map(|o| format!(", outcome {}", o.as_str()))
            .unwrap_or_default(),
        demo_label(p),
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
    md.push_str(&format!(
        "\n{}\n",
        page_line(start, accounts.len(), all, next.as_deref(), "list_accounts")
    ));
    if all == 0 && f.segment.is_none() && f.csm.is_none() && a.outcome.is_none() {
        md.push_str(&format!(
            "\n{}.\n",
            capitalised(crate::accounts::EMPTY_STORE)
        ));
    }
    Ok(AccountList {
        segment: f,
        outcome: a.outcome,
        total,
        offset,
        accounts,
        next_cursor: next,
        markdown: md,
    })
}

/// `get_account` and `plan_history` arguments.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountArgs {
    /// Name or id of a stored account.
    pub account: String,
    /// `plan_history` only: include each saved plan's rendered markdown (default false; then at most 5 plans a page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_markdown: Option<bool>,
    /// `plan_history` only: the latest N saved plans, 1-100; default 20.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
}

/// `plan_history`: the latest saved plans, and how many earlier ones were left out.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct HistoryPage {
    #[serde(flatten)]
    pub history: PlanHistory,
    /// Saved plans of the account in all.
    pub total_plans: u32,
    /// Earlier plans not in `plans` (raise `limit` for more; `summary` spans them all).
    pub left_out: u32,
}

/// Readings of `usage.history` that `get_account` returns: the latest 400, more than a year
/// of daily readings and far more than the 60 days the gate reads, so that one account with
/// years of history cannot make an answer too large for a context window.
pub const HISTORY_SHOWN: usize = 400;

/// Saved plans with their markdown on one `plan_history` page.
const MARKDOWN_PLANS: usize = 5;

/// `get_account`: the stored account (its usage history cut to the latest
/// [`HISTORY_SHOWN`] readings) and its markdown.
pub fn get_account(p: &Planner, a: AccountArgs) -> Result<(StoredAccount, String)> {
    let mut found = p.accounts.find(&a.account, "account")?;
    let readings = found.snapshot.usage.history.len();
    let history_left_out = readings.saturating_sub(HISTORY_SHOWN);
    if history_left_out > 0 {
        found.snapshot.usage.history.sort_by_key(|r| r.date);
        found.snapshot.usage.history.drain(..history_left_out);
    }
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
        if history_left_out > 0 {
            format!("{readings} (the latest {HISTORY_SHOWN} in the structured result)")
        } else {
            readings.to_string()
        },
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
        usage_history_left_out: (history_left_out > 0).then(|| count(history_left_out)),
    };
    Ok((out, md))
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
    /// Account rows per page, 1-50; default 20. The summary is on every page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 50))]
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`, for the next page of account rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// Rows of each ranked list (ready accounts, right-size candidates, reassessments due) on
/// every page of a segment plan; the account rows, paged, carry every account.
pub const TOP_ROWS: usize = 10;

/// One page of a segment plan: the summary (distribution, the top of each ranked list, the
/// systemic pattern) on every page, and one page of the account rows.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct SegmentPage {
    #[serde(flatten)]
    pub plan: SegmentPlan,
    pub page: Page,
    /// Pass as `cursor` for the next page of account rows; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// What a page holds of the whole, and what it leaves out.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Page {
    /// Index of the page's first account row (0-based) among `total_accounts`.
    pub offset: u32,
    /// Account rows on this page.
    pub returned: u32,
    /// Account rows not on this page (before and after it).
    pub left_out: u32,
    /// Ready accounts in the view; `ranked_ready` holds the top ones.
    pub ranked_ready_total: u32,
    /// Right-size candidates in the view; `right_size_candidates` holds the top ones.
    pub right_size_total: u32,
    /// Reassessments due in the view; `reassessments_due` holds the most overdue.
    pub reassessments_due_total: u32,
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// One page of a segment plan; `plan.markdown` holds its markdown.
pub fn plan_segment(p: &Planner, a: SegmentArgs) -> Result<SegmentPage> {
    let as_of = parse_as_of(a.as_of.as_deref(), "as_of")?;
    let limit = check_limit(a.limit, 20, 50)?;
    let fp = fingerprint(
        "plan_segment",
        &[a.segment.as_deref(), a.csm.as_deref(), a.as_of.as_deref()],
    );
    let start = page_start(a.cursor.as_deref(), None, fp)?;
    let f = filter(a.segment, a.csm);
    p.check_segment(&f, "segment")?;
    let mut plan = p.plan_segment(&f, as_of)?;
    let all = plan.accounts.len();
    if start > all {
        return Err(InputError::one(
            "cursor",
            format!("starts at row {start}, past the last of {all} accounts: leave it out to start again"),
        )
        .into());
    }
    let returned = all.saturating_sub(start).min(limit);
    let page = Page {
        offset: count(start),
        returned: count(returned),
        left_out: count(all - returned),
        ranked_ready_total: count(plan.ranked_ready.len()),
        right_size_total: count(plan.right_size_candidates.len()),
        reassessments_due_total: count(plan.reassessments_due.len()),
    };
    plan.accounts = plan.accounts.drain(..).skip(start).take(limit).collect();
    plan.ranked_ready.truncate(TOP_ROWS);
    plan.right_size_candidates.truncate(TOP_ROWS);
    plan.reassessments_due.truncate(TOP_ROWS);
    let next = next_cursor(start + plan.accounts.len(), all, fp);
    let mut md = segment::segment_markdown(&plan);
    if p.demo
        && let Some(end) = md.find("\n\n")
    {
        md.insert_str(
            end + 2,
            "_Demo portfolio: fictional accounts, not your data._\n\n",
        );
    }
    for (shown, total, what) in [
        (
            plan.ranked_ready.len(),
            page.ranked_ready_total,
            "ready accounts",
        ),
        (
            plan.right_size_candidates.len(),
            page.right_size_total,
            "right-size candidates",
        ),
        (
            plan.reassessments_due.len(),
            page.reassessments_due_total,
            "reassessments due",
        ),
    ] {
        if count(shown) < total {
            md.push_str(&format!(
                "\n_Top {shown} of {total} {what} shown; every account's row is in the pages of the accounts table._\n"
            ));
        }
    }
    md.push('\n');
    md.push_str(&page_line(
        start,
        plan.accounts.len(),
        all,
        next.as_deref(),
        "plan_segment",
    ));
    md.push('\n');
    if all == 0 && f.segment.is_none() && f.csm.is_none() {
        md.push_str(&format!(
            "\n{}.\n",
            capitalised(crate::accounts::EMPTY_STORE)
        ));
    }
    plan.markdown = md;
    Ok(SegmentPage {
        plan,
        page,
        next_cursor: next,
    })
}

/// `Accounts 26-50 of 1000; 950 left out: call plan_segment again with cursor "...".`
fn page_line(start: usize, shown: usize, total: usize, next: Option<&str>, tool: &str) -> String {
    let mut out = if shown == 0 {
        format!("No account rows on this page ({total} in all).")
    } else if shown == total {
        format!("All {total} accounts shown.")
    } else {
        format!(
            "Accounts {}-{} of {total}; {} left out of this page.",
            start + 1,
            start + shown,
            total - shown
        )
    };
    if let Some(c) = next {
        out.push_str(&format!(
            " For the next page call {tool} again with the same arguments and `cursor: \"{c}\"`."
        ));
    }
    out
}

/// `_Demo portfolio: ..._` when the server serves the embedded demo, else nothing.
fn demo_label(p: &Planner) -> &'static str {
    if p.demo {
        " (demo portfolio: fictional accounts, not your data)"
    } else {
        ""
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The latest saved plans of an account; `history.markdown` holds the markdown.
pub fn plan_history(p: &Planner, a: AccountArgs) -> Result<HistoryPage> {
    let found = p.accounts.find(&a.account, "account")?;
    let with_markdown = a.include_markdown.unwrap_or(false);
    let limit = check_limit(a.limit, 20, 100)?.min(if with_markdown {
        MARKDOWN_PLANS
    } else {
        usize::MAX
    });
    let mut plans = p.accounts.plans(found.key)?;
    plans.sort_by_key(|r| r.as_of);
    let total = plans.len();
    let name = &found.snapshot.name;
    let id = found.snapshot.id.clone();
    let summary =
        (total > limit).then(|| segment::history(name, id.clone(), plans.clone(), false).summary);
    let latest = plans.split_off(total.saturating_sub(limit));
    let mut h: PlanHistory = segment::history(name, id, latest, with_markdown);
    if let Some(s) = summary {
        h.summary = s;
        h.markdown.push_str(&format!(
            "\n_The latest {limit} of {total} saved plans; {} earlier left out (raise `limit`, up to 100{}). First to last: {}._\n",
            total - limit,
            if with_markdown { ", without `include_markdown`" } else { "" },
            h.summary
        ));
    }
    Ok(HistoryPage {
        history: h,
        total_plans: count(total),
        left_out: count(total.saturating_sub(limit)),
    })
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
    /// Accounts per page, 1-100; default 50.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`, for the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// One page of the reassessments due; its `markdown` holds the table.
pub fn due_reassessments(p: &Planner, a: DueArgs) -> Result<DueList> {
    let as_of = parse_as_of(a.as_of.as_deref(), "as_of")?.unwrap_or_else(p.today);
    let limit = check_limit(a.limit, 50, 100)?;
    let day = as_of.to_string();
    let fp = fingerprint(
        "due_reassessments",
        &[a.segment.as_deref(), a.csm.as_deref(), Some(&day)],
    );
    let start = page_start(a.cursor.as_deref(), None, fp)?;
    let f = filter(a.segment, a.csm);
    let mut due = p.accounts.due(&f, as_of)?;
    let all = due.len();
    due = due.into_iter().skip(start).take(limit).collect();
    let next = next_cursor(start + due.len(), all, fp);
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
    if all > 0 {
        md.push_str(&format!(
            "\n{}\n",
            page_line(start, due.len(), all, next.as_deref(), "due_reassessments")
        ));
    }
    Ok(DueList {
        as_of,
        segment: f,
        due,
        total: count(all),
        next_cursor: next,
        markdown: md,
    })
}

/// `import_accounts` arguments.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportArgs {
    /// The export to import: .json, .jsonl or .csv, under a directory the server allows
    /// (relative paths are taken from there).
    pub file: String,
    /// A TOML mapping file for a CSV export's own column names and formats, under an allowed directory, or a built-in map: `hubspot-companies`, `salesforce-accounts`, `gainsight-companies`, `totango-accounts`, `mixpanel-usage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map: Option<String>,
    /// Check the file and report what would change, without writing (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
}

/// Imports (or with `dry_run` checks) an export under one of the planner's import
/// directories, with an optional column mapping.
pub fn import_accounts(p: &Planner, a: ImportArgs) -> Result<ImportReport> {
    // Each file is opened once, beneath an import directory, refusing symlinks on the way
    // (store::confined): what is read is what was allowed, whatever happens to the paths.
    let open = |given: &str, field: &str| {
        if p.import_dirs.is_empty() {
            return Err(InputError::one(
                field,
                "cannot be imported: this server allows no import directory (start it with --import-dir DIR)",
            ));
        }
        let given = given.trim();
        if given.is_empty() {
            return Err(InputError::one(field, "must not be empty"));
        }
        crate::store::confined::open_beneath(&p.import_dirs, given).map_err(|r| match r {
            crate::store::confined::Refused::Outside(m)
            | crate::store::confined::Refused::Missing(m) => InputError::one(field, m),
        })
    };
    let (opened, path) = open(&a.file, "file")?;
    // A built-in map's name (`hubspot-companies`) is no file to confine.
    let map = match a.map.as_deref() {
        None => None,
        Some(m) => match crate::store::mapping::builtin_for(Path::new(m)) {
            Some(text) => Some((m.to_string(), text.to_string())),
            None => {
                use std::io::Read;
                let (f, shown) = open(m, "map")?;
                let mut text = String::new();
                f.take(1 << 20)
                    .read_to_string(&mut text)
                    .map_err(|e| InputError::one("map", format!("cannot read `{m}`: {e}")))?;
                Some((shown.display().to_string(), text))
            }
        },
    };
    p.accounts
        .import_opened(&path, opened, map, a.dry_run.unwrap_or(false))
}

/// Names (and, with `segments`, segment names) completing `prefix`, case-insensitively:
/// prefix matches first (names, then segments), then names that contain the text; each
/// once, from the first `limit` names the store offers. A store that cannot answer
/// completes nothing.
pub fn complete(p: &Planner, prefix: &str, segments: bool, limit: usize) -> Vec<String> {
    let Ok(names) = p.accounts.complete(prefix, limit) else {
        return Vec::new();
    };
    let lower = prefix.trim().to_lowercase();
    let segments: Vec<String> = if segments {
        p.accounts.segments().unwrap_or_default()
    } else {
        Vec::new()
    };
    let mut out: Vec<String> = Vec::new();
    let mut push = |v: &str| {
        if !out.iter().any(|o| o == v) {
            out.push(v.to_string());
        }
    };
    for n in names
        .iter()
        .filter(|n| n.to_lowercase().starts_with(&lower))
    {
        push(n);
    }
    for sg in segments
        .iter()
        .filter(|n| n.to_lowercase().starts_with(&lower))
    {
        push(sg);
    }
    for n in names
        .iter()
        .chain(segments.iter())
        .filter(|n| n.to_lowercase().contains(&lower))
    {
        push(n);
    }
    out
}
