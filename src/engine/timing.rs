//! Step 5: when to propose. Triggers come from `events` (a success milestone, annual
//! planning, a new team member, a feature-request conversation, a QBR) and the customer's
//! planning month; blockers (an open escalation or incident, a contentious renewal, a
//! distracted champion) turn the answer into "defer until ...".
//!
//! One proposal date: the date chosen here is the one the Timeline, the Timing line and the
//! execution table all show. It is inside the customer's planning cycle (budget set this
//! month means propose this month), at the QBR the sponsor asked to join when there is one,
//! never inside a blocker, and never on a weekend unless the customer's own meeting is.

use crate::model::results::{TimingItem, TimingResult, event_label};
use crate::model::snapshot::{EventKind, SignalKind, Snapshot};
use crate::model::values::Day;

use super::policy::Policy;
use super::wording::{Words, say};

/// Working days of preparation (value summary, goals) before a proposal the plan dates
/// itself; a customer's own meeting is taken as it is.
const PREP_DAYS: i64 = 3;

struct Candidate {
    item: TimingItem,
    start: Day,
    end: Day,
    priority: u8,
    /// A QBR the sponsor asked to join: proposed there whenever it is inside the cycle.
    sponsor_qbr: bool,
    /// A date the customer set (a meeting): not moved off a weekend.
    fixed: bool,
}

/// A blocker and the last day it blocks, when that is known.
struct Blocker {
    item: TimingItem,
    end: Option<Day>,
    unblocks_when: String,
}

/// The customer's budget deadline: the last day a proposal still lands in next year's plan,
/// and why.
pub struct Deadline {
    pub by: Day,
    pub reason: String,
}

/// When the customer's planning cycle says the proposal must be made.
pub fn deadline(s: &Snapshot, as_of: Day) -> Option<Deadline> {
    if let Some(m) = s.contract.planning_month {
        let m = i8::try_from(m).unwrap_or(1);
        if as_of.month() == m {
            let by = as_of.last_of_month().working_day_before().max(as_of);
            return Some(Deadline {
                by,
                reason: format!(
                    "the customer sets next year's budget this month ({}): propose this month, by {by}, to be included",
                    month_name(m)
                ),
            });
        }
        let year = if as_of.month() < m {
            as_of.year()
        } else {
            as_of.year() + 1
        };
        if let Some(start) = Day::first_of_month(year, m) {
            // Two weeks ahead of the budget month; when that has passed, the days left before it.
            let by = start.plus_days(-14);
            let by = if by < as_of { start.plus_days(-1) } else { by }
                .working_day_before()
                .max(as_of);
            return Some(Deadline {
                by,
                reason: format!(
                    "the customer sets its budget in {} (planning month {m}): propose by {by} so the expansion is in the plan",
                    month_name(m)
                ),
            });
        }
    }
    if let Some(r) = s.contract.renewal_date.filter(|r| *r > as_of) {
        let by = r.plus_days(-90);
        let by = if by < as_of { r.plus_days(-1) } else { by }
            .working_day_before()
            .max(as_of);
        return Some(Deadline {
            by,
            reason: format!(
                "planning month unknown: propose by {by}, ahead of the {r} renewal, so the expansion can be co-termed"
            ),
        });
    }
    None
}

/// Whether the sponsor asked to join this QBR: the event says so, or an executive-engagement
/// signal mentions the QBR.
fn sponsor_joins(s: &Snapshot, detail: Option<&str>, as_of: Day) -> bool {
    let sponsor_first = s
        .health
        .relationship
        .as_ref()
        .and_then(|r| r.sponsor.as_deref())
        .and_then(|n| n.split_whitespace().next())
        .map(str::to_lowercase);
    let mentions = |text: &str| {
        let t = text.to_lowercase();
        t.contains("sponsor")
            || t.contains("executive")
            || sponsor_first
                .as_deref()
                .is_some_and(|n| n.len() > 1 && t.contains(n))
    };
    detail.is_some_and(mentions)
        || s.signals.iter().any(|g| {
            g.kind == SignalKind::ExecutiveEngagement
                && g.date <= as_of
                && g.evidence.to_lowercase().contains("qbr")
        })
}

pub fn plan_timing(s: &Snapshot, p: &Policy, as_of: Day) -> TimingResult {
    plan_timing_with(s, p, as_of, Words::All)
}

/// [`plan_timing`]; with `Words::FirstOpen` every decision, date and `defer_until` (what a
/// segment row's on-hold reason quotes) is the same, and the items' `why` and the result's
/// `reason` are left empty.
pub fn plan_timing_with(s: &Snapshot, p: &Policy, as_of: Day, words: Words) -> TimingResult {
    let worded = words == Words::All;
    let recent = i64::from(p.trigger_recent_days);
    let cooldown = i64::from(p.blocker_cooldown_days);
    let mut blockers: Vec<Blocker> = Vec::new();
    let mut candidates: Vec<Candidate> = Vec::new();
    let prep = as_of.plus_days(PREP_DAYS).working_day();

    for e in &s.events {
        let age = e.date.days_until(as_of); // > 0: in the past
        let label = event_label(e.kind);
        let detail = match &e.detail {
            Some(d) if worded => format!(": {d}"),
            _ => String::new(),
        };
        match e.kind {
            EventKind::SupportEscalation | EventKind::Incident => {
                let what = e.kind.as_str().replace('_', " ");
                if e.open == Some(true) && age >= 0 {
                    let end = e.until.filter(|u| *u >= as_of);
                    blockers.push(Blocker {
                        item: TimingItem {
                            kind: e.kind.as_str().into(),
                            date: Some(e.date),
                            why: say(worded, || format!(
                                "{label} open since {}{detail}: never propose mid-escalation{}",
                                e.date,
                                match (e.until, end) {
                                    (_, Some(u)) => format!(" (expected to end {u})"),
                                    (Some(u), None) => format!(
                                        " (was expected to end {u} and is still open)"
                                    ),
                                    _ => String::new(),
                                }
                            )),
                        },
                        end,
                        unblocks_when: match end {
                            Some(u) => format!("the {what} opened on {} is resolved (expected {u})", e.date),
                            None => format!("the {what} opened on {} is resolved", e.date),
                        },
                    });
                } else if age >= 0 && age <= cooldown {
                    let end = e.date.plus_days(cooldown);
                    blockers.push(Blocker {
                        item: TimingItem {
                            kind: e.kind.as_str().into(),
                            date: Some(e.date),
                            why: say(worded, || format!(
                                "{label} on {}{detail}: let it settle for {cooldown} days",
                                e.date
                            )),
                        },
                        end: Some(end),
                        unblocks_when: format!("{end} ({cooldown} days after the {what})"),
                    });
                }
            }
            EventKind::ChampionDistracted => {
                if let Some(u) = e.until {
                    if u >= as_of {
                        blockers.push(Blocker {
                            item: TimingItem {
                                kind: e.kind.as_str().into(),
                                date: Some(e.date),
                                why: say(worded, || format!("{label}{detail} (until {u})")),
                            },
                            end: Some(u),
                            unblocks_when: format!("the champion is free again after {u}"),
                        });
                    }
                } else if (age >= 0 && age <= recent) || e.open == Some(true) {
                    blockers.push(Blocker {
                        item: TimingItem {
                            kind: e.kind.as_str().into(),
                            date: Some(e.date),
                            why: say(worded, || format!("{label}{detail}")),
                        },
                        end: None,
                        unblocks_when:
                            "the champion has bandwidth again (confirm in the next check-in)"
                                .into(),
                    });
                }
            }
            EventKind::SuccessMilestone if age >= 0 && age <= recent => {
                candidates.push(Candidate {
                    item: TimingItem {
                        kind: e.kind.as_str().into(),
                        date: Some(e.date),
                        why: say(worded, || format!(
                            "after a success milestone ({}){detail}: the customer has just experienced value",
                            e.date
                        )),
                    },
                    start: prep,
                    end: as_of.plus_days(14),
                    priority: 1,
                    sponsor_qbr: false,
                    fixed: false,
                })
            }
            EventKind::FeatureRequestConversation if age >= 0 && age <= recent => {
                candidates.push(Candidate {
                    item: TimingItem {
                        kind: e.kind.as_str().into(),
                        date: Some(e.date),
                        why: say(worded, || format!(
                            "feature request conversation on {}{detail}: connect the stated need to the solution",
                            e.date
                        )),
                    },
                    start: prep,
                    end: as_of.plus_days(10),
                    priority: 2,
                    sponsor_qbr: false,
                    fixed: false,
                })
            }
            EventKind::NewTeamMember if age <= recent && age >= -recent => {
                let start = e.date.max(prep);
                candidates.push(Candidate {
                    item: TimingItem {
                        kind: e.kind.as_str().into(),
                        date: Some(e.date),
                        why: say(worded, || format!(
                            "new team member joining ({}){detail}: a natural moment to discuss access and onboarding",
                            e.date
                        )),
                    },
                    start,
                    end: start.plus_days(14),
                    priority: 3,
                    sponsor_qbr: false,
                    fixed: false,
                })
            }
            EventKind::Qbr if e.date >= as_of && age >= -120 => {
                let sponsor = sponsor_joins(s, e.detail.as_deref(), as_of);
                candidates.push(Candidate {
                    item: TimingItem {
                        kind: e.kind.as_str().into(),
                        date: Some(e.date),
                        why: say(worded, || format!(
                            "QBR on {}{detail}: {}",
                            e.date,
                            if sponsor {
                                "the sponsor asked to join, a structured setting to review value and discuss growth"
                            } else {
                                "a structured setting to review value and discuss growth"
                            }
                        )),
                    },
                    start: e.date,
                    end: e.date,
                    priority: 0,
                    sponsor_qbr: sponsor,
                    fixed: true,
                });
            }
            EventKind::AnnualPlanning if e.date >= as_of => {
                let start = e.date.plus_days(-42).max(prep).working_day();
                let end = e.date.plus_days(-14).max(start);
                candidates.push(Candidate {
                    item: TimingItem {
                        kind: e.kind.as_str().into(),
                        date: Some(e.date),
                        why: say(worded, || format!(
                            "annual planning on {}{detail}: budget allocation is happening, get included",
                            e.date
                        )),
                    },
                    start,
                    end,
                    priority: 4,
                    sponsor_qbr: false,
                    fixed: false,
                });
            }
            _ => {}
        }
    }
    if s.contract.renewal_contentious == Some(true) {
        blockers.push(Blocker {
            item: TimingItem {
                kind: "renewal_contentious".into(),
                date: s.contract.renewal_date,
                why: say(worded, || {
                    "the renewal is contentious: settle it before any expansion conversation".into()
                }),
            },
            end: None,
            unblocks_when: match s.contract.renewal_date {
                Some(d) => format!("the renewal due {d} is agreed"),
                None => "the renewal is agreed".into(),
            },
        });
    }
    let dl = deadline(s, as_of);
    if let Some(d) = &dl
        && !s
            .events
            .iter()
            .any(|e| e.kind == EventKind::AnnualPlanning && e.date >= as_of)
    {
        candidates.push(Candidate {
            item: TimingItem {
                kind: "planning_cycle".into(),
                date: Some(d.by),
                why: say(worded, || d.reason.clone()),
            },
            start: d
                .by
                .plus_days(-21)
                .max(prep)
                .min(d.by)
                .working_day_before()
                .max(as_of),
            end: d.by,
            priority: 5,
            sponsor_qbr: false,
            fixed: false,
        });
    }
    candidates.sort_by(|a, b| a.start.cmp(&b.start).then(a.priority.cmp(&b.priority)));
    let triggers: Vec<TimingItem> = candidates.iter().map(|c| c.item.clone()).collect();
    let defer_until: Vec<String> = blockers.iter().map(|b| b.unblocks_when.clone()).collect();
    let blocker_items: Vec<TimingItem> = blockers.iter().map(|b| b.item.clone()).collect();

    // The first day nothing blocks: the day after the last known end, or unknown.
    let blocked_until = if blockers.is_empty() {
        None
    } else if blockers.iter().all(|b| b.end.is_some()) {
        blockers
            .iter()
            .filter_map(|b| b.end)
            .max()
            .map(|d| d.plus_days(1).working_day())
    } else {
        None
    };
    let earliest = blocked_until.unwrap_or(as_of);
    let deadline_by = dl.as_ref().map(|d| d.by);
    let in_cycle = |c: &Candidate| deadline_by.is_none_or(|by| c.start <= by);
    let usable = |c: &&Candidate| c.start >= earliest && in_cycle(c);
    // The QBR the sponsor asked to join comes first; otherwise the earliest trigger.
    let chosen = candidates
        .iter()
        .filter(usable)
        .find(|c| c.sponsor_qbr)
        .or_else(|| candidates.iter().find(usable));
    let date_of = |c: &Candidate| {
        if c.fixed {
            c.start
        } else {
            c.start.working_day()
        }
    };

    if !blockers.is_empty() {
        let (date, trigger, reason) = match (blocked_until, chosen) {
            (Some(_), Some(c)) => (
                Some(date_of(c)),
                trigger_name(&c.item.kind),
                say(worded, || {
                    format!(
                        "defer until {}; then propose on {} ({})",
                        defer_until.join(", and "),
                        date_of(c),
                        c.item.why
                    )
                }),
            ),
            (Some(b), None) => (
                Some(b),
                "Business review".to_string(),
                say(worded, || {
                    format!(
                        "defer until {}; propose from {b}, the first working day after it",
                        defer_until.join(", and ")
                    )
                }),
            ),
            (None, _) => (
                None,
                "none until the blockers clear".to_string(),
                say(worded, || {
                    format!(
                        "defer until {}; no end is known, so nothing from the proposal on is dated",
                        defer_until.join(", and ")
                    )
                }),
            ),
        };
        return TimingResult {
            recommendation: "defer".into(),
            date,
            window_end: None,
            trigger,
            reason,
            triggers,
            blockers: blocker_items,
            defer_until,
            blocked_until,
        };
    }
    match chosen {
        Some(c) => TimingResult {
            recommendation: "propose".into(),
            date: Some(date_of(c)),
            window_end: Some(c.end.max(date_of(c))),
            trigger: trigger_name(&c.item.kind),
            reason: c.item.why.clone(),
            triggers,
            blockers: blocker_items,
            defer_until,
            blocked_until,
        },
        // Nothing says when: the plan schedules a business review three weeks out (a date the
        // CSM can book), and asks for the planning month.
        None => TimingResult {
            recommendation: "propose".into(),
            date: Some(as_of.plus_days(21).working_day()),
            window_end: Some(as_of.plus_days(28).working_day()),
            trigger: "Business review".into(),
            reason: say(worded, || {
                format!(
                    "no timing event or planning month is known: book a business review for {} and propose there; ask for the customer's planning month (contract.planning_month) so the next proposal lands in its cycle",
                    as_of.plus_days(21).working_day()
                )
            }),
            triggers,
            blockers: blocker_items,
            defer_until,
            blocked_until,
        },
    }
}

fn trigger_name(kind: &str) -> String {
    match kind {
        "success_milestone" => "After a success milestone",
        "feature_request_conversation" => "Feature request conversation",
        "new_team_member" => "New team member joining",
        "qbr" => "QBR / business review",
        "annual_planning" => "During annual planning",
        "planning_cycle" => "Ahead of the customer's planning cycle",
        _ => "Business review",
    }
    .into()
}

pub fn month_name(m: i8) -> &'static str {
    crate::model::values::month_name(m).unwrap_or("an unknown month")
}
