//! What an assistant reads: the tool list within its budget, every name kept, and every
//! answer small enough for any context window.

use std::sync::Arc;

use expansion_planner::accounts::Demo;
use expansion_planner::engine::Policy;
use expansion_planner::mcp::{tool_list, tools};
use expansion_planner::service::Planner;
use rmcp::model::ListToolsResult;
use serde_json::{Value, json};

/// The model-facing part of `tools/list`: name, description and inputSchema of each tool,
/// as compact JSON (what the shared budget hook and `scripts/surface` measure).
pub fn face_bytes(tools: &[rmcp::model::Tool]) -> usize {
    tools
        .iter()
        .map(|t| {
            serde_json::to_string(&json!({
                "name": t.name,
                "description": t.description,
                "inputSchema": t.input_schema.as_ref(),
            }))
            .unwrap()
            .len()
        })
        .sum()
}

/// The tool list's budgets: 40 KB a model reads, 100 KB on the wire.
const FACE_BUDGET: usize = 40_000;
const LIST_BUDGET: usize = 100_000;
/// A whole ready plan, in the form a client passes to the model.
const PLAN_BUDGET: usize = 12_000;

#[test]
fn the_tool_list_fits_its_budget() {
    let list = tool_list();
    let face = face_bytes(&list);
    let whole = serde_json::to_string(&ListToolsResult::with_all_items(list.clone()))
        .unwrap()
        .len();
    assert!(
        face <= FACE_BUDGET,
        "the model-facing tool list is {face} bytes (budget {FACE_BUDGET})"
    );
    assert!(
        whole <= LIST_BUDGET,
        "tools/list is {whole} bytes (budget {LIST_BUDGET})"
    );
    // Shrinking it must not have lost a tool or a contract name.
    let names: Vec<&str> = list.iter().map(|t| t.name.as_ref()).collect();
    for want in [
        "check_health",
        "find_signals",
        "quantify_opportunity",
        "frame_enablement",
        "check_framing",
        "plan_timing",
        "design_approach",
        "assess_risks",
        "define_success_criteria",
        "draft_plan",
        "list_accounts",
        "get_account",
        "plan_segment",
        "plan_history",
        "due_reassessments",
        "import_accounts",
    ] {
        assert!(names.contains(&want), "{want} is missing from tools/list");
    }
    let props = |tool: &str| -> Vec<String> {
        let t = list.iter().find(|t| t.name == tool).unwrap();
        t.input_schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    for t in &list[..10] {
        let p = props(&t.name);
        for k in ["account", "snapshot", "as_of"] {
            assert!(p.iter().any(|x| x == k), "{}: no `{k}`", t.name);
        }
    }
    assert!(props("draft_plan").contains(&"detail".to_string()));
    assert!(props("check_framing").contains(&"draft".to_string()));
    for t in ["plan_segment", "list_accounts"] {
        for k in ["segment", "csm", "as_of"] {
            assert!(props(t).iter().any(|x| x == k), "{t}: no `{k}`");
        }
    }
    // The snapshot's whole schema is where a model builds one: draft_plan and check_health.
    for t in ["draft_plan", "check_health"] {
        let snap = &list.iter().find(|x| x.name == t).unwrap().input_schema["properties"]["snapshot"]
            ["properties"];
        for k in [
            "name", "contract", "usage", "health", "signals", "events", "offer",
        ] {
            assert!(snap.get(k).is_some(), "{t}: snapshot.{k} is not described");
        }
    }
}

#[test]
fn advertised_output_schemas_are_the_committed_ones_without_descriptions() {
    let list = tool_list();
    for d in tools::DEFS {
        let t = list.iter().find(|t| t.name == d.name).unwrap();
        let served = Value::Object(t.output_schema.as_deref().unwrap().clone());
        let lean = Value::Object(expansion_planner::schemas::lean_output(&(d.output)()));
        assert_eq!(served, lean, "{}", d.name);
        let full = serde_json::to_string(&(d.output)()).unwrap().len();
        assert!(
            served.to_string().len() * 10 < full * 7,
            "{}: the advertised output schema is not leaner",
            d.name
        );
    }
}

#[test]
fn a_whole_ready_plan_fits_in_12_kb_whichever_part_the_client_shows() {
    let p = Planner::new(Policy::default(), Arc::new(Demo));
    let mut ready = 0;
    for s in expansion_planner::demo::portfolio().unwrap() {
        let a = tools::call(&p, "draft_plan", json!({"account": s.name})).unwrap();
        let (structured, text) = a.into_value().unwrap();
        let sc = serde_json::to_string(&structured).unwrap();
        assert!(
            sc.len() <= PLAN_BUDGET && text.len() <= PLAN_BUDGET,
            "{}: structuredContent {} bytes, text {} bytes (budget {PLAN_BUDGET})",
            s.name,
            sc.len(),
            text.len()
        );
        // Readable on its own: the structured content carries the plan itself.
        assert_eq!(structured["markdown"], json!(text), "{}", s.name);
        if structured["outcome"] == "ready" {
            ready += 1;
            assert!(text.contains("## Success Criteria"), "{}", s.name);
            // The headline states each figure once; the step results are not repeated.
            for key in ["health", "signals", "opportunity", "approach"] {
                assert!(structured.get(key).is_none(), "{}: `{key}`", s.name);
            }
            assert!(
                structured["headline"]["scenarios"]
                    .as_array()
                    .unwrap()
                    .len()
                    >= 2
            );
        }
        // `detail: full` adds every step's result.
        let full = tools::call(
            &p,
            "draft_plan",
            json!({"account": s.name, "detail": "full"}),
        )
        .unwrap()
        .into_value()
        .unwrap()
        .0;
        assert!(full["health"].is_object(), "{}", s.name);
        assert_eq!(full["verdict"], structured["verdict"]);
    }
    assert!(ready >= 3, "only {ready} ready demo accounts");
}
