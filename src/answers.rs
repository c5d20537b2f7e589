//! What the step tools answer, outside the MCP layer: their arguments, `draft_plan`'s
//! [`PlanAnswer`], and one handler per tool, each a function of the [`Planner`] and the
//! raw JSON arguments. Every step after the first runs the health gate; when it fails the
//! tool answers `outcome: blocked` with the gate result and the unhealthy path, never
//! expansion content.
//!
//! Arguments are parsed here (not by rmcp's extractor) so that a bad argument becomes a tool
//! error naming the field (`snapshot.contract.licensed_seats must be greater than 0`).
//! [`crate::mcp::tools`] names the tools, describes them and turns an [`Answer`] into
//! rmcp's `CallToolResult`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::accounts::SourceError;
use crate::engine::render;
use crate::engine::{self, Evaluation};
use crate::listing;
use crate::model::input::from_value;
use crate::model::results::{
    Confidence, ExpansionType, FirstAction, FramingCheck, FramingResult, Gated, HealthResult,
    Outcome, PlanResult, PlanSteps, Reassessment, Status,
};
use crate::model::values::{Pct, Score};
use crate::model::{Day, InputError, Snapshot};
use crate::service::{Planner, StepArgs};

/// What a tool produced: the structured content and its markdown rendering.
pub struct Answer {
    pub structured: serde_json::Value,
    pub markdown: String,
}

impl Answer {
    /// An answer whose structured content is `value` (its percentages and scores are
    /// integer tenths, `model::values::{Pct, Score}`: no figure can be a NaN).
    pub fn new<T: Serialize>(value: &T, markdown: String) -> Result<Answer, CallError> {
        let structured = serde_json::to_value(value).map_err(|e| {
            CallError::Internal(format!(
                "internal error: the result could not be serialised: {e}"
            ))
        })?;
        Ok(Answer {
            structured,
            markdown,
        })
    }

    /// An answer whose structured content carries its own markdown (`field`).
    pub fn with_markdown<T: Serialize>(
        value: &T,
        field: fn(&T) -> &String,
    ) -> Result<Answer, CallError> {
        Answer::new(value, field(value).clone())
    }
}

/// `check_framing` arguments.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FramingArgs {
    /// The draft message to check for sales phrasing.
    pub draft: String,
    /// Optional: a known account, so rewrites use its own numbers and the gate is checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Optional: a whole account snapshot instead of `account`, shaped as in draft_plan's `snapshot`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "snapshot_object")]
    pub snapshot: Option<serde_json::Value>,
    /// Optional: the day to compute from, YYYY-MM-DD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<String>,
}

/// `check_framing` result.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct FramingCheckResult {
    #[serde(flatten)]
    pub check: FramingCheck,
    /// When an account was given: its plan outcome. `blocked` means no expansion message
    /// should be sent at all, however it is phrased.
    pub outcome: Option<Outcome>,
    /// A warning for the assistant, when there is one.
    pub note: Option<String>,
}

/// The step tools' argument schema but draft_plan's: `snapshot` is the same object,
/// described once (in draft_plan's schema, the tool a model builds a snapshot for) instead
/// of ten times: that one schema repeated was 87 % of what a model read of the tool list.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct StepArgsBrief {
    /// A stored account's name or id; give this or `snapshot`, not both.
    account: Option<String>,
    /// A whole account snapshot, shaped as in draft_plan's `snapshot` (also resource expansion://schema/account); give this or `account`.
    #[serde(default)]
    #[schemars(schema_with = "snapshot_object")]
    snapshot: Option<serde_json::Value>,
    /// The day every date counts from, YYYY-MM-DD; overrides `snapshot.as_of`; default today.
    as_of: Option<String>,
}

/// `snapshot` without its inner schema: an object the server checks field by field.
fn snapshot_object(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "object" })
}

/// How much of the plan `draft_plan` answers with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Detail {
    /// The outcome, the verdict, the headline figures and the plan as markdown, each figure once.
    #[default]
    Summary,
    /// The summary plus every step's structured result.
    Full,
}

/// `draft_plan` arguments: the step arguments and `detail`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftArgs {
    /// A stored account's name or id; give this or `snapshot`, not both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// A whole account snapshot, when the account is not stored; give this or `account`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<Snapshot>")]
    pub snapshot: Option<serde_json::Value>,
    /// The day every date counts from, YYYY-MM-DD; overrides `snapshot.as_of`; default today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<String>,
    /// `summary` (default): outcome, verdict, headline figures and markdown; `full` adds every step's structured result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<Detail>,
}

/// `draft_plan`'s answer: readable on its own, since some clients show the model the
/// structured content and nothing else. By default (`detail: summary`) the outcome, a
/// one-sentence verdict, the headline figures (each once) and the plan as markdown; with
/// `detail: full` also every step's structured result.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct PlanAnswer {
    pub outcome: Outcome,
    pub account: String,
    pub as_of: Day,
    /// What the plan concludes and what to do next, in one sentence.
    pub verdict: String,
    /// The first thing to do this week, with its owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_action: Option<FirstAction>,
    /// What is unverified, each with the figure that is known (`provisional` only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unverified: Vec<String>,
    /// Not ready or blocked: when the account is looked at again, and by whom.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reassessment: Option<Reassessment>,
    pub headline: Headline,
    /// `detail: full` only: every step's structured result that was reached.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub steps: Option<PlanSteps>,
    /// When not ready: what to watch for before reopening the conversation (`detail: full` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Vec<String>")]
    pub watch_for: Option<Vec<String>>,
    /// The plan in the playbook's Output Format; present it as it is.
    pub markdown: String,
}

/// The figures a plan turns on, each stated once.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Headline {
    /// Active / licensed seats, one decimal; absent when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utilisation_pct: Option<Pct>,
    /// Composite health score; absent when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<Score>,
    /// Health for expansion purposes; absent when it cannot be told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    pub clear_to_expand: bool,
    /// Inputs that were needed and absent: ask the user for them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// Blocked: the day to check again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reassess_on: Option<Day>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expansion_type: Option<ExpansionType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Expansion ARR per adoption scenario.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scenarios: Vec<HeadlineScenario>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Confidence>,
    /// Net revenue retention after the expansion, one decimal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nrr_after_pct: Option<Pct>,
    /// The day to propose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub propose_on: Option<Day>,
}

/// One scenario's expansion ARR.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct HeadlineScenario {
    pub name: String,
    pub adoption_pct: Pct,
    /// `null` when a price assumption is missing.
    pub expansion_arr: Option<crate::model::values::Money>,
}

impl PlanAnswer {
    pub fn new(plan: PlanResult, detail: Detail) -> PlanAnswer {
        let h = &plan.steps.health;
        let opp = plan.steps.opportunity.as_ref();
        let headline = Headline {
            utilisation_pct: h.utilisation_pct,
            score: h.score,
            status: h.status,
            clear_to_expand: h.clear_to_expand,
            missing: h.missing.clone(),
            reassess_on: plan
                .reassessment
                .as_ref()
                .map(|r| r.on)
                .or_else(|| h.unhealthy_path.as_ref().map(|u| u.reassess_on)),
            expansion_type: opp.and_then(|o| o.expansion_type),
            currency: opp.map(|o| o.currency.clone()),
            scenarios: opp
                .map(|o| {
                    o.scenarios
                        .iter()
                        .map(|sc| HeadlineScenario {
                            name: sc.name.clone(),
                            adoption_pct: sc.adoption_pct,
                            expansion_arr: sc.expansion_arr,
                        })
                        .collect()
                })
                .unwrap_or_default(),
            confidence: opp.map(|o| o.confidence),
            nrr_after_pct: opp.and_then(|o| o.nrr_after_pct),
            propose_on: plan.steps.timing.as_ref().and_then(|t| t.date),
        };
        let full = detail == Detail::Full;
        PlanAnswer {
            outcome: plan.outcome,
            account: plan.account,
            as_of: plan.as_of,
            verdict: plan.verdict,
            first_action: plan.first_action,
            unverified: plan.unverified,
            reassessment: plan.reassessment,
            headline,
            steps: full.then_some(plan.steps),
            watch_for: full.then_some(plan.watch_for),
            markdown: plan.markdown,
        }
    }
}

fn load(p: &Planner, args: serde_json::Value) -> Result<(Snapshot, Day), CallError> {
    let a: StepArgs = from_value(args)?;
    Ok(p.load(&a)?)
}

fn blocked_markdown(h: &HealthResult, s: &Snapshot) -> String {
    let mut out = format!(
        "# Expansion Plan: {}\n\n_As of {}. Outcome: blocked._\n\n",
        crate::markdown::md(&s.name),
        h.as_of
    );
    render::health_section(&mut out, h);
    render::unhealthy_section(&mut out, h);
    out.push_str("No expansion content: the health gate failed. Recover first, then reassess.\n");
    out
}

/// Runs the steps in order and answers with one step's result, or the gate when it failed.
fn step<T: Serialize + Send + 'static>(
    p: &Planner,
    args: serde_json::Value,
    pick: fn(&engine::plan::Expansion) -> T,
    section: fn(&mut String, &T),
) -> Result<Answer, CallError> {
    let (s, as_of) = load(p, args)?;
    let ev: Evaluation = engine::evaluate(&s, &p.policy, as_of);
    let g: Gated<T> = engine::gated(&s, &ev, pick);
    let markdown = match (&g.result, &g.health) {
        (Some(r), _) => {
            let mut out = format!(
                "_{}, as of {}. Outcome: {}._\n\n",
                crate::markdown::md(&s.name),
                as_of,
                g.outcome.as_str()
            );
            section(&mut out, r);
            out
        }
        (None, Some(h)) => blocked_markdown(h, &s),
        (None, None) => String::new(),
    };
    Answer::new(&g, markdown)
}

pub fn check_health(p: &Planner, args: serde_json::Value) -> Result<Answer, CallError> {
    let (s, as_of) = load(p, args)?;
    let h = engine::health::check_health(&s, &p.policy, as_of);
    let mut markdown = format!(
        "# Health Check: {}\n\n_As of {as_of}._\n\n",
        crate::markdown::md(&s.name)
    );
    render::health_section(&mut markdown, &h);
    render::unhealthy_section(&mut markdown, &h);
    Answer::new(&h, markdown)
}

pub fn find_signals(p: &Planner, a: serde_json::Value) -> Result<Answer, CallError> {
    step(p, a, |x| x.signals.clone(), render::signals_section)
}

pub fn quantify_opportunity(p: &Planner, a: serde_json::Value) -> Result<Answer, CallError> {
    step(p, a, |x| x.opportunity.clone(), render::opportunity_section)
}

pub fn frame_enablement(p: &Planner, a: serde_json::Value) -> Result<Answer, CallError> {
    step(p, a, |x| x.framing.clone(), render::framing_section)
}

pub fn plan_timing(p: &Planner, a: serde_json::Value) -> Result<Answer, CallError> {
    step(p, a, |x| x.timing.clone(), render::timing_section)
}

pub fn design_approach(p: &Planner, a: serde_json::Value) -> Result<Answer, CallError> {
    step(p, a, |x| x.approach.clone(), render::execution_section)
}

pub fn assess_risks(p: &Planner, a: serde_json::Value) -> Result<Answer, CallError> {
    step(p, a, |x| x.risks.clone(), render::risks_section)
}

pub fn define_success_criteria(p: &Planner, a: serde_json::Value) -> Result<Answer, CallError> {
    step(p, a, |x| x.success.clone(), render::success_section)
}

pub fn draft_plan(p: &Planner, args: serde_json::Value) -> Result<Answer, CallError> {
    let d: DraftArgs = from_value(args)?;
    let a = StepArgs {
        account: d.account,
        snapshot: d.snapshot,
        as_of: d.as_of,
    };
    let loaded = p.resolve(&a)?;
    let (plan, not_saved): (PlanResult, Option<String>) = p.draft_noting(&loaded)?;
    let plan = PlanAnswer::new(plan, d.detail.unwrap_or_default());
    match not_saved {
        None => Answer::with_markdown(&plan, |p| &p.markdown),
        // The structured content is the plan and nothing else (its schema); the assistant
        // learns from the text that the history did not get it.
        Some(why) => {
            let markdown = format!(
                "{}\n\n> Note: this plan was not saved to the plan history: {}\n",
                plan.markdown,
                crate::markdown::md(&why)
            );
            Answer::new(&plan, markdown)
        }
    }
}

pub fn check_framing(p: &Planner, args: serde_json::Value) -> Result<Answer, CallError> {
    let a: FramingArgs = from_value(args)?;
    if a.draft.trim().is_empty() {
        return Err(
            InputError::one("draft", "must not be empty: pass the message to check").into(),
        );
    }
    if a.draft.len() > 100_000 {
        return Err(InputError::one(
            "draft",
            format!("is too long ({} bytes; at most 100000)", a.draft.len()),
        )
        .into());
    }
    let (framing, outcome, note): (Option<FramingResult>, Option<Outcome>, Option<String>) = if a
        .account
        .is_some()
        || a.snapshot.is_some()
    {
        let sa = StepArgs {
            account: a.account.clone(),
            snapshot: a.snapshot.clone(),
            as_of: a.as_of.clone(),
        };
        let (s, as_of) = p.load(&sa)?;
        let ev = engine::evaluate(&s, &p.policy, as_of);
        let note = match ev.outcome {
            Outcome::Blocked => Some(format!(
                "{} is blocked by the health gate: send no expansion message, however it is phrased; use check_health for the recovery plan",
                s.name
            )),
            Outcome::NotReady => Some(format!(
                "{} is not ready: signals or readiness fall short, so hold the expansion conversation",
                s.name
            )),
            Outcome::Provisional => Some(format!(
                "{} is provisional: data is unverified, so collect it (step 0 of the plan) before sending an expansion message",
                s.name
            )),
            Outcome::OnHold => Some(format!(
                "{} is on hold: timing blocks the proposal (an escalation, incident, contentious renewal or distracted champion), so wait before sending it",
                s.name
            )),
            Outcome::Ready => None,
        };
        (ev.expansion.map(|x| x.framing), Some(ev.outcome), note)
    } else {
        (None, None, None)
    };
    let check = engine::framing::check_framing(&a.draft, framing.as_ref());
    let mut markdown = String::new();
    if let Some(n) = &note {
        markdown.push_str(&format!("**Warning:** {}\n\n", crate::markdown::md(n)));
    }
    render::framing_check_section(&mut markdown, &check);
    let result = FramingCheckResult {
        check,
        outcome,
        note,
    };
    Answer::new(&result, markdown)
}

// The store tools: their queries are `listing`'s.

pub fn list_accounts(p: &Planner, args: serde_json::Value) -> Result<Answer, CallError> {
    let list = listing::list_accounts(p, from_value(args)?)?;
    Answer::with_markdown(&list, |l| &l.markdown)
}

pub fn get_account(p: &Planner, args: serde_json::Value) -> Result<Answer, CallError> {
    let (account, markdown) = listing::get_account(p, from_value(args)?)?;
    Answer::new(&account, markdown)
}

pub fn plan_segment(p: &Planner, args: serde_json::Value) -> Result<Answer, CallError> {
    let page = listing::plan_segment(p, from_value(args)?)?;
    let markdown = page.plan.markdown.clone();
    Answer::new(&page, markdown)
}

pub fn plan_history(p: &Planner, args: serde_json::Value) -> Result<Answer, CallError> {
    let page = listing::plan_history(p, from_value(args)?)?;
    let markdown = page.history.markdown.clone();
    Answer::new(&page, markdown)
}

pub fn due_reassessments(p: &Planner, args: serde_json::Value) -> Result<Answer, CallError> {
    let due = listing::due_reassessments(p, from_value(args)?)?;
    Answer::with_markdown(&due, |d| &d.markdown)
}

pub fn import_accounts(p: &Planner, args: serde_json::Value) -> Result<Answer, CallError> {
    let report = listing::import_accounts(p, from_value(args)?)?;
    let markdown = report.markdown();
    Answer::new(&report, markdown)
}

/// Runs tool `name`'s handler. Never panics out: a panic in the engine becomes an error
/// naming the tool, so the client is always answered.
pub fn unpanicked(
    name: &str,
    run: impl FnOnce() -> Result<Answer, CallError>,
) -> Result<Answer, CallError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).unwrap_or_else(|payload| {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        tracing::error!(tool = name, "tool panicked: {msg}");
        Err(CallError::Internal(format!(
            "internal error in {name}: {msg}"
        )))
    })
}

/// Why a tool call failed.
#[derive(Debug)]
pub enum CallError {
    UnknownTool(String),
    Input(InputError),
    Internal(String),
}

impl From<InputError> for CallError {
    fn from(e: InputError) -> CallError {
        CallError::Input(e)
    }
}

impl From<SourceError> for CallError {
    fn from(e: SourceError) -> CallError {
        match e {
            SourceError::Input(i) => CallError::Input(i),
            SourceError::Unavailable(msg) | SourceError::Unwritable(msg) => {
                CallError::Internal(msg)
            }
        }
    }
}
