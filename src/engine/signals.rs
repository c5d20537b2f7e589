//! Step 2: expansion signals, their strength, and the quantified readiness thresholds.
//!
//! Strength rules, in order:
//! 1. a signal older than `signal_stale_days` (90) is **Weak** (stale) and not counted;
//! 2. a signal that is not organic (`sales`, `csm`) is **Weak**: the playbook wants
//!    customer-driven signals, and it is not counted;
//! 3. a signal without the specifics its kind needs (team growth without the head-counts,
//!    a limit under the capacity threshold) is **Weak**;
//! 4. a recent signal (within `signal_recent_days`, 30) that is large (a limit at or over
//!    100 %, a team grown by 25 % or more) or corroborated (quoted, measured in product
//!    data, or backed by another organic signal of the same kind) is **Strong**;
//! 5. anything else is **Moderate**.
//!
//! `organic_count` counts distinct kinds with at least one organic, non-stale signal, so two
//! readings of the same usage spike are one signal, not two ("single signal expansion").

use std::collections::BTreeSet;

use crate::model::results::{
    Check, CheckName, ExpansionType, FoundSignal, HealthResult, SignalsResult, Strength,
};
use crate::model::snapshot::{Signal, SignalKind, SignalSource, Snapshot, TechnicalCapacity};
use crate::model::values::{Day, Pct, fmt_pct, fmt_score, ratio_pct};

use super::health::{Utilisation, meets_gate, utilisation};
use super::policy::{Policy, pct_tenths};
use super::wording::{Wording, Words, say};

/// The expansion type a signal implies (the playbook's table).
pub fn expansion_type_of(kind: SignalKind) -> ExpansionType {
    match kind {
        SignalKind::UsageLimit => ExpansionType::Upgrade,
        SignalKind::FeatureRequest => ExpansionType::Upsell,
        SignalKind::TeamGrowth => ExpansionType::Seats,
        SignalKind::NewUseCase => ExpansionType::CrossSell,
        SignalKind::ExecutiveEngagement => ExpansionType::Contract,
        SignalKind::Advocacy => ExpansionType::Referral,
    }
}

/// How large a signal is, for the strength rules.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Magnitude {
    Low,
    Normal,
    High,
}

/// Whether a limit's consumption is at or over `line` percent, on the exact ratio, never on a
/// rounded one: 899.6 of 1,000 is under a 90 % line. The relative slack of 1e-12 only absorbs
/// the binary form of decimal inputs (0.29 × 100 is 28.999999999999996 in f64); it is far
/// below the smallest difference one decimal can show.
fn limit_at(used: f64, limit: f64, line: f64) -> bool {
    used * 100.0 >= line * limit * (1.0 - 1e-12)
}

/// A limit's consumption in percent, one decimal, never shown on the far side of a line it
/// is not on: under the capacity line (or 100 %) it shows the largest tenth below the line.
fn limit_pct(used: f64, limit: f64, capacity_line: f64) -> f64 {
    let mut shown = crate::model::values::round1(used / limit * 100.0);
    for line in [capacity_line, 100.0] {
        if shown >= line && !limit_at(used, limit, line) {
            shown = ((line * 10.0).ceil() - 1.0) / 10.0;
        }
    }
    shown
}

fn fmt_qty(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        let s = format!("{x:.0}");
        let (sign, digits) = s.strip_prefix('-').map_or(("", s.as_str()), |d| ("-", d));
        let mut out = String::new();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(ch);
        }
        format!("{sign}{out}")
    } else {
        format!("{x:.1}")
    }
}

pub fn find_signals(s: &Snapshot, p: &Policy, as_of: Day, health: &HealthResult) -> SignalsResult {
    find_signals_with(s, p, as_of, health, &utilisation(s, p, as_of), Words::All)
}

/// `find_signals` with the account's [`utilisation`] already computed (the segment plan
/// computes it once for the gate and the signals).
pub fn find_signals_with(
    s: &Snapshot,
    p: &Policy,
    as_of: Day,
    health: &HealthResult,
    u: &Utilisation,
    words: Words,
) -> SignalsResult {
    let mut notes = Vec::new();
    let mut found: Vec<(FoundSignal, Magnitude)> = Vec::new();
    let capacity = pct_tenths(p.capacity_signal_pct);

    // Signals derived from data first. One reading is not a trend: seat utilisation at the
    // capacity line counts only when the history shows it sustained (the same lower-median
    // rule as the gate), and is unverified when there is no history to tell.
    if let (Some(a), Some(l)) = (u.active, u.licensed)
        && meets_gate(a, l, capacity)
    {
        let pct = u.pct.unwrap_or_default();
        let trend = seat_trend(u, p, as_of, l);
        let (unverified, sustained) = match &trend {
            Some(t) if t.covered_days >= i64::from(p.sustained_min_days) => {
                (None, meets_gate(t.lower_median, l, capacity))
            }
            _ => (
                Some(format!(
                    "one reading ({} today): the sustained rule needs {}-{} days of usage.history",
                    fmt_pct(pct),
                    p.sustained_min_days,
                    p.sustained_window_days
                )),
                false,
            ),
        };
        let not_sustained = unverified.is_none() && !sustained;
        found.push((
            FoundSignal {
                kind: SignalKind::UsageLimit,
                label: SignalKind::UsageLimit.label().into(),
                date: as_of,
                evidence: format!(
                    "{a} of {l} licensed seats active ({}){}",
                    fmt_pct(pct),
                    match &trend {
                        Some(t) if unverified.is_none() => format!(
                            ", {} → {} over {}{}",
                            fmt_pct(t.first_pct),
                            fmt_pct(pct),
                            weeks(t.covered_days),
                            if sustained {
                                ", sustained at or above the capacity line"
                            } else {
                                ", not sustained at the capacity line"
                            }
                        ),
                        _ => String::new(),
                    }
                ),
                strength: Strength::Moderate,
                strength_reason: String::new(),
                organic: true,
                source: SignalSource::ProductData,
                derived: true,
                expansion_type: ExpansionType::Seats,
                quote: None,
                age_days: 0,
                unverified,
                names: vec![],
            },
            if not_sustained {
                Magnitude::Low
            } else if sustained || a >= l {
                Magnitude::High
            } else {
                Magnitude::Normal
            },
        ));
    }
    // A plan limit at the capacity line is one reading too; a customer's own report of
    // hitting limits corroborates it.
    let reported_limit = s.signals.iter().any(|g| {
        g.kind == SignalKind::UsageLimit
            && g.source.is_organic()
            && g.date <= as_of
            && g.date.days_until(as_of) <= i64::from(p.signal_stale_days)
    });
    for l in &s.usage.limits {
        let pct = limit_pct(l.used, l.limit, p.capacity_signal_pct);
        if limit_at(l.used, l.limit, p.capacity_signal_pct) {
            found.push((
                FoundSignal {
                    kind: SignalKind::UsageLimit,
                    label: SignalKind::UsageLimit.label().into(),
                    date: as_of,
                    evidence: format!(
                        "{}: {} of {}{} ({})",
                        l.metric,
                        fmt_qty(l.used),
                        fmt_qty(l.limit),
                        l.period
                            .as_ref()
                            .map(|p| format!(" per {p}"))
                            .unwrap_or_default(),
                        fmt_pct(pct)
                    ),
                    strength: Strength::Moderate,
                    strength_reason: String::new(),
                    organic: true,
                    source: SignalSource::ProductData,
                    derived: true,
                    expansion_type: ExpansionType::Upgrade,
                    quote: None,
                    age_days: 0,
                    unverified: if reported_limit {
                        None
                    } else {
                        Some(format!(
                            "one reading of {}: corroborate it with the customer or a second period's reading",
                            l.metric
                        ))
                    },
                    names: vec![l.metric.clone()],
                },
                if pct >= 100.0 {
                    Magnitude::High
                } else {
                    Magnitude::Normal
                },
            ));
        }
    }

    let mut future = 0;
    for sig in &s.signals {
        if sig.date > as_of {
            future += 1;
            continue;
        }
        let mag = magnitude(sig, s, p);
        found.push((
            FoundSignal {
                kind: sig.kind,
                label: sig.kind.label().into(),
                date: sig.date,
                evidence: evidence(sig),
                strength: Strength::Moderate,
                strength_reason: String::new(),
                organic: sig.source.is_organic(),
                source: sig.source,
                derived: false,
                expansion_type: expansion_type_of(sig.kind),
                quote: sig.quote.clone(),
                age_days: sig.date.days_until(as_of),
                unverified: None,
                names: [&sig.tier, &sig.feature, &sig.module, &sig.product]
                    .into_iter()
                    .flatten()
                    .cloned()
                    .collect(),
            },
            mag,
        ));
    }
    if future > 0 {
        notes.push(format!(
            "{future} signal(s) dated after as_of {as_of} were ignored"
        ));
    }

    // Strength, now that corroboration between signals can be seen.
    let organic_kinds: Vec<SignalKind> = found
        .iter()
        .filter(|(f, _)| f.organic && f.age_days <= i64::from(p.signal_stale_days))
        .map(|(f, _)| f.kind)
        .collect();
    let strengths: Vec<(Strength, String)> = found
        .iter()
        .map(|(f, mag)| {
            let same_kind = organic_kinds.iter().filter(|&&k| k == f.kind).count();
            strength(f, *mag, same_kind > 1, p, words == Words::All)
        })
        .collect();
    for ((f, _), (st, why)) in found.iter_mut().zip(strengths) {
        f.strength = st;
        f.strength_reason = why;
    }
    let mut signals: Vec<FoundSignal> = found.into_iter().map(|(f, _)| f).collect();
    // Strongest first, then most recent, then the playbook's order: a stable order keeps
    // output byte-identical for the same input.
    signals.sort_by(|a, b| {
        b.strength
            .cmp(&a.strength)
            .then(a.age_days.cmp(&b.age_days))
            .then(a.kind.cmp(&b.kind))
            .then(a.evidence.cmp(&b.evidence))
    });

    let counted: BTreeSet<SignalKind> = signals
        .iter()
        .filter(|f| f.organic && f.strength != Strength::Weak && f.unverified.is_none())
        .map(|f| f.kind)
        .collect();
    let pending: BTreeSet<SignalKind> = signals
        .iter()
        .filter(|f| f.organic && f.strength != Strength::Weak && f.unverified.is_some())
        .map(|f| f.kind)
        .filter(|k| !counted.contains(k))
        .collect();
    let organic_count = u32::try_from(counted.len()).unwrap_or(u32::MAX);
    let unverified_count = u32::try_from(pending.len()).unwrap_or(u32::MAX);
    // With `Words::FirstOpen` only the first readiness check that does not pass is worded,
    // the offer's checks included: what a segment row shows (`segment::not_ready_reason`).
    let mut wording = Wording::new(words);
    let mut readiness = readiness(
        s,
        p,
        health,
        u,
        organic_count,
        unverified_count,
        &mut wording,
    );
    readiness.extend(offer_fit(s, as_of, p, &signals, &mut wording));
    let ready = readiness.iter().all(|c| c.passed == Some(true));
    SignalsResult {
        signals,
        organic_count,
        unverified_count,
        organic_required: p.min_organic_signals,
        readiness,
        ready,
        notes,
    }
}

fn magnitude(sig: &Signal, s: &Snapshot, p: &Policy) -> Magnitude {
    match sig.kind {
        SignalKind::TeamGrowth => match (sig.team_size, sig.users_with_access) {
            (Some(t), Some(a)) if a > 0 => {
                let ratio_tenths = u64::from(t) * 1000 / u64::from(a);
                if ratio_tenths >= pct_tenths(p.strong_team_growth_pct) {
                    Magnitude::High
                } else if t > a {
                    Magnitude::Normal
                } else {
                    Magnitude::Low
                }
            }
            (Some(t), Some(0)) if t > 0 => Magnitude::High,
            _ => Magnitude::Low,
        },
        SignalKind::UsageLimit => {
            let limit = sig
                .metric
                .as_ref()
                .and_then(|m| s.usage.limits.iter().find(|l| &l.metric == m));
            match limit {
                Some(l) if limit_at(l.used, l.limit, 100.0) => Magnitude::High,
                Some(l) if !limit_at(l.used, l.limit, p.capacity_signal_pct) => Magnitude::Low,
                _ => Magnitude::Normal,
            }
        }
        SignalKind::FeatureRequest => {
            if sig.feature.is_some() {
                Magnitude::Normal
            } else {
                Magnitude::Low
            }
        }
        SignalKind::NewUseCase => {
            if sig.product.is_some() || sig.module.is_some() {
                Magnitude::Normal
            } else {
                Magnitude::Low
            }
        }
        SignalKind::ExecutiveEngagement | SignalKind::Advocacy => Magnitude::Normal,
    }
}

/// A signal's strength and, when `worded`, why (`strength_reason`, which a segment row
/// never shows).
fn strength(
    f: &FoundSignal,
    mag: Magnitude,
    backed: bool,
    p: &Policy,
    worded: bool,
) -> (Strength, String) {
    if f.age_days > i64::from(p.signal_stale_days) {
        return (
            Strength::Weak,
            say(worded, || {
                format!(
                    "stale: {} days old (over {})",
                    f.age_days, p.signal_stale_days
                )
            }),
        );
    }
    if !f.organic {
        return (
            Strength::Weak,
            say(worded, || {
                format!(
                    "not organic: surfaced by {}, not by the customer",
                    f.source.as_str()
                )
            }),
        );
    }
    if mag == Magnitude::Low {
        return (
            Strength::Weak,
            match f.kind {
                _ if !worded => String::new(),
                SignalKind::TeamGrowth => {
                    "team_size and users_with_access are needed to size the growth".into()
                }
                SignalKind::UsageLimit if f.derived => {
                    "not sustained: one reading at the capacity line is not a trend".into()
                }
                SignalKind::UsageLimit => "the limit is below the capacity threshold".into(),
                SignalKind::FeatureRequest => "no feature named".into(),
                SignalKind::NewUseCase => "no product or module named".into(),
                _ => "too little detail".into(),
            },
        );
    }
    let recent = f.age_days <= i64::from(p.signal_recent_days);
    let corroborated = f.quote.is_some() || f.source == SignalSource::ProductData || backed;
    // Strong: recent, verified, and large or corroborated; otherwise Moderate.
    let strong = f.unverified.is_none() && recent && (mag == Magnitude::High || corroborated);
    let st = if strong {
        Strength::Strong
    } else {
        Strength::Moderate
    };
    if !worded {
        return (st, String::new());
    }
    let mut why = Vec::new();
    if recent {
        why.push(format!("recent ({} days)", f.age_days));
    } else {
        why.push(format!("{} days old", f.age_days));
    }
    if mag == Magnitude::High {
        why.push("large".to_string());
    }
    if f.quote.is_some() {
        why.push("quoted".to_string());
    }
    if f.source == SignalSource::ProductData {
        why.push("measured in product data".to_string());
    }
    if backed {
        why.push("backed by another signal of the same kind".to_string());
    }
    if let Some(u) = &f.unverified {
        why.push(format!("unverified: {u}"));
    } else if !strong && !corroborated {
        why.push("uncorroborated".to_string());
    }
    (st, why.join(", "))
}

fn evidence(sig: &Signal) -> String {
    let mut e = sig.evidence.clone();
    match sig.kind {
        SignalKind::TeamGrowth => {
            if let (Some(t), Some(a)) = (sig.team_size, sig.users_with_access) {
                e.push_str(&format!(" (team of {t}; {a} with access)"));
            }
        }
        SignalKind::FeatureRequest => {
            if let Some(f) = &sig.feature {
                e.push_str(&format!(
                    " (feature: {f}{})",
                    sig.tier
                        .as_ref()
                        .map(|t| format!(", {t} tier"))
                        .unwrap_or_default()
                ));
            }
        }
        SignalKind::NewUseCase => {
            if let Some(x) = sig.module.as_ref().or(sig.product.as_ref()) {
                e.push_str(&format!(" ({x})"));
            }
        }
        _ => {}
    }
    e.push_str(&format!(" [{}, {}]", sig.date, sig.source.as_str()));
    if let Some(q) = &sig.quote {
        e.push_str(&format!(" \"{q}\""));
    }
    e
}

fn score_check(
    id: CheckName,
    label: &str,
    value: Option<f64>,
    min: f64,
    source: &str,
    wording: &mut Wording,
) -> Check {
    let passed = value.map(|v| v >= min);
    let w = wording.wants(passed);
    Check {
        check: id,
        passed,
        actual: value.filter(|_| w).map(fmt_score),
        required: say(w, || format!(">= {}", fmt_score(min))),
        detail: say(w, || match value {
            Some(_) => format!("{label} from {source}"),
            None => format!("{label} unknown: give {source}"),
        }),
    }
}

/// Seat utilisation over the trailing window: the first reading and the lower median.
struct SeatTrend {
    first_pct: Pct,
    lower_median: u32,
    covered_days: i64,
}

fn seat_trend(u: &Utilisation, p: &Policy, as_of: Day, licensed: u32) -> Option<SeatTrend> {
    // The same trailing window as the gate's (`health::utilisation`), which keeps its
    // first reading and lower median.
    let (first_date, first_users) = u.window_first?;
    Some(SeatTrend {
        first_pct: super::health::display_pct(first_users, licensed, p)?,
        lower_median: u.window_lower_median?,
        covered_days: first_date.days_until(as_of),
    })
}

/// `eight weeks`, `45 days`: a span as a CS lead says it.
fn weeks(days: i64) -> String {
    const WORDS: [&str; 13] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve",
    ];
    if days % 7 == 0 {
        let w = days / 7;
        match usize::try_from(w).ok().and_then(|i| WORDS.get(i)) {
            Some(word) => format!("{word} weeks"),
            None => format!("{w} weeks"),
        }
    } else {
        format!("{days} days")
    }
}

/// Whether the expansion needs engineering work on the customer's side.
pub fn is_technical_offer(s: &Snapshot, t: Option<ExpansionType>) -> bool {
    matches!(
        t,
        Some(ExpansionType::Upgrade | ExpansionType::Upsell | ExpansionType::CrossSell)
    ) && !super::risks::technical_dependencies(s).is_empty()
}

/// Readiness checks that depend on the expansion itself: a cross-sell needs use-case
/// evidence, and a technical tier needs someone to build on it.
fn offer_fit(
    s: &Snapshot,
    as_of: Day,
    p: &Policy,
    signals: &[FoundSignal],
    wording: &mut Wording,
) -> Vec<Check> {
    let mut checks = Vec::new();
    let kind = match &s.offer {
        Some(o) => Some(super::opportunity::offer_type(o.kind)),
        None => signals
            .iter()
            .filter(|f| f.organic && f.strength != Strength::Weak)
            .map(|f| f.expansion_type)
            .find(|t| *t != ExpansionType::Referral),
    };
    if kind == Some(ExpansionType::CrossSell) {
        let use_case = signals.iter().find(|f| {
            f.kind == SignalKind::NewUseCase
                && f.organic
                && f.strength != Strength::Weak
                && f.date <= as_of
                && f.age_days <= i64::from(p.signal_stale_days)
        });
        let passed = Some(use_case.is_some());
        let w = wording.wants(passed);
        checks.push(Check {
            check: CheckName::UseCaseEvidence,
            passed,
            actual: w.then(|| match use_case {
                Some(f) => format!("new_use_case signal of {}", f.date),
                None => "no new_use_case signal".into(),
            }),
            required: say(w, || "an organic new_use_case signal for the cross-sell".into()),
            detail: say(w, || match use_case {
                Some(_) => "the customer has shown the workflow the product serves".into(),
                None => "a cross-sell without a use case the customer has shown is a pitch: wait for a new_use_case signal".into(),
            }),
        });
    }
    if kind == Some(ExpansionType::Seats)
        && let Some(needed) = super::opportunity::seats_needed(s, p, as_of)
    {
        let idle = super::opportunity::idle_seats(s);
        let passed = Some(needed > idle);
        let w = wording.wants(passed);
        checks.push(Check {
            check: CheckName::SeatsBeyondIdle,
            passed,
            actual: w.then(|| format!("{needed} seats needed, {idle} licensed seats idle")),
            required: say(w, || "more seats needed than the licensed seats nobody uses".into()),
            detail: say(w, || {
                if idle == 0 {
                    format!("no idle seats: all {needed} are new")
                } else if needed > idle {
                    format!(
                        "reassign the {idle} idle seats first; {} new seats are in scope",
                        needed - idle
                    )
                } else {
                    format!(
                        "the {needed} seats needed fit in the {idle} idle ones: reassign them instead of adding seats"
                    )
                }
            }),
        });
    }
    if is_technical_offer(s, kind) {
        let cap = s
            .offer
            .as_ref()
            .and_then(|o| o.technical_capacity)
            .unwrap_or_default();
        // Unknown does not stop the plan: it becomes the dated technical-readiness gate
        // before the commercial proposal (see the approach and the risks).
        let verdict = match cap {
            TechnicalCapacity::None => Some((
                false,
                "none",
                "offer.technical_capacity is none: nobody can build on the tier, so it would be shelfware",
            )),
            TechnicalCapacity::Confirmed => Some((
                true,
                "confirmed",
                "offer.technical_capacity is confirmed: the technical-readiness gate is cleared",
            )),
            TechnicalCapacity::Unknown => None,
        };
        if let Some((passed, actual, detail)) = verdict {
            let w = wording.wants(Some(passed));
            checks.push(Check {
                check: CheckName::TechnicalCapacity,
                passed: Some(passed),
                actual: w.then(|| actual.into()),
                required: say(w, || "engineering capacity to consume the tier".into()),
                detail: say(w, || detail.into()),
            });
        }
    }
    checks
}

fn readiness(
    s: &Snapshot,
    p: &Policy,
    h: &HealthResult,
    u: &super::health::Utilisation,
    organic_count: u32,
    unverified_count: u32,
    wording: &mut Wording,
) -> Vec<Check> {
    let mut checks = Vec::new();
    let w = wording.wants(u.sustained_passed);
    checks.push(Check {
        check: CheckName::SustainedUtilisation,
        passed: u.sustained_passed,
        actual: if w {
            match (u.sustained_passed, h.sustained_utilisation_pct, u.pct) {
                (Some(_), Some(sp), _) => Some(fmt_pct(sp)),
                (None, _, Some(now)) => Some(format!(
                    "unverified (30-day active users {})",
                    fmt_pct(now)
                )),
                (_, sp, _) => sp.map(fmt_pct),
            }
        } else {
            None
        },
        required: say(w, || {
            format!(
                ">= {} sustained over the last {}-{} days",
                fmt_pct(p.utilisation_gate_pct),
                p.sustained_min_days,
                p.sustained_window_days
            )
        }),
        detail: say(w, || {
            if u.has_history {
                u.sustained_detail(p)
            } else {
                "no usage.history: give the trailing 30-60 days of active users to show utilisation is sustained".into()
            }
        }),
    });
    let passed = h.score.map(|x| x.as_f64() >= p.health_gate);
    let w = wording.wants(passed);
    checks.push(Check {
        check: CheckName::HealthScore,
        passed,
        actual: h.score.filter(|_| w).map(fmt_score),
        required: say(w, || format!(">= {}", fmt_score(p.health_gate))),
        detail: say(w, || {
            format!("composite health score ({})", h.score_source.as_str())
        }),
    });
    let core: Vec<_> = s.usage.features.iter().filter(|f| f.core).collect();
    let licensed = s.contract.licensed_seats;
    let share = pct_tenths(p.core_feature_active_pct);
    // Active means used by at least the policy share of licensed seats, not by anyone.
    let active_core: Vec<_> = core
        .iter()
        .filter(|f| match (f.active_users, licensed) {
            (Some(n), Some(l)) => n > 0 && meets_gate(n, l, share),
            (Some(n), None) => n > 0,
            _ => false,
        })
        .collect();
    let passed = if core.is_empty() {
        None
    } else {
        Some(active_core.len() >= p.min_active_core_features as usize)
    };
    let w = wording.wants(passed);
    checks.push(Check {
        check: CheckName::CoreFeatures,
        passed,
        actual: if core.is_empty() || !w {
            None
        } else {
            Some(format!(
                "{} of {} core features in active use",
                active_core.len(),
                core.len()
            ))
        },
        required: say(w, || {
            format!(
                ">= {} core features actively used (each by >= {} of licensed seats)",
                p.min_active_core_features,
                fmt_pct(p.core_feature_active_pct)
            )
        }),
        detail: if !w {
            String::new()
        } else if core.is_empty() {
            "no usage.features marked core: give per-feature engagement".into()
        } else {
            core.iter()
                .map(|f| match (f.active_users, licensed) {
                    (Some(n), Some(l)) => format!(
                        "{} {n} users ({})",
                        f.name,
                        fmt_pct(ratio_pct(u64::from(n), u64::from(l)).unwrap_or_default())
                    ),
                    (Some(n), None) => format!("{} {n} users", f.name),
                    (None, _) => format!("{} unknown", f.name),
                })
                .collect::<Vec<_>>()
                .join("; ")
        },
    });
    let (rel, rel_src) = match (
        s.health.relationship_score,
        s.health.components.as_ref().and_then(|c| c.relationship),
    ) {
        (Some(x), _) => (Some(x), "health.relationship_score"),
        (None, Some(x)) => (Some(x), "health.components.relationship"),
        _ => (None, "health.relationship_score"),
    };
    checks.push(score_check(
        CheckName::RelationshipScore,
        "relationship score",
        rel,
        p.relationship_score_min,
        rel_src,
        wording,
    ));
    let (val, val_src) = match (
        s.health.value_score,
        s.health.components.as_ref().and_then(|c| c.value),
    ) {
        (Some(x), _) => (Some(x), "health.value_score"),
        (None, Some(x)) => (Some(x), "health.components.value"),
        _ => (None, "health.value_score"),
    };
    checks.push(score_check(
        CheckName::ValueScore,
        "value score",
        val,
        p.value_score_min,
        val_src,
        wording,
    ));
    let exec = s
        .health
        .relationship
        .as_ref()
        .and_then(|r| r.executive_sponsor_confirmed);
    let w = wording.wants(exec);
    checks.push(Check {
        check: CheckName::ExecutiveSponsor,
        passed: exec,
        actual: exec.filter(|_| w).map(|b| {
            if b {
                "confirmed".into()
            } else {
                "not confirmed".into()
            }
        }),
        required: say(w, || "executive sponsor confirmed".into()),
        detail: match exec {
            _ if !w => String::new(),
            Some(true) => s
                .health
                .relationship
                .as_ref()
                .and_then(|r| r.sponsor.clone())
                .map(|n| format!("sponsor: {n}"))
                .unwrap_or_else(|| "confirmed".into()),
            Some(false) => "no executive sponsor confirmed yet".into(),
            None => "health.relationship.executive_sponsor_confirmed is unknown".into(),
        },
    });
    let need = p.min_organic_signals;
    // Enough verified signals pass; enough only with the unverified ones is unknown (data
    // is missing, not a shortfall); too few even with them fails.
    let passed = if organic_count >= need {
        Some(true)
    } else if organic_count + unverified_count >= need {
        None
    } else {
        Some(false)
    };
    let w = wording.wants(passed);
    checks.push(Check {
        check: CheckName::OrganicSignals,
        passed,
        actual: w.then(|| {
            if unverified_count > 0 {
                format!("{organic_count} (+{unverified_count} unverified)")
            } else {
                organic_count.to_string()
            }
        }),
        required: say(w, || {
            format!(
                ">= {} organic signals (distinct kinds, not Weak)",
                p.min_organic_signals
            )
        }),
        detail: say(w, || {
            "signals must be customer-driven and corroborated; one usage spike isn't a trend".into()
        }),
    });
    checks
}
