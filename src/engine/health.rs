//! Step 1: the health prerequisite check and, when it fails, the unhealthy-path response.
//!
//! The gate is a hard stop: an unknown input fails its check (`passed: null`) and is listed
//! in `missing`, so an account is never assumed healthy because data was left out.
//!
//! Sustained utilisation rule: when `usage.history` is given, the readings in the trailing
//! `sustained_window_days` (60) are taken; they must reach back at least
//! `sustained_min_days` (30) before `as_of`, and the *lower median* of their utilisation must
//! be at or above the gate. The lower median is at or above the gate exactly when a strict
//! majority of readings are, so a single week's jump after a month at 40 % does not pass,
//! and a single bad week after a month above the gate does not fail.

use crate::model::results::{
    Check, CheckName, HealthResult, RecoveryTarget, RightSize, ScoreSource, Sequence, Status,
    UnhealthyPath,
};
use crate::model::snapshot::{GoalStatus, Snapshot, UsagePoint};
use crate::model::values::{
    Day, Pct, Score, fmt_pct, fmt_score, pct_tenths_not_across, ratio_pct, round1,
};

use super::policy::{Policy, pct_tenths};
pub use super::wording::Words;
use super::wording::{Wording, say};
use super::{fmt_amount, price_per_seat};

/// Seat utilisation figures shared with the signals step.
#[derive(Clone, Debug, Default)]
pub struct Utilisation {
    pub active: Option<u32>,
    pub licensed: Option<u32>,
    pub pct: Option<Pct>,
    /// Lower median over the trailing window, when history reaches far enough back.
    pub sustained_pct: Option<Pct>,
    /// `Some(true/false)` when history is given and long enough, `None` otherwise.
    pub sustained_passed: Option<bool>,
    /// Why sustained is what it is, worded by [`Utilisation::sustained_detail`].
    pub sustained: Sustained,
    /// Whether any history was given at all.
    pub has_history: bool,
    /// Highest active users ever seen (history and current).
    pub peak_active: Option<u32>,
    /// The first reading in the trailing window (date order) and the lower median of the
    /// window's active users, when the window has readings and the seats are known: what
    /// the capacity signal's trend reads (`signals::find_signals`), computed once here.
    pub window_first: Option<(Day, u32)>,
    pub window_lower_median: Option<u32>,
    pub notes: Vec<String>,
}

/// Why the sustained utilisation is what it is: the facts, worded only when a check or a
/// note shows them (a segment scan words one reason per account, not every check).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sustained {
    /// No `usage.history` at all.
    #[default]
    NoHistory,
    /// History, but no reading in the trailing window.
    NoneInWindow,
    /// Readings in the window, but the licensed seats are unknown.
    SeatsUnknown,
    /// The window's readings reach back only `covered` days before `as_of`.
    TooShort { covered: i64 },
    /// Measured: `passing` of `readings` at or above the gate, lower median `median`.
    Measured {
        passing: usize,
        readings: usize,
        median: u32,
    },
}

impl Utilisation {
    /// Why sustained utilisation is what it is, in words.
    pub fn sustained_detail(&self, p: &Policy) -> String {
        match self.sustained {
            Sustained::NoHistory => {
                "no usage.history given: sustained utilisation cannot be shown".into()
            }
            Sustained::NoneInWindow => format!(
                "no usage.history reading in the trailing {} days",
                p.sustained_window_days
            ),
            Sustained::SeatsUnknown => "contract.licensed_seats is unknown".into(),
            Sustained::TooShort { covered } => format!(
                "usage.history covers only {covered} days before as_of; at least {} are needed to show utilisation is sustained",
                p.sustained_min_days
            ),
            Sustained::Measured {
                passing,
                readings,
                median,
            } => format!(
                "{passing} of {readings} readings in the trailing {} days at or above {}; median {median} active users",
                p.sustained_window_days,
                fmt_pct(p.utilisation_gate_pct),
            ),
        }
    }
}

/// Active users on `licensed` at or above `gate_tenths` (tenths of a percent), exactly.
pub fn meets_gate(active: u32, licensed: u32, gate_tenths: u64) -> bool {
    u64::from(active) * 1000 >= gate_tenths * u64::from(licensed)
}

/// Smallest number of active users that meets the gate: ceil(gate × licensed).
pub fn seats_to_meet_gate(licensed: u32, gate_tenths: u64) -> u32 {
    let need = (gate_tenths * u64::from(licensed)).div_ceil(1000);
    u32::try_from(need).unwrap_or(u32::MAX)
}

pub fn utilisation(s: &Snapshot, p: &Policy, as_of: Day) -> Utilisation {
    let mut u = Utilisation {
        licensed: s.contract.licensed_seats.filter(|&n| n > 0),
        ..Utilisation::default()
    };
    let gate = p.utilisation_gate_tenths();
    // The readings up to `as_of` in date order (a stable sort: equal dates keep their
    // order). A store hands them back already in date order, and then they are a prefix of
    // the history, taken without a copy.
    let history = &s.usage.history;
    let reordered: Vec<UsagePoint>;
    let past: &[UsagePoint] = if history.is_sorted_by_key(|h| h.date) {
        history
            .get(..history.partition_point(|h| h.date <= as_of))
            .unwrap_or_default()
    } else {
        let mut v: Vec<UsagePoint> = history
            .iter()
            .filter(|h| h.date <= as_of)
            .cloned()
            .collect();
        v.sort_by_key(|h| h.date);
        reordered = v;
        &reordered
    };
    let future = history.len() - past.len();
    if future > 0 {
        u.notes.push(format!(
            "{future} usage.history reading(s) dated after as_of {as_of} were ignored"
        ));
    }
    u.active = s.usage.active_users;
    if u.active.is_none()
        && let Some(last) = past.last().filter(|h| h.date.days_until(as_of) <= 30)
    {
        u.active = Some(last.active_users);
        u.notes.push(format!(
            "usage.active_users is absent: used the latest usage.history reading ({} on {})",
            last.active_users, last.date
        ));
    }
    u.peak_active = past.iter().map(|h| h.active_users).chain(u.active).max();
    if let (Some(a), Some(l)) = (u.active, u.licensed) {
        u.pct = display_pct(a, l, p);
    }
    u.has_history = !past.is_empty();
    let window_start = as_of.plus_days(-i64::from(p.sustained_window_days));
    // The readings after `window_start`: a suffix of `past`, which is in date order.
    let window = past
        .get(past.partition_point(|h| h.date <= window_start)..)
        .unwrap_or_default();
    match (u.licensed, window.first()) {
        (_, None) if !u.has_history => u.sustained = Sustained::NoHistory,
        (_, None) => u.sustained = Sustained::NoneInWindow,
        (None, Some(_)) => u.sustained = Sustained::SeatsUnknown,
        (Some(l), Some(first)) => {
            let covered = first.date.days_until(as_of);
            let mut counts: Vec<u32> = window.iter().map(|h| h.active_users).collect();
            let n = counts.len();
            let passing = counts.iter().filter(|&&a| meets_gate(a, l, gate)).count();
            // The lower median is the ((n - 1) / 2)-th smallest count: selected, not sorted.
            let median = (n > 0).then(|| *counts.select_nth_unstable((n - 1) / 2).1);
            let lower_median = median.unwrap_or(0);
            u.window_first = Some((first.date, first.active_users));
            u.window_lower_median = median;
            u.sustained_pct = display_pct(lower_median, l, p);
            if covered < i64::from(p.sustained_min_days) {
                u.sustained_passed = None;
                u.sustained = Sustained::TooShort { covered };
            } else {
                u.sustained_passed = Some(meets_gate(lower_median, l, gate));
                u.sustained = Sustained::Measured {
                    passing,
                    readings: n,
                    median: lower_median,
                };
            }
        }
    }
    u
}

/// Utilisation in percent with one decimal, never rounded across the policy's thresholds
/// (the gate, the capacity signal, the right-size line): 1,199 of 2,000 is 59.9 %.
pub fn display_pct(active: u32, licensed: u32, p: &Policy) -> Option<Pct> {
    let th = [
        p.utilisation_gate_tenths(),
        pct_tenths(p.capacity_signal_pct),
        pct_tenths(p.right_size_below_pct),
    ];
    pct_tenths_not_across(u64::from(active), u64::from(licensed), &th)
}

/// A score shown with one decimal, never rounded across the gate or a band edge; `None` only
/// for a figure that is not a score (see `composite_score`).
pub fn display_score(x: f64, p: &Policy) -> Option<Score> {
    Score::shown(x, &[p.health_gate, p.healthy_band, p.neutral_band])
}

/// The score's own band.
pub fn band(x: f64, p: &Policy) -> Status {
    if x >= p.healthy_band {
        Status::Healthy
    } else if x >= p.neutral_band {
        Status::Neutral
    } else {
        Status::Unhealthy
    }
}

/// The composite score (exact, for comparisons), how it was obtained, and notes on
/// re-weighting.
///
/// The exact score stays an `f64` inside the engine, because the gate compares the figure as
/// given (69.95 fails a gate of 70) and a weighted mean of decimals is not a tenth. It is
/// always finite and within 0-100: input validation refuses any other `health.score` or
/// component, and a weighted mean with positive weights stays within its inputs (clamped
/// against the last bit of floating-point rounding). Only its `Score` leaves the engine.
pub fn composite_score(s: &Snapshot, p: &Policy) -> (Option<f64>, ScoreSource, Vec<String>) {
    composite(s, p, true)
}

/// [`composite_score`], its notes written only when `with_notes`.
fn composite(
    s: &Snapshot,
    p: &Policy,
    with_notes: bool,
) -> (Option<f64>, ScoreSource, Vec<String>) {
    if let Some(score) = s.health.score {
        return (Some(score), ScoreSource::Provided, vec![]);
    }
    let Some(c) = &s.health.components else {
        return (None, ScoreSource::Unknown, vec![]);
    };
    let w = &p.weights;
    let parts = [
        ("adoption", c.adoption, w.adoption),
        ("engagement", c.engagement, w.engagement),
        ("relationship", c.relationship, w.relationship),
        ("value", c.value, w.value),
        ("commercial", c.commercial, w.commercial),
    ];
    let present: Vec<_> = parts
        .iter()
        .filter_map(|&(n, v, w)| v.map(|v| (n, v, w)))
        .filter(|&(_, _, w)| w > 0.0)
        .collect();
    let total_w: f64 = present.iter().map(|&(_, _, w)| w).sum();
    if present.is_empty() || total_w <= 0.0 {
        return (None, ScoreSource::Unknown, vec![]);
    }
    let score = (present.iter().map(|&(_, v, w)| v * w).sum::<f64>() / total_w).clamp(0.0, 100.0);
    if !with_notes {
        return (Some(score), ScoreSource::Components, vec![]);
    }
    let mut notes = vec![format!(
        "composite score {} = {} / {}",
        display_score(score, p).map_or_else(|| fmt_score(score), fmt_score),
        present
            .iter()
            .map(|&(n, v, w)| format!("{n} {} x {}", fmt_score(v), fmt_score(w)))
            .collect::<Vec<_>>()
            .join(" + "),
        fmt_score(total_w)
    )];
    let absent: Vec<_> = parts
        .iter()
        .filter(|&&(_, v, w)| v.is_none() && w > 0.0)
        .map(|&(n, _, _)| n)
        .collect();
    if !absent.is_empty() {
        notes.push(format!(
            "health.components {} missing: re-weighted over the {} present components",
            absent.join(", "),
            present.len()
        ));
    }
    (Some(score), ScoreSource::Components, notes)
}

pub fn check_health(s: &Snapshot, p: &Policy, as_of: Day) -> HealthResult {
    check_health_with(s, p, as_of, &utilisation(s, p, as_of))
}

/// `check_health` with the account's [`utilisation`] already computed (the segment plan
/// computes it once for the gate and the signals).
pub fn check_health_with(s: &Snapshot, p: &Policy, as_of: Day, u: &Utilisation) -> HealthResult {
    let mut result = gate(s, p, as_of, u, Words::All);
    if !result.clear_to_expand {
        result.unhealthy_path = Some(unhealthy_path(s, p, as_of, u, &result));
    }
    result
}

/// The gate alone: `check_health` without the unhealthy path (`unhealthy_path` is `None`
/// even when the gate fails). The segment plan needs only the path's right-size figures
/// and reassessment day, [`blocked_follow_up`], not its recovery plan and notes, and only
/// the words of the check that blocks (`words`).
pub fn gate(s: &Snapshot, p: &Policy, as_of: Day, u: &Utilisation, words: Words) -> HealthResult {
    let gate_pct = p.utilisation_gate_pct;
    let gate = p.utilisation_gate_tenths();
    let all = words == Words::All;
    let mut wording = Wording::new(words);
    let mut notes = if all { u.notes.clone() } else { Vec::new() };
    let mut missing = Vec::new();
    let mut checks = Vec::new();

    // Seat utilisation now.
    let seat_check = match (u.active, u.licensed) {
        (Some(a), Some(l)) => {
            let passed = Some(meets_gate(a, l, gate));
            let w = wording.wants(passed);
            Check {
                check: CheckName::SeatUtilisation,
                passed,
                actual: w.then(|| format!("{} ({a} / {l})", fmt_pct(u.pct.unwrap_or_default()))),
                required: say(w, || format!(">= {}", fmt_pct(gate_pct))),
                detail: say(w, || {
                    if a > l {
                        format!(
                            "{a} active users on {l} licensed seats: over-deployed by {}",
                            a - l
                        )
                    } else {
                        format!("{a} of {l} licensed seats active")
                    }
                }),
            }
        }
        (a, l) => {
            if all && a.is_none() {
                missing.push("usage.active_users".to_string());
            }
            if all && l.is_none() {
                missing.push("contract.licensed_seats".to_string());
            }
            let w = wording.wants(None);
            Check {
                check: CheckName::SeatUtilisation,
                passed: None,
                actual: None,
                required: say(w, || format!(">= {}", fmt_pct(gate_pct))),
                detail: say(w, || {
                    "seat utilisation is unknown: active users and licensed seats are both needed"
                        .into()
                }),
            }
        }
    };
    checks.push(seat_check);

    // History too short to show 30 days is treated like no history, never worse: the gate
    // uses today's figure and the readiness check in step 2 stays unverified.
    if all && u.has_history && u.sustained_passed.is_none() {
        notes.push(format!(
            "sustained utilisation unverified: {}; the gate uses today's figure",
            u.sustained_detail(p)
        ));
    }
    if u.sustained_passed.is_some() {
        let w = wording.wants(u.sustained_passed);
        checks.push(Check {
            check: CheckName::SustainedUtilisation,
            passed: u.sustained_passed,
            actual: u.sustained_pct.filter(|_| w).map(fmt_pct),
            required: say(w, || {
                format!(
                    ">= {} sustained over the last {}-{} days",
                    fmt_pct(gate_pct),
                    p.sustained_min_days,
                    p.sustained_window_days
                )
            }),
            detail: say(w, || u.sustained_detail(p)),
        });
    }

    let (exact_score, score_source, score_notes) = composite(s, p, all);
    // A figure that is no score (see `composite_score`) is treated as unknown, never
    // compared: the gate then fails on it.
    let exact_score = exact_score.filter(|x| (0.0..=100.0).contains(x));
    let score = exact_score.and_then(|x| display_score(x, p));
    notes.extend(score_notes);
    if all && score.is_none() {
        missing.push("health.score".to_string());
    }
    let passed = exact_score.map(|x| x >= p.health_gate);
    let w = wording.wants(passed);
    checks.push(Check {
        check: CheckName::HealthScore,
        passed,
        actual: score.filter(|_| w).map(fmt_score),
        required: say(w, || format!(">= {}", fmt_score(p.health_gate))),
        detail: say(w, || match score_source {
            ScoreSource::Provided => "composite health score as provided".into(),
            ScoreSource::Components => {
                "composite computed from health.components with the policy weights".into()
            }
            ScoreSource::Unknown => {
                "no health.score and no health.components: the composite is unknown".into()
            }
        }),
    });

    let active_churn: Vec<_> = s
        .health
        .churn_signals
        .iter()
        .filter(|c| c.is_active() && c.since.is_none_or(|d| d <= as_of))
        .collect();
    let critical: Vec<_> = active_churn
        .iter()
        .filter(|c| p.critical_churn_signals.contains(&c.kind))
        .collect();
    let passed = Some(active_churn.is_empty());
    let w = wording.wants(passed);
    checks.push(Check {
        check: CheckName::ChurnSignals,
        passed,
        actual: w.then(|| {
            if active_churn.is_empty() {
                "none active".into()
            } else {
                active_churn
                    .iter()
                    .map(|c| c.kind.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        }),
        required: say(w, || "no active churn signals".into()),
        detail: say(w, || {
            if critical.is_empty() {
                format!("{} active churn signal(s)", active_churn.len())
            } else {
                format!(
                    "{} active, {} critical ({}): status is Unhealthy whatever the score",
                    active_churn.len(),
                    critical.len(),
                    critical
                        .iter()
                        .map(|c| c.kind.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        }),
    });

    let goals = &s.health.goals;
    let off: Vec<_> = goals
        .iter()
        .filter(|g| matches!(g.status, GoalStatus::AtRisk | GoalStatus::OffTrack))
        .collect();
    if all && goals.is_empty() {
        missing.push("health.goals".to_string());
    }
    let passed = if goals.is_empty() {
        None
    } else {
        Some(off.is_empty())
    };
    let w = wording.wants(passed);
    checks.push(Check {
        check: CheckName::Goals,
        passed,
        actual: if goals.is_empty() || !w {
            None
        } else {
            let achieved = goals
                .iter()
                .filter(|g| g.status == GoalStatus::Achieved)
                .count();
            let on_track = goals
                .iter()
                .filter(|g| g.status == GoalStatus::OnTrack)
                .count();
            Some(format!(
                "{achieved} achieved, {on_track} on track, {} at risk or off track",
                off.len()
            ))
        },
        required: say(w, || "stated goals achieved or on track".into()),
        detail: say(w, || {
            if goals.is_empty() {
                "no stated goals recorded".into()
            } else if off.is_empty() {
                "every stated goal is achieved or on track".into()
            } else {
                format!(
                    "not on track: {}",
                    off.iter()
                        .map(|g| format!("{} ({})", g.goal, g.status.as_str()))
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            }
        }),
    });

    let rel = s.health.relationship.as_ref();
    let responsive = rel.and_then(|r| r.responsive);
    let engaged = rel.and_then(|r| r.engaged);
    let sponsor = rel.and_then(|r| r.sponsor.as_deref());
    let mut rel_missing = Vec::new();
    if responsive.is_none() {
        rel_missing.push("health.relationship.responsive");
    }
    if engaged.is_none() {
        rel_missing.push("health.relationship.engaged");
    }
    if sponsor.is_none() {
        rel_missing.push("health.relationship.sponsor");
    }
    let rel_failed: Vec<&str> = [
        (responsive == Some(false), "not responsive"),
        (engaged == Some(false), "not engaged"),
    ]
    .iter()
    .filter(|(b, _)| *b)
    .map(|(_, s)| *s)
    .collect();
    let rel_passed = if !rel_failed.is_empty() {
        Some(false)
    } else if !rel_missing.is_empty() {
        None
    } else {
        Some(true)
    };
    if all && rel_passed.is_none() {
        missing.extend(rel_missing.iter().map(|m| m.to_string()));
    }
    let w = wording.wants(rel_passed);
    checks.push(Check {
        check: CheckName::Relationship,
        passed: rel_passed,
        actual: rel.filter(|_| w).map(|_| {
            format!(
                "responsive: {}, engaged: {}, sponsor: {}",
                yes_no(responsive),
                yes_no(engaged),
                sponsor.unwrap_or("none identified")
            )
        }),
        required: say(w, || "responsive, engaged, sponsor identified".into()),
        detail: say(w, || {
            if !rel_failed.is_empty() {
                rel_failed.join(", ")
            } else if !rel_missing.is_empty() {
                format!("unknown: {}", rel_missing.join(", "))
            } else {
                "relationship is strong".into()
            }
        }),
    });

    if all && let Some(r) = s.contract.renewal_date.filter(|r| *r < as_of) {
        notes.push(format!(
            "contract.renewal_date {r} is in the past: stale CRM data, confirm the current term and the next renewal"
        ));
    }
    let score_band = exact_score.map(|x| band(x, p));
    let clear = checks.iter().all(|c| c.passed == Some(true));
    let below_gate = checks.iter().any(|c| {
        matches!(
            c.check,
            CheckName::SeatUtilisation | CheckName::SustainedUtilisation
        ) && c.passed == Some(false)
    });
    let measured_failure = checks.iter().any(|c| c.passed == Some(false));
    // Health for expansion purposes: below the utilisation gate or with a critical churn
    // signal the account is Unhealthy whatever the score; an account the gate stops is never
    // shown as Healthy; a measured failure with no score is still Unhealthy, not unknown.
    let status = if !critical.is_empty() || below_gate {
        Some(Status::Unhealthy)
    } else {
        match score_band {
            Some(Status::Healthy) if !clear => Some(Status::Neutral),
            None if measured_failure => Some(Status::Unhealthy),
            b => b,
        }
    };
    if all
        && status != score_band
        && let Some(b) = score_band
        && let Some(st) = status
    {
        notes.push(format!(
            "status {} for expansion purposes although the score's band is {}: {}",
            st.as_str(),
            b.as_str(),
            if below_gate {
                "utilisation is below the gate"
            } else if !critical.is_empty() {
                "a critical churn signal is active"
            } else {
                "the gate does not pass"
            }
        ));
    }
    HealthResult {
        account: s.name.clone(),
        as_of,
        active_users: u.active,
        licensed_seats: u.licensed,
        utilisation_pct: u.pct,
        sustained_utilisation_pct: u.sustained_pct.filter(|_| u.sustained_passed.is_some()),
        score,
        score_source,
        status,
        score_band,
        clear_to_expand: clear,
        checks,
        missing,
        notes,
        unhealthy_path: None,
    }
}

/// What the unhealthy path of a failed gate `h` says about seats and the next look: its
/// `right_size` and `reassess_on`, computed as `unhealthy_path` computes them.
pub fn blocked_follow_up(
    s: &Snapshot,
    p: &Policy,
    as_of: Day,
    u: &Utilisation,
    h: &HealthResult,
) -> (Option<RightSize>, Day) {
    (right_size(s, p, u), reassess_day(p, as_of, h).2)
}

/// The recovery window in days, its deadline and the reassessment day of a failed gate.
fn reassess_day(p: &Policy, as_of: Day, h: &HealthResult) -> (u32, Day, Day) {
    // A gate that fails only because data is missing is a data gap, not an unhealthy
    // customer: the recovery is to collect it within two weeks and run the gate again, not a
    // 60-day recovery and a 90-day hold.
    let only_gaps = !h.checks.iter().any(|c| c.passed == Some(false));
    let window = if only_gaps {
        DATA_GAP_DAYS
    } else {
        p.recovery_window_days
    };
    let recover_by = as_of.plus_days(i64::from(window)).working_day();
    let reassess_on = if only_gaps {
        recover_by
    } else {
        as_of
            .plus_days(i64::from(p.reassess_after_days))
            .working_day()
    };
    (window, recover_by, reassess_on)
}

fn yes_no(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    }
}

fn failed(h: &HealthResult, id: CheckName) -> bool {
    h.checks
        .iter()
        .any(|c| c.check == id && c.passed != Some(true))
}

fn unhealthy_path(
    s: &Snapshot,
    p: &Policy,
    as_of: Day,
    u: &Utilisation,
    h: &HealthResult,
) -> UnhealthyPath {
    let only_gaps = !h.checks.iter().any(|c| c.passed == Some(false));
    let (window, recover_by, reassess_on) = reassess_day(p, as_of, h);
    let gate = p.utilisation_gate_tenths();
    let mut targets = Vec::new();

    if (failed(h, CheckName::SeatUtilisation) || failed(h, CheckName::SustainedUtilisation))
        && let Some(l) = u.licensed
    {
        let need = seats_to_meet_gate(l, gate);
        let current = u
            .active
            .map(|a| format!("{a} active ({})", fmt_pct(u.pct.unwrap_or_default())));
        targets.push(RecoveryTarget {
                metric: "active_users".into(),
                current,
                target: format!("{need} active users ({} of {l} seats)", fmt_pct(p.utilisation_gate_pct)),
                target_active_users: Some(need),
                target_score: None,
                window_days: Some(window),
                by: recover_by,
                detail: format!(
                    "active users need to reach {need} ({} of {l} seats) sustained over a {window}-day window before expansion can be reconsidered{}",
                    pct_label(p.utilisation_gate_pct),
                    u.active
                        .map(|a| if a < need { format!(" (+{} from {a} today)", need - a) } else { format!(" ({a} today; hold it for the whole window)") })
                        .unwrap_or_default()
                ),
            });
    }
    // An unknown score is a data gap (collected below), not a score to raise.
    if failed(h, CheckName::HealthScore) && h.score.is_some() {
        let target = p.health_gate;
        targets.push(RecoveryTarget {
            metric: "health_score".into(),
            current: h.score.map(fmt_score),
            target: format!(">= {}", fmt_score(target)),
            target_active_users: None,
            target_score: Score::at_least(target),
            window_days: Some(window),
            by: recover_by,
            detail: match h.score {
                Some(x) => format!(
                    "composite health score needs to rise from {} to at least {} (+{} points)",
                    fmt_score(x),
                    fmt_score(target),
                    fmt_score(round1(target - x.as_f64()))
                ),
                None => format!(
                    "establish a composite health score (health.score or health.components) of at least {}",
                    fmt_score(target)
                ),
            },
        });
    }
    for c in s
        .health
        .churn_signals
        .iter()
        .filter(|c| c.is_active() && c.since.is_none_or(|d| d <= as_of))
    {
        let critical = p.critical_churn_signals.contains(&c.kind);
        targets.push(RecoveryTarget {
            metric: "churn_signal".into(),
            current: Some(format!(
                "{}{}{}",
                c.kind.as_str(),
                c.since.map(|d| format!(" since {d}")).unwrap_or_default(),
                c.detail
                    .as_ref()
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default()
            )),
            target: "resolved (inactive)".into(),
            target_active_users: None,
            target_score: None,
            window_days: Some(window),
            by: recover_by,
            detail: format!(
                "resolve the {}{} churn signal",
                if critical { "critical " } else { "" },
                c.kind.as_str()
            ),
        });
    }
    for g in s
        .health
        .goals
        .iter()
        .filter(|g| matches!(g.status, GoalStatus::AtRisk | GoalStatus::OffTrack))
    {
        targets.push(RecoveryTarget {
            metric: "goal".into(),
            current: Some(format!("{}: {}", g.goal, g.status.as_str())),
            target: "on_track or achieved".into(),
            target_active_users: None,
            target_score: None,
            window_days: Some(window),
            by: recover_by,
            detail: format!("get \"{}\" back on track", g.goal),
        });
    }
    if failed(h, CheckName::Relationship) {
        // Only what was recorded as failing gets a recovery action; what nobody recorded is
        // a data gap, collected with the other missing inputs below.
        let rel = s.health.relationship.clone().unwrap_or_default();
        let mut fixes = Vec::new();
        if rel.responsive == Some(false) {
            fixes.push("restore responsiveness (replies within a week)");
        }
        if rel.engaged == Some(false) {
            fixes.push("re-engage the customer (attended business review or working session)");
        }
        if !fixes.is_empty() {
            targets.push(RecoveryTarget {
                metric: "relationship".into(),
                current: h
                    .checks
                    .iter()
                    .find(|c| c.check == CheckName::Relationship)
                    .and_then(|c| c.actual.clone()),
                target: "responsive, engaged, sponsor identified".into(),
                target_active_users: None,
                target_score: None,
                window_days: Some(window),
                by: recover_by,
                detail: fixes.join("; "),
            });
        }
    }
    let gap_by = as_of.plus_days(i64::from(DATA_GAP_DAYS)).working_day();
    for m in &h.missing {
        targets.push(RecoveryTarget {
            metric: "missing_input".into(),
            current: None,
            target: format!("provide {m}"),
            target_active_users: None,
            target_score: None,
            window_days: None,
            by: gap_by,
            detail: format!(
                "{m} is not recorded (a data gap, not a health problem): {} collects it",
                csm_name(s)
            ),
        });
    }

    let right_size = right_size(s, p, u);
    let upstream_feedback = upstream(p, u);
    let ae_note = ae_note(s, p, h, &targets, reassess_on, right_size.as_ref());
    UnhealthyPath {
        recovery_targets: targets,
        sequence: Sequence {
            recover_window_days: window,
            recover_by,
            reassess_on,
            steps: vec![
                if only_gaps {
                    format!(
                        "Collect the missing data within {window} days (to {recover_by}): {}",
                        h.missing.join(", ")
                    )
                } else {
                    format!(
                        "Recover: restore adoption and health over {window} days (to {recover_by}); use this server's health-check prompt or the check_health tool to diagnose the root cause"
                    )
                },
                format!(
                    "Reassess on {reassess_on}: check expansion fit against the Step 2 readiness signals"
                ),
                format!(
                    "Plan only if signals align: at least {} organic signals and every readiness threshold met",
                    p.min_organic_signals
                ),
            ],
        },
        reassess_on,
        right_size,
        ae_note,
        upstream_feedback,
        diagnose: if only_gaps {
            "Collect the missing data first, then run the check_health tool (or this server's health-check prompt) again".into()
        } else {
            "Diagnose the root cause with this server's health-check prompt or the check_health tool before any expansion conversation".into()
        },
    }
}

/// Days to collect data the gate needed and did not have.
pub const DATA_GAP_DAYS: u32 = 14;

/// The CSM who owns collecting the account's data.
fn csm_name(s: &Snapshot) -> String {
    s.csm.clone().unwrap_or_else(|| "the CSM".into())
}

fn pct_label(pct: f64) -> String {
    if pct.fract() == 0.0 {
        format!("{pct:.0}%")
    } else {
        fmt_pct(pct)
    }
}

fn right_size(s: &Snapshot, p: &Policy, u: &Utilisation) -> Option<RightSize> {
    let (a, l) = (u.active?, u.licensed?);
    if meets_gate(a, l, pct_tenths(p.right_size_below_pct)) {
        return None;
    }
    let headroom = pct_tenths(p.right_size_headroom_pct);
    let with_headroom = (u64::from(a) * (1000 + headroom)).div_ceil(1000).max(1);
    let recommended = u32::try_from(with_headroom).unwrap_or(l).min(l);
    if recommended >= l {
        return None;
    }
    let unused = l - a;
    let price = price_per_seat(s).map(|(m, _)| m);
    let at_stake = price.map(|m| m.times(u64::from(l - recommended)));
    let currency = s.currency.as_deref().unwrap_or("USD");
    Some(RightSize {
        licensed_seats: l,
        active_users: a,
        unused_seats: unused,
        recommended_seats: recommended,
        arr_at_stake: at_stake,
        detail: format!(
            "{unused} of {l} seats are unused ({} utilisation). Consider reducing to {recommended} seats ({a} active + {}% headroom) before any expansion conversation{}. Protecting the relationship beats protecting ARR.",
            fmt_pct(u.pct.unwrap_or_default()),
            p.right_size_headroom_pct,
            at_stake
                .map(|m| format!("; ARR at stake: {}", fmt_amount(m, currency)))
                .unwrap_or_default()
        ),
    })
}

fn upstream(p: &Policy, u: &Utilisation) -> Option<String> {
    let (peak, l) = (u.peak_active?, u.licensed?);
    if meets_gate(peak, l, pct_tenths(p.oversell_peak_pct)) {
        return None;
    }
    let peak_pct = ratio_pct(u64::from(peak), u64::from(l)).unwrap_or_default();
    // Only claim "never" when there is history to back it.
    let seen = if u.has_history {
        format!(
            "usage has never exceeded {peak} active users in the history on record ({} at peak)",
            fmt_pct(peak_pct)
        )
    } else {
        format!(
            "only {peak} are active today ({}); no usage history is on record to show it was ever higher",
            fmt_pct(peak_pct)
        )
    };
    Some(format!(
        "Sold {l} seats, but {seen}. This looks like an oversell or a sales/CS handoff scoping gap: flag it to the AE and the CS lead so the next deal is scoped to real adoption."
    ))
}

fn as_of_gap(h: &HealthResult) -> Day {
    h.as_of.plus_days(i64::from(DATA_GAP_DAYS)).working_day()
}

fn ae_note(
    s: &Snapshot,
    p: &Policy,
    h: &HealthResult,
    targets: &[RecoveryTarget],
    reassess_on: Day,
    right_size: Option<&RightSize>,
) -> String {
    let who = s
        .account_executive
        .as_deref()
        .and_then(|n| n.split_whitespace().next())
        .unwrap_or("team");
    // Short on purpose: the AE needs the why, the unblock criteria and the date.
    let reasons: Vec<String> = h
        .checks
        .iter()
        .filter(|c| c.passed != Some(true))
        .map(|c| {
            let what = c.check.words();
            match (c.passed, &c.actual) {
                (Some(false), Some(a)) if a.len() <= 24 => {
                    format!("{what} {a} (needs {})", c.required)
                }
                (Some(false), _) => format!("{what} not met"),
                _ => format!("{what} unknown"),
            }
        })
        .collect();
    let unblock: Vec<String> = targets
        .iter()
        .filter(|t| t.metric != "missing_input")
        .map(|t| match t.metric.as_str() {
            "active_users" => format!(
                "{}, sustained {} days",
                t.target,
                t.window_days.unwrap_or(p.recovery_window_days)
            ),
            "health_score" => format!("health score {}", t.target),
            _ => t.detail.clone(),
        })
        .take(3)
        .collect();
    let mut note = format!(
        "Hi {who}, expansion for {} is on hold. Why: {}. ",
        s.name,
        reasons.join("; ")
    );
    if !unblock.is_empty() {
        note.push_str(&format!("Unblocks when: {}. ", unblock.join("; ")));
    }
    if !h.missing.is_empty() {
        note.push_str(&format!(
            "Missing data (a gap, not a health problem): {}; {} collects it by {}. ",
            h.missing.join(", "),
            csm_name(s),
            as_of_gap(h)
        ));
    }
    note.push_str(&format!("Reassessment: {reassess_on}. "));
    if let Some(r) = right_size {
        note.push_str(&format!(
            "We may recommend right-sizing to {} seats first. ",
            r.recommended_seats
        ));
    }
    note.push_str("This protects the relationship and the renewal; it isn't blocking revenue.");
    note
}
