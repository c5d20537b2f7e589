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
