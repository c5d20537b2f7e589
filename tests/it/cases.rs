//! Data-driven cases: each file under `tests/data/accounts/` holds a snapshot and the
//! figures expected from it (computed by hand, with the arithmetic in `expect.why`). Adding
//! a case adds no code. Each file under `tests/data/bad/` holds a snapshot that must be
//! refused with an error naming `expect_field`.

use std::path::PathBuf;

use expansion_planner::engine::{Policy, draft_plan, evaluate};
use expansion_planner::model::{Day, Snapshot};
use serde_json::Value;

fn files(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(crate::root().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    v.sort();
    v
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

/// Checks one case; returns the mismatches.
fn check(path: &PathBuf) -> Vec<String> {
    let case: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let expect = &case["expect"];
    let snapshot = Snapshot::from_json(case["snapshot"].clone())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let as_of = snapshot.as_of.unwrap_or(Day::parse("2026-11-15").unwrap());
    let policy = Policy::default();
    let plan = draft_plan(&snapshot, &policy, as_of);
    let ev = evaluate(&snapshot, &policy, as_of);
    let p = serde_json::to_value(&plan).unwrap();
    let x = ev.expansion.as_ref();
    let opp = x
        .map(|x| serde_json::to_value(&x.opportunity).unwrap())
        .unwrap_or(Value::Null);
    let mut bad = Vec::new();
    let eq = |bad: &mut Vec<String>, what: &str, got: Value, want: &Value| {
        let same = match (num(&got), num(want)) {
            (Some(a), Some(b)) => (a - b).abs() < 1e-9,
            _ => &got == want,
        };
        if !same {
            bad.push(format!("{what}: got {got}, expected {want}"));
        }
    };
    let Some(map) = expect.as_object() else {
        return vec!["no expect object".into()];
    };
    for (k, want) in map {
        let h = &p["health"];
        let got = match k.as_str() {
            "why" => continue,
            "outcome" => p["outcome"].clone(),
            "utilisation_pct" => h["utilisation_pct"].clone(),
            "score" => h["score"].clone(),
            "status" => h["status"].clone(),
            "clear_to_expand" => h["clear_to_expand"].clone(),
            "missing" => h["missing"].clone(),
            "failing_checks" => Value::from(
                h["checks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|c| c["passed"] != Value::Bool(true))
                    .map(|c| c["check"].clone())
                    .collect::<Vec<_>>(),
            ),
            "target_active_users" => h["unhealthy_path"]["recovery_targets"]
                .as_array()
                .and_then(|ts| ts.iter().find(|t| t["metric"] == "active_users"))
                .map(|t| t["target_active_users"].clone())
                .unwrap_or(Value::Null),
            "unused_seats" => h["unhealthy_path"]["right_size"]["unused_seats"].clone(),
            "recommended_seats" => h["unhealthy_path"]["right_size"]["recommended_seats"].clone(),
            "expansion_type" => opp["expansion_type"].clone(),
            "estimated_expansion_arr" => opp["estimated_expansion_arr"].clone(),
            "confidence" => opp["confidence"].clone(),
            "nrr_after_pct" => opp["nrr_after_pct"].clone(),
            "scenario_arr" => {
                let mut m = serde_json::Map::new();
                for sc in opp["scenarios"].as_array().cloned().unwrap_or_default() {
                    m.insert(
                        sc["name"].as_str().unwrap().to_string(),
                        sc["expansion_arr"].clone(),
                    );
                }
                // Compare only the scenarios the case names.
                let want_keys: Vec<String> = want
                    .as_object()
                    .map(|o| o.keys().cloned().collect())
                    .unwrap_or_default();
                m.retain(|k, _| want_keys.contains(k));
                Value::Object(m)
            }
            "organic_count" => x
                .map(|x| Value::from(x.signals.organic_count))
                .unwrap_or(Value::Null),
            "timing_recommendation" => x
                .map(|x| Value::from(x.timing.recommendation.clone()))
                .unwrap_or(Value::Null),
            "score_band" => h["score_band"].clone(),
            "verdict" => p["verdict"].clone(),
            // Any figure of the full plan, by JSON pointer: {"/opportunity/confidence": "High"}.
            "plan_pointer" => {
                for (ptr, w) in want.as_object().cloned().unwrap_or_default() {
                    let got = p.pointer(&ptr).cloned().unwrap_or(Value::Null);
                    eq(&mut bad, &format!("plan{ptr}"), got, &w);
                }
                continue;
            }
            "markdown_contains" => {
                for w in want.as_array().cloned().unwrap_or_default() {
                    let w = w.as_str().unwrap_or_default();
                    if !plan.markdown.contains(w) {
                        bad.push(format!("markdown does not contain `{w}`"));
                    }
                }
                continue;
            }
            "markdown_excludes" => {
                for w in want.as_array().cloned().unwrap_or_default() {
                    let w = w.as_str().unwrap_or_default();
                    if plan.markdown.contains(w) {
                        bad.push(format!("markdown contains `{w}`"));
                    }
                }
                continue;
            }
            // Check ids in order of execution: each must be dated no earlier than the one before.
            "steps_in_order" => {
                let steps = p["approach"]["steps"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let mut last: Option<String> = None;
                for w in want.as_array().cloned().unwrap_or_default() {
                    let w = w.as_str().unwrap_or_default();
                    let Some(st) = steps
                        .iter()
                        .find(|st| st["action"].as_str().unwrap_or("").starts_with(w))
                    else {
                        bad.push(format!("no step starting `{w}`"));
                        continue;
                    };
                    let d = st["date"].as_str().map(str::to_string);
                    if let (Some(a), Some(b)) = (&last, &d)
                        && b < a
                    {
                        bad.push(format!(
                            "step `{w}` on {b} comes before the previous step ({a})"
                        ));
                    }
                    last = d.or(last);
                }
                continue;
            }
            other => {
                bad.push(format!("unknown expectation `{other}`"));
                continue;
            }
        };
        eq(&mut bad, k, got, want);
    }
    bad.extend(invariants(&p));
    bad
}

/// What every plan must hold, whatever the case: `ready` only with nothing unverified and
/// nothing blocking; one proposal date in the Timeline, the Timing and the execution table;
/// no step on a weekend; adoption measured before the post-rollout review.
fn invariants(p: &Value) -> Vec<String> {
    let mut bad = Vec::new();
    let outcome = p["outcome"].as_str().unwrap_or_default();
    if outcome == "ready" {
        if p["unverified"].as_array().is_some_and(|u| !u.is_empty()) {
            bad.push("ready with unverified data".into());
        }
        if p["timing"]["recommendation"] == "defer" {
            bad.push("ready while timing defers".into());
        }
    }
    if p["health"]["status"] == "Healthy" && p["health"]["clear_to_expand"] == false {
        bad.push("Healthy above an Unhealthy-Path Response".into());
    }
    let Some(steps) = p["approach"]["steps"].as_array() else {
        return bad;
    };
    let propose = steps
        .iter()
        .find(|st| {
            st["action"]
                .as_str()
                .unwrap_or("")
                .starts_with("Propose in context")
        })
        .map(|st| st["date"].clone())
        .unwrap_or(Value::Null);
    let timing = p["timing"]["date"].clone();
    let timeline = p["opportunity"]["timeline"]["propose_by"].clone();
    if propose != timing || timing != timeline {
        bad.push(format!(
            "proposal dates differ: execution {propose}, timing {timing}, timeline {timeline}"
        ));
    }
    let qbrs: Vec<&str> = p
        .pointer("/timing/triggers")
        .and_then(Value::as_array)
        .map(|t| t.iter().filter_map(|t| t["date"].as_str()).collect())
        .unwrap_or_default();
    for st in steps {
        if let Some(d) = st["date"].as_str() {
            let day = Day::parse(d).unwrap();
            if day.is_weekend() && !qbrs.contains(&d) {
                bad.push(format!("step {} on a weekend ({d})", st["step"]));
            }
        }
    }
    let crit = |name: &str| {
        p["success_criteria"]["criteria"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["criteria"] == name))
            .and_then(|c| c["target_date"].as_str().map(str::to_string))
    };
    if let (Some(a), Some(r)) = (crit("Adoption"), crit("Value confirmed"))
        && a >= r
    {
        bad.push(format!("adoption measured {a}, not before the review {r}"));
    }
    bad
}

#[test]
fn account_cases() {
    let all = files("tests/data/accounts");
    assert!(all.len() >= 15, "only {} cases", all.len());
    let failures: Vec<String> = all
        .iter()
        .flat_map(|p| {
            check(p)
                .into_iter()
                .map(move |m| format!("{}: {m}", p.file_name().unwrap().to_string_lossy()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn bad_inputs_name_the_field() {
    let all = files("tests/data/bad");
    assert!(all.len() >= 10, "only {} bad cases", all.len());
    for p in all {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        let field = case["expect_field"].as_str().unwrap();
        let err = Snapshot::from_json(case["snapshot"].clone())
            .expect_err(&format!("{} was accepted", p.display()));
        let msg = err.to_string();
        assert!(
            msg.contains(field),
            "{}: `{msg}` does not name {field}",
            p.display()
        );
        assert!(!msg.contains("panicked"));
    }
}

#[test]
fn demo_portfolio_covers_every_outcome_and_type() {
    let policy = Policy::default();
    let demo = expansion_planner::demo::portfolio().unwrap();
    assert!(demo.len() >= 12, "{} demo accounts", demo.len());
    let mut outcomes = std::collections::BTreeSet::new();
    let mut types = std::collections::BTreeSet::new();
    for s in demo {
        let plan = serde_json::to_value(draft_plan(s, &policy, s.as_of.unwrap())).unwrap();
        let broken = invariants(&plan);
        assert!(broken.is_empty(), "{}: {broken:?}", s.name);
        let ev = evaluate(s, &policy, s.as_of.unwrap());
        outcomes.insert(format!("{:?}", ev.outcome));
        use expansion_planner::model::results::Outcome;
        // Every outcome that drafts the whole plan counts: on hold and provisional plans are
        // full plans too.
        if matches!(
            ev.outcome,
            Outcome::Ready | Outcome::OnHold | Outcome::Provisional
        ) && let Some(t) = ev.expansion.unwrap().opportunity.expansion_type
        {
            types.insert(t.as_str());
        }
    }
    assert!(outcomes.len() >= 3, "{outcomes:?}");
    for t in ["seats", "upgrade", "upsell", "cross_sell", "contract"] {
        assert!(
            types.contains(t),
            "no demo account with a full plan of type {t}: {types:?}"
        );
    }
}
