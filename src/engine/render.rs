//! Markdown for people: the plan in the playbook's Output Format (headings and bold labels
//! exactly as written there), and one section per step for the tools' text blocks.

use std::fmt::Write;

use crate::markdown::{md, md_start};
use crate::model::results::{
    ApproachResult, Check, CheckName, FramingCheck, FramingResult, HealthResult, OpportunityResult,
    Outcome, PlanResult, RisksResult, SignalsResult, SuccessResult, TimingResult,
};
use crate::model::snapshot::Snapshot;
use crate::model::values::{fmt_pct, fmt_score};

use super::fmt_amount;

fn line(out: &mut String, s: impl AsRef<str>) {
    out.push_str(s.as_ref());
    out.push('\n');
}

fn yes_no(b: bool) -> &'static str {
    if b { "Yes" } else { "No" }
}

fn passed(c: &Check, gate: bool) -> &'static str {
    match (c.passed, gate) {
        (Some(true), _) => "pass",
        (Some(false), _) => "FAIL",
        (None, true) => "unknown (fails)",
        (None, false) => "unverified",
    }
}

fn checks_table(out: &mut String, checks: &[Check], gate: bool) {
    line(out, "| Check | Actual | Required | Result | Detail |");
    line(out, "|---|---|---|---|---|");
    for c in checks {
        line(
            out,
            format!(
                "| {} | {} | {} | {} | {} |",
                md(c.check.as_str()),
                md(c.actual.as_deref().unwrap_or("unknown")),
                md(&c.required),
                passed(c, gate),
                md(&c.detail)
            ),
        );
    }
}

pub fn health_section(out: &mut String, h: &HealthResult) {
    line(out, "## Health Check");
    let util = match (h.active_users, h.licensed_seats, h.utilisation_pct) {
        (Some(a), Some(l), Some(u)) => format!("{a} / {l} = {}", fmt_pct(u)),
        _ => "unknown (active users and licensed seats are both needed)".into(),
    };
    line(out, format!("- **Seat utilisation:** {util}"));
    line(
        out,
        format!(
            "- **Health score:** {}",
            h.score
                .map(|s| format!("{} ({})", fmt_score(s), md(h.score_source.as_str())))
                .unwrap_or_else(|| "unknown".into())
        ),
    );
    let band = match (h.status, h.score_band) {
        (Some(st), Some(b)) if st != b => {
            format!(" (score band {}; for expansion purposes)", b.as_str())
        }
        _ => String::new(),
    };
    line(
        out,
        format!(
            "- **Status:** {}{band}",
            h.status
                .map(|s| s.as_str())
                .unwrap_or("Unknown (no health score)")
        ),
    );
    line(
        out,
        format!(
            "- **Clear to expand:** {}",
            if h.clear_to_expand {
                "Yes".to_string()
            } else {
                "No — complete the Unhealthy-Path Response below and stop".to_string()
            }
        ),
    );
    line(out, "");
    checks_table(out, &h.checks, true);
    if !h.missing.is_empty() {
        line(out, "");
        line(
            out,
            format!(
                "Missing inputs (each fails the gate): {}",
                md(&h.missing.join(", "))
            ),
        );
    }
    if !h.notes.is_empty() {
        line(out, "");
        for n in &h.notes {
            line(out, format!("> {}", md_start(n)));
        }
    }
    line(out, "");
}

pub fn unhealthy_section(out: &mut String, h: &HealthResult) {
    let Some(u) = &h.unhealthy_path else { return };
    line(out, "## Unhealthy-Path Response");
    line(out, "- **Recovery targets:**");
    for t in &u.recovery_targets {
        line(out, format!("  - {} (by {})", md(&t.detail), t.by));
    }
    let only_gaps = !h.checks.iter().any(|c| c.passed == Some(false));
    line(
        out,
        format!(
            "- **Sequence:** {} ({} days, to {}) → reassess on {} → plan only if signals align",
            if only_gaps {
                "collect the missing data"
            } else {
                "recover"
            },
            u.sequence.recover_window_days,
            u.sequence.recover_by,
            u.reassess_on
        ),
    );
    line(
        out,
        format!(
            "- **Right-sizing consideration:** {}",
            match &u.right_size {
                Some(r) => md(&r.detail).to_string(),
                None => "not indicated: the customer is not substantially over-licensed".into(),
            }
        ),
    );
    line(
        out,
        format!("- **AE / sales communication:** {}", md(&u.ae_note)),
    );
    line(
        out,
        format!(
            "- **Upstream feedback:** {}",
            md(u.upstream_feedback
                .as_deref()
                .unwrap_or("none: no oversell or handoff pattern in the data"))
        ),
    );
    line(out, format!("- {}", md_start(&u.diagnose)));
    line(out, "");
}

pub fn signals_section(out: &mut String, sig: &SignalsResult) {
    line(out, "## Expansion Signals");
    line(out, "| Signal | Evidence | Strength |");
    line(out, "|---|---|---|");
    if sig.signals.is_empty() {
        line(
            out,
            "| none observed | no signal in the input or the usage data | - |",
        );
    }
    for f in &sig.signals {
        let mut label = f.label.clone();
        if !f.organic {
            label.push_str(" (not organic)");
        }
        if f.derived {
            label.push_str(" (from usage data)");
        }
        line(
            out,
            format!(
                "| {} | {} | {} ({}) |",
                md(&label),
                md(&f.evidence),
                f.strength.as_str(),
                md(&f.strength_reason)
            ),
        );
    }
    line(out, "");
    line(
        out,
        format!(
            "Organic signals: {}{} ({} needed). Readiness: {}.",
            sig.organic_count,
            if sig.unverified_count > 0 {
                format!(" verified, {} unverified", sig.unverified_count)
            } else {
                String::new()
            },
            sig.organic_required,
            if sig.ready {
                "all thresholds met"
            } else if sig.readiness.iter().any(|c| c.passed == Some(false)) {
                "not all thresholds met"
            } else {
                "every measured threshold met, some unverified"
            }
        ),
    );
    line(out, "");
    // The checks that repeat the gate (health score, sustained utilisation once measured)
    // are folded into one line rather than repeated row by row.
    let (repeat, rest): (Vec<&Check>, Vec<&Check>) = sig.readiness.iter().partition(|c| {
        c.passed == Some(true)
            && matches!(
                c.check,
                CheckName::HealthScore | CheckName::SustainedUtilisation
            )
    });
    if !repeat.is_empty() {
        line(
            out,
            format!(
                "Gate figures, passed as in the Health Check: {}.",
                repeat
                    .iter()
                    .map(|c| format!(
                        "{} {}",
                        md(&c.check.words()),
                        md(c.actual.as_deref().unwrap_or("unknown"))
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        );
        line(out, "");
    }
    let rest: Vec<Check> = rest.into_iter().cloned().collect();
    checks_table(out, &rest, false);
    line(out, "");
}

pub fn opportunity_section(out: &mut String, o: &OpportunityResult) {
    let money = |m: Option<crate::model::values::Money>| {
        m.map(|m| fmt_amount(m, &o.currency))
            .unwrap_or_else(|| "unknown".into())
    };
    line(out, "## Opportunity");
    line(out, format!("- **Current ARR:** {}", money(o.current_arr)));
    line(
        out,
        format!(
            "- **Expansion type:** {}",
            o.expansion_type
                .map(|t| t.label())
                .unwrap_or("none proposed")
        ),
    );
    line(
        out,
        format!(
            "- **Estimated expansion ARR:** {}",
            match o.estimated_expansion_arr {
                Some(m) => fmt_amount(m, &o.currency),
                None => "not estimated: a pricing assumption is missing".into(),
            }
        ),
    );
    for a in &o.assumptions {
        line(out, format!("  - Assumption: {}", md(a)));
    }
    for m in &o.missing_assumptions {
        line(out, format!("  - Missing assumption: {}", md(m)));
    }
    let flat = o.scenarios.len() > 1
        && o.scenarios
            .windows(2)
            .all(|w| matches!(w, [a, b] if a.expansion_arr == b.expansion_arr))
        && o.scenario_note.is_some();
    if flat {
        if let Some(sc) = o.scenarios.first() {
            line(
                out,
                format!(
                    "  - Flat price: {} at any adoption",
                    money(sc.expansion_arr)
                ),
            );
        }
    } else {
        for sc in &o.scenarios {
            line(
                out,
                format!(
                    "  - {}: {} ({})",
                    md(&sc.name),
                    money(sc.expansion_arr),
                    md(&sc.math)
                ),
            );
        }
    }
    if let Some(n) = &o.scenario_note {
        line(out, format!("  - Scenarios: {}", md(n)));
    }
    line(
        out,
        format!(
            "- **Confidence:** {} ({})",
            o.confidence.as_str(),
            md(&o.confidence_reason)
        ),
    );
    line(
        out,
        format!(
            "- **NRR impact:** {}",
            o.nrr_after_pct
                .map(|n| format!(
                    "{} projected NRR after expansion (before any churn or contraction)",
                    fmt_pct(n)
                ))
                .unwrap_or_else(|| "unknown".into())
        ),
    );
    line(
        out,
        format!(
            "- **Timeline:** {}",
            match o.timeline.propose_by {
                Some(d) => format!("propose on {d}: {}", md(&o.timeline.reason)),
                None => md(&o.timeline.reason).to_string(),
            }
        ),
    );
    line(out, "");
}

pub fn approach_section(out: &mut String, f: &FramingResult, t: &TimingResult) {
    line(out, "## Approach");
    line(out, format!("- **Framing:** {}", md(&f.framing)));
    line(
        out,
        format!(
            "- **Timing:** {}",
            match (t.recommendation.as_str(), t.date) {
                ("defer", Some(d)) => format!("{d}, after the blockers: {}", md(&t.reason)),
                ("defer", None) => format!("not dated: {}", md(&t.reason)),
                (_, Some(d)) => format!(
                    "{d}{}: {}",
                    t.window_end
                        .filter(|e| *e != d)
                        .map(|e| format!(" to {e}"))
                        .unwrap_or_default(),
                    md(&t.reason)
                ),
                _ => md(&t.reason).to_string(),
            }
        ),
    );
    line(out, format!("- **Trigger:** {}", md(&t.trigger)));
    line(out, "");
}

pub fn framing_section(out: &mut String, f: &FramingResult) {
    line(out, "## Framing");
    line(out, format!("Lead with: {}", md(&f.framing)));
    line(out, "");
    line(out, "| Expansion | BAD (sales) | GOOD (enablement) |");
    line(out, "|---|---|---|");
    for st in &f.statements {
        line(
            out,
            format!(
                "| {} | {} | {} |",
                st.expansion_type.label(),
                md(&st.bad),
                md(&st.good)
            ),
        );
    }
    line(out, "");
}

pub fn framing_check_section(out: &mut String, c: &FramingCheck) {
    line(out, "## Framing Check");
    if c.ok {
        line(
            out,
            "No sales phrasing found: the draft reads as enablement.",
        );
    } else {
        line(
            out,
            "| Phrase | Why it is sales framing | Enablement rewrite |",
        );
        line(out, "|---|---|---|");
        for f in &c.findings {
            line(
                out,
                format!(
                    "| {} | {} | {} |",
                    md(&f.phrase),
                    md(&f.why),
                    md(&f.rewrite)
                ),
            );
        }
    }
    line(out, "");
}

pub fn timing_section(out: &mut String, t: &TimingResult) {
    line(out, "## Timing");
    line(
        out,
        format!(
            "- **Recommendation:** {}{}",
            md(&t.recommendation),
            t.date.map(|d| format!(" ({d})")).unwrap_or_default()
        ),
    );
    line(out, format!("- **Trigger:** {}", md(&t.trigger)));
    line(out, format!("- **Why:** {}", md(&t.reason)));
    for b in &t.blockers {
        line(out, format!("- Blocker: {}", md(&b.why)));
    }
    for tr in &t.triggers {
        line(out, format!("- Trigger available: {}", md(&tr.why)));
    }
    line(out, "");
}

pub fn risks_section(out: &mut String, r: &RisksResult) {
    line(out, "## Risks");
    line(out, "| Risk | Why it applies | Gating action |");
    line(out, "|---|---|---|");
    for k in &r.risks {
        line(
            out,
            format!(
                "| {} | {} | {} |",
                md(&k.risk),
                md(&k.why),
                md(&k.gating_action)
            ),
        );
    }
    line(out, "");
}

pub fn execution_section(out: &mut String, a: &ApproachResult) {
    line(out, "## Execution Plan");
    line(out, "| Step | Action | Owner | Date |");
    line(out, "|---|---|---|---|");
    for st in &a.steps {
        let date = match (st.date, &st.after) {
            (Some(d), _) => d.to_string(),
            (None, Some(after)) => format!("after {after}"),
            (None, None) => "to be set".into(),
        };
        line(
            out,
            format!(
                "| {} | {} | {} | {} |",
                st.step,
                md(&st.action),
                md(&st.owner),
                md(&date)
            ),
        );
    }
    line(out, "");
    line(
        out,
        format!("Phased milestones (in {}):", md(&a.granularity)),
    );
    line(out, "");
    line(out, "| Phase | When | Dates | Milestone |");
    line(out, "|---|---|---|---|");
    for ph in &a.phases {
        let dates = match (ph.start, ph.end) {
            (Some(a), Some(b)) => format!("{a} to {b}"),
            _ => "after the proposal is dated".into(),
        };
        line(
            out,
            format!(
                "| {} | {} | {} | {} |",
                md(&ph.phase),
                md(&ph.when),
                dates,
                md(&ph.milestone)
            ),
        );
    }
    line(out, "");
}

pub fn success_section(out: &mut String, sc: &SuccessResult) {
    line(out, "## Success Criteria");
    line(out, "| Criteria | Measurement | Target date |");
    line(out, "|---|---|---|");
    for c in &sc.criteria {
        line(
            out,
            format!(
                "| {} | {}: {} | {} |",
                md(&c.criteria),
                md(&c.measurement),
                md(&c.target),
                c.target_date
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "after the proposal is dated".into())
            ),
        );
    }
    line(out, "");
}

pub fn plan_markdown(s: &Snapshot, plan: &PlanResult) -> String {
    let mut out = String::new();
    line(&mut out, format!("# Expansion Plan: {}", md(&s.name)));
    line(&mut out, "");
    line(
        &mut out,
        format!("**{}.**", md(plan.verdict.trim_end_matches('.'))),
    );
    line(&mut out, "");
    if let Some(f) = &plan.first_action {
        line(
            &mut out,
            format!(
                "First action this week: {} ({}{}).",
                md(f.action.trim_end_matches('.')),
                md(&f.owner),
                f.date.map(|d| format!(", {d}")).unwrap_or_default()
            ),
        );
        line(&mut out, "");
    }
    if !plan.unverified.is_empty() {
        line(
            &mut out,
            "Unverified (step 0 collects it before any proposal):",
        );
        for u in &plan.unverified {
            line(&mut out, format!("- {}", md_start(u)));
        }
        line(&mut out, "");
    }
    let _ = writeln!(
        out,
        "_As of {}. Outcome: {}._",
        plan.as_of,
        plan.outcome.as_str()
    );
    line(&mut out, "");
    health_section(&mut out, &plan.steps.health);
    match plan.outcome {
        Outcome::Blocked => unhealthy_section(&mut out, &plan.steps.health),
        Outcome::NotReady => {
            if let Some(sig) = &plan.steps.signals {
                signals_section(&mut out, sig);
            }
            if let Some(o) = &plan.steps.opportunity {
                opportunity_section(&mut out, o);
            }
            line(&mut out, "## What to Watch For");
            line(
                &mut out,
                "Healthy, but not ready for an expansion conversation. Reopen it when these change:",
            );
            for w in &plan.watch_for {
                line(&mut out, format!("- {}", md_start(w)));
            }
            if let Some(r) = &plan.reassessment {
                line(
                    &mut out,
                    format!(
                        "- Reassessment: {} ({}): {}",
                        r.on,
                        md(&r.owner),
                        md(&r.what)
                    ),
                );
            }
            line(&mut out, "");
        }
        Outcome::Ready | Outcome::Provisional | Outcome::OnHold => {
            if let Some(sig) = &plan.steps.signals {
                signals_section(&mut out, sig);
            }
            if let Some(o) = &plan.steps.opportunity {
                opportunity_section(&mut out, o);
            }
            if let (Some(f), Some(t)) = (&plan.steps.framing, &plan.steps.timing) {
                approach_section(&mut out, f, t);
            }
            if let Some(r) = &plan.steps.risks {
                risks_section(&mut out, r);
            }
            if let Some(a) = &plan.steps.approach {
                execution_section(&mut out, a);
            }
            if let Some(sc) = &plan.steps.success_criteria {
                success_section(&mut out, sc);
            }
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// `Yes`/`No` for booleans in step summaries.
pub fn yes_no_str(b: bool) -> &'static str {
    yes_no(b)
}
