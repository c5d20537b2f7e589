//! Step 6: the execution table and the phased milestones.
//!
//! Technical expansions (upgrade, upsell, cross-sell) are planned in weeks, because the
//! customer plans integration work in weeks; org-wide seat rollouts and contract expansions
//! in months, because that is how the customer plans change across teams.

use crate::model::results::{
    ApproachResult, ApproachStep, ExpansionType, HealthResult, OpportunityResult, Phase,
    TimingResult,
};
use crate::model::snapshot::{EventKind, GoalStatus, Snapshot};
use crate::model::values::{Day, fmt_pct, fmt_score};

/// Whether the expansion is planned in weeks (technical) rather than months (org-wide).
pub fn is_technical(t: Option<ExpansionType>) -> bool {
    matches!(
        t,
        Some(ExpansionType::Upgrade | ExpansionType::Upsell | ExpansionType::CrossSell)
    )
}

/// What the expansion is, in a few words: `Upgrade to Enterprise`, `12 more seats`.
pub fn expansion_name(s: &Snapshot, opp: &OpportunityResult) -> String {
    let o = s.offer.as_ref();
    match opp.expansion_type {
        Some(ExpansionType::Upgrade) => match o.and_then(|o| o.target_plan.clone()) {
            Some(t) => format!("an upgrade to {t}"),
            None => "an upgrade to the next tier".into(),
        },
        Some(ExpansionType::Upsell) => match o.and_then(|o| o.module.clone()) {
            Some(m) => format!("the {m} module"),
            None => "the requested module".into(),
        },
        Some(ExpansionType::CrossSell) => match o.and_then(|o| o.product.clone()) {
            Some(p) => p,
            None => "the adjacent product".into(),
        },
        Some(ExpansionType::Seats) => match opp.scenarios.first().map(|sc| sc.volume.clone()) {
            Some(v) if v != "unknown" => {
                format!("more seats ({})", v.split(" of ").last().unwrap_or(&v))
            }
            _ => "more seats".into(),
        },
        Some(ExpansionType::Contract) => match o.and_then(|o| o.term_years) {
            Some(y) => format!("a {y}-year contract with broader scope"),
            None => "a broader, multi-year contract".into(),
        },
        Some(ExpansionType::Referral) | None => "the next step".into(),
    }
}

pub fn value_summary(
    s: &Snapshot,
    as_of: Day,
    h: &HealthResult,
    opp: &OpportunityResult,
) -> String {
    let mut proven: Vec<String> = s
        .health
        .goals
        .iter()
        .filter(|g| g.status == GoalStatus::Achieved)
        .map(|g| format!("\"{}\"", g.goal.trim_end_matches('.')))
        .collect();
    proven.extend(
        s.events
            .iter()
            .filter(|e| e.kind == EventKind::SuccessMilestone && e.date <= as_of)
            .map(|e| match &e.detail {
                Some(d) => format!("\"{}\" ({})", d.trim_end_matches('.'), e.date),
                None => format!("a success milestone on {}", e.date),
            }),
    );
    let plan = s
        .contract
        .plan
        .as_ref()
        .map(|p| format!("the current {p} tier"))
        .unwrap_or_else(|| "the current tier".into());
    let figures = match (h.utilisation_pct, h.score) {
        (Some(u), Some(sc)) => format!(
            " ({} of seats active, health {})",
            fmt_pct(u),
            fmt_score(sc)
        ),
        (Some(u), None) => format!(" ({} of seats active)", fmt_pct(u)),
        _ => String::new(),
    };
    let next = expansion_name(s, opp);
    if proven.is_empty() {
        format!(
            "{} is using {plan} well{figures}, but no achieved goal or milestone is recorded: document one outcome they have proven before connecting it to {next}.",
            s.name
        )
    } else {
        format!(
            "They've already proven value with {plan}{figures}: {}. That is why they're ready for {next}.",
            join_and(&proven)
        )
    }
}

fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

pub fn design(
    s: &Snapshot,
    as_of: Day,
    h: &HealthResult,
    opp: &OpportunityResult,
    timing: &TimingResult,
) -> ApproachResult {
    let csm = s.csm.clone().unwrap_or_else(|| "CSM".into());
    let sales = s
        .account_executive
        .as_ref()
        .map(|ae| format!("{csm} + Sales ({ae})"))
        .unwrap_or_else(|| format!("{csm} + Sales"));
    let propose = timing
        .date
        .filter(|d| as_of.days_until(*d) >= 3)
        .unwrap_or(as_of.plus_days(14));
    let lead = as_of.days_until(propose);
    let d1 = as_of.plus_days((lead / 3).clamp(1, 7));
    let d2 = as_of.plus_days((2 * lead / 3).max(2));
    let technical = is_technical(opp.expansion_type);
    let mut d4 = propose.plus_days(14);
    let mut d5 = d4.plus_days(if technical { 28 } else { 21 });
    // The commercial proposal must land before the customer sets its budget; compress the
    // demo and proposal into the time left when the planning deadline comes first.
    if let Some(deadline) = opp.timeline.propose_by
        && deadline < d5
        && propose.days_until(deadline) >= 2
    {
        d5 = deadline;
        d4 = propose.plus_days(propose.days_until(deadline) / 2);
    }
    let next = expansion_name(s, opp);
    let goals: Vec<String> = s
        .health
        .goals
        .iter()
        .filter(|g| g.status != GoalStatus::Achieved)
        .map(|g| g.goal.clone())
        .collect();
    let steps = vec![
        ApproachStep {
            step: 1,
            action: format!("Prepare value summary: {}", value_summary(s, as_of, h, opp)),
            owner: csm.clone(),
            date: d1,
        },
        ApproachStep {
            step: 2,
            action: if goals.is_empty() {
                format!(
                    "Connect {next} to the customer's stated goals (confirm next year's goals first)"
                )
            } else {
                format!(
                    "Connect {next} to the customer's stated goals: {}",
                    join_and(&goals)
                )
            },
            owner: csm.clone(),
            date: d2,
        },
        ApproachStep {
            step: 3,
            action: format!("Propose in context ({}): {}", timing.trigger, timing.reason),
            owner: csm.clone(),
            date: propose,
        },
        ApproachStep {
            step: 4,
            action: format!("Demo or trial of {next}"),
            owner: format!("{csm} + Product"),
            date: d4,
        },
        ApproachStep {
            step: 5,
            action: match opp.estimated_expansion_arr {
                Some(a) => format!(
                    "Commercial proposal: {next}, {} {} a year forecast ({} confidence)",
                    opp.currency,
                    a,
                    opp.confidence.as_str()
                ),
                None => format!("Commercial proposal: {next} (price to confirm first)"),
            },
            owner: sales,
            date: d5,
        },
    ];
    let start = d5.plus_days(1);
    let phases = phases(start, technical, &next);
    ApproachResult {
        value_summary: value_summary(s, as_of, h, opp),
        steps,
        granularity: if technical {
            "weeks".into()
        } else {
            "months".into()
        },
        phases,
    }
}

fn phases(start: Day, technical: bool, next: &str) -> Vec<Phase> {
    // (phase, first unit, last unit, milestone); units are weeks or months from `start`.
    let spec: [(&str, i64, i64, String); 5] = if technical {
        [
            (
                "Discovery",
                1,
                2,
                format!("technical owner named; use cases for {next} confirmed"),
            ),
            (
                "Scoping",
                3,
                3,
                "integration and configuration scope signed off".into(),
            ),
            (
                "Trial",
                4,
                7,
                "trial success criteria met with the pilot users".into(),
            ),
            ("Rollout", 8, 10, "live for every intended user".into()),
            (
                "Post-rollout review",
                14,
                14,
                "adoption and value reviewed with the sponsor".into(),
            ),
        ]
    } else {
        [
            (
                "Discovery",
                1,
                1,
                "teams and people who need access listed with their managers".into(),
            ),
            (
                "Scoping",
                1,
                1,
                "rollout cohorts, training dates and owners agreed".into(),
            ),
            ("Trial", 2, 2, "pilot cohort onboarded and active".into()),
            ("Rollout", 3, 4, "every cohort onboarded".into()),
            (
                "Post-rollout review",
                6,
                6,
                "utilisation of the new capacity reviewed with the sponsor".into(),
            ),
        ]
    };
    let unit_days = if technical { 7 } else { 30 };
    let unit = if technical { "Week" } else { "Month" };
    spec.into_iter()
        .map(|(phase, a, b, milestone)| Phase {
            phase: phase.into(),
            when: if a == b {
                format!("{unit} {a}")
            } else {
                format!("{unit} {a}-{b}")
            },
            start: start.plus_days((a - 1) * unit_days),
            end: start.plus_days(b * unit_days - 1),
            milestone,
        })
        .collect()
}
