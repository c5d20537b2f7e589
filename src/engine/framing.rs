//! Step 4: frame the expansion as enablement, from the customer's own numbers, and check a
//! draft message for sales phrasing.

use crate::model::results::{
    ExpansionType, FoundSignal, Framing, FramingCheck, FramingResult, OpportunityResult,
    SignalsResult, Strength,
};
use crate::model::snapshot::{SignalKind, Snapshot};

/// The playbook's "BAD (sales)" column, per expansion type.
fn bad_example(t: ExpansionType) -> &'static str {
    match t {
        ExpansionType::Upgrade => "Would you like to upgrade to Pro?",
        ExpansionType::Seats => "Can we add 10 more seats?",
        ExpansionType::Upsell => "Our analytics tier has great features",
        ExpansionType::CrossSell => "We also have Product X",
        ExpansionType::Contract => "Would you like to sign a multi-year deal?",
        ExpansionType::Referral => "Can you give us a referral?",
    }
}

/// A metric name as a person says it: `api_calls` → `API calls`.
fn metric_words(m: &str) -> String {
    m.split('_')
        .map(|w| match w {
            "api" => "API".to_string(),
            "gb" => "GB".to_string(),
            "sso" => "SSO".to_string(),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The customer-facing sentence for one signal. It is built from the snapshot's structured
/// figures and the customer's own quoted words only: the free-text `evidence` is a CRM note
/// for the team, and never pasted into what the customer reads.
fn statement(s: &Snapshot, f: &FoundSignal) -> String {
    let raw = s
        .signals
        .iter()
        .find(|g| g.kind == f.kind && g.date == f.date && !f.derived);
    let quote = raw
        .and_then(|g| g.quote.as_deref())
        .map(|q| q.trim().trim_end_matches(['.', '!']));
    match f.kind {
        SignalKind::TeamGrowth => match raw.and_then(|g| Some((g.team_size?, g.users_with_access?))) {
            Some((t, a)) => format!(
                "Your team has grown to {t}, and right now only {a} have access. Let's get everyone onboarded."
            ),
            None => "Your team is growing. Let's make sure everyone who needs access has it and is onboarded.".into(),
        },
        SignalKind::UsageLimit if f.derived && f.expansion_type == ExpansionType::Seats => {
            match (s.usage.active_users, s.contract.licensed_seats) {
                (Some(a), Some(l)) if a >= l => format!(
                    "All {l} of your seats are in use, and {} people are active. Let's make sure everyone who needs access has it.",
                    a
                ),
                (Some(a), Some(l)) => format!(
                    "{a} of your {l} seats are in use. Let's make sure the platform keeps up as your team grows."
                ),
                _ => "Nearly every seat you have is in use. Let's make sure the platform keeps up as your team grows.".into(),
            }
        }
        SignalKind::UsageLimit if f.derived => {
            let limit = f
                .names
                .first()
                .and_then(|m| s.usage.limits.iter().find(|l| &l.metric == m));
            match limit {
                Some(l) => format!(
                    "You're using {} of your {} {}{}. Let's make sure the platform keeps up with your growth.",
                    fmt_qty(l.used),
                    fmt_qty(l.limit),
                    metric_words(&l.metric),
                    l.period.as_ref().map(|p| format!(" a {p}")).unwrap_or_default()
                ),
                None => "You're close to your plan's limits. Let's make sure the platform keeps up with your growth.".into(),
            }
        }
        SignalKind::UsageLimit => match quote {
            Some(q) => format!("You told us: \"{q}\". Let's make sure the platform keeps up with your growth."),
            None => "You've been running into your plan's limits. Let's make sure the platform keeps up with your growth.".into(),
        },
        SignalKind::FeatureRequest => {
            let feature = raw.and_then(|g| g.feature.clone()).unwrap_or_else(|| "this capability".into());
            let tier = raw
                .and_then(|g| g.tier.clone())
                .map(|t| format!("the {t} tier"))
                .unwrap_or_else(|| "the higher tier".into());
            format!("You mentioned wanting {feature}. That's exactly what {tier} does; let's look at it against your goals.")
        }
        SignalKind::NewUseCase => {
            let x = raw
                .and_then(|g| g.product.clone().or_else(|| g.module.clone()))
                .unwrap_or_else(|| "the adjacent module".into());
            format!(
                "Several customers with your workflow have found {x} removes the manual step you mentioned."
            )
        }
        SignalKind::ExecutiveEngagement => "Your leadership is taking a closer interest in what your team has achieved. Let's shape the next phase around their priorities.".into(),
        SignalKind::Advocacy => "Your results are worth sharing. Would your team like to tell the story, and introduce peers who face the same problem?".into(),
    }
}

fn fmt_qty(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        let digits = format!("{:.0}", x.abs());
        let mut out = String::new();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(ch);
        }
        out
    } else {
        format!("{x:.1}")
    }
}

/// Whether a signal names the offered tier, module or product.
fn names_offer(s: &Snapshot, f: &FoundSignal) -> bool {
    let Some(o) = &s.offer else { return false };
    let offered: Vec<String> = [&o.target_plan, &o.module, &o.product]
        .into_iter()
        .flatten()
        .map(|n| n.to_lowercase())
        .filter(|n| n.len() > 2)
        .collect();
    f.names.iter().any(|n| {
        let n = n.to_lowercase();
        offered
            .iter()
            .any(|o| o.contains(&n) || n.contains(o.as_str()))
    })
}

pub fn frame(s: &Snapshot, sig: &SignalsResult, opp: &OpportunityResult) -> FramingResult {
    let mut statements: Vec<Framing> = Vec::new();
    let mut lead: Option<String> = None;
    for f in sig
        .signals
        .iter()
        .filter(|f| f.organic && f.strength != Strength::Weak)
    {
        let good = statement(s, f);
        if lead.is_none() && names_offer(s, f) {
            lead = Some(good.clone());
        }
        if statements
            .iter()
            .any(|st| st.signal == Some(f.kind) && st.expansion_type == f.expansion_type)
        {
            continue;
        }
        statements.push(Framing {
            expansion_type: f.expansion_type,
            signal: Some(f.kind),
            bad: bad_example(f.expansion_type).into(),
            good,
        });
    }
    let lead = lead
        .or_else(|| {
            opp.expansion_type
                .and_then(|t| statements.iter().find(|st| st.expansion_type == t))
                .or_else(|| statements.first())
                .map(|st| st.good.clone())
        })
        .unwrap_or_else(|| {
            format!(
                "Lead with what {} has achieved and the goals still ahead; no organic signal yet supports a specific expansion.",
                s.name
            )
        });
    FramingResult {
        framing: lead,
        statements,
    }
}

/// Finds sales phrasing in a draft. With an account, rewrites use its own framing. The rules
/// live in [`super::salestalk`].
pub fn check_framing(draft: &str, framing: Option<&FramingResult>) -> FramingCheck {
    super::salestalk::check_framing(draft, framing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_the_playbook_bad_examples() {
        for bad in [
            "Would you like to upgrade to Pro?",
            "Can we add 10 more seats?",
            "Our analytics tier has great features",
            "We also have Product X",
        ] {
            let c = check_framing(bad, None);
            assert!(!c.ok, "{bad} not flagged");
        }
    }

    #[test]
    fn passes_the_playbook_good_examples() {
        for good in [
            "You're generating 3x more reports than last quarter — let's make sure the platform keeps up with your growth",
            "Your team has grown to 25 — right now only 15 have access. Let's get everyone onboarded",
            "You mentioned wanting to track conversion rates — that's exactly what the Analytics module does",
        ] {
            let c = check_framing(good, None);
            assert!(c.ok, "{good} flagged: {:?}", c.findings);
        }
    }
}
