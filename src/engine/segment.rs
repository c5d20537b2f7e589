//! Portfolio views, value in and value out: one row per account, the segment plan built from
//! the rows, the record `draft_plan` saves, and how saved plans moved over time.
//!
//! `assess` runs exactly the steps the segment needs (the gate, then signals and the
//! opportunity when the gate passes) and nothing else: no framing, timing, approach or
//! markdown per account. It decides the outcome the same way `plan::evaluate` does, which a
//! test checks account by account.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use crate::markdown::md;
use crate::model::portfolio::{
    AccountFilter, CheckSet, DueReassessment, FailingCheck, PlanHistory, PlanMove, PlanRecord,
    RankedAccount, RightSizeCandidate, SegmentPlan, SegmentRow, StatusDistribution,
};
use crate::model::results::{
    Check, CheckName, Confidence, HealthResult, OpportunityResult, Outcome, PlanResult,
    SignalsResult, Status, Strength,
};
use crate::model::snapshot::Snapshot;
use crate::model::values::{Day, Money, Pct, Score, fmt_money, fmt_pct, fmt_score, ratio_pct};

use super::policy::Policy;
use super::{health, opportunity, signals, timing};

/// Rows shown in the segment markdown; the structured content always has every row.
pub const MARKDOWN_ROWS: usize = 200;

/// Weight of each confidence on the 100 % scenario, in tenths of a percent. High and Medium
/// match the forecast rule of `quantify_opportunity` (100 % at High, otherwise 50 %), so for
/// them the expected figure equals the forecast; Low is discounted once more.
pub fn confidence_weight_tenths(c: Confidence) -> i64 {
    match c {
        Confidence::High => 1000,
        Confidence::Medium => 500,
        Confidence::Low => 250,
    }
}

fn label(check: &CheckName) -> String {
    check.words()
}

fn check_reason(c: &Check) -> String {
    match (c.passed, &c.actual) {
        (Some(false), Some(a)) => format!("{}: {a} (needs {})", label(&c.check), c.required),
        (Some(false), None) => format!("{}: {}", label(&c.check), c.detail),
        _ => format!("{} unknown: {}", label(&c.check), c.detail),
    }
}

/// Blocked: the first gate check that did not pass, in the gate's order.
pub fn blocked_reason(h: &HealthResult) -> String {
    h.checks
        .iter()
        .find(|c| c.passed != Some(true))
        .map(check_reason)
        .unwrap_or_else(|| "health gate not passed".into())
}

/// Not ready: the first readiness check that fell short.
pub fn not_ready_reason(sig: &SignalsResult) -> String {
    sig.readiness
        .iter()
        .find(|c| c.passed != Some(true))
        .map(check_reason)
        .unwrap_or_else(|| {
            format!(
                "{} organic signal(s); {} needed",
                sig.organic_count, sig.organic_required
            )
        })
}

/// On hold: what timing waits for.
pub fn on_hold_reason(tm: &crate::model::results::TimingResult) -> String {
    format!("on hold until {}", tm.defer_until.join(", and "))
}

/// Ready: the strongest organic signal.
pub fn ready_reason(sig: &SignalsResult) -> String {
    match sig
        .signals
        .iter()
        .find(|f| f.organic && f.strength != Strength::Weak)
    {
        Some(f) => format!(
            "{} organic signals; strongest: {} ({})",
            sig.organic_count,
            f.label,
            f.strength.as_str()
        ),
        None => format!("{} organic signals", sig.organic_count),
    }
}

fn scenario_at(o: &OpportunityResult, pct: Pct) -> Option<Money> {
    o.scenarios
        .iter()
        .find(|s| s.adoption_pct == pct)
        .and_then(|s| s.expansion_arr)
}

/// What a segment row depends on besides its snapshot and day: the policy, and the engine
/// that assessed it (`build.rs` hashes every source file the engine's answers come from).
/// A store keeps a row from import under this number and hands it back only to a scan that
/// asks with the same number, so a policy file changed by one threshold, or a new build,
/// never reads a row computed under the old one. (FNV-1a over the engine build and the
/// policy's `Debug` text: every field, in order, each number as its shortest exact text.)
pub fn row_fingerprint(policy: &Policy) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(env!("EXPANSION_PLANNER_ENGINE_BUILD").as_bytes());
    eat(&[0]);
    eat(format!("{policy:?}").as_bytes());
    i64::from_ne_bytes(h.to_ne_bytes())
}

/// The segment, CSM and currency strings of the rows one scan builds, each held once: a
/// book has a few of each, and a million rows each with its own copies was 60 MB. At most
/// `Interner::MAX` different strings are kept; any further one is simply not shared.
///
/// The rows' reasons too: they quote a check and its figures, so many accounts share one
/// ("Seat utilisation: 62.0% (81 / 130) (needs >= 70.0%)"): 11,349 different among
/// 100,000 synthetic accounts, and a million rows each with its own was 60 MB more. At most
/// `Interner::MAX_REASONS` are kept.
#[derive(Default)]
pub struct Interner {
    few: HashSet<Arc<str>>,
    reasons: HashSet<Arc<str>>,
}

impl Interner {
    const MAX: usize = 256;
    const MAX_REASONS: usize = 1 << 16;

    /// A segment, CSM or currency.
    pub fn get(&mut self, s: &str) -> Arc<str> {
        shared(&mut self.few, s, Self::MAX)
    }

    /// A row's `top_reason`.
    pub fn reason(&mut self, s: &str) -> Arc<str> {
        shared(&mut self.reasons, s, Self::MAX_REASONS)
    }
}

/// `s` as held in `set`, added while the set has fewer than `max` strings.
fn shared(set: &mut HashSet<Arc<str>>, s: &str, max: usize) -> Arc<str> {
    if let Some(a) = set.get(s) {
        return a.clone();
    }
    let a: Arc<str> = Arc::from(s);
    if set.len() < max {
        set.insert(a.clone());
    }
    a
}

/// One account's row: the gate, and for healthy accounts the signals and the opportunity.
pub fn assess(s: &Snapshot, p: &Policy, as_of: Day) -> SegmentRow {
    assess_interned(s, p, as_of, &mut Interner::default())
}

/// [`assess`], the row's segment, CSM and currency shared through `strings`.
pub fn assess_interned(s: &Snapshot, p: &Policy, as_of: Day, strings: &mut Interner) -> SegmentRow {
    let u = health::utilisation(s, p, as_of);
    // The gate without the unhealthy path's recovery plan: a blocked row keeps only its
    // right-size figures and reassessment day (`blocked_follow_up`).
    let h = health::gate(s, p, as_of, &u, health::Words::FirstOpen);
    let mut row = SegmentRow {
        name: s.name.clone(),
        id: s.id.clone(),
        segment: s.segment.as_deref().map(|x| strings.get(x)),
        csm: s.csm.as_deref().map(|x| strings.get(x)),
        as_of,
        outcome: Outcome::Blocked,
        status: h.status,
        utilisation_pct: h.utilisation_pct,
        score: h.score,
        top_reason: Arc::default(),
        currency: strings.get(super::currency(s)),
        current_arr: s.contract.arr,
        expansion_type: None,
        expansion_arr_100: None,
        expansion_arr_50: None,
        confidence: None,
        expected_arr: None,
        failing_checks: CheckSet::default(),
        unknown_checks: CheckSet::default(),
        right_size: None,
        reassess_on: None,
    };
    if !h.clear_to_expand {
        row.top_reason = strings.reason(&blocked_reason(&h));
        for c in &h.checks {
            match c.passed {
                Some(false) => row.failing_checks.insert(c.check),
                None => row.unknown_checks.insert(c.check),
                Some(true) => {}
            }
        }
        let (right_size, reassess_on) = health::blocked_follow_up(s, p, as_of, &u, &h);
        row.right_size = right_size.map(Box::new);
        row.reassess_on = Some(reassess_on);
        return row;
    }
    let sig = signals::find_signals_with(s, p, as_of, &h, &u, health::Words::FirstOpen);
    let tm = timing::plan_timing_with(s, p, as_of, health::Words::FirstOpen);
    let outcome = super::plan::classify(&sig, &tm);
    row.outcome = outcome;
    row.top_reason = strings.reason(&match outcome {
        Outcome::NotReady | Outcome::Provisional => not_ready_reason(&sig),
        Outcome::OnHold => on_hold_reason(&tm),
        _ => ready_reason(&sig),
    });
    if outcome == Outcome::NotReady {
        row.reassess_on = Some(
            as_of
                .plus_days(i64::from(p.reassess_after_days))
                .working_day(),
        );
    }
    // A not-ready row still carries the opportunity's size, as the plan does.
    let opp = opportunity::quantify_with(s, p, as_of, &sig, &tm, outcome, health::Words::FirstOpen);
    row.expansion_type = opp.expansion_type;
    row.expansion_arr_100 = scenario_at(&opp, Pct::from_tenths(1000));
    row.expansion_arr_50 = scenario_at(&opp, Pct::from_tenths(500));
    row.confidence = Some(opp.confidence);
    // Weighted once and rounded to the currency's minor unit (whole yen for JPY).
    let minor = crate::model::values::minor_digits(&row.currency);
    row.expected_arr = row.expansion_arr_100.map(|m| {
        let w = u64::try_from(confidence_weight_tenths(opp.confidence)).unwrap_or(0);
        m.mul_div(w, 1000, minor).unwrap_or(m)
    });
    row
}

/// A row read back (a store's kept row), its strings shared through `strings` as
/// `assess_interned` shares them.
pub fn share_strings(mut row: SegmentRow, strings: &mut Interner) -> SegmentRow {
    row.segment = row.segment.map(|x| strings.get(&x));
    row.csm = row.csm.map(|x| strings.get(&x));
    row.currency = strings.get(&row.currency);
    row.top_reason = strings.reason(&row.top_reason);
    row
}

/// The checks a blocked row did not pass, each with whether it was unknown.
fn failing(row: &SegmentRow) -> impl Iterator<Item = (CheckName, bool)> {
    row.failing_checks
        .iter()
        .map(|c| (c, false))
        .chain(row.unknown_checks.iter().map(|c| (c, true)))
}

fn pattern(check: CheckName, mostly_unknown: bool) -> String {
    let base = match check {
        CheckName::SeatUtilisation | CheckName::SustainedUtilisation => {
            "Adoption gap: seats that were sold are not in use across these accounts. Look at onboarding and at how deals are scoped in the sales-to-CS handoff, not at each customer alone."
        }
        CheckName::HealthScore => {
            "Low composite health across the book: review the health model's inputs and the engagement programme for this segment."
        }
        CheckName::ChurnSignals => {
            "Active churn signals across the book: a retention problem to take to CS leadership before any expansion motion."
        }
        CheckName::Goals => {
            "Customers' stated goals are at risk, off track or not recorded: a value-realisation gap; revisit the success plans."
        }
        CheckName::Relationship => {
            "Relationship coverage gap: sponsors unidentified or customers disengaged; run an executive-sponsor programme."
        }
        _ => "A recurring gate failure across the book.",
    };
    if mostly_unknown {
        format!(
            "{base} Most of these are unknown rather than failed: a data-capture gap; fix the export or the CS platform fields first."
        )
    } else {
        base.to_string()
    }
}

fn most_common_failing(rows: &[SegmentRow]) -> Option<FailingCheck> {
    let blocked: Vec<&SegmentRow> = rows
        .iter()
        .filter(|r| r.outcome == Outcome::Blocked)
        .collect();
    if blocked.is_empty() {
        return None;
    }
    // check -> (failed, unknown, accounts)
    let mut counts: BTreeMap<CheckName, (u32, u32, Vec<&str>)> = BTreeMap::new();
    for r in &blocked {
        for (id, unknown) in failing(r) {
            let e = counts.entry(id).or_default();
            if unknown {
                e.1 += 1;
            } else {
                e.0 += 1;
            }
            if e.2.len() < 20 {
                e.2.push(r.name.as_str());
            }
        }
    }
    // Ties go to the check the gate lists first: `CheckName`'s order is the playbook's, the
    // gate's checks first, in the gate's order.
    let (check, (failed, unknown, accounts)) = counts.into_iter().max_by(|a, b| {
        let ta = a.1.0 + a.1.1;
        let tb = b.1.0 + b.1.1;
        ta.cmp(&tb).then_with(|| b.0.cmp(&a.0))
    })?;
    let n = u32::try_from(blocked.len()).unwrap_or(u32::MAX);
    Some(FailingCheck {
        check,
        failed,
        unknown,
        blocked_accounts: n,
        share_pct: ratio_pct(u64::from(failed + unknown), u64::from(n)).unwrap_or_default(),
        accounts: accounts.into_iter().map(str::to_string).collect(),
        pattern: pattern(check, unknown > failed),
    })
}

fn cmp_money_desc(a: Option<Money>, b: Option<Money>) -> std::cmp::Ordering {
    // Known amounts first, larger first; unknown last.
    match (a, b) {
        (Some(x), Some(y)) => y.cmp(&x),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    }
}

/// Sorts rows by name, then id, into exactly the order a stable sort gives, without moving
/// the rows through a merge sort's scratch buffer (half of them again, at 360 bytes a row):
/// the order is found on indices, then applied in place by following its cycles.
pub fn sort_by_name(rows: &mut [SegmentRow]) {
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| match (rows.get(a), rows.get(b)) {
        (Some(x), Some(y)) => x.name.cmp(&y.name).then_with(|| x.id.cmp(&y.id)),
        _ => a.cmp(&b),
    });
    permute(rows, order);
}

/// Moves the row now at `order[j]` to position j, for every j, in place: `order` must hold
/// each index of `rows` once.
pub fn permute<T>(rows: &mut [T], mut order: Vec<usize>) {
    // Each cycle of the permutation is walked once from its first position, carrying that
    // position's row along by swaps; a placed position is marked by pointing it at itself.
    for start in 0..order.len() {
        let mut j = start;
        while let Some(&next) = order.get(j) {
            if let Some(o) = order.get_mut(j) {
                *o = j;
            }
            if next == start || next == j || next >= rows.len() {
                break;
            }
            rows.swap(j, next);
            j = next;
        }
    }
}

/// The segment plan from its rows and the reassessments the store says are due.
pub fn summarise(
    filter: &AccountFilter,
    as_of: Option<Day>,
    reassessments_as_of: Day,
    mut rows: Vec<SegmentRow>,
    reassessments_due: Vec<DueReassessment>,
) -> SegmentPlan {
    sort_by_name(&mut rows);
    let mut distribution = crate::model::portfolio::Distribution::default();
    let mut status = StatusDistribution::default();
    for r in &rows {
        match r.outcome {
            Outcome::Blocked => distribution.blocked += 1,
            Outcome::NotReady => distribution.not_ready += 1,
            Outcome::Provisional => distribution.provisional += 1,
            Outcome::OnHold => distribution.on_hold += 1,
            Outcome::Ready => distribution.ready += 1,
        }
        match r.status {
            Some(Status::Healthy) => status.Healthy += 1,
            Some(Status::Neutral) => status.Neutral += 1,
            Some(Status::Unhealthy) => status.Unhealthy += 1,
            None => status.unknown += 1,
        }
    }
    let mut ready: Vec<&SegmentRow> = rows
        .iter()
        .filter(|r| r.outcome == Outcome::Ready)
        .collect();
    ready.sort_by(|a, b| {
        cmp_money_desc(a.expected_arr, b.expected_arr)
            .then_with(|| cmp_money_desc(a.expansion_arr_100, b.expansion_arr_100))
            .then_with(|| a.name.cmp(&b.name))
    });
    let ranked_ready: Vec<RankedAccount> = ready
        .iter()
        .enumerate()
        .map(|(i, r)| RankedAccount {
            rank: u32::try_from(i + 1).unwrap_or(u32::MAX),
            name: r.name.clone(),
            id: r.id.clone(),
            expansion_type: r.expansion_type,
            currency: r.currency.clone(),
            expansion_arr_100: r.expansion_arr_100,
            expansion_arr_50: r.expansion_arr_50,
            confidence: r.confidence,
            weight_pct: r
                .confidence
                .map(|c| Pct::from_tenths(confidence_weight_tenths(c)))
                .unwrap_or_default(),
            expected_arr: r.expected_arr,
            top_reason: r.top_reason.clone(),
        })
        .collect();
    let mut right_size_candidates: Vec<RightSizeCandidate> = rows
        .iter()
        .filter_map(|r| {
            let rs = r.right_size.as_ref()?;
            Some(RightSizeCandidate {
                name: r.name.clone(),
                id: r.id.clone(),
                currency: r.currency.clone(),
                utilisation_pct: r.utilisation_pct,
                licensed_seats: rs.licensed_seats,
                active_users: rs.active_users,
                unused_seats: rs.unused_seats,
                recommended_seats: rs.recommended_seats,
                arr_at_stake: rs.arr_at_stake,
            })
        })
        .collect();
    right_size_candidates.sort_by(|a, b| {
        cmp_money_desc(a.arr_at_stake, b.arr_at_stake)
            .then_with(|| b.unused_seats.cmp(&a.unused_seats))
            .then_with(|| a.name.cmp(&b.name))
    });
    let most_common_failing_check = most_common_failing(&rows);
    let mut notes = Vec::new();
    let currencies: BTreeSet<&str> = rows.iter().map(|r| &*r.currency).collect();
    if currencies.len() > 1 {
        notes.push(format!(
            "accounts are in {} currencies ({}): ranking compares amounts as given, without conversion",
            currencies.len(),
            currencies.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    let unpriced = ranked_ready
        .iter()
        .filter(|r| r.expected_arr.is_none())
        .count();
    if unpriced > 0 {
        notes.push(format!(
            "{unpriced} ready account(s) have no priced opportunity (a pricing assumption is missing) and are ranked last"
        ));
    }
    let mut plan = SegmentPlan {
        segment: filter.clone(),
        description: filter.describe(),
        as_of,
        reassessments_as_of,
        total_accounts: u32::try_from(rows.len()).unwrap_or(u32::MAX),
        distribution,
        status_distribution: status,
        accounts: rows,
        ranked_ready,
        right_size_candidates,
        reassessments_due,
        most_common_failing_check,
        notes,
        markdown: String::new(),
    };
    plan.markdown = segment_markdown(&plan);
    plan
}

fn opt_money(m: Option<Money>, cur: &str) -> String {
    m.map(|m| fmt_money(m, cur)).unwrap_or_else(|| "-".into())
}

fn opt_pct(x: Option<Pct>) -> String {
    x.map(fmt_pct).unwrap_or_else(|| "unknown".into())
}

fn opt_score(x: Option<Score>) -> String {
    x.map(fmt_score).unwrap_or_else(|| "unknown".into())
}

fn status_str(s: Option<Status>) -> &'static str {
    s.map(Status::as_str).unwrap_or("unknown")
}

/// The segment plan as markdown.
pub fn segment_markdown(p: &SegmentPlan) -> String {
    let mut out = format!("# Segment Plan: {}\n\n", md(&p.description));
    out.push_str(&match p.as_of {
        Some(d) => format!("_As of {d}. {} accounts._\n\n", p.total_accounts),
        None => format!(
            "_Each account as of its own `as_of`. {} accounts._\n\n",
            p.total_accounts
        ),
    });
    let d = &p.distribution;
    let s = &p.status_distribution;
    out.push_str("## Distribution\n");
    out.push_str(&format!(
        "- **Outcome:** {} blocked, {} not ready, {} ready\n- **Status:** {} Healthy, {} Neutral, {} Unhealthy{}\n\n",
        d.blocked,
        d.not_ready,
        d.ready,
        s.Healthy,
        s.Neutral,
        s.Unhealthy,
        if s.unknown > 0 {
            format!(", {} unknown", s.unknown)
        } else {
            String::new()
        }
    ));
    out.push_str("## Ready Accounts, Ranked\n");
    if p.ranked_ready.is_empty() {
        out.push_str("No account is ready to expand.\n\n");
    } else {
        out.push_str("| Rank | Account | Expansion type | ARR at 100% | ARR at 50% | Confidence | Expected ARR |\n|---|---|---|---|---|---|---|\n");
        for r in p.ranked_ready.iter().take(MARKDOWN_ROWS) {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} |\n",
                r.rank,
                md(&r.name),
                r.expansion_type.map(|t| t.label()).unwrap_or("-"),
                opt_money(r.expansion_arr_100, &r.currency),
                opt_money(r.expansion_arr_50, &r.currency),
                r.confidence.map(Confidence::as_str).unwrap_or("-"),
                opt_money(r.expected_arr, &r.currency),
            ));
        }
        out.push_str("\nExpected ARR = ARR at 100% x confidence weight (High 100%, Medium 50%, Low 25%).\n\n");
    }
    out.push_str("## Right-Size Candidates\n");
    if p.right_size_candidates.is_empty() {
        out.push_str("None: no blocked account is substantially over-licensed.\n\n");
    } else {
        out.push_str("| Account | Active / licensed | Unused seats | Recommended seats | ARR at stake |\n|---|---|---|---|---|\n");
        for r in p.right_size_candidates.iter().take(MARKDOWN_ROWS) {
            out.push_str(&format!(
                "| {} | {} / {} ({}) | {} | {} | {} |\n",
                md(&r.name),
                r.active_users,
                r.licensed_seats,
                opt_pct(r.utilisation_pct),
                r.unused_seats,
                r.recommended_seats,
                opt_money(r.arr_at_stake, &r.currency),
            ));
        }
        out.push('\n');
    }
    out.push_str("## Reassessments Due\n");
    if p.reassessments_due.is_empty() {
        out.push_str(&format!(
            "None due on {} (from saved plans).\n\n",
            p.reassessments_as_of
        ));
    } else {
        out.push_str(&due_table(&p.reassessments_due));
        out.push('\n');
    }
    out.push_str("## Systemic Pattern\n");
    match &p.most_common_failing_check {
        None => out.push_str("No account is blocked.\n\n"),
        Some(f) => out.push_str(&format!(
            "- **Most common failing check:** {}: {} of {} blocked accounts ({}; {} failed, {} unknown)\n- **Pattern:** {}\n\n",
            label(&f.check),
            f.failed + f.unknown,
            f.blocked_accounts,
            fmt_pct(f.share_pct),
            f.failed,
            f.unknown,
            md(&f.pattern)
        )),
    }
    out.push_str("## Accounts\n| Account | Outcome | Status | Utilisation | Score | Top reason | Expansion type | ARR at 100% | ARR at 50% |\n|---|---|---|---|---|---|---|---|---|\n");
    for r in p.accounts.iter().take(MARKDOWN_ROWS) {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            md(&r.name),
            r.outcome.as_str(),
            status_str(r.status),
            opt_pct(r.utilisation_pct),
            opt_score(r.score),
            md(&r.top_reason),
            r.expansion_type.map(|t| t.label()).unwrap_or("-"),
            opt_money(r.expansion_arr_100, &r.currency),
            opt_money(r.expansion_arr_50, &r.currency),
        ));
    }
    if p.accounts.len() > MARKDOWN_ROWS {
        out.push_str(&format!(
            "\n_{} more accounts in the structured result._\n",
            p.accounts.len() - MARKDOWN_ROWS
        ));
    }
    for n in &p.notes {
        out.push_str(&format!("\nNote: {}\n", md(n)));
    }
    out
}

/// The due reassessments as a markdown table.
pub fn due_table(due: &[DueReassessment]) -> String {
    let mut out = String::from(
        "| Account | Last plan | Outcome | Reassess on | Days overdue | Utilisation | Score |\n|---|---|---|---|---|---|---|\n",
    );
    for r in due.iter().take(MARKDOWN_ROWS) {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            md(&r.name),
            r.last_plan_as_of,
            r.last_outcome.as_str(),
            r.reassess_on,
            r.days_overdue,
            opt_pct(r.utilisation_pct),
            opt_score(r.score),
        ));
    }
    if due.len() > MARKDOWN_ROWS {
        out.push_str(&format!("\n_{} more._\n", due.len() - MARKDOWN_ROWS));
    }
    out
}

/// What `draft_plan` saves about a plan.
pub fn plan_record(s: &Snapshot, plan: &PlanResult) -> PlanRecord {
    let h = &plan.steps.health;
    let opp = plan.steps.opportunity.as_ref();
    let top_reason = match (plan.outcome, &plan.steps.signals) {
        (Outcome::Blocked, _) | (_, None) => blocked_reason(h),
        (Outcome::NotReady | Outcome::Provisional, Some(sig)) => not_ready_reason(sig),
        (Outcome::OnHold, Some(sig)) => match &plan.steps.timing {
            Some(tm) => on_hold_reason(tm),
            None => ready_reason(sig),
        },
        (Outcome::Ready, Some(sig)) => ready_reason(sig),
    };
    PlanRecord {
        as_of: plan.as_of,
        outcome: plan.outcome,
        status: h.status,
        utilisation_pct: h.utilisation_pct,
        sustained_utilisation_pct: h.sustained_utilisation_pct,
        score: h.score,
        active_users: h.active_users,
        licensed_seats: h.licensed_seats,
        expansion_type: opp.and_then(|o| o.expansion_type),
        estimated_expansion_arr: opp.and_then(|o| o.estimated_expansion_arr),
        confidence: opp.map(|o| o.confidence),
        currency: super::currency(s).to_string(),
        reassess_on: plan.reassessment.as_ref().map(|r| r.on),
        top_reason,
        markdown: Some(plan.markdown.clone()),
    }
}

fn changes(a: &PlanRecord, b: &PlanRecord) -> Vec<String> {
    let mut out = Vec::new();
    let mut diff = |what: &str, x: String, y: String| {
        if x != y {
            out.push(format!("{what} {x} -> {y}"));
        }
    };
    diff(
        "outcome",
        a.outcome.as_str().into(),
        b.outcome.as_str().into(),
    );
    diff(
        "status",
        status_str(a.status).into(),
        status_str(b.status).into(),
    );
    diff(
        "utilisation",
        opt_pct(a.utilisation_pct),
        opt_pct(b.utilisation_pct),
    );
    diff(
        "sustained utilisation",
        opt_pct(a.sustained_utilisation_pct),
        opt_pct(b.sustained_utilisation_pct),
    );
    diff("score", opt_score(a.score), opt_score(b.score));
    let n = |x: Option<u32>| x.map(|v| v.to_string()).unwrap_or_else(|| "unknown".into());
    diff("active users", n(a.active_users), n(b.active_users));
    diff("licensed seats", n(a.licensed_seats), n(b.licensed_seats));
    diff(
        "expansion type",
        a.expansion_type
            .map(|t| t.as_str().to_string())
            .unwrap_or_else(|| "-".into()),
        b.expansion_type
            .map(|t| t.as_str().to_string())
            .unwrap_or_else(|| "-".into()),
    );
    diff(
        "estimated expansion ARR",
        opt_money(a.estimated_expansion_arr, &a.currency),
        opt_money(b.estimated_expansion_arr, &b.currency),
    );
    out
}

/// Saved plans, oldest first, and how each differs from the one before.
pub fn history(
    account: &str,
    id: Option<String>,
    mut plans: Vec<PlanRecord>,
    with_markdown: bool,
) -> PlanHistory {
    plans.sort_by_key(|p| p.as_of);
    let moves: Vec<PlanMove> = plans
        .windows(2)
        .filter_map(|w| match w {
            [a, b] => Some(PlanMove {
                from: a.as_of,
                to: b.as_of,
                changes: changes(a, b),
            }),
            _ => None,
        })
        .collect();
    let summary = match (plans.first(), plans.last()) {
        (Some(a), Some(b)) if plans.len() > 1 => {
            let c = changes(a, b);
            if c.is_empty() {
                format!("{} to {}: no change", a.as_of, b.as_of)
            } else {
                format!("{} to {}: {}", a.as_of, b.as_of, c.join("; "))
            }
        }
        _ => String::new(),
    };
    let mut out = format!("# Plan History: {}\n\n", md(account));
    if plans.is_empty() {
        out.push_str(
            "No saved plans: draft_plan saves one each time it runs for a stored account.\n",
        );
    } else {
        if !summary.is_empty() {
            out.push_str(&format!("**Moved:** {}\n\n", md(&summary)));
        }
        out.push_str("| As of | Outcome | Status | Utilisation | Score | Expansion | Reassess on | Top reason |\n|---|---|---|---|---|---|---|---|\n");
        for p in &plans {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
                p.as_of,
                p.outcome.as_str(),
                status_str(p.status),
                opt_pct(p.utilisation_pct),
                opt_score(p.score),
                match (p.expansion_type, p.estimated_expansion_arr) {
                    (Some(t), Some(m)) => format!("{} {}", t.label(), fmt_money(m, &p.currency)),
                    (Some(t), None) => t.label().to_string(),
                    _ => "-".into(),
                },
                p.reassess_on
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "-".into()),
                md(&p.top_reason),
            ));
        }
        for m in &moves {
            out.push_str(&format!(
                "\n- {} -> {}: {}",
                m.from,
                m.to,
                if m.changes.is_empty() {
                    "no change".into()
                } else {
                    md(&m.changes.join("; ")).to_string()
                }
            ));
        }
        out.push('\n');
    }
    if !with_markdown {
        for p in &mut plans {
            p.markdown = None;
        }
    }
    PlanHistory {
        account: account.to_string(),
        id,
        plans,
        moves,
        summary,
        markdown: out,
    }
}
