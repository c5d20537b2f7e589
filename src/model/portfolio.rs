//! Result types of the portfolio tools: the segment plan, plan history, reassessments due,
//! account listings and import reports. Like `results`, these are the tools' output schemas,
//! so field names follow the contract and only ever grow.

use std::borrow::Cow;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::results::{CheckName, Confidence, ExpansionType, Outcome, RightSize, Status};
use super::snapshot::Snapshot;
use super::values::{Day, Money, Pct, Score};
use crate::markdown::{md, text};

/// Which accounts a portfolio view covers. Every field absent means every account.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AccountFilter {
    /// Segment, compared case-insensitively (e.g. `Mid-Market`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// Customer-success manager, compared case-insensitively: one CSM's book.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csm: Option<String>,
}

impl AccountFilter {
    /// `segment Mid-Market, CSM Priya Raman` or `all accounts`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(s) = &self.segment {
            parts.push(format!("segment {s}"));
        }
        if let Some(c) = &self.csm {
            parts.push(format!("CSM {c}"));
        }
        if parts.is_empty() {
            "all accounts".into()
        } else {
            parts.join(", ")
        }
    }
}

/// Counts by plan outcome.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Distribution {
    pub blocked: u32,
    pub not_ready: u32,
    /// Everything measured passes; only data is missing.
    pub provisional: u32,
    /// Ready by the data; timing blocks it.
    pub on_hold: u32,
    pub ready: u32,
}

/// Counts by health status.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[allow(non_snake_case)]
pub struct StatusDistribution {
    pub Healthy: u32,
    pub Neutral: u32,
    pub Unhealthy: u32,
    /// No score and no critical churn signal: the status cannot be told.
    pub unknown: u32,
}

/// A set of checks in two bytes, listed (and serialised, as an array of names) in
/// `CheckName`'s order, which is the order the gate runs its checks in. A segment row held
/// two vectors for these, 48 bytes and two allocations on a blocked row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CheckSet(u16);

impl CheckSet {
    pub fn insert(&mut self, c: CheckName) {
        self.0 |= 1 << (c as u16);
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The checks, in `CheckName`'s order.
    pub fn iter(self) -> impl Iterator<Item = CheckName> {
        CheckName::ALL
            .into_iter()
            .filter(move |&c| self.0 & (1 << (c as u16)) != 0)
    }
}

impl Serialize for CheckSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for CheckSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<CheckSet, D::Error> {
        let mut set = CheckSet::default();
        for c in Vec::<CheckName>::deserialize(d)? {
            set.insert(c);
        }
        Ok(set)
    }
}

/// One account in a segment plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SegmentRow {
    pub name: String,
    pub id: Option<String>,
    pub segment: Option<Arc<str>>,
    pub csm: Option<Arc<str>>,
    /// The day the account was assessed on.
    pub as_of: Day,
    pub outcome: Outcome,
    pub status: Option<Status>,
    /// Active / licensed seats, one decimal; `null` when unknown.
    pub utilisation_pct: Option<Pct>,
    /// Composite health score; `null` when unknown.
    pub score: Option<Score>,
    /// Blocked: the first gate check that failed; not ready: the first readiness shortfall;
    /// ready: the strongest organic signal.
    pub top_reason: Arc<str>,
    pub currency: Arc<str>,
    pub current_arr: Option<Money>,
    /// Ready accounts only; `null` otherwise.
    pub expansion_type: Option<ExpansionType>,
    /// Expansion ARR at 100 % adoption; ready accounts with a priced opportunity only.
    pub expansion_arr_100: Option<Money>,
    /// Expansion ARR at 50 % adoption; ready accounts with a priced opportunity only.
    pub expansion_arr_50: Option<Money>,
    pub confidence: Option<Confidence>,
    /// `expansion_arr_100` weighted by confidence (High 100 %, Medium 50 %, Low 25 %).
    pub expected_arr: Option<Money>,
    /// Blocked accounts: the gate checks that failed.
    #[schemars(with = "Vec<CheckName>")]
    pub failing_checks: CheckSet,
    /// Blocked accounts: the gate checks whose input is unknown (which fails the gate too).
    #[schemars(with = "Vec<CheckName>")]
    pub unknown_checks: CheckSet,
    // Boxed: most rows have none, and a million rows each holding room for one was 50 MB.
    /// Blocked accounts that pay for substantially more seats than they use.
    pub right_size: Option<Box<RightSize>>,
    /// Blocked accounts: when this assessment would reassess them.
    pub reassess_on: Option<Day>,
}

/// A ready account in priority order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RankedAccount {
    pub rank: u32,
    pub name: String,
    pub id: Option<String>,
    pub expansion_type: Option<ExpansionType>,
    pub currency: Arc<str>,
    pub expansion_arr_100: Option<Money>,
    pub expansion_arr_50: Option<Money>,
    pub confidence: Option<Confidence>,
    /// Confidence weight applied to the 100 % scenario, in percent.
    pub weight_pct: Pct,
    /// The figure ranked on; `null` when a price assumption is missing (ranked last).
    pub expected_arr: Option<Money>,
    pub top_reason: Arc<str>,
}

/// A blocked account that should right-size before any expansion conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RightSizeCandidate {
    pub name: String,
    pub id: Option<String>,
    pub currency: Arc<str>,
    pub utilisation_pct: Option<Pct>,
    pub licensed_seats: u32,
    pub active_users: u32,
    pub unused_seats: u32,
    pub recommended_seats: u32,
    /// ARR on the seats above the recommendation; `null` when no price is known.
    pub arr_at_stake: Option<Money>,
}

/// The gate check that blocks the most accounts: a systemic pattern, not one customer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FailingCheck {
    /// Check id, e.g. `seat_utilisation`.
    pub check: CheckName,
    /// Blocked accounts where it failed.
    pub failed: u32,
    /// Blocked accounts where it was unknown (an unknown input fails the gate).
    pub unknown: u32,
    /// Blocked accounts in the view.
    pub blocked_accounts: u32,
    /// (failed + unknown) / blocked accounts, one decimal.
    pub share_pct: Pct,
    /// Up to 20 of the accounts concerned, by name.
    pub accounts: Vec<String>,
    /// What the pattern usually means and who should look at it.
    pub pattern: String,
}

/// A stored account whose reassessment date has come.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DueReassessment {
    pub name: String,
    pub id: Option<String>,
    pub segment: Option<String>,
    pub csm: Option<String>,
    /// `as_of` of the latest saved plan.
    pub last_plan_as_of: Day,
    pub last_outcome: Outcome,
    pub reassess_on: Day,
    /// Days since `reassess_on` (0 on the day itself).
    pub days_overdue: i64,
    pub utilisation_pct: Option<Pct>,
    pub score: Option<Score>,
    pub top_reason: Option<String>,
}

/// `plan_segment`: the expansion view of a segment, a CSM's book or the whole portfolio.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SegmentPlan {
    /// The filter used.
    pub segment: AccountFilter,
    /// The filter in words.
    pub description: String,
    /// The `as_of` override, if one was given; otherwise each account's own `as_of` (or today).
    pub as_of: Option<Day>,
    /// The day reassessments were judged due against.
    pub reassessments_as_of: Day,
    pub total_accounts: u32,
    pub distribution: Distribution,
    pub status_distribution: StatusDistribution,
    /// One row per account, by name.
    pub accounts: Vec<SegmentRow>,
    /// Ready accounts, highest expected expansion ARR first.
    pub ranked_ready: Vec<RankedAccount>,
    /// Blocked accounts paying for substantially more seats than they use, most ARR at stake first.
    pub right_size_candidates: Vec<RightSizeCandidate>,
    /// Stored accounts whose saved plan's reassessment date has come.
    pub reassessments_due: Vec<DueReassessment>,
    /// The gate check that fails most often across blocked accounts; `null` when none is blocked.
    pub most_common_failing_check: Option<FailingCheck>,
    pub notes: Vec<String>,
    pub markdown: String,
}

/// What `draft_plan` saves for a stored account, keyed by account and `as_of`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlanRecord {
    pub as_of: Day,
    pub outcome: Outcome,
    pub status: Option<Status>,
    pub utilisation_pct: Option<Pct>,
    pub sustained_utilisation_pct: Option<Pct>,
    pub score: Option<Score>,
    pub active_users: Option<u32>,
    pub licensed_seats: Option<u32>,
    pub expansion_type: Option<ExpansionType>,
    pub estimated_expansion_arr: Option<Money>,
    pub confidence: Option<Confidence>,
    pub currency: String,
    /// Blocked plans: the reassessment date.
    pub reassess_on: Option<Day>,
    pub top_reason: String,
    /// The rendered plan; present when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub markdown: Option<String>,
}

/// How one saved plan differs from the one before it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlanMove {
    pub from: Day,
    pub to: Day,
    /// Each change as `what old -> new`, e.g. `utilisation 26.7% -> 64.0%`.
    pub changes: Vec<String>,
}

/// `plan_history`: every saved plan of one account, oldest first, and how it moved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlanHistory {
    pub account: String,
    pub id: Option<String>,
    pub plans: Vec<PlanRecord>,
    pub moves: Vec<PlanMove>,
    /// First to last plan in one line; empty with fewer than two plans.
    pub summary: String,
    pub markdown: String,
}

/// `due_reassessments`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DueList {
    pub as_of: Day,
    pub segment: AccountFilter,
    pub due: Vec<DueReassessment>,
    /// Reassessments due in all, on every page.
    #[serde(default)]
    pub total: u32,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    pub markdown: String,
}

/// One account in a listing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AccountListing {
    pub name: String,
    pub id: Option<String>,
    pub segment: Option<String>,
    pub csm: Option<String>,
    pub as_of: Option<Day>,
    pub currency: String,
    pub arr: Option<Money>,
    pub outcome: Outcome,
    pub status: Option<Status>,
    pub utilisation_pct: Option<Pct>,
    pub score: Option<Score>,
    pub top_reason: String,
}

/// `list_accounts`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AccountList {
    pub segment: AccountFilter,
    /// The outcome filter, when one was given.
    pub outcome: Option<Outcome>,
    /// Accounts matching every filter.
    pub total: u32,
    pub offset: u32,
    pub accounts: Vec<AccountListing>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    pub markdown: String,
}

/// `get_account`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StoredAccount {
    pub snapshot: Snapshot,
    /// The latest saved plan, if any (without its markdown; see plan_history).
    pub last_plan: Option<PlanRecord>,
    pub saved_plans: u32,
    /// Earlier `usage.history` readings left out of `snapshot` (it holds the latest 400);
    /// absent when none were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_history_left_out: Option<u32>,
}

/// One problem in an import file, with where it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RowError {
    /// 1-based line in the file (the CSV header is line 1); 0 when the whole file is concerned.
    pub line: u64,
    /// The column as named in the file (or the field path in JSON), empty when none applies.
    pub column: String,
    pub problem: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column.is_empty()) {
            (0, true) => write!(f, "{}", self.problem),
            (0, false) => write!(f, "column `{}`: {}", self.column, self.problem),
            (l, true) => write!(f, "line {l}: {}", self.problem),
            (l, false) => write!(f, "line {l}, column `{}`: {}", self.column, self.problem),
        }
    }
}

/// `import_accounts` / `expansion-planner import`: what one file did, or would do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ImportReport {
    pub file: String,
    /// `json`, `jsonl`, `csv:accounts`, `csv:history`, `csv:signals`, `csv:events`,
    /// `csv:goals`, `csv:churn_signals`, `csv:features` or `csv:limits`.
    pub format: String,
    pub dry_run: bool,
    /// Whether anything was written: false on a dry run or when any row was bad.
    pub written: bool,
    /// Data rows (or JSON records) read.
    pub rows: u64,
    /// Accounts created (or that would be).
    pub created: u64,
    /// Accounts updated (or that would be).
    pub updated: u64,
    /// Every bad row; a file with any imports nothing.
    pub errors: Vec<RowError>,
    /// What was passed over and why: report title rows and footers skipped, columns not
    /// imported, optional columns the file lacks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl ImportReport {
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// The report in words: one line, then every error.
    pub fn markdown(&self) -> String {
        let mut out = format!("# Import: {}\n\n", md(&self.file));
        let verb = if self.dry_run {
            "would create"
        } else {
            "created"
        };
        let verb2 = if self.dry_run {
            "would update"
        } else {
            "updated"
        };
        if self.errors.is_empty() {
            out.push_str(&format!(
                "- **Format:** {}\n- **Rows read:** {}\n- **Accounts:** {verb} {}, {verb2} {}\n- **Written:** {}\n",
                md(&self.format),
                self.rows,
                self.created,
                self.updated,
                if self.written {
                    "yes"
                } else {
                    "no (dry run)"
                }
            ));
        } else {
            out.push_str(&format!(
                "- **Format:** {}\n- **Rows read:** {}\n- **Written:** no: the file has {} problem(s) and an import is all or nothing; fix every row below and import it again\n\n| Line | Column | Problem |\n|---|---|---|\n",
                md(&self.format),
                self.rows,
                self.errors.len()
            ));
            for e in &self.errors {
                out.push_str(&format!(
                    "| {} | {} | {} |\n",
                    e.line,
                    if e.column.is_empty() {
                        Cow::Borrowed("-")
                    } else {
                        text(&e.column)
                    },
                    md(&e.problem)
                ));
            }
        }
        if !self.notes.is_empty() {
            out.push_str("\n**Notes**\n\n");
            for n in &self.notes {
                out.push_str(&format!("- {n}\n"));
            }
        }
        out
    }
}
