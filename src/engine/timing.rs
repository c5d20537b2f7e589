//! Step 5: when to propose. Triggers come from `events` (a success milestone, annual
//! planning, a new team member, a feature-request conversation, a QBR) and the customer's
//! planning month; blockers (an open escalation or incident, a contentious renewal, a
//! distracted champion) turn the answer into "defer until ...".

use crate::model::results::{TimingItem, TimingResult, event_label};
use crate::model::snapshot::{EventKind, Snapshot};
use crate::model::values::Day;

use super::opportunity::timeline;
use super::policy::Policy;

struct Candidate {
    item: TimingItem,
    start: Day,
    end: Day,
    priority: u8,
}

pub fn plan_timing(s: &Snapshot, p: &Policy, as_of: Day) -> TimingResult {
    let recent = i64::from(p.trigger_recent_days);
    let cooldown = i64::from(p.blocker_cooldown_days);
    let mut blockers = Vec::new();
    let mut defer_until = Vec::new();
    let mut candidates: Vec<Candidate> = Vec::new();

    for e in &s.events {
        let age = e.date.days_until(as_of); // > 0: in the past
        let label = event_label(e.kind);
        let detail = e
            .detail
            .as_ref()
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        match e.kind {
            EventKind::SupportEscalation | EventKind::Incident => {
                if e.open == Some(true) && age >= 0 {
                    blockers.push(TimingItem {
                        kind: e.kind.as_str().into(),
                        date: Some(e.date),
                        why: format!("{label} open since {}{detail}: never propose mid-escalation", e.date),
                    });
                    defer_until.push(format!("the {} opened on {} is resolved", e.kind.as_str().replace('_', " "), e.date));
                } else if age >= 0 && age <= cooldown {
                    blockers.push(TimingItem {
                        kind: e.kind.as_str().into(),
                        date: Some(e.date),
                        why: format!("{label} on {}{detail}: let it settle for {cooldown} days", e.date),
                    });
                    defer_until.push(format!("{} ({cooldown} days after the {})", e.date.plus_days(cooldown), e.kind.as_str().replace('_', " ")));
                }
            }
            EventKind::ChampionDistracted
                if ((age >= 0 && age <= recent) || e.open == Some(true)) => {
                    blockers.push(TimingItem {
                        kind: e.kind.as_str().into(),
                        date: Some(e.date),
                        why: format!("{label}{detail}"),
                    });
                    defer_until.push("the champion has bandwidth again (confirm in the next check-in)".into());
                }
            EventKind::SuccessMilestone if age >= 0 && age <= recent => candidates.push(Candidate {
                item: TimingItem {
                    kind: e.kind.as_str().into(),
                    date: Some(e.date),
                    why: format!("after a success milestone ({}){detail}: the customer has just experienced value", e.date),
                },
                start: as_of,
                end: as_of.plus_days(14),
                priority: 0,
            }),
            EventKind::FeatureRequestConversation if age >= 0 && age <= recent => candidates.push(Candidate {
                item: TimingItem {
                    kind: e.kind.as_str().into(),
                    date: Some(e.date),
                    why: format!("feature request conversation on {}{detail}: connect the stated need to the solution", e.date),
                },
                start: as_of,
                end: as_of.plus_days(7),
                priority: 1,
            }),
            EventKind::NewTeamMember if age <= recent && age >= -recent => candidates.push(Candidate {
                item: TimingItem {
                    kind: e.kind.as_str().into(),
                    date: Some(e.date),
                    why: format!("new team member joining ({}){detail}: a natural moment to discuss access and onboarding", e.date),
                },
                start: if e.date > as_of { e.date } else { as_of },
                end: (if e.date > as_of { e.date } else { as_of }).plus_days(14),
                priority: 2,
            }),
            EventKind::Qbr if e.date >= as_of && age >= -120 => candidates.push(Candidate {
                item: TimingItem {
                    kind: e.kind.as_str().into(),
                    date: Some(e.date),
                    why: format!("QBR on {}{detail}: a structured setting to review value and discuss growth", e.date),
                },
                start: e.date,
                end: e.date,
                priority: 3,
            }),
            EventKind::AnnualPlanning if e.date >= as_of => {
                let start = e.date.plus_days(-42).max(as_of);
                let end = e.date.plus_days(-14).max(start);
                candidates.push(Candidate {
                    item: TimingItem {
                        kind: e.kind.as_str().into(),
                        date: Some(e.date),
                        why: format!("annual planning on {}{detail}: budget allocation is happening, get included", e.date),
                    },
                    start,
                    end,
                    priority: 4,
                });
            }
            _ => {}
        }
    }
    if s.contract.renewal_contentious == Some(true) {
        blockers.push(TimingItem {
            kind: "renewal_contentious".into(),
            date: s.contract.renewal_date,
            why: "the renewal is contentious: settle it before any expansion conversation".into(),
        });
        defer_until.push(match s.contract.renewal_date {
            Some(d) => format!("the renewal due {d} is agreed"),
            None => "the renewal is agreed".into(),
        });
    }
    if !s
        .events
        .iter()
        .any(|e| e.kind == EventKind::AnnualPlanning && e.date >= as_of)
    {
        let t = timeline(s, as_of);
        if let Some(by) = t.propose_by {
            candidates.push(Candidate {
                item: TimingItem {
                    kind: "planning_cycle".into(),
                    date: Some(by),
                    why: t.reason,
                },
                start: by.plus_days(-21).max(as_of),
                end: by,
                priority: 5,
            });
        }
    }
    candidates.sort_by(|a, b| a.start.cmp(&b.start).then(a.priority.cmp(&b.priority)));
    let triggers: Vec<TimingItem> = candidates.iter().map(|c| c.item.clone()).collect();

    if !blockers.is_empty() {
        let revisit = blockers
            .iter()
            .filter_map(|b| b.date)
            .map(|d| d.plus_days(cooldown))
            .filter(|d| *d > as_of)
            .max()
            .unwrap_or(as_of.plus_days(cooldown));
        return TimingResult {
            recommendation: "defer".into(),
            date: Some(revisit),
            window_end: None,
            trigger: "none until the blockers clear".into(),
            reason: format!(
                "defer until {}; revisit no earlier than {revisit}",
                defer_until.join(", and ")
            ),
            triggers,
            blockers,
            defer_until,
        };
    }
    match candidates.first() {
        Some(c) => TimingResult {
            recommendation: "propose".into(),
            date: Some(c.start),
            window_end: Some(c.end),
            trigger: trigger_name(&c.item.kind),
            reason: c.item.why.clone(),
            triggers,
            blockers,
            defer_until,
        },
        None => TimingResult {
            recommendation: "propose".into(),
            date: None,
            window_end: None,
            trigger: "QBR / business review".into(),
            reason: "no timing event or planning month is known: schedule a business review and propose there, aligned with the customer's planning cycle (give contract.planning_month or events)".into(),
            triggers,
            blockers,
            defer_until,
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
