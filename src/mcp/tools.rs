//! The tools: one per playbook step plus the whole plan. Every step after the first runs the
//! health gate; when it fails the tool answers `outcome: blocked` with the gate result and
//! the unhealthy path, never expansion content.
//!
//! Arguments are parsed here (not by rmcp's extractor) so that a bad argument becomes a tool
//! error naming the field (`snapshot.contract.licensed_seats must be greater than 0`).

use std::sync::Arc;

use rmcp::model::JsonObject;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::schemas::{gated_output, input, output};
use crate::accounts::SourceError;
use crate::engine::render;
use crate::engine::{self, Evaluation};
use crate::model::input::from_value;
use crate::model::results::{
    ApproachResult, Confidence, ExpansionType, FirstAction, FramingCheck, FramingResult, Gated,
    HealthResult, OpportunityResult, Outcome, PlanResult, Reassessment, RisksResult, SignalsResult,
    Status, SuccessResult, TimingResult,
};
use crate::model::values::{Pct, Score};
use crate::model::{Day, InputError, Snapshot};
use crate::service::{Planner, StepArgs};

/// What a tool produced: the structured content and its markdown rendering.
pub struct Answer {
    pub structured: Structured,
    pub markdown: String,
}

/// A tool's structured content, kept typed until it becomes the `serde_json::Value` of
/// rmcp's `CallToolResult` (the one answer path, stdio and HTTP alike).
pub struct Structured {
    value: Box<dyn Json>,
    /// The value has a `markdown` field, left empty here because it holds the answer's
    /// markdown: it is filled in from [`Answer::markdown`] when the value is built.
    with_markdown: bool,
}

/// A serialisable value whose type has been forgotten.
trait Json: Send {
    fn to_value(&self) -> serde_json::Result<serde_json::Value>;
}

impl<T: Serialize + Send> Json for T {
    fn to_value(&self) -> serde_json::Result<serde_json::Value> {
        serde_json::to_value(self)
    }
}

fn unserialisable(e: serde_json::Error) -> CallError {
    CallError::Internal(format!(
        "internal error: the result could not be serialised: {e}"
    ))
}

impl Structured {
    /// The structured content of an answer. Its percentages and scores are integer tenths
    /// (`model::values::{Pct, Score}`), so no figure can be a NaN written as `null`.
    pub fn new<T: Serialize + Send + 'static>(value: T) -> Result<Structured, CallError> {
        Ok(Structured {
            value: Box::new(value),
            with_markdown: false,
        })
    }

    /// An answer whose structured content has a `markdown` field holding the answer's
    /// markdown (`field` reaches it): the markdown is taken out, so that it is not
    /// serialised twice, and put back when the value is built.
    pub fn with_markdown<T: Serialize + Send + 'static>(
        mut value: T,
        field: fn(&mut T) -> &mut String,
    ) -> Result<Answer, CallError> {
        let markdown = std::mem::take(field(&mut value));
        let mut structured = Structured::new(value)?;
        structured.with_markdown = true;
        Ok(Answer {
            structured,
            markdown,
        })
    }
}

impl Answer {
    /// The structured content as a JSON value, and the markdown.
    pub fn into_value(self) -> Result<(serde_json::Value, String), CallError> {
        let mut value = self.structured.value.to_value().map_err(unserialisable)?;
        if self.structured.with_markdown {
            let Some(obj) = value.as_object_mut() else {
                return Err(CallError::Internal(
                    "internal error: a result with markdown is not an object".into(),
                ));
            };
            obj.insert(
                "markdown".into(),
                serde_json::Value::String(self.markdown.clone()),
            );
        }
        Ok((value, self.markdown))
    }
}

/// One tool: its public description and its handler.
pub struct ToolDef {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub input: fn() -> Arc<JsonObject>,
    pub output: fn() -> Arc<JsonObject>,
    pub run: fn(&Planner, serde_json::Value) -> Result<Answer, CallError>,
    /// Takes `account` or `snapshot` and `as_of`: the description says so.
    pub reads_account: bool,
    /// Changes nothing (`readOnlyHint`). `draft_plan` saves plan history and
    /// `import_accounts` writes accounts, so they are not.
    pub read_only: bool,
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
struct StepArgsBrief {
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

/// Every step's structured result, under the contract's keys.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct PlanSteps {
    pub health: HealthResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signals: Option<SignalsResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opportunity: Option<OpportunityResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub framing: Option<FramingResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timing: Option<TimingResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approach: Option<ApproachResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risks: Option<RisksResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_criteria: Option<SuccessResult>,
    /// When not ready: what to watch for before reopening the conversation.
    pub watch_for: Vec<String>,
}

impl PlanAnswer {
    pub fn new(plan: PlanResult, detail: Detail) -> PlanAnswer {
        let h = &plan.health;
        let opp = plan.opportunity.as_ref();
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
            propose_on: plan.timing.as_ref().and_then(|t| t.date),
        };
        let steps = (detail == Detail::Full).then(|| PlanSteps {
            health: plan.health.clone(),
            signals: plan.signals,
            opportunity: plan.opportunity,
            framing: plan.framing,
            timing: plan.timing,
            approach: plan.approach,
            risks: plan.risks,
            success_criteria: plan.success_criteria,
            watch_for: plan.watch_for,
        });
        PlanAnswer {
            outcome: plan.outcome,
            account: plan.account,
            as_of: plan.as_of,
            verdict: plan.verdict,
            first_action: plan.first_action,
            unverified: plan.unverified,
            reassessment: plan.reassessment,
            headline,
            steps,
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
    Ok(Answer {
        structured: Structured::new(g)?,
        markdown,
    })
}

fn check_health(p: &Planner, args: serde_json::Value) -> Result<Answer, CallError> {
    let (s, as_of) = load(p, args)?;
    let h = engine::health::check_health(&s, &p.policy, as_of);
    let mut markdown = format!(
        "# Health Check: {}\n\n_As of {as_of}._\n\n",
        crate::markdown::md(&s.name)
    );
    render::health_section(&mut markdown, &h);
    render::unhealthy_section(&mut markdown, &h);
    Ok(Answer {
        structured: Structured::new(h)?,
        markdown,
    })
}

fn find_signals(p: &Planner, a: serde_json::Value) -> Result<Answer, CallError> {
    step(p, a, |x| x.signals.clone(), render::signals_section)
}

fn quantify_opportunity(p: &Planner, a: serde_json::Value) -> Result<Answer, CallError> {
    step(p, a, |x| x.opportunity.clone(), render::opportunity_section)
}

fn frame_enablement(p: &Planner, a: serde_json::Value) -> Result<Answer, CallError> {
    step(p, a, |x| x.framing.clone(), render::framing_section)
}

fn plan_timing(p: &Planner, a: serde_json::Value) -> Result<Answer, CallError> {
    step(p, a, |x| x.timing.clone(), render::timing_section)
}

fn design_approach(p: &Planner, a: serde_json::Value) -> Result<Answer, CallError> {
    step(p, a, |x| x.approach.clone(), render::execution_section)
}

fn assess_risks(p: &Planner, a: serde_json::Value) -> Result<Answer, CallError> {
    step(p, a, |x| x.risks.clone(), render::risks_section)
}

fn define_success_criteria(p: &Planner, a: serde_json::Value) -> Result<Answer, CallError> {
    step(p, a, |x| x.success.clone(), render::success_section)
}

fn draft_plan(p: &Planner, args: serde_json::Value) -> Result<Answer, CallError> {
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
        None => Structured::with_markdown(plan, |p| &mut p.markdown),
        // The structured content is the plan and nothing else (its schema); the assistant
        // learns from the text that the history did not get it.
        Some(why) => {
            let markdown = format!(
                "{}\n\n> Note: this plan was not saved to the plan history: {}\n",
                plan.markdown,
                crate::markdown::md(&why)
            );
            Ok(Answer {
                structured: Structured::new(plan)?,
                markdown,
            })
        }
    }
}

fn check_framing(p: &Planner, args: serde_json::Value) -> Result<Answer, CallError> {
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
    Ok(Answer {
        structured: Structured::new(result)?,
        markdown,
    })
}

/// Every tool, in playbook order.
pub static DEFS: &[ToolDef] = &[
    ToolDef {
        name: "check_health",
        title: "Step 1: Health prerequisite check",
        description: "Step 1, the health gate: call it first (or draft_plan, which runs every step). Seat utilisation (one decimal) and its trailing 30-60 day average, the composite score, status, and every gate check with actual and required. An unknown input fails the gate and is listed in `missing`: ask the user for it. When `clear_to_expand` is false, present `unhealthy_path` (recovery targets, dates, right-sizing, AE note) and stop: no expansion talk. Use every figure as returned.",
        input: input::<StepArgsBrief>,
        output: output::<HealthResult>,
        run: check_health,
        reads_account: true,
        read_only: true,
    },
    ToolDef {
        name: "find_signals",
        title: "Step 2: Expansion signals and readiness",
        description: "Step 2 alone: the expansion signals (observed, and derived from usage at capacity) with evidence, strength, organic or not and the expansion type each implies; the organic count against the minimum; the readiness thresholds with the customer's figures. For a whole plan call draft_plan once instead. Gate first: `outcome: blocked` carries only the health result.",
        input: input::<StepArgsBrief>,
        output: gated_output::<SignalsResult>,
        run: find_signals,
        reads_account: true,
        read_only: true,
    },
    ToolDef {
        name: "quantify_opportunity",
        title: "Step 3: Quantify the opportunity",
        description: "Step 3 alone: current ARR, expansion type, every assumption, 100% and 50% adoption scenarios with the arithmetic, confidence, NRR after and a proposal date. A price not given is never invented: it is in `missing_assumptions`; ask the user. For a whole plan call draft_plan once instead. Gate first: `outcome: blocked` carries only the health result.",
        input: input::<StepArgsBrief>,
        output: gated_output::<OpportunityResult>,
        run: quantify_opportunity,
        reads_account: true,
        read_only: true,
    },
    ToolDef {
        name: "frame_enablement",
        title: "Step 4: Frame as enablement",
        description: "Step 4 alone: an enablement statement per organic signal from the customer's own numbers, the sales phrasing to avoid, and the statement to lead with. To check a draft message use check_framing. Gate first: `outcome: blocked` carries only the health result.",
        input: input::<StepArgsBrief>,
        output: gated_output::<FramingResult>,
        run: frame_enablement,
        reads_account: true,
        read_only: true,
    },
    ToolDef {
        name: "check_framing",
        title: "Check a draft for sales framing",
        description: "Checks a draft customer message for sales phrasing (upgrade asks, seat counts, tier features, discounts, quarter-end urgency): each phrase, why, and an enablement rewrite. With `account` or `snapshot` the rewrites use the customer's numbers and the gate is checked; `note` then says when no expansion message should be sent at all.",
        input: input::<FramingArgs>,
        output: output::<FramingCheckResult>,
        run: check_framing,
        reads_account: false,
        read_only: true,
    },
    ToolDef {
        name: "plan_timing",
        title: "Step 5: Timing",
        description: "Step 5 alone: when to propose, from events (success milestone, feature-request conversation, new team member, QBR, annual planning) and the planning month; blockers (open escalation or incident, contentious renewal, distracted champion) make it `defer` with what must change. Gate first: `outcome: blocked` carries only the health result.",
        input: input::<StepArgsBrief>,
        output: gated_output::<TimingResult>,
        run: plan_timing,
        reads_account: true,
        read_only: true,
    },
    ToolDef {
        name: "design_approach",
        title: "Step 6: Design the approach",
        description: "Step 6 alone: the execution table (step, action, owner, date) opening with the value summary, and phased milestones in weeks (technical) or months (org-wide rollouts). Gate first: `outcome: blocked` carries only the health result.",
        input: input::<StepArgsBrief>,
        output: gated_output::<ApproachResult>,
        run: design_approach,
        reads_account: true,
        read_only: true,
    },
    ToolDef {
        name: "assess_risks",
        title: "Step 7: Expansion risks",
        description: "Step 7 alone: the risks of this expansion for this customer (technical dependencies, onboarding load, term exposure, renewal proximity, thin headroom, weak signals, unpriced assumptions), each with why and the gating action. Gate first: `outcome: blocked` carries only the health result.",
        input: input::<StepArgsBrief>,
        output: gated_output::<RisksResult>,
        run: assess_risks,
        reads_account: true,
        read_only: true,
    },
    ToolDef {
        name: "define_success_criteria",
        title: "Step 8: Post-expansion success criteria",
        description: "Step 8 alone: adoption, health, value and relationship criteria with measurement, target and date. Gate first: `outcome: blocked` carries only the health result.",
        input: input::<StepArgsBrief>,
        output: gated_output::<SuccessResult>,
        run: define_success_criteria,
        reads_account: true,
        read_only: true,
    },
    ToolDef {
        name: "draft_plan",
        title: "Draft the whole expansion plan",
        description: "The whole expansion plan in one call: all eight steps in order. Returns `outcome` (`blocked`: the gate failed, only the recovery path; `not_ready`: healthy but a measured threshold or the signal rule falls short; `provisional`: all measured passes, data is missing, a step 0 collects it; `on_hold`: ready but timing blocks it; `ready`: nothing unverified or blocking), a one-line `verdict`, the `headline` figures and `markdown` in the playbook's Output Format: present it as it is. `detail: full` adds each step's structured result. If `headline.missing` is not empty, ask the user for those inputs. Saves the plan to a stored account's history.",
        input: input::<DraftArgs>,
        output: output::<PlanAnswer>,
        run: draft_plan,
        reads_account: true,
        read_only: false,
    },
    super::store_tools::LIST_ACCOUNTS,
    super::store_tools::GET_ACCOUNT,
    super::store_tools::PLAN_SEGMENT,
    super::store_tools::PLAN_HISTORY,
    super::store_tools::DUE_REASSESSMENTS,
    super::store_tools::IMPORT_ACCOUNTS,
];

/// Finds a tool by name.
pub fn find(name: &str) -> Option<&'static ToolDef> {
    DEFS.iter().find(|t| t.name == name)
}

/// Runs a tool on raw arguments. Never panics out: a panic in the engine becomes an error.
pub fn call(planner: &Planner, name: &str, args: serde_json::Value) -> Result<Answer, CallError> {
    let def = find(name).ok_or_else(|| CallError::UnknownTool(name.to_string()))?;
    let run = def.run;
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(planner, args))) {
        Ok(result) => result,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            tracing::error!(tool = name, "tool panicked: {msg}");
            Err(CallError::Internal(format!(
                "internal error in {name}: {msg}"
            )))
        }
    }
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
