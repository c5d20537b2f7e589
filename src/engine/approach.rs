//! Step 6: the execution table and the phased milestones.
//!
//! Technical expansions (upgrade, upsell, cross-sell) are planned in weeks, because the
//! customer plans integration work in weeks; org-wide seat rollouts and contract expansions
//! in months, because that is how the customer plans change across teams.

use crate::model::results::{
    ApproachResult, ApproachStep, CheckName, ExpansionType, HealthResult, OpportunityResult,
    Outcome, Phase, SignalsResult, TimingResult,
};
use crate::model::snapshot::{EventKind, GoalStatus, Snapshot, TechnicalCapacity};
use crate::model::values::{Day, fmt_pct, fmt_score};

use super::policy::Policy;
use super::signals::is_technical_offer;

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
                let n = v.split(" of ").last().unwrap_or(&v);
                format!("{} more seats", n.trim_end_matches(" seats"))
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

/// What the customer sees as the trial step, or `None` where a trial means nothing (a
/// contract term, seats for people already trained on the product).
fn trial_step(t: Option<ExpansionType>, next: &str) -> Option<String> {
    match t {
        Some(ExpansionType::Upgrade | ExpansionType::Upsell | ExpansionType::CrossSell) => {
            Some(format!("Demo or trial of {next} with the pilot users"))
        }
        _ => None,
    }
}

/// A date for a step, or `None` with what it waits for.
#[derive(Clone)]
struct When {
    date: Option<Day>,
    after: Option<String>,
}

impl When {
    fn plus(&self, days: i64) -> When {
        When {
            date: self.date.map(|d| d.plus_days(days).working_day()),
            after: self.after.clone(),
        }
    }
}

fn step(n: &mut u32, action: String, owner: &str, w: &When) -> ApproachStep {
    *n += 1;
    ApproachStep {
        step: *n,
        action,
        owner: owner.to_string(),
        date: w.date,
        after: w.after.clone(),
    }
}

/// The data-collection step of a provisional plan: what to collect and the rule that stops
/// the plan.
pub fn step_zero(p: &Policy, sig: &SignalsResult) -> Option<String> {
    let mut what: Vec<String> = Vec::new();
    for c in sig.readiness.iter().filter(|c| c.passed.is_none()) {
        what.push(match c.check {
            CheckName::SustainedUtilisation => format!(
                "export {} days of active users (usage.history); stop if the median is below {}",
                p.sustained_window_days,
                fmt_pct(p.utilisation_gate_pct)
            ),
            CheckName::OrganicSignals => {
                let seat_only = sig
                    .signals
                    .iter()
                    .filter(|f| f.unverified.is_some())
                    .all(|f| f.derived && f.expansion_type == ExpansionType::Seats);
                let history_unverified = sig
                    .readiness
                    .iter()
                    .any(|c| c.check == CheckName::SustainedUtilisation && c.passed.is_none());
                if seat_only && history_unverified {
                    format!(
                        "the same export shows whether seat use is sustained at the capacity line; stop if fewer than {} organic signals hold",
                        p.min_organic_signals
                    )
                } else {
                    let pending: Vec<String> = sig
                        .signals
                        .iter()
                        .filter(|f| f.unverified.is_some())
                        .map(|f| f.evidence.clone())
                        .collect();
                    format!(
                        "corroborate the signals that rest on one reading ({}); stop if fewer than {} organic signals hold",
                        pending.join("; "),
                        p.min_organic_signals
                    )
                }
            }
            CheckName::CoreFeatures => "export per-feature engagement (usage.features, core features marked); stop if fewer than two core features are actively used".into(),
            CheckName::RelationshipScore => format!(
                "record the relationship score; stop if it is below {}",
                fmt_score(p.relationship_score_min)
            ),
            CheckName::ValueScore => format!(
                "record the value score; stop if it is below {}",
                fmt_score(p.value_score_min)
            ),
            CheckName::ExecutiveSponsor => "confirm the executive sponsor by name; stop if none will sponsor it".into(),
            other => format!("collect {}; stop if it fails its threshold ({})", other.words(), c.required),
        });
    }
    if what.is_empty() {
        None
    } else {
        Some(format!("Collect before any proposal: {}", what.join("; ")))
    }
}

#[allow(clippy::too_many_arguments)]
pub fn design(
    s: &Snapshot,
    p: &Policy,
    as_of: Day,
    h: &HealthResult,
    sig: &SignalsResult,
    opp: &OpportunityResult,
    timing: &TimingResult,
    outcome: Outcome,
) -> ApproachResult {
    let csm = s.csm.clone().unwrap_or_else(|| "CSM".into());
    let sales = s
        .account_executive
        .as_ref()
        .map(|ae| format!("{csm} + Sales ({ae})"))
        .unwrap_or_else(|| format!("{csm} + Sales"));
    let next = expansion_name(s, opp);
    let technical = is_technical_offer(s, opp.expansion_type);
    let weeks = is_technical(opp.expansion_type);
    // The proposal date is the timing step's, exactly; undated while a blocker has no end.
    let propose = When {
        date: timing.date,
        after: if timing.date.is_none() && !timing.defer_until.is_empty() {
            Some(timing.defer_until.join(", and "))
        } else if timing.date.is_none() {
            Some("a business review is scheduled".into())
        } else {
            None
        },
    };
    let first = as_of.plus_days(1).working_day();
    let prep_end = propose
        .date
        .map(|d| d.plus_days(-1).working_day_before().max(first))
        .unwrap_or(as_of.plus_days(7).working_day());
    let mid = |a: Day, b: Day| {
        a.plus_days(a.days_until(b).max(0) / 2)
            .working_day()
            .min(b.max(a))
    };
    let mut steps = Vec::new();
    let mut n = 0_u32;
    let dated = |d: Day| When {
        date: Some(d),
        after: None,
    };
    let d_prep1;
    if outcome == Outcome::Provisional
        && let Some(zero) = step_zero(p, sig)
    {
        steps.push(ApproachStep {
            step: 0,
            action: zero,
            owner: csm.clone(),
            date: Some(first),
            after: None,
        });
        d_prep1 = mid(first, prep_end);
    } else {
        d_prep1 = first.min(prep_end);
    }
    let d_prep2 = mid(d_prep1, prep_end).max(d_prep1);
    let goals: Vec<String> = s
        .health
        .goals
        .iter()
        .filter(|g| g.status != GoalStatus::Achieved)
        .map(|g| g.goal.clone())
        .collect();
    steps.push(step(
        &mut n,
        format!("Prepare value summary: {}", value_summary(s, as_of, h, opp)),
        &csm,
        &dated(d_prep1),
    ));
    steps.push(step(
        &mut n,
        if goals.is_empty() {
            format!(
                "Connect {next} to the customer's stated goals (confirm next year's goals first)"
            )
        } else {
            format!(
                "Connect {next} to the customer's stated goals: {}",
                join_and(&goals)
            )
        },
        &csm,
        &dated(d_prep2),
    ));
    let idle = super::opportunity::idle_seats(s);
    if opp.expansion_type == Some(ExpansionType::Seats) && idle > 0 {
        steps.push(step(
            &mut n,
            format!(
                "Reassign the {idle} idle seats (licensed, not active in the last 30 days) to people who need access, before any new seat is proposed"
            ),
            &csm,
            &dated(d_prep2),
        ));
    }
    let range = scenario_range(opp);
    steps.push(step(
        &mut n,
        format!(
            "{}{}",
            match (timing.recommendation.as_str(), timing.date) {
                ("defer", None) => format!(
                    "Propose in context at the first business review once {}",
                    timing.defer_until.join(", and ")
                ),
                ("defer", Some(_)) => format!(
                    "Propose in context ({}), once {}",
                    timing.trigger,
                    timing.defer_until.join(", and ")
                ),
                _ => format!("Propose in context ({}): {}", timing.trigger, timing.reason),
            },
            range
                .map(|r| format!("; bring the sized range ({r}) so it can go into the budget"))
                .unwrap_or_default()
        ),
        &csm,
        &propose,
    ));
    // Technical work: discovery and scoping (with the technical-readiness gate) come before
    // the commercial proposal, in weeks.
    let cap = s
        .offer
        .as_ref()
        .and_then(|o| o.technical_capacity)
        .unwrap_or_default();
    let mut cursor = propose.clone();
    if weeks {
        let scoping = cursor.plus(14);
        steps.push(step(
            &mut n,
            if technical && cap == TechnicalCapacity::Unknown {
                format!(
                    "Discovery and scoping of {next}; technical-readiness gate: confirm a named engineering owner and time allocated before the commercial proposal"
                )
            } else if technical {
                format!("Discovery and scoping of {next} with the named engineering owner (technical readiness confirmed)")
            } else {
                format!("Discovery and scoping of {next}: use cases and configuration agreed")
            },
            &format!("{csm} + Product"),
            &scoping,
        ));
        cursor = scoping;
    }
    if let Some(trial) = trial_step(opp.expansion_type, &next) {
        let t = cursor.plus(14);
        steps.push(step(&mut n, trial, &format!("{csm} + Product"), &t));
        cursor = t;
    } else if opp.expansion_type == Some(ExpansionType::Seats) {
        let t = cursor.plus(14);
        steps.push(step(
            &mut n,
            "Agree the rollout plan: onboarding cohorts, training dates and a named owner per team"
                .into(),
            &csm,
            &t,
        ));
        cursor = t;
    } else if opp.expansion_type == Some(ExpansionType::Contract) {
        let t = cursor.plus(14);
        steps.push(step(
            &mut n,
            "Agree the contract terms that allow scope adjustment (annual true-up and true-down)"
                .into(),
            &sales,
            &t,
        ));
        cursor = t;
    }
    let commercial = cursor.plus(7);
    steps.push(step(
        &mut n,
        match opp.estimated_expansion_arr {
            Some(a) => format!(
                "Commercial proposal: {next}, {} a year forecast ({} confidence)",
                super::fmt_amount(a, &opp.currency),
                opp.confidence.as_str()
            ),
            None => format!("Commercial proposal: {next} (price to confirm first)"),
        },
        &sales,
        &commercial,
    ));
    let phases = phases(
        p,
        technical,
        propose.date,
        commercial.date,
        weeks,
        opp.expansion_type,
        &next,
    );
    let review = phases
        .iter()
        .find(|ph| ph.phase == "Post-rollout review")
        .map(|ph| When {
            date: ph.start,
            after: commercial.after.clone(),
        });
    if sig.signals.iter().any(|f| {
        f.kind == crate::model::snapshot::SignalKind::Advocacy
            && f.organic
            && f.strength != crate::model::results::Strength::Weak
    }) && let Some(r) = &review
    {
        let champion = s
            .health
            .relationship
            .as_ref()
            .and_then(|r| r.champion.clone())
            .unwrap_or_else(|| "the champion".into());
        steps.push(step(
            &mut n,
            format!(
                "Referral and case study: {} is a promoter; once value is confirmed, ask {champion} for a referral and a case study of the results",
                s.name
            ),
            &csm,
            r,
        ));
    }
    ApproachResult {
        value_summary: value_summary(s, as_of, h, opp),
        steps,
        granularity: if weeks {
            "weeks".into()
        } else {
            "months".into()
        },
        phases,
    }
}

/// `USD 31,500 to USD 63,000`, the range of the priced scenarios.
fn scenario_range(opp: &OpportunityResult) -> Option<String> {
    let vals: Vec<_> = opp
        .scenarios
        .iter()
        .filter_map(|s| s.expansion_arr)
        .collect();
    let lo = vals.iter().min()?;
    let hi = vals.iter().max()?;
    Some(if lo == hi {
        super::fmt_amount(*hi, &opp.currency)
    } else {
        format!(
            "{} to {}",
            super::fmt_amount(*lo, &opp.currency),
            super::fmt_amount(*hi, &opp.currency)
        )
    })
}

fn phases(
    p: &Policy,
    technical: bool,
    propose: Option<Day>,
    commercial: Option<Day>,
    weeks: bool,
    t: Option<ExpansionType>,
    next: &str,
) -> Vec<Phase> {
    // (phase, when, from, first day offset, last day offset, milestone): technical work is
    // counted in weeks from the proposal in context (discovery, scoping and the trial come
    // before the commercial proposal); org-wide rollouts in months from the commercial
    // proposal. The post-rollout review starts once adoption has been measured.
    let adoption_days = i64::from(p.adoption_window_days);
    type Spec<'a> = (&'a str, &'a str, Option<Day>, i64, i64, String);
    let spec: Vec<Spec<'_>> = if weeks {
        vec![
            (
                "Discovery",
                "Week 1",
                propose,
                1,
                7,
                if technical {
                    format!("technical owner named; use cases for {next} confirmed")
                } else {
                    format!("owner named; use cases for {next} confirmed")
                },
            ),
            (
                "Scoping",
                "Week 2",
                propose,
                8,
                14,
                "integration and configuration scope signed off".into(),
            ),
            (
                "Trial",
                "Weeks 3-4",
                propose,
                15,
                28,
                "trial success criteria met with the pilot users".into(),
            ),
            (
                "Rollout",
                "Weeks 6-8",
                propose,
                36,
                56,
                format!("{next} live for every intended user"),
            ),
        ]
    } else if t == Some(ExpansionType::Contract) {
        vec![(
            "Rollout",
            "Months 1-2",
            commercial,
            1,
            60,
            "the broader scope live with the teams it covers".into(),
        )]
    } else {
        vec![
            (
                "Pilot cohort",
                "Month 1",
                commercial,
                1,
                30,
                "first cohort onboarded and active".into(),
            ),
            (
                "Rollout",
                "Months 2-3",
                commercial,
                31,
                90,
                "every cohort onboarded".into(),
            ),
        ]
    };
    let mut out: Vec<Phase> = Vec::new();
    let mut last_end = None;
    for (phase, when, from, a, b, milestone) in spec {
        let start = from.map(|d| d.plus_days(a).working_day());
        let end = from.map(|d| d.plus_days(b).working_day_before());
        last_end = end;
        out.push(Phase {
            phase: phase.into(),
            when: format!(
                "{when} after the {}",
                if weeks {
                    "proposal in context"
                } else {
                    "commercial proposal"
                }
            ),
            start,
            end,
            milestone,
        });
    }
    // Adoption is measured first; the review looks at it the next working day or later.
    let review_start = last_end.map(|d| {
        d.plus_days(adoption_days)
            .working_day()
            .plus_days(1)
            .working_day()
    });
    out.push(Phase {
        phase: "Post-rollout review".into(),
        when: format!("{adoption_days} days after rollout, once adoption is measured"),
        start: review_start,
        end: review_start.map(|d| d.plus_days(4).working_day_before()),
        milestone: "adoption and value reviewed with the sponsor".into(),
    });
    out
}
