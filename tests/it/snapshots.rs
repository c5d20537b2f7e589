//! Whole rendered plans as insta snapshots: any change to the output is a reviewable diff.

use expansion_planner::engine::{Policy, draft_plan};

#[test]
fn demo_plans_render_as_reviewed() {
    let policy = Policy::default();
    for s in expansion_planner::demo::portfolio().unwrap() {
        let plan = draft_plan(s, &policy, s.as_of.unwrap());
        let name = s.id.clone().unwrap_or_else(|| s.name.clone());
        insta::assert_snapshot!(format!("plan_{name}"), plan.markdown);
    }
}

#[test]
fn output_is_byte_identical_for_the_same_input() {
    let policy = Policy::default();
    for s in expansion_planner::demo::portfolio().unwrap() {
        let a = serde_json::to_string(&draft_plan(s, &policy, s.as_of.unwrap())).unwrap();
        let b = serde_json::to_string(&draft_plan(&s.clone(), &policy, s.as_of.unwrap())).unwrap();
        assert_eq!(a, b, "{}", s.name);
    }
}

/// Every data-driven case under `tests/data/accounts/` as a reviewed plan: a change to what
/// a rule produces shows up as a diff next to the figures the case checks.
#[test]
fn case_plans_render_as_reviewed() {
    let policy = Policy::default();
    let dir = crate::root().join("tests/data/accounts");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    for path in files {
        let case: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let s = expansion_planner::model::Snapshot::from_json(case["snapshot"].clone()).unwrap();
        let as_of = s
            .as_of
            .unwrap_or(expansion_planner::model::Day::parse("2026-11-15").unwrap());
        let plan = draft_plan(&s, &policy, as_of);
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        insta::assert_snapshot!(format!("case_{stem}"), plan.markdown);
    }
}
