//! Any bytes, as a snapshot, through the whole engine: parsing and validation must refuse
//! what is not a snapshot with an error, never a panic; every plan computed from what was
//! accepted must read back from its JSON as the same plan (its percentages and scores are
//! integer tenths, so none can be a NaN written as `null`), keep the gate's invariants and be
//! identical when computed twice. Runs on a fixed `as_of` and, when the snapshot has one, on its own.

#![no_main]

use expansion_planner::engine::{Policy, draft_plan};
use expansion_planner::model::results::{Outcome, PlanResult};
use expansion_planner::model::{Day, Snapshot};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let Ok(snapshot) = Snapshot::from_json(value) else {
        return;
    };
    let policy = Policy::default();
    let fixed = Day::parse("2026-11-15").expect("a valid day");
    let own = snapshot.as_of.filter(|d| *d != fixed);
    for as_of in std::iter::once(fixed).chain(own) {
        let plan = draft_plan(&snapshot, &policy, as_of);
        let json = serde_json::to_string(&plan).expect("serialisable");
        let back: PlanResult = serde_json::from_str(&json).expect("the plan reads back");
        assert!(back == plan, "the plan does not read back as itself");
        let h = &plan.steps.health;
        if let Some(u) = h.utilisation_pct {
            assert!(u.tenths() >= 0, "utilisation {u}");
        }
        assert_eq!(
            h.clear_to_expand,
            h.checks.iter().all(|c| c.passed == Some(true)),
            "clear_to_expand disagrees with the checks"
        );
        match plan.outcome {
            Outcome::Blocked => assert!(plan.steps.opportunity.is_none() && plan.steps.signals.is_none()),
            Outcome::Ready => {
                assert!(h.clear_to_expand);
                let sig = plan.steps.signals.as_ref().expect("signals when ready");
                assert!(sig.readiness.iter().all(|c| c.passed == Some(true)));
            }
            Outcome::NotReady => assert!(h.clear_to_expand),
            Outcome::Provisional => {
                let sig = plan.steps.signals.as_ref().expect("signals when provisional");
                assert!(sig.readiness.iter().all(|c| c.passed != Some(false)));
                assert!(sig.readiness.iter().any(|c| c.passed.is_none()));
            }
            Outcome::OnHold => {
                let sig = plan.steps.signals.as_ref().expect("signals when on hold");
                assert!(sig.readiness.iter().all(|c| c.passed == Some(true)));
            }
        }
        if let Some(o) = &plan.steps.opportunity
            && let [full, half, ..] = o.scenarios.as_slice()
            && let (Some(f), Some(hf)) = (full.expansion_arr, half.expansion_arr)
        {
            assert!(hf <= f, "50 % scenario {hf:?} above 100 % {f:?}");
        }
        let again = draft_plan(&snapshot, &policy, as_of);
        assert_eq!(
            serde_json::to_string(&plan).expect("serialisable"),
            serde_json::to_string(&again).expect("serialisable"),
            "the same input gave two different plans"
        );
    }
});
