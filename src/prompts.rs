//! What the server says to the assistant, outside the MCP layer: its instructions, and the
//! slash-command prompts (`/expansion-plan <customer>`, `/health-check <customer>`). For a
//! known account the prompt carries the computed result and tells the assistant how to
//! present it; for a segment, the segment's table; for an unknown customer, which snapshot
//! fields to gather and in which order to call the tools.

use crate::accounts::SourceError;
use crate::engine;
use crate::model::input::MAX_NAME_CHARS;
use crate::model::portfolio::AccountFilter;
use crate::model::results::{Outcome, PlanResult};
use crate::model::{Day, InputError, Snapshot};
use crate::service::Planner;

pub const EXPANSION_PLAN: &str = "expansion-plan";
pub const HEALTH_CHECK: &str = "health-check";

/// The server's instructions (`initialize`), shared by the demo's.
macro_rules! instructions {
    () => {
        "Expansion planning for customer-success managers, computed by deterministic code. Always start with check_health (or draft_plan, which runs every step in order): expansion only happens with healthy customers, and when the gate fails every step tool answers outcome `blocked`; then present the unhealthy path and stop. Use every figure exactly as returned. Accounts known to the server can be named with `account`; otherwise pass a `snapshot` (schema: expansion://schema/account). The rules enforced are at expansion://playbook, the thresholds at expansion://policy. For a segment or a CSM's book use plan_segment; list_accounts and get_account find stored accounts; plan_history shows how an account moved between saved plans and due_reassessments which blocked accounts are due for another look; import_accounts loads CRM and CS-platform exports."
    };
}

pub const INSTRUCTIONS: &str = instructions!();

/// The instructions when the server serves the embedded demo portfolio (`serve --demo`).
pub const DEMO_INSTRUCTIONS: &str = concat!(
    "This server serves the embedded DEMO portfolio: 12 fictional accounts (Northwind, Bluefin Logistics, ...), not the user's data; say so when presenting them. For their own accounts the user registers `expansion-planner serve` and imports an export. ",
    instructions!()
);

/// What prompt `name` says: its description and its text, or `None` for a prompt that
/// does not exist. Errors name the argument that was wrong.
pub fn text(
    planner: &Planner,
    name: &str,
    args: &serde_json::Map<String, serde_json::Value>,
) -> Result<Option<(String, String)>, SourceError> {
    if name != EXPANSION_PLAN && name != HEALTH_CHECK {
        return Ok(None);
    }
    for k in args.keys() {
        if k != "customer" && k != "as_of" {
            return Err(InputError::one(
                k.chars().take(MAX_NAME_CHARS).collect::<String>(),
                "is not an argument of this prompt (customer, as_of)",
            )
            .into());
        }
    }
    let customer = match args.get("customer") {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        Some(serde_json::Value::String(_)) | None => {
            return Err(
                InputError::one("customer", "is required: a customer name or a segment").into(),
            );
        }
        Some(_) => return Err(InputError::one("customer", "must be a string").into()),
    };
    let n = customer.chars().count();
    if n > MAX_NAME_CHARS {
        return Err(InputError::one(
            "customer",
            format!("is too long ({n} characters; at most {MAX_NAME_CHARS})"),
        )
        .into());
    }
    let as_of = match args.get("as_of") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) if s.trim().is_empty() => None,
        Some(serde_json::Value::String(s)) => Some(
            Day::parse(s.trim())
                .map_err(|e| InputError::one("as_of", format!("is invalid: {e}")))?,
        ),
        Some(_) => return Err(InputError::one("as_of", "must be a string YYYY-MM-DD").into()),
    };
    let text = match planner.accounts.find(&customer, "customer") {
        Ok(found) => {
            let s = found.snapshot;
            let day = as_of.or(s.as_of).unwrap_or_else(planner.today);
            if name == HEALTH_CHECK {
                health_prompt(planner, &s, day)
            } else {
                plan_prompt(&engine::draft_plan(&s, &planner.policy, day))
            }
        }
        Err(SourceError::Input(not_found)) => {
            let segments = planner.accounts.segments()?;
            match segments.iter().find(|g| g.eq_ignore_ascii_case(&customer)) {
                Some(segment) => segment_prompt(planner, segment, as_of)?,
                None => unknown_prompt(name, &customer, &not_found.to_string()),
            }
        }
        Err(e) => return Err(e),
    };
    // A demo account must never pass for the user's own.
    let text = if planner.demo {
        format!("{DEMO_NOTE}\n\n{text}")
    } else {
        text
    };
    let description = format!(
        "{} for {customer}",
        if name == HEALTH_CHECK {
            "Health check"
        } else {
            "Expansion plan"
        }
    );
    Ok(Some((description, text)))
}

/// What a prompt says first when the server serves the embedded demo portfolio.
pub const DEMO_NOTE: &str = "Demo portfolio: this server serves the embedded demo accounts, which are fictional and not the CSM's own book; say so when presenting.";

const EXACT: &str = "Every figure below was computed by the expansion-planner server from the account data: use the figures exactly as given, do not recompute, re-round or add figures of your own, and keep the headings.";

fn missing_line(missing: &[String]) -> String {
    if missing.is_empty() {
        String::new()
    } else {
        format!(
            "\n\nThese inputs are unknown and each one fails the gate; ask the CSM for them, then call the tool again with a snapshot that includes them: {}.",
            crate::markdown::md(&missing.join(", "))
        )
    }
}

fn plan_prompt(plan: &PlanResult) -> String {
    let how = match plan.outcome {
        Outcome::Blocked => {
            "The health gate FAILED (outcome: blocked). Present the Health Check and the Unhealthy-Path Response only. Do not propose, size, frame or time any expansion. Offer to turn the AE / sales communication into an email, and suggest this server's health-check prompt or the check_health tool to diagnose the root cause."
        }
        Outcome::NotReady => {
            "The account is healthy but NOT READY (outcome: not_ready): signals or readiness fall short. Present the health check, the signals and what to watch for; do not pitch an expansion."
        }
        Outcome::Provisional => {
            "The plan is PROVISIONAL (outcome: provisional): everything measured passes, but some data is unverified. Present the whole plan, lead with step 0 (what to collect and the rule that stops the plan), and say which figures are unverified."
        }
        Outcome::OnHold => {
            "The account is ON HOLD (outcome: on_hold): ready by the data, but timing blocks it. Present the plan with the blocker first; do not propose before it clears."
        }
        Outcome::Ready => {
            "The account is READY (outcome: ready). Present the whole plan. If you draft any customer-facing message from it, check it with the check_framing tool before showing it."
        }
    };
    format!(
        "Present this expansion plan for {} (as of {}) to the customer-success manager.\n\n{EXACT}\n\n{how}{}\n\n---\n\n{}",
        crate::markdown::md(&plan.account),
        plan.as_of,
        missing_line(&plan.steps.health.missing),
        plan.markdown
    )
}

fn health_prompt(planner: &Planner, s: &Snapshot, day: Day) -> String {
    let h = engine::health::check_health(s, &planner.policy, day);
    let mut md = format!(
        "# Health Check: {}\n\n_As of {day}._\n\n",
        crate::markdown::md(&s.name)
    );
    engine::render::health_section(&mut md, &h);
    engine::render::unhealthy_section(&mut md, &h);
    let how = if h.clear_to_expand {
        "The account is clear to expand. Present the health check; the CSM can continue with /expansion-plan."
    } else {
        "The account is NOT clear to expand. Present the health check and the Unhealthy-Path Response, and stop: no expansion discussion."
    };
    format!(
        "Present this health check for {} (as of {day}).\n\n{EXACT}\n\n{how}{}\n\n---\n\n{md}",
        crate::markdown::md(&s.name),
        missing_line(&h.missing)
    )
}

/// A segment gets the segment plan (`plan_segment`), not one plan per account.
fn segment_prompt(
    planner: &Planner,
    segment: &str,
    as_of: Option<Day>,
) -> Result<String, SourceError> {
    let filter = AccountFilter {
        segment: Some(segment.to_string()),
        csm: None,
    };
    let plan = planner.plan_segment(&filter, as_of)?;
    Ok(format!(
        "{} is a segment with {} stored accounts; below is its segment plan, from the plan_segment tool. {EXACT}\n\nPresent the distribution, the ranked ready accounts, the right-size candidates, the reassessments due and the systemic pattern, then offer to draft the full plan (tool draft_plan with `account`) for the ready accounts, highest expected ARR first. Blocked accounts get no expansion discussion: offer check_health for their recovery plans.\n\n---\n\n{}",
        crate::markdown::md_start(segment),
        plan.total_accounts,
        plan.markdown
    ))
}

fn unknown_prompt(name: &str, customer: &str, not_found: &str) -> String {
    let steps = if name == HEALTH_CHECK {
        "Then call check_health with {\"snapshot\": {...}} and present its result. If clear_to_expand is false, present the unhealthy_path and stop."
    } else {
        "Then call the tools in order: check_health (STOP if clear_to_expand is false: present the unhealthy_path only), find_signals, quantify_opportunity, frame_enablement, plan_timing, design_approach, assess_risks, define_success_criteria; or call draft_plan once for all of them. Present the returned markdown; every figure in it is computed by the server."
    };
    format!(
        "The server has no account called {} ({}). Gather a snapshot from the customer-success manager, in this order (missing means unknown, never zero; an unknown gate input fails the gate):\n\
1. `name`, `segment`, `csm`, `account_executive`, `currency`.\n\
2. `contract`: `arr`, `licensed_seats`, `price_per_seat` (if not ARR / seats), `plan`, `renewal_date`, `renewal_contentious`, `planning_month` (1-12).\n\
3. `usage`: `active_users` (last 30 days), `history` [{{date, active_users}}] for the last 60 days, `limits` [{{metric, used, limit}}], `features` [{{name, core, active_users}}].\n\
4. `health`: `score` or `components` {{adoption, engagement, relationship, value, commercial}}, `churn_signals` [{{kind, since, active}}], `goals` [{{goal, status}}], `relationship` {{responsive, engaged, sponsor, executive_sponsor_confirmed, champion}}, `relationship_score`, `value_score`.\n\
5. `signals` [{{kind, date, evidence, source, quote}}] with dates and evidence, and `events` [{{kind, date, open}}].\n\
6. `offer` {{type, prices}} if an expansion is already on the table.\n\
The full schema is the resource expansion://schema/account. {steps}",
        crate::markdown::md(customer),
        crate::markdown::md(not_found)
    )
}
