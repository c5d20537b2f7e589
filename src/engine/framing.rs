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

fn statement(s: &Snapshot, f: &FoundSignal) -> String {
    let raw = s
        .signals
        .iter()
        .find(|g| g.kind == f.kind && g.date == f.date && !f.derived);
    match f.kind {
        SignalKind::TeamGrowth => match raw.and_then(|g| Some((g.team_size?, g.users_with_access?))) {
            Some((t, a)) => format!(
                "Your team has grown to {t}, and right now only {a} have access. Let's get everyone onboarded."
            ),
            None => "Your team is growing. Let's make sure everyone who needs access has it and is onboarded.".into(),
        },
        SignalKind::UsageLimit => {
            if f.derived {
                format!(
                    "You're using {}. Let's make sure the platform keeps up with your growth.",
                    f.evidence
                )
            } else {
                format!(
                    "You told us: {}. Let's make sure the platform keeps up with your growth.",
                    first_clause(&f.evidence)
                )
            }
        }
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
                "Several customers with your workflow have found {x} removes the manual step you described ({}).",
                first_clause(&f.evidence)
            )
        }
        SignalKind::ExecutiveEngagement => format!(
            "Your leadership is leaning in ({}). Let's shape the next phase of the partnership around their priorities.",
            first_clause(&f.evidence)
        ),
        SignalKind::Advocacy => format!(
            "Your results are worth sharing ({}). Would your team like to be featured, and to bring peers who face the same problem?",
            first_clause(&f.evidence)
        ),
    }
}

/// The evidence without the bracketed provenance the signals step appends.
fn first_clause(evidence: &str) -> String {
    let cut = evidence.find(" [").unwrap_or(evidence.len());
    evidence
        .get(..cut)
        .unwrap_or(evidence)
        .trim()
        .trim_end_matches('.')
        .to_string()
}

pub fn frame(s: &Snapshot, sig: &SignalsResult, opp: &OpportunityResult) -> FramingResult {
    let mut statements: Vec<Framing> = Vec::new();
    for f in sig
        .signals
        .iter()
        .filter(|f| f.organic && f.strength != Strength::Weak)
    {
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
            good: statement(s, f),
        });
    }
    let lead = opp
        .expansion_type
        .and_then(|t| statements.iter().find(|st| st.expansion_type == t))
        .or_else(|| statements.first())
        .map(|st| st.good.clone())
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
