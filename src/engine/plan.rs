//! `draft_plan`: the eight steps in order. The gate runs first and, when it fails, nothing
//! after it is computed: a blocked account gets the health check and the unhealthy path,
//! never expansion content.

use crate::model::results::{
    ApproachResult, FramingResult, Gated, HealthResult, OpportunityResult, Outcome, PlanResult,
    RisksResult, SignalsResult, SuccessResult, TimingResult,
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
    let opp = opportunity::quantify(s, p, as_of, &sig);
    let fr = framing::frame(s, &sig, &opp);
    let tm = timing::plan_timing(s, p, as_of);
    let ap = approach::design(s, as_of, &health, &opp, &tm);
    let rk = risks::assess(s, p, as_of, &health, &sig, &opp);
    let sc = success::define(p, as_of, &health, &opp, &ap);
    let outcome = if sig.ready {
        Outcome::Ready
    } else {
        Outcome::NotReady
    };
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
                c.check.replace('_', " "),
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
    plan_from(s, ev)
}

pub fn plan_from(s: &Snapshot, ev: Evaluation) -> PlanResult {
    let mut plan = PlanResult {
        outcome: ev.outcome,
        account: s.name.clone(),
        as_of: ev.health.as_of,
        health: ev.health,
        signals: None,
        opportunity: None,
        framing: None,
        timing: None,
        approach: None,
        risks: None,
        success_criteria: None,
        watch_for: vec![],
        markdown: String::new(),
    };
    if let Some(x) = ev.expansion {
        plan.watch_for = watch_for(&x.signals);
        plan.signals = Some(x.signals);
        if plan.outcome == crate::model::results::Outcome::Ready {
            plan.opportunity = Some(x.opportunity);
            plan.framing = Some(x.framing);
            plan.timing = Some(x.timing);
            plan.approach = Some(x.approach);
            plan.risks = Some(x.risks);
            plan.success_criteria = Some(x.success);
        }
    }
    plan.markdown = render::plan_markdown(s, &plan);
    plan
}
