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

use crate::accounts::SourceError;
use crate::engine::render;
use crate::engine::{self, Evaluation};
use crate::model::input::from_value;
use crate::model::results::{
    ApproachResult, FramingCheck, FramingResult, Gated, HealthResult, OpportunityResult, Outcome,
    PlanResult, RisksResult, SignalsResult, SuccessResult, TimingResult,
};
use crate::model::{Day, InputError, Snapshot};
use crate::schemas::{input, output};
use crate::service::{Planner, StepArgs};

/// What a tool produced: the structured content and its markdown rendering.
pub struct Answer {
    pub structured: Structured,
    pub markdown: String,
}

/// A tool's structured content, kept typed until a transport writes it: as a
/// `serde_json::Value` for rmcp's `CallToolResult`, or as JSON bytes written straight from
/// the typed result for the stdio transport (see [`super::fast`]).
pub struct Structured {
    value: Box<dyn Json>,
    /// The value's last field is `markdown`, left empty here because it holds the answer's
    /// markdown: it is filled in as it is written, so that the markdown is escaped once.
    markdown_last: bool,
}

/// A serialisable value whose type has been forgotten.
trait Json: Send {
    fn to_value(&self) -> serde_json::Result<serde_json::Value>;
    fn write(&self, out: &mut Vec<u8>) -> serde_json::Result<()>;
}

impl<T: Serialize + Send> Json for T {
    fn to_value(&self) -> serde_json::Result<serde_json::Value> {
        serde_json::to_value(self)
    }
    fn write(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        serde_json::to_writer(out, self)
    }
}

fn unserialisable(e: serde_json::Error) -> CallError {
    CallError::Internal(format!(
        "internal error: the result could not be serialised: {e}"
    ))
}

impl Structured {
    /// The structured content of an answer. serde_json would write a NaN or an infinity as
    /// `null`, which a client reads as "unknown"; a figure like that is a bug in the server
    /// and is reported as one, naming where it is, instead of being sent.
    pub fn new<T: Serialize + Send + 'static>(value: T) -> Result<Structured, CallError> {
        if let Some(path) = crate::model::finite::non_finite(&value) {
            return Err(CallError::Internal(format!(
                "internal error: the result has a number that is not finite at `{path}`; this is a bug in the server, not in the input"
            )));
        }
        Ok(Structured {
            value: Box::new(value),
            markdown_last: false,
        })
    }

    /// An answer whose structured content ends with a `markdown` field holding the answer's
    /// markdown (`field` reaches it): the markdown is taken out and written once per place.
    pub fn with_markdown<T: Serialize + Send + 'static>(
        mut value: T,
        field: fn(&mut T) -> &mut String,
    ) -> Result<Answer, CallError> {
        let markdown = std::mem::take(field(&mut value));
        let mut structured = Structured::new(value)?;
        structured.markdown_last = true;
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
        if self.structured.markdown_last {
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

    /// The answer as the JSON bytes the stdio transport writes, and the markdown.
    pub fn prepare(self) -> Result<(super::fast::PreparedAnswer, String), CallError> {
        let (content, text) = super::fast::text_content(&self.markdown);
        let mut structured = Vec::with_capacity(
            if self.structured.markdown_last {
                content.len()
            } else {
                0
            } + 4096,
        );
        self.structured
            .value
            .write(&mut structured)
            .map_err(unserialisable)?;
        if self.structured.markdown_last {
            const EMPTY_LAST: &[u8] = br#""markdown":""}"#;
            if !structured.ends_with(EMPTY_LAST) {
                return Err(CallError::Internal(
                    "internal error: a result's markdown is not its last field".into(),
                ));
            }
            structured.truncate(structured.len() - 3);
            structured.extend_from_slice(content.get(text).unwrap_or_default());
            structured.push(b'}');
        }
        Ok((
            super::fast::PreparedAnswer {
                content,
                structured,
            },
            self.markdown,
        ))
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
    /// Optional: a whole account snapshot instead of `account`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<Snapshot>")]
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

/// The step tools' argument schema: `StepArgs` with `snapshot` described as a snapshot.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct StepArgsSchema {
    /// Name or id of a known account (see resource `expansion://accounts/{name}`); give this or `snapshot`, not both.
    account: Option<String>,
    /// A whole account snapshot (schema: resource `expansion://schema/account`); give this or `account`, not both.
    snapshot: Option<Snapshot>,
    /// The day every date counts from, YYYY-MM-DD; overrides `snapshot.as_of`; default today.
    as_of: Option<String>,
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
    let a: StepArgs = from_value(args)?;
    let loaded = p.resolve(&a)?;
    let (plan, not_saved): (PlanResult, Option<String>) = p.draft_noting(&loaded)?;
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

pub const READS: &str = "Takes `account` (a known account's name or id) or `snapshot` (a whole account snapshot; schema at resource expansion://schema/account), exactly one, and optional `as_of` (YYYY-MM-DD).";

/// Every tool, in playbook order.
pub static DEFS: &[ToolDef] = &[
    ToolDef {
        name: "check_health",
        title: "Step 1: Health prerequisite check",
        description: "Step 1, MANDATORY and first: the health gate. Computes seat utilisation (active / licensed, one decimal), sustained utilisation over the trailing 30-60 days of history, the composite health score (given, or weighted from components), status (Healthy/Neutral/Unhealthy; an active critical churn signal forces Unhealthy), and every gate check with its actual figure and threshold. An unknown input fails the gate and is listed in `missing`: ask the user for it. When `clear_to_expand` is false, `unhealthy_path` carries quantified recovery targets, the recover -> reassess -> plan dates, right-sizing, a note for the AE and upstream feedback: present those and STOP; do not discuss expansion. Use the figures exactly as returned; never recompute them.",
        input: input::<StepArgsSchema>,
        output: output::<HealthResult>,
        run: check_health,
        reads_account: true,
        read_only: true,
    },
    ToolDef {
        name: "find_signals",
        title: "Step 2: Expansion signals and readiness",
        description: "Step 2: the expansion signals (observed, plus those derived from usage data at or above the capacity threshold), each with evidence, strength (Strong/Moderate/Weak by documented rules), whether it is organic, and the expansion type it implies; the organic count against the minimum of 2; and the quantified readiness thresholds with the customer's actual numbers. Runs the health gate first: if it fails, returns `outcome: blocked` with the gate result only.",
        input: input::<StepArgsSchema>,
        output: output::<Gated<SignalsResult>>,
        run: find_signals,
        reads_account: true,
        read_only: true,
    },
    ToolDef {
        name: "quantify_opportunity",
        title: "Step 3: Quantify the opportunity",
        description: "Step 3: current ARR, expansion type (from `offer`, else the strongest organic signal), every pricing and volume assumption, 100% and 50% adoption scenarios with the arithmetic, the forecast expansion ARR, confidence (High/Medium/Low), projected NRR and a proposal date aligned with the customer's planning month. Money is exact to the cent. A price that is not given is never invented: it is listed in `missing_assumptions`; ask the user for it. Runs the health gate first: if it fails, returns `outcome: blocked` only.",
        input: input::<StepArgsSchema>,
        output: output::<Gated<OpportunityResult>>,
        run: quantify_opportunity,
        reads_account: true,
        read_only: true,
    },
    ToolDef {
        name: "frame_enablement",
        title: "Step 4: Frame as enablement",
        description: "Step 4: an enablement statement per organic signal, built from the customer's own numbers (\"your team has grown to 25; only 15 have access\"), next to the sales phrasing to avoid, and the statement to lead with. Runs the health gate first: if it fails, returns `outcome: blocked` only. To check a draft message, use check_framing.",
        input: input::<StepArgsSchema>,
        output: output::<Gated<FramingResult>>,
        run: frame_enablement,
        reads_account: true,
        read_only: true,
    },
    ToolDef {
        name: "check_framing",
        title: "Check a draft for sales framing",
        description: "Checks a draft customer message for sales phrasing (\"Would you like to upgrade\", \"Can we add N more seats\", \"our X tier has great features\", \"we also have\", discounts and quarter-end urgency) and returns each phrase with why it is sales framing and an enablement rewrite. Takes `draft`; optionally `account` or `snapshot` (and `as_of`), so rewrites use the customer's own numbers and the health gate is checked: if the account is blocked, `note` says no expansion message should be sent at all.",
        input: input::<FramingArgs>,
        output: output::<FramingCheckResult>,
        run: check_framing,
        reads_account: false,
        read_only: true,
    },
    ToolDef {
        name: "plan_timing",
        title: "Step 5: Timing",
        description: "Step 5: when to propose. Triggers from events (after a success milestone, a feature-request conversation, a new team member, an upcoming QBR, annual planning) and the planning month; blockers (an open escalation or incident, a contentious renewal, a distracted champion) turn it into `defer` with what must change. Returns a dated recommendation and the reason. Runs the health gate first: if it fails, returns `outcome: blocked` only.",
        input: input::<StepArgsSchema>,
        output: output::<Gated<TimingResult>>,
        run: plan_timing,
        reads_account: true,
        read_only: true,
    },
    ToolDef {
        name: "design_approach",
        title: "Step 6: Design the approach",
        description: "Step 6: the execution table (step, action, owner, date), opening with a value summary that connects what the customer has proven to why it is ready, and phased milestones (discovery, scoping, trial, rollout, post-rollout review) in weeks for technical expansions and months for org-wide seat rollouts. Runs the health gate first: if it fails, returns `outcome: blocked` only.",
        input: input::<StepArgsSchema>,
        output: output::<Gated<ApproachResult>>,
        run: design_approach,
        reads_account: true,
        read_only: true,
    },
    ToolDef {
        name: "assess_risks",
        title: "Step 7: Expansion risks",
        description: "Step 7: risks specific to this expansion type and customer (technical dependencies, onboarding load, workflow fit, term exposure, renewal proximity, thin adoption headroom, weak signals, unpriced assumptions), each with why it applies and the gating action. Runs the health gate first: if it fails, returns `outcome: blocked` only.",
        input: input::<StepArgsSchema>,
        output: output::<Gated<RisksResult>>,
        run: assess_risks,
        reads_account: true,
        read_only: true,
    },
    ToolDef {
        name: "define_success_criteria",
        title: "Step 8: Post-expansion success criteria",
        description: "Step 8: adoption, health stability, value and relationship criteria, each with its measurement, target and target date. Runs the health gate first: if it fails, returns `outcome: blocked` only.",
        input: input::<StepArgsSchema>,
        output: output::<Gated<SuccessResult>>,
        run: define_success_criteria,
        reads_account: true,
        read_only: true,
    },
    ToolDef {
        name: "draft_plan",
        title: "Draft the whole expansion plan",
        description: "Runs all eight steps in order and returns `outcome` (`blocked`: the health gate failed, only the health check and unhealthy path; `not_ready`: healthy but a readiness threshold or the signal rule fails on measured data, with the opportunity's size, what to watch for and the reassessment; `provisional`: everything measured passes but data is missing, the whole plan with a step 0 that collects it; `on_hold`: ready by the data but timing blocks it, nothing dated inside the blocker; `ready`: nothing unverified, nothing blocking, the whole plan), each step's structured result, and `markdown`: the plan in the playbook's Output Format. Present the markdown as it is: every figure in it was computed by the server. If `health.missing` is not empty, ask the user for those inputs.",
        input: input::<StepArgsSchema>,
        output: output::<PlanResult>,
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
