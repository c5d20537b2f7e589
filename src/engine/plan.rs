//! `draft_plan`: the eight steps in order. The gate runs first and, when it fails, nothing
//! after it is computed: a blocked account gets the health check and the unhealthy path,
//! never expansion content.

use crate::model::results::{
    ApproachResult, FirstAction, FramingResult, Gated, HealthResult, OpportunityResult, Outcome,
    PlanResult, PlanSteps, Reassessment, RisksResult, SignalsResult, SuccessResult, TimingResult,
};
use crate::model::snapshot::{SignalKind, Snapshot};
use crate::model::values::Day;

use super::policy::Policy;
use super::{approach, framing, health, opportunity, render, risks, signals, success, timing};

/// Everything after the gate, computed only when the gate passed.
#[derive(Clone, Debug)]
pub struct Expansion {
    pub signals: SignalsResult,
    pub opportunity: OpportunityResult,
    pub framing: FramingResult,
    pub timing: TimingResult,
    pub approach: ApproachResult,
    pub risks: RisksResult,
    pub success: SuccessResult,
}

/// The result of running the steps in order.
#[derive(Clone, Debug)]
pub struct Evaluation {
    pub outcome: Outcome,
    pub health: HealthResult,
    /// `None` exactly when the gate failed.
    pub expansion: Option<Expansion>,
}

pub fn evaluate(s: &Snapshot, p: &Policy, as_of: Day) -> Evaluation {
    let health = health::check_health(s, p, as_of);
    if !health.clear_to_expand {
        return Evaluation {
            outcome: Outcome::Blocked,
            health,
            expansion: None,
        };
    }
    let sig = signals::find_signals(s, p, as_of, &health);
    let tm = timing::plan_timing(s, p, as_of);
    let outcome = classify(&sig, &tm);
    let opp = opportunity::quantify(s, p, as_of, &sig, &tm, outcome);
    let fr = framing::frame(s, &sig, &opp);
    let ap = approach::design(s, p, as_of, &health, &sig, &opp, &tm, outcome);
    let rk = risks::assess(s, p, as_of, &health, &sig, &opp);
    let sc = success::define(p, as_of, &health, &opp, &ap);
    Evaluation {
        outcome,
        health,
        expansion: Some(Expansion {
            signals: sig,
            opportunity: opp,
            framing: fr,
            timing: tm,
            approach: ap,
            risks: rk,
            success: sc,
        }),
    }
}

/// The outcome of an account the gate let through: a measured shortfall is `not_ready`;
/// otherwise missing data is `provisional`; otherwise a timing blocker is `on_hold`;
/// otherwise `ready`. So `ready` is only ever shown when nothing is unverified and nothing
/// blocks.
pub fn classify(sig: &SignalsResult, tm: &TimingResult) -> Outcome {
    if sig.readiness.iter().any(|c| c.passed == Some(false)) {
        Outcome::NotReady
    } else if sig.readiness.iter().any(|c| c.passed.is_none()) {
        Outcome::Provisional
    } else if tm.recommendation == "defer" {
        Outcome::OnHold
    } else {
        Outcome::Ready
    }
}

/// A step tool's answer: the step's result, or only the gate when it failed.
pub fn gated<T>(s: &Snapshot, ev: &Evaluation, step: impl FnOnce(&Expansion) -> T) -> Gated<T> {
    match &ev.expansion {
        None => Gated {
            outcome: Outcome::Blocked,
            account: s.name.clone(),
            as_of: ev.health.as_of,
            health: Some(ev.health.clone()),
            result: None,
        },
        Some(x) => Gated {
            outcome: ev.outcome,
            account: s.name.clone(),
            as_of: ev.health.as_of,
            health: None,
            result: Some(step(x)),
        },
    }
}

/// What to watch for when healthy but not ready.
pub fn watch_for(sig: &SignalsResult) -> Vec<String> {
    let mut out: Vec<String> = sig
        .readiness
        .iter()
        .filter(|c| c.passed != Some(true))
        .map(|c| {
            format!(
                "{}: {} now, needs {} ({})",
                c.check.words(),
                c.actual.clone().unwrap_or_else(|| "unknown".into()),
                c.required,
                c.detail
            )
        })
        .collect();
    if sig.organic_count < sig.organic_required {
        let present: Vec<SignalKind> = sig
            .signals
            .iter()
            .filter(|f| f.organic && f.strength != crate::model::results::Strength::Weak)
            .map(|f| f.kind)
            .collect();
        let absent: Vec<&str> = [
            SignalKind::UsageLimit,
            SignalKind::FeatureRequest,
            SignalKind::TeamGrowth,
            SignalKind::NewUseCase,
            SignalKind::ExecutiveEngagement,
            SignalKind::Advocacy,
        ]
        .into_iter()
        .filter(|k| !present.contains(k))
        .map(|k| k.label())
        .collect();
        out.push(format!(
            "watch for organic signals not yet seen: {}",
            absent.join("; ")
        ));
    }
    out
}

pub fn draft_plan(s: &Snapshot, p: &Policy, as_of: Day) -> PlanResult {
    let ev = evaluate(s, p, as_of);
    plan_with(s, ev, p)
}

pub fn plan_from(s: &Snapshot, ev: Evaluation) -> PlanResult {
    plan_with(s, ev, &Policy::default())
}

/// The plan, with the reassessment dated by `p`.
pub fn plan_with(s: &Snapshot, ev: Evaluation, p: &Policy) -> PlanResult {
    let csm = s.csm.clone().unwrap_or_else(|| "the CSM".into());
    let mut plan = PlanResult {
        outcome: ev.outcome,
        account: s.name.clone(),
        as_of: ev.health.as_of,
        steps: PlanSteps {
            health: ev.health,
            signals: None,
            opportunity: None,
            framing: None,
            timing: None,
            approach: None,
            risks: None,
            success_criteria: None,
        },
        verdict: String::new(),
        first_action: None,
        unverified: vec![],
        reassessment: None,
        watch_for: vec![],
        markdown: String::new(),
    };
    if let Some(u) = &plan.steps.health.unhealthy_path {
        plan.reassessment = Some(Reassessment {
            on: u.reassess_on,
            owner: csm.clone(),
            what: "run the health gate again against the recovery targets".into(),
        });
        plan.first_action = Some(FirstAction {
            action: if plan
                .steps
                .health
                .checks
                .iter()
                .any(|c| c.passed == Some(false))
            {
                "Send the AE / sales note and start the recovery plan with the customer".into()
            } else {
                format!(
                    "Collect the missing data: {}",
                    plan.steps.health.missing.join(", ")
                )
            },
            owner: csm.clone(),
            date: Some(plan.as_of.plus_days(1).working_day()),
        });
    }
    if let Some(x) = ev.expansion {
        plan.watch_for = watch_for(&x.signals);
        plan.unverified = x
            .signals
            .readiness
            .iter()
            .filter(|c| c.passed.is_none())
            .map(|c| {
                format!(
                    "{}: {} ({})",
                    c.check.words(),
                    c.actual.clone().unwrap_or_else(|| "unverified".into()),
                    c.detail
                )
            })
            .collect();
        if plan.outcome == Outcome::NotReady {
            plan.reassessment = Some(Reassessment {
                on: plan
                    .as_of
                    .plus_days(i64::from(p.reassess_after_days))
                    .working_day(),
                owner: csm.clone(),
                what: "check the failing readiness thresholds and signals again".into(),
            });
            let on = plan
                .reassessment
                .as_ref()
                .map(|r| r.on)
                .unwrap_or(plan.as_of);
            let short: Vec<String> = x
                .signals
                .readiness
                .iter()
                .filter(|c| c.passed == Some(false))
                .map(|c| {
                    format!(
                        "{} {} (needs {})",
                        c.check.words(),
                        c.actual.clone().unwrap_or_else(|| "unknown".into()),
                        c.required
                    )
                })
                .collect();
            let ae = s
                .account_executive
                .clone()
                .unwrap_or_else(|| "the AE".into());
            plan.first_action = Some(FirstAction {
                action: format!(
                    "Tell {ae} why not yet ({}) and book the {on} reassessment",
                    short.join("; ")
                ),
                owner: csm.clone(),
                date: Some(plan.as_of.plus_days(1).working_day()),
            });
            let mut opp = x.opportunity;
            // Not ready means no proposal: the opportunity is sized, not dated.
            opp.timeline = crate::model::results::Timeline {
                propose_by: None,
                reason: format!("not proposed while not ready; reassess on {on}"),
            };
            plan.steps.signals = Some(x.signals);
            plan.steps.opportunity = Some(opp);
        } else {
            plan.first_action = x.approach.steps.first().map(|st| FirstAction {
                action: st.action.clone(),
                owner: st.owner.clone(),
                date: st.date,
            });
            plan.steps.signals = Some(x.signals);
            plan.steps.opportunity = Some(x.opportunity);
            plan.steps.framing = Some(x.framing);
            plan.steps.timing = Some(x.timing);
            plan.steps.approach = Some(x.approach);
            plan.steps.risks = Some(x.risks);
            plan.steps.success_criteria = Some(x.success);
        }
    }
    plan.verdict = verdict(s, &plan);
    plan.markdown = render::plan_markdown(s, &plan);
    plan
}

/// `12 May` within `as_of`'s year, `12 May 2027` otherwise.
fn day_label(d: Day, as_of: Day) -> String {
    let long = d.long();
    if d.year() == as_of.year() {
        long.rsplit_once(' ')
            .map(|(a, _)| a.to_string())
            .unwrap_or(long)
    } else {
        long
    }
}

/// The plan in one line, first: what to do, how much, and when.
pub fn verdict(s: &Snapshot, plan: &PlanResult) -> String {
    let as_of = plan.as_of;
    let what = |o: &crate::model::results::OpportunityResult| {
        let name = approach::expansion_name(s, o);
        match o.estimated_expansion_arr {
            Some(a) => format!("{name}, {}", super::fmt_amount(a, &o.currency)),
            None => format!("{name} (price to confirm)"),
        }
    };
    let when = |t: &TimingResult| match (t.date, t.trigger.as_str()) {
        (Some(d), "QBR / business review") => format!("at the {} QBR", day_label(d, as_of)),
        (Some(d), "Business review") => format!("at a business review on {}", day_label(d, as_of)),
        (Some(d), trig) => format!("on {} ({})", day_label(d, as_of), trig.to_lowercase()),
        (None, _) => "at a business review still to be booked".into(),
    };
    match plan.outcome {
        Outcome::Blocked => {
            let h = &plan.steps.health;
            let reasons: Vec<String> = h
                .checks
                .iter()
                .filter(|c| c.passed == Some(false))
                .map(|c| match &c.actual {
                    Some(a) if a.len() <= 24 => format!("{} {a}", c.check.words()),
                    _ => c.check.words(),
                })
                .collect();
            let on = plan
                .reassessment
                .as_ref()
                .map(|r| format!("; reassess on {} ({})", day_label(r.on, as_of), r.owner))
                .unwrap_or_default();
            if reasons.is_empty() {
                format!(
                    "Blocked by missing data: collect {}{on}",
                    h.missing.join(", ")
                )
            } else {
                format!(
                    "Blocked: {}; no expansion conversation{on}",
                    reasons.join(", ")
                )
            }
        }
        Outcome::NotReady => {
            let failing: Vec<String> = plan
                .steps
                .signals
                .iter()
                .flat_map(|sg| sg.readiness.iter())
                .filter(|c| c.passed == Some(false))
                .map(|c| c.check.words())
                .collect();
            let size = plan
                .steps
                .opportunity
                .as_ref()
                .and_then(|o| {
                    let hi = o.scenarios.iter().filter_map(|x| x.expansion_arr).max()?;
                    Some(format!(
                        "; opportunity up to {}",
                        super::fmt_amount(hi, &o.currency)
                    ))
                })
                .unwrap_or_default();
            let on = plan
                .reassessment
                .as_ref()
                .map(|r| format!("; reassess on {} ({})", day_label(r.on, as_of), r.owner))
                .unwrap_or_default();
            format!("Not ready: {} not met{size}{on}", failing.join(", "))
        }
        Outcome::Provisional => match (&plan.steps.opportunity, &plan.steps.timing) {
            (Some(o), Some(t)) => format!(
                "Provisional: propose {}, {}, once step 0 confirms {}",
                what(o),
                when(t),
                plan.unverified
                    .iter()
                    .map(|u| u.split(':').next().unwrap_or(u).to_string())
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
            _ => "Provisional: data is missing".into(),
        },
        Outcome::OnHold => match (&plan.steps.opportunity, &plan.steps.timing) {
            (Some(o), Some(t)) => format!(
                "On hold: {}, is ready by the data, but wait until {}; then propose {}",
                what(o),
                t.defer_until.join(", and "),
                match t.date {
                    Some(_) => when(t),
                    None => "at the first business review after that".into(),
                }
            ),
            _ => "On hold: timing blocks the proposal".into(),
        },
        Outcome::Ready => match (&plan.steps.opportunity, &plan.steps.timing) {
            (Some(o), Some(t)) => format!("Ready: propose {}, {}", what(o), when(t)),
            _ => "Ready".into(),
        },
    }
}
