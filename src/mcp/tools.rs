//! The tool table: one tool per playbook step, the whole plan, `check_framing` and the
//! store tools, each with its title, model-facing description, schemas and handler.
//! `list_tools`, `call_tool` and `schemas/` all read [`DEFS`]. What each tool answers is
//! computed outside the MCP layer ([`crate::answers`], [`crate::listing`]).

use std::sync::Arc;

use rmcp::model::JsonObject;

use super::schemas::{gated_output, input, output};
use crate::answers;
pub use crate::answers::{Answer, CallError};
use crate::model::results::{
    ApproachResult, FramingResult, HealthResult, OpportunityResult, RisksResult, SignalsResult,
    SuccessResult, TimingResult,
};
use crate::service::Planner;

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

/// Every tool, in playbook order.
pub static DEFS: &[ToolDef] = &[
    ToolDef {
        name: "check_health",
        title: "Step 1: Health prerequisite check",
        description: "Step 1, the health gate: call it first (or draft_plan, which runs every step). Seat utilisation (one decimal) and its trailing 30-60 day average, the composite score, status, and every gate check with actual and required. An unknown input fails the gate and is listed in `missing`: ask the user for it. When `clear_to_expand` is false, present `unhealthy_path` (recovery targets, dates, right-sizing, AE note) and stop: no expansion talk. Use every figure as returned.",
        input: input::<answers::StepArgsBrief>,
        output: output::<HealthResult>,
        run: answers::check_health,
        reads_account: true,
        read_only: true,
    },
    ToolDef {
        name: "find_signals",
        title: "Step 2: Expansion signals and readiness",
        description: "Step 2 alone: the expansion signals (observed, and derived from usage at capacity) with evidence, strength, organic or not and the expansion type each implies; the organic count against the minimum; the readiness thresholds with the customer's figures. For a whole plan call draft_plan once instead. Gate first: `outcome: blocked` carries only the health result.",
        input: input::<answers::StepArgsBrief>,
        output: gated_output::<SignalsResult>,
        run: answers::find_signals,
        reads_account: true,
        read_only: true,
    },
    ToolDef {
        name: "quantify_opportunity",
        title: "Step 3: Quantify the opportunity",
        description: "Step 3 alone: current ARR, expansion type, every assumption, 100% and 50% adoption scenarios with the arithmetic, confidence, NRR after and a proposal date. A price not given is never invented: it is in `missing_assumptions`; ask the user. For a whole plan call draft_plan once instead. Gate first: `outcome: blocked` carries only the health result.",
        input: input::<answers::StepArgsBrief>,
        output: gated_output::<OpportunityResult>,
        run: answers::quantify_opportunity,
        reads_account: true,
        read_only: true,
    },
    ToolDef {
        name: "frame_enablement",
        title: "Step 4: Frame as enablement",
        description: "Step 4 alone: an enablement statement per organic signal from the customer's own numbers, the sales phrasing to avoid, and the statement to lead with. To check a draft message use check_framing. Gate first: `outcome: blocked` carries only the health result.",
        input: input::<answers::StepArgsBrief>,
        output: gated_output::<FramingResult>,
        run: answers::frame_enablement,
        reads_account: true,
        read_only: true,
    },
    ToolDef {
        name: "check_framing",
        title: "Check a draft for sales framing",
        description: "Checks a draft customer message for sales phrasing (upgrade asks, seat counts, tier features, discounts, quarter-end urgency): each phrase, why, and an enablement rewrite. With `account` or `snapshot` the rewrites use the customer's numbers and the gate is checked; `note` then says when no expansion message should be sent at all.",
        input: input::<answers::FramingArgs>,
        output: output::<answers::FramingCheckResult>,
        run: answers::check_framing,
        reads_account: false,
        read_only: true,
    },
    ToolDef {
        name: "plan_timing",
        title: "Step 5: Timing",
        description: "Step 5 alone: when to propose, from events (success milestone, feature-request conversation, new team member, QBR, annual planning) and the planning month; blockers (open escalation or incident, contentious renewal, distracted champion) make it `defer` with what must change. Gate first: `outcome: blocked` carries only the health result.",
        input: input::<answers::StepArgsBrief>,
        output: gated_output::<TimingResult>,
        run: answers::plan_timing,
        reads_account: true,
        read_only: true,
    },
    ToolDef {
        name: "design_approach",
        title: "Step 6: Design the approach",
        description: "Step 6 alone: the execution table (step, action, owner, date) opening with the value summary, and phased milestones in weeks (technical) or months (org-wide rollouts). Gate first: `outcome: blocked` carries only the health result.",
        input: input::<answers::StepArgsBrief>,
        output: gated_output::<ApproachResult>,
        run: answers::design_approach,
        reads_account: true,
        read_only: true,
    },
    ToolDef {
        name: "assess_risks",
        title: "Step 7: Expansion risks",
        description: "Step 7 alone: the risks of this expansion for this customer (technical dependencies, onboarding load, term exposure, renewal proximity, thin headroom, weak signals, unpriced assumptions), each with why and the gating action. Gate first: `outcome: blocked` carries only the health result.",
        input: input::<answers::StepArgsBrief>,
        output: gated_output::<RisksResult>,
        run: answers::assess_risks,
        reads_account: true,
        read_only: true,
    },
    ToolDef {
        name: "define_success_criteria",
        title: "Step 8: Post-expansion success criteria",
        description: "Step 8 alone: adoption, health, value and relationship criteria with measurement, target and date. Gate first: `outcome: blocked` carries only the health result.",
        input: input::<answers::StepArgsBrief>,
        output: gated_output::<SuccessResult>,
        run: answers::define_success_criteria,
        reads_account: true,
        read_only: true,
    },
    ToolDef {
        name: "draft_plan",
        title: "Draft the whole expansion plan",
        description: "The whole expansion plan in one call: all eight steps in order. Returns `outcome` (`blocked`: the gate failed, only the recovery path; `not_ready`: healthy but a measured threshold or the signal rule falls short; `provisional`: all measured passes, data is missing, a step 0 collects it; `on_hold`: ready but timing blocks it; `ready`: nothing unverified or blocking), a one-line `verdict`, the `headline` figures and `markdown` in the playbook's Output Format: present it as it is. `detail: full` adds each step's structured result. If `headline.missing` is not empty, ask the user for those inputs. Saves the plan to a stored account's history.",
        input: input::<answers::DraftArgs>,
        output: output::<answers::PlanAnswer>,
        run: answers::draft_plan,
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
    answers::unpanicked(name, || (def.run)(planner, args))
}
