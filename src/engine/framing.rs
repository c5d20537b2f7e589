//! Step 4: frame the expansion as enablement, from the customer's own numbers, and check a
//! draft message for sales phrasing.

use std::sync::LazyLock;

use regex::Regex;

use crate::model::results::{
    ExpansionType, FoundSignal, Framing, FramingCheck, FramingFinding, FramingResult,
    OpportunityResult, SignalsResult, Strength,
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

struct Pattern {
    id: &'static str,
    re: Regex,
    why: &'static str,
    rewrite: &'static str,
}

static PATTERNS: LazyLock<Vec<Pattern>> = LazyLock::new(|| {
    let spec: [(&str, &str, &str, &str); 9] = [
        (
            "would_you_like_to_upgrade",
            r"(?i)\b(would|do) you (like|want) to (upgrade|buy|purchase|move up)\b[^.?!]*",
            "asks for a purchase instead of connecting to the customer's growth",
            "You're generating more than your current plan was built for. Let's make sure the platform keeps up with your growth.",
        ),
        (
            "can_we_add_seats",
            r"(?i)\b(can|could|shall) we (add|sell you|get you)\s+(\d+\s+)?(more\s+)?(seats|licen[cs]es|users)\b[^.?!]*",
            "asks for seats instead of naming who on their team lacks access",
            "Your team has grown, and not everyone has access yet. Let's get everyone onboarded.",
        ),
        (
            "tier_has_great_features",
            r"(?i)\bour\s+[\w\s-]{0,30}?(tier|plan|edition|package)\s+(has|offers|includes)\s+(great|amazing|awesome|powerful|lots of)[^.?!]*",
            "pitches the product's features instead of the customer's need",
            "You mentioned wanting to track this. That's exactly what this capability does.",
        ),
        (
            "we_also_have",
            r"(?i)\bwe also (have|sell|offer)\b[^.?!]*",
            "pitches another product without the customer's workflow",
            "Several customers with your workflow have found this removes the manual step you mentioned.",
        ),
        (
            "upgrade_to",
            r"(?i)\b(upgrade|move) to (the )?(pro|premium|enterprise|business|plus|higher)\b[^.?!]*",
            "names the tier before the need",
            "Your growth is outpacing your current plan. Let's fix that together.",
        ),
        (
            "limited_time_discount",
            r"(?i)\b(limited[- ]time|discount|special (offer|pricing|deal)|act now|before the end of (the )?(quarter|month))\b[^.?!]*",
            "urgency from our calendar, not the customer's planning cycle",
            "Let's line this up with your planning cycle so it's in next year's budget.",
        ),
        (
            "hit_quota",
            r"(?i)\b(my|our) (quota|target|number)s?\b[^.?!]*",
            "mentions our targets: expansion aligns with the customer's cycle, not ours",
            "Here's what we've seen in your usage, and what it could mean for your team's goals.",
        ),
        (
            "buy_more",
            r"(?i)\b(buy|purchase) (more|additional|extra)\b[^.?!]*",
            "frames the conversation as a transaction",
            "Let's make sure everyone who needs access has it, and is onboarded.",
        ),
        (
            "interested_in_tier",
            r"(?i)\b(are you|would you be) interested in (our|the)\b[^.?!]*",
            "asks about interest in our product, not the customer's outcome",
            "You mentioned this goal; here's how we could get you there.",
        ),
    ];
    spec.iter()
        .filter_map(|&(id, re, why, rewrite)| {
            Regex::new(re).ok().map(|re| Pattern {
                id,
                re,
                why,
                rewrite,
            })
        })
        .collect()
});

/// Finds sales phrasing in a draft. With an account, rewrites use its own framing.
pub fn check_framing(draft: &str, framing: Option<&FramingResult>) -> FramingCheck {
    let mut findings: Vec<FramingFinding> = Vec::new();
    for p in PATTERNS.iter() {
        for m in p.re.find_iter(draft) {
            if findings
                .iter()
                .any(|f| m.start() < f.offset + f.phrase.len() && f.offset < m.end())
            {
                continue;
            }
            let tailored = framing.and_then(|fr| {
                let want = match p.id {
                    "can_we_add_seats" | "buy_more" => Some(ExpansionType::Seats),
                    "would_you_like_to_upgrade" | "upgrade_to" => Some(ExpansionType::Upgrade),
                    "tier_has_great_features" | "interested_in_tier" => Some(ExpansionType::Upsell),
                    "we_also_have" => Some(ExpansionType::CrossSell),
                    _ => None,
                }?;
                fr.statements
                    .iter()
                    .find(|s| s.expansion_type == want)
                    .map(|s| s.good.clone())
            });
            findings.push(FramingFinding {
                phrase: m.as_str().trim().to_string(),
                offset: m.start(),
                pattern: p.id.into(),
                why: p.why.into(),
                rewrite: tailored.unwrap_or_else(|| p.rewrite.into()),
            });
        }
    }
    findings.sort_by_key(|f| f.offset);
    FramingCheck {
        ok: findings.is_empty(),
        findings,
    }
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
