//! Step 8: what a successful expansion looks like beyond the transaction.

use crate::model::results::{
    ApproachResult, Criterion, ExpansionType, HealthResult, OpportunityResult, SuccessResult,
};
use crate::model::values::{Day, fmt_pct, fmt_score};

use super::policy::Policy;

pub fn define(
    p: &Policy,
    as_of: Day,
    h: &HealthResult,
    opp: &OpportunityResult,
    approach: &ApproachResult,
) -> SuccessResult {
    // Adoption is measured `adoption_window_days` after rollout, before the post-rollout
    // review that looks at it; undated while the plan waits on a blocker with no end.
    let window = i64::from(p.adoption_window_days);
    let rollout_end = approach
        .phases
        .iter()
        .find(|ph| ph.phase == "Rollout")
        .map(|ph| ph.end)
        .unwrap_or(Some(as_of.plus_days(90)));
    let adoption_date = rollout_end.map(|d| d.plus_days(window).working_day());
    let review = approach
        .phases
        .iter()
        .find(|ph| ph.phase == "Post-rollout review")
        .map(|ph| ph.end)
        .unwrap_or(adoption_date.map(|d| d.plus_days(7).working_day()));
    let what = match opp.expansion_type {
        Some(ExpansionType::Seats) => "new seats",
        Some(ExpansionType::Upgrade) => "new-tier capabilities",
        Some(ExpansionType::Upsell) => "the new module",
        Some(ExpansionType::CrossSell) => "the new product",
        Some(ExpansionType::Contract) => "the expanded scope",
        _ => "new capacity",
    };
    let adoption_target = match (opp.expansion_type, opp.scenarios.first()) {
        (Some(ExpansionType::Seats), Some(sc)) if sc.volume != "unknown" => {
            let total: u64 = sc
                .volume
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let need =
                (total * crate::engine::policy::pct_tenths(p.adoption_target_pct)).div_ceil(1000);
            format!(
                ">{} utilisation (at least {need} of {total} new seats active)",
                fmt_pct(p.adoption_target_pct)
            )
        }
        _ => format!(">{} utilisation", fmt_pct(p.adoption_target_pct)),
    };
    let score = h
        .score
        .map(fmt_score)
        .unwrap_or_else(|| "pre-expansion score".into());
    SuccessResult {
        criteria: vec![
            Criterion {
                criteria: "Adoption".into(),
                measurement: format!("{what} in use within {window} days of rollout"),
                target: adoption_target,
                target_date: adoption_date,
            },
            Criterion {
                criteria: "Health stable".into(),
                measurement: "health score stable or improved post-expansion".into(),
                target: format!("score >= {score}"),
                target_date: review,
            },
            Criterion {
                criteria: "Value confirmed".into(),
                measurement: "customer confirms the expansion solved their need".into(),
                target: "positive feedback from the sponsor".into(),
                target_date: review,
            },
            Criterion {
                criteria: "Relationship".into(),
                measurement: "expansion felt like enablement, not a sales push".into(),
                target: "NPS maintained or improved".into(),
                target_date: review.map(|d| d.plus_days(30).working_day()),
            },
        ],
    }
}
