//! Step 7: risks specific to this expansion, each with why it applies to this customer and
//! the gating action that must be true before proceeding.

use crate::model::results::{
    ExpansionType, HealthResult, OpportunityResult, Risk, RisksResult, SignalsResult, Strength,
};
use crate::model::snapshot::{Snapshot, TechnicalCapacity};
use crate::model::values::{Day, fmt_pct, fmt_score};

use super::approach::expansion_name;
use super::policy::Policy;

const TECH_WORDS: [&str; 8] = [
    "api",
    "integration",
    "sso",
    "webhook",
    "sdk",
    "connector",
    "sync",
    "automation",
];

/// Names in the expansion that point at engineering work on the customer's side.
pub fn technical_dependencies(s: &Snapshot) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    if let Some(o) = &s.offer {
        names.extend(o.target_plan.iter().cloned());
        names.extend(o.module.iter().cloned());
        names.extend(o.product.iter().cloned());
    }
    for g in &s.signals {
        names.extend(g.feature.iter().cloned());
        names.extend(g.tier.iter().cloned());
        names.extend(g.module.iter().cloned());
    }
    names.extend(s.usage.limits.iter().map(|l| l.metric.clone()));
    let mut hits: Vec<String> = names
        .into_iter()
        .filter(|n| {
            let lower = n.to_lowercase();
            TECH_WORDS
                .iter()
                .any(|w| lower.split(|c: char| !c.is_alphanumeric()).any(|t| t == *w))
        })
        .collect();
    hits.sort();
    hits.dedup();
    hits
}

pub fn assess(
    s: &Snapshot,
    p: &Policy,
    as_of: Day,
    h: &HealthResult,
    sig: &SignalsResult,
    opp: &OpportunityResult,
) -> RisksResult {
    let mut risks = Vec::new();
    let next = expansion_name(s, opp);
    match opp.expansion_type {
        Some(ExpansionType::Upgrade | ExpansionType::Upsell) => {
            let deps = technical_dependencies(s);
            if deps.is_empty() {
                risks.push(Risk {
                    risk: "New capabilities become shelfware".into(),
                    why: format!("{next} adds features; without onboarding, unused features add complexity without value"),
                    gating_action: "Agree an adoption plan with named users and an enablement session before the commercial proposal".into(),
                });
            } else {
                let cap = s
                    .offer
                    .as_ref()
                    .and_then(|o| o.technical_capacity)
                    .unwrap_or_default();
                risks.push(Risk {
                    risk: "New tier with technical dependencies".into(),
                    why: format!(
                        "{next} depends on engineering work on their side ({}); without capacity to consume it, the tier becomes shelfware",
                        deps.join(", ")
                    ),
                    gating_action: match cap {
                        TechnicalCapacity::Confirmed => "Cleared: technical capacity is confirmed (offer.technical_capacity); keep the named engineering owner in the scoping".into(),
                        TechnicalCapacity::None => "Not ready: the customer has no engineering capacity for it (offer.technical_capacity none); do not propose the tier until someone can build on it".into(),
                        TechnicalCapacity::Unknown => "Technical-readiness gate: confirm a named engineering owner and time allocated for the integration in discovery, before the commercial proposal".into(),
                    },
                });
            }
        }
        Some(ExpansionType::Seats) => {
            let added = opp
                .scenarios
                .first()
                .and_then(|sc| sc.volume.split(" of ").last().map(str::to_string))
                .unwrap_or_else(|| "more seats".into());
            let current = h
                .active_users
                .map(|a| format!(" on top of {a} active users"))
                .unwrap_or_default();
            let true_up = matches!((h.active_users, h.licensed_seats), (Some(a), Some(l)) if a > l);
            risks.push(Risk {
                risk: "Onboarding capacity, training and change-management load".into(),
                why: if true_up {
                    format!("{added} are for people already active beyond the licence (a true-up): little new onboarding, but the conversation must read as access for the team, not as a penalty")
                } else {
                    format!("{added}{current} means new people to onboard and train at once")
                },
                gating_action: "Gate on a rollout plan: onboarding cohorts, training dates and a named owner per team agreed with the customer".into(),
            });
        }
        Some(ExpansionType::CrossSell) => risks.push(Risk {
            risk: "Cross-sell without workflow context".into(),
            why: format!(
                "{next} is a new module for {}; it pays only where their workflow needs it",
                s.name
            ),
            gating_action: "Gate on a use-case validation with the team that will use it".into(),
        }),
        Some(ExpansionType::Contract) => risks.push(Risk {
            risk: "Exposure to changing requirements over a longer term".into(),
            why: format!("{next} commits {} beyond the current renewal", s.name),
            gating_action:
                "Gate on contract terms that allow scope adjustment (annual true-up and true-down)"
                    .into(),
        }),
        Some(ExpansionType::Referral) | None => {}
    }
    if let Some(r) = s.contract.renewal_date.filter(|r| *r < as_of) {
        risks.push(Risk {
            risk: "Stale CRM data".into(),
            why: format!(
                "contract.renewal_date {r} is in the past ({} days before {as_of}): the record has not been updated since the renewal",
                r.days_until(as_of)
            ),
            gating_action: "Confirm the current term and the next renewal date with the AE before any figure reaches the customer".into(),
        });
    }
    if let Some(r) = s.contract.renewal_date {
        let days = as_of.days_until(r);
        if (0..=i64::from(p.renewal_near_days)).contains(&days) {
            risks.push(Risk {
                risk: "Expansion entangled with the renewal".into(),
                why: format!("the renewal is due {r}, in {days} days"),
                gating_action: "Agree the renewal first, or co-term the expansion explicitly with the customer's consent".into(),
            });
        }
    }
    if let Some(u) = h.utilisation_pct {
        let thin = p.utilisation_gate_pct + 10.0;
        if u.as_f64() < thin {
            risks.push(Risk {
                risk: "Thin adoption headroom".into(),
                why: format!(
                    "seat utilisation is {}, within 10 points of the {} gate: more capacity could outrun adoption",
                    fmt_pct(u),
                    fmt_pct(p.utilisation_gate_pct)
                ),
                gating_action: "Confirm utilisation holds at or above the gate through the trial before the commercial proposal".into(),
            });
        }
    }
    let weak: Vec<_> = sig
        .signals
        .iter()
        .filter(|f| f.strength == Strength::Weak)
        .collect();
    if !weak.is_empty() {
        risks.push(Risk {
            risk: "Part of the case rests on weak or sales-driven signals".into(),
            why: weak
                .iter()
                .map(|f| format!("{} ({})", f.kind.as_str(), f.strength_reason))
                .collect::<Vec<_>>()
                .join("; "),
            gating_action: "Leave those signals out of the customer-facing case, or corroborate them with the customer first".into(),
        });
    }
    if !opp.missing_assumptions.is_empty() {
        risks.push(Risk {
            risk: "The opportunity is not fully priced".into(),
            why: opp.missing_assumptions.join("; "),
            gating_action: "Confirm the price with the deal desk before any figure reaches the customer".into(),
        });
    }
    if let Some(score) = h.score
        && score.as_f64() < p.healthy_band
    {
        risks.push(Risk {
            risk: "Health is Neutral, not Healthy".into(),
            why: format!(
                "composite health {} is below the Healthy band ({})",
                fmt_score(score),
                fmt_score(p.healthy_band)
            ),
            gating_action:
                "Re-check health the week of the proposal; stop if it drops below the gate".into(),
        });
    }
    RisksResult { risks }
}
