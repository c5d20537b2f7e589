//! Any bytes, as a snapshot, through the whole engine: parsing and validation must refuse
//! what is not a snapshot with an error, never a panic; every plan computed from what was
//! accepted must hold only finite numbers, keep the gate's invariants and be identical when
//! computed twice. Runs on a fixed `as_of` and, when the snapshot has one, on its own.

#![no_main]

use expansion_planner::engine::{Policy, draft_plan};
use expansion_planner::model::finite::non_finite;
use expansion_planner::model::results::Outcome;
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
        if let Some(path) = non_finite(&plan) {
            panic!("a number that is not finite at {path}");
        }
        let h = &plan.health;
        if let Some(u) = h.utilisation_pct {
            assert!(u >= 0.0, "utilisation {u}");
        }
        if let Some(s) = h.score {
            assert!((0.0..=100.0).contains(&s), "score {s}");
        }
        assert_eq!(
            h.clear_to_expand,
            h.checks.iter().all(|c| c.passed == Some(true)),
            "clear_to_expand disagrees with the checks"
        );
        match plan.outcome {
            Outcome::Blocked => assert!(plan.opportunity.is_none() && plan.signals.is_none()),
            Outcome::Ready => {
                assert!(h.clear_to_expand);
                let sig = plan.signals.as_ref().expect("signals when ready");
                assert!(sig.readiness.iter().all(|c| c.passed == Some(true)));
            }
            Outcome::NotReady => assert!(h.clear_to_expand),
            Outcome::Provisional => {
                let sig = plan.signals.as_ref().expect("signals when provisional");
                assert!(sig.readiness.iter().all(|c| c.passed != Some(false)));
                assert!(sig.readiness.iter().any(|c| c.passed.is_none()));
            }
            Outcome::OnHold => {
                let sig = plan.signals.as_ref().expect("signals when on hold");
                assert!(sig.readiness.iter().all(|c| c.passed == Some(true)));
            }
        }
        if let Some(o) = &plan.opportunity
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
