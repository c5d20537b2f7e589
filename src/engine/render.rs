//! Markdown for people: the plan in the playbook's Output Format (headings and bold labels
//! exactly as written there), and one section per step for the tools' text blocks.

use std::borrow::Cow;
use std::fmt::Write;

use crate::model::results::{
    ApproachResult, Check, FramingCheck, FramingResult, HealthResult, OpportunityResult, Outcome,
    PlanResult, RisksResult, SignalsResult, SuccessResult, TimingResult,
};
use crate::model::snapshot::Snapshot;
use crate::model::values::{fmt_pct, fmt_score};

use super::fmt_amount;

/// A table cell: no pipes or line breaks can escape it.
fn cell(s: &str) -> Cow<'_, str> {
    // One byte scan, and no copy for the usual cell with nothing to escape.
    if !s.bytes().any(|b| matches!(b, b'|' | b'\n' | b'\r')) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

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
                cell(&c.check),
                cell(c.actual.as_deref().unwrap_or("unknown")),
                cell(&c.required),
                passed(c, gate),
                cell(&c.detail)
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
                .map(|s| format!("{} ({})", fmt_score(s), h.score_source))
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
                h.missing.join(", ")
            ),
        );
    }
    if !h.notes.is_empty() {
        line(out, "");
        for n in &h.notes {
            line(out, format!("> {n}"));
        }
    }
    line(out, "");
}

pub fn unhealthy_section(out: &mut String, h: &HealthResult) {
    let Some(u) = &h.unhealthy_path else { return };
    line(out, "## Unhealthy-Path Response");
    line(out, "- **Recovery targets:**");
    for t in &u.recovery_targets {
        line(out, format!("  - {} (by {})", t.detail, t.by));
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
                Some(r) => r.detail.clone(),
                None => "not indicated: the customer is not substantially over-licensed".into(),
            }
        ),
    );
    line(
        out,
        format!("- **AE / sales communication:** {}", u.ae_note),
    );
    line(
        out,
        format!(
            "- **Upstream feedback:** {}",
            u.upstream_feedback
                .as_deref()
                .unwrap_or("none: no oversell or handoff pattern in the data")
        ),
    );
    line(out, format!("- {}", u.diagnose));
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
                cell(&label),
                cell(&f.evidence),
                f.strength.as_str(),
                cell(&f.strength_reason)
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
            && matches!(c.check.as_str(), "health_score" | "sustained_utilisation")
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
                        c.check.replace('_', " "),
                        c.actual.as_deref().unwrap_or("unknown")
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
        line(out, format!("  - Assumption: {a}"));
    }
    for m in &o.missing_assumptions {
        line(out, format!("  - Missing assumption: {m}"));
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
                format!("  - {}: {} ({})", sc.name, money(sc.expansion_arr), sc.math),
            );
        }
    }
    if let Some(n) = &o.scenario_note {
        line(out, format!("  - Scenarios: {n}"));
    }
    line(
        out,
        format!(
            "- **Confidence:** {} ({})",
            o.confidence.as_str(),
            o.confidence_reason
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
                Some(d) => format!("propose on {d}: {}", o.timeline.reason),
                None => o.timeline.reason.clone(),
            }
        ),
    );
    line(out, "");
}

pub fn approach_section(out: &mut String, f: &FramingResult, t: &TimingResult) {
    line(out, "## Approach");
    line(out, format!("- **Framing:** {}", f.framing));
    line(
        out,
        format!(
            "- **Timing:** {}",
            match (t.recommendation.as_str(), t.date) {
                ("defer", Some(d)) => format!("{d}, after the blockers: {}", t.reason),
                ("defer", None) => format!("not dated: {}", t.reason),
                (_, Some(d)) => format!(
                    "{d}{}: {}",
                    t.window_end
                        .filter(|e| *e != d)
                        .map(|e| format!(" to {e}"))
                        .unwrap_or_default(),
                    t.reason
                ),
                _ => t.reason.clone(),
            }
        ),
    );
    line(out, format!("- **Trigger:** {}", t.trigger));
    line(out, "");
}

pub fn framing_section(out: &mut String, f: &FramingResult) {
    line(out, "## Framing");
    line(out, format!("Lead with: {}", f.framing));
    line(out, "");
    line(out, "| Expansion | BAD (sales) | GOOD (enablement) |");
    line(out, "|---|---|---|");
    for st in &f.statements {
        line(
            out,
            format!(
                "| {} | {} | {} |",
                st.expansion_type.label(),
                cell(&st.bad),
                cell(&st.good)
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
                    cell(&f.phrase),
                    cell(&f.why),
                    cell(&f.rewrite)
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
            t.recommendation,
            t.date.map(|d| format!(" ({d})")).unwrap_or_default()
        ),
    );
    line(out, format!("- **Trigger:** {}", t.trigger));
    line(out, format!("- **Why:** {}", t.reason));
    for b in &t.blockers {
        line(out, format!("- Blocker: {}", b.why));
    }
    for tr in &t.triggers {
        line(out, format!("- Trigger available: {}", tr.why));
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
                cell(&k.risk),
                cell(&k.why),
                cell(&k.gating_action)
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
                cell(&st.action),
                cell(&st.owner),
                cell(&date)
            ),
        );
    }
    line(out, "");
    line(out, format!("Phased milestones (in {}):", a.granularity));
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
                ph.phase,
                ph.when,
                dates,
                cell(&ph.milestone)
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
                cell(&c.criteria),
                cell(&c.measurement),
                cell(&c.target),
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
    line(&mut out, format!("# Expansion Plan: {}", s.name));
    line(&mut out, "");
    line(
        &mut out,
        format!("**{}.**", plan.verdict.trim_end_matches('.')),
    );
    line(&mut out, "");
    if let Some(f) = &plan.first_action {
        line(
            &mut out,
            format!(
                "First action this week: {} ({}{}).",
                f.action.trim_end_matches('.'),
                f.owner,
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
            line(&mut out, format!("- {u}"));
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
    health_section(&mut out, &plan.health);
    match plan.outcome {
        Outcome::Blocked => unhealthy_section(&mut out, &plan.health),
        Outcome::NotReady => {
            if let Some(sig) = &plan.signals {
                signals_section(&mut out, sig);
            }
            if let Some(o) = &plan.opportunity {
                opportunity_section(&mut out, o);
            }
            line(&mut out, "## What to Watch For");
            line(
                &mut out,
                "Healthy, but not ready for an expansion conversation. Reopen it when these change:",
            );
            for w in &plan.watch_for {
                line(&mut out, format!("- {w}"));
            }
            if let Some(r) = &plan.reassessment {
                line(
                    &mut out,
                    format!("- Reassessment: {} ({}): {}", r.on, r.owner, r.what),
                );
            }
            line(&mut out, "");
        }
        Outcome::Ready | Outcome::Provisional | Outcome::OnHold => {
            if let Some(sig) = &plan.signals {
                signals_section(&mut out, sig);
            }
            if let Some(o) = &plan.opportunity {
                opportunity_section(&mut out, o);
            }
            if let (Some(f), Some(t)) = (&plan.framing, &plan.timing) {
                approach_section(&mut out, f, t);
            }
            if let Some(r) = &plan.risks {
                risks_section(&mut out, r);
            }
            if let Some(a) = &plan.approach {
                execution_section(&mut out, a);
            }
            if let Some(sc) = &plan.success_criteria {
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
