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

/// The MCP layer only adapts rmcp: what the tools answer is computed outside it
/// (`answers`, `listing`, `prompts`, `views`), and it stays at most 3,000 lines (#12).
#[test]
fn the_mcp_layer_stays_thin() {
    fn lines(dir: &std::path::Path, files: &mut Vec<(String, usize)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                lines(&path, files);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let n = std::fs::read_to_string(&path).unwrap().lines().count();
                files.push((path.display().to_string(), n));
            }
        }
    }
    let mut files = Vec::new();
    lines(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/mcp"),
        &mut files,
    );
    let total: usize = files.iter().map(|(_, n)| n).sum();
    assert!(files.len() >= 10, "{files:?}");
    assert!(total <= 3000, "src/mcp is {total} lines: {files:?}");
}

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
    for want in crate::mcp::TOOLS {
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
        // `account` or `snapshot`: neither is required, or a client refuses the other.
        let required = t.input_schema.get("required").cloned().unwrap_or(json!([]));
        for k in ["account", "snapshot", "as_of"] {
            assert!(
                !required.as_array().unwrap().contains(&json!(k)),
                "{}: `{k}` is required",
                t.name
            );
        }
        let p = props(&t.name);
        for k in ["account", "snapshot", "as_of"] {
            assert!(p.iter().any(|x| x == k), "{}: no `{k}`", t.name);
        }
    }
    assert!(props("draft_plan").contains(&"detail".to_string()));
    assert!(props("check_framing").contains(&"draft".to_string()));
    for t in ["plan_segment", "list_accounts"] {
        for k in ["segment", "csm", "as_of", "limit", "cursor"] {
            assert!(props(t).iter().any(|x| x == k), "{t}: no `{k}`");
        }
    }
    // The snapshot's whole schema is where a model builds one: draft_plan.
    for t in ["draft_plan"] {
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
        let (structured, text) = (a.structured, a.markdown);
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
        .structured;
        assert!(full["health"].is_object(), "{}", s.name);
        assert_eq!(full["verdict"], structured["verdict"]);
    }
    assert!(ready >= 3, "only {ready} ready demo accounts");
}

/// Any one answer, in either form.
const ANSWER_BUDGET: usize = 100_000;

/// A store of `n` accounts: the demo portfolio again and again under new names and ids.
fn big_store(n: usize) -> expansion_planner::store::Sqlite {
    let demo = expansion_planner::demo::portfolio().unwrap();
    let store = expansion_planner::store::Sqlite::in_memory().unwrap();
    let accounts: Vec<_> = (0..n)
        .map(|i| {
            let mut s = demo[i % demo.len()].clone();
            s.name = format!("{} {:04}", s.name, i);
            s.id = Some(format!("BIG-{i:04}"));
            if i == 0 {
                // One account with fourteen years of daily readings.
                let end = s.as_of.unwrap();
                s.usage.history = (0..5000)
                    .rev()
                    .map(|d| expansion_planner::model::snapshot::UsagePoint {
                        date: end.plus_days(-d),
                        active_users: 150,
                    })
                    .collect();
            }
            s
        })
        .collect();
    store.put(&accounts).unwrap();
    store
}

/// Calls a tool; the structured content and the text, each checked against the budget.
fn sized_call(p: &Planner, tool: &str, args: Value) -> (Value, String, usize) {
    let a = tools::call(p, tool, args.clone()).unwrap_or_else(|e| panic!("{tool} {args}: {e:?}"));
    let (sc, text) = (a.structured, a.markdown);
    let size = serde_json::to_string(&sc).unwrap().len().max(text.len());
    assert!(
        size < ANSWER_BUDGET,
        "{tool} {args}: {size} bytes (budget {ANSWER_BUDGET})"
    );
    (sc, text, size)
}

#[test]
fn a_thousand_accounts_page_through_plan_segment_each_exactly_once() {
    let p = Planner::new(Policy::default(), Arc::new(big_store(1000)));
    for limit in [None, Some(50), Some(7)] {
        let mut seen = std::collections::BTreeMap::<String, u32>::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        let mut first_summary: Option<Value> = None;
        loop {
            let mut args = json!({});
            if let Some(l) = limit {
                args["limit"] = json!(l);
            }
            if let Some(c) = &cursor {
                args["cursor"] = json!(c);
            }
            let (sc, text, _) = sized_call(&p, "plan_segment", args);
            pages += 1;
            assert_eq!(sc["total_accounts"], 1000);
            let summary = json!([
                sc["distribution"],
                sc["status_distribution"],
                sc["ranked_ready"],
                sc["most_common_failing_check"]
            ]);
            match &first_summary {
                None => first_summary = Some(summary),
                Some(f) => assert_eq!(f, &summary, "the summary differs on page {pages}"),
            }
            let rows = sc["accounts"].as_array().unwrap();
            assert_eq!(sc["page"]["returned"], rows.len());
            assert_eq!(sc["page"]["left_out"], 1000 - rows.len());
            assert!(sc["ranked_ready"].as_array().unwrap().len() <= 10);
            assert!(text.contains("1000 accounts"), "{}", &text[..200]);
            for r in rows {
                *seen
                    .entry(r["name"].as_str().unwrap().to_string())
                    .or_default() += 1;
            }
            match sc.get("next_cursor") {
                Some(c) => {
                    assert!(
                        text.contains(c.as_str().unwrap()),
                        "the text names the cursor"
                    );
                    cursor = Some(c.as_str().unwrap().to_string());
                }
                None => break,
            }
            assert!(pages < 1000, "paging does not end");
        }
        assert_eq!(seen.len(), 1000, "limit {limit:?}");
        assert!(
            seen.values().all(|&n| n == 1),
            "limit {limit:?}: an account twice"
        );
        let per = limit.unwrap_or(20) as usize;
        assert_eq!(pages, 1000_usize.div_ceil(per), "limit {limit:?}");
    }
    // A cursor belongs to its query: another segment's is refused, naming the field.
    let (sc, _, _) = sized_call(&p, "plan_segment", json!({"limit": 10}));
    let c = sc["next_cursor"].as_str().unwrap();
    let e = tools::call(
        &p,
        "plan_segment",
        json!({"segment": "Enterprise", "cursor": c}),
    );
    assert!(
        matches!(&e, Err(tools::CallError::Input(i)) if i.to_string().contains("cursor")),
        "{:?}",
        e.err()
    );
    let e = tools::call(&p, "plan_segment", json!({"cursor": "nonsense"}));
    assert!(matches!(e, Err(tools::CallError::Input(_))));
    let e = tools::call(&p, "plan_segment", json!({"limit": 51}));
    assert!(matches!(e, Err(tools::CallError::Input(_))));
}

#[test]
fn no_answer_exceeds_100_kb_on_a_thousand_account_store() {
    let p = Planner::new(Policy::default(), Arc::new(big_store(1000)));
    let mut largest = (0, String::new());
    let mut note = |tool: &str, size: usize| {
        if size > largest.0 {
            largest = (size, tool.to_string());
        }
    };
    // list_accounts, at its largest page, through to the end.
    let mut seen = std::collections::BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut args = json!({"limit": 100});
        if let Some(c) = &cursor {
            args["cursor"] = json!(c);
        }
        let (sc, _, size) = sized_call(&p, "list_accounts", args);
        note("list_accounts", size);
        assert_eq!(sc["total"], 1000);
        for r in sc["accounts"].as_array().unwrap() {
            assert!(seen.insert(r["name"].as_str().unwrap().to_string()));
        }
        match sc.get("next_cursor") {
            Some(c) => cursor = Some(c.as_str().unwrap().to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 1000);
    let (_, _, size) = sized_call(&p, "plan_segment", json!({"limit": 50}));
    note("plan_segment", size);
    // Every account planned (and saved), so that reassessments fall due for the blocked ones.
    for i in (0..1000).step_by(1) {
        let id = format!("BIG-{i:04}");
        let (_, _, size) = sized_call(&p, "draft_plan", json!({"account": id, "detail": "full"}));
        note("draft_plan", size);
    }
    let (sc, _, size) = sized_call(
        &p,
        "due_reassessments",
        json!({"as_of": "2030-01-01", "limit": 100}),
    );
    note("due_reassessments", size);
    assert!(sc["total"].as_u64().unwrap() > 100, "{}", sc["total"]);
    assert!(sc.get("next_cursor").is_some());
    let (_, _, size) = sized_call(
        &p,
        "plan_segment",
        json!({"limit": 50, "as_of": "2030-01-01"}),
    );
    note("plan_segment", size);
    // A year and more of plans saved for one account, a day apart.
    let start = expansion_planner::model::Day::parse("2026-11-15").unwrap();
    for d in 0..150 {
        let day = start.plus_days(d).to_string();
        sized_call(
            &p,
            "draft_plan",
            json!({"account": "BIG-0000", "as_of": day}),
        );
    }
    let (got, _, size) = sized_call(&p, "get_account", json!({"account": "BIG-0000"}));
    note("get_account", size);
    assert_eq!(got["usage_history_left_out"], 4600);
    assert_eq!(
        got["snapshot"]["usage"]["history"]
            .as_array()
            .unwrap()
            .len(),
        400
    );
    for args in [
        json!({"account": "BIG-0000", "include_markdown": true}),
        json!({"account": "BIG-0000", "limit": 100}),
    ] {
        let (h, text, size) = sized_call(&p, "plan_history", args);
        note("plan_history", size);
        assert!(
            h["total_plans"].as_u64().unwrap() >= 150,
            "{}",
            h["total_plans"]
        );
        assert_eq!(
            h["left_out"].as_u64().unwrap() + h["plans"].as_array().unwrap().len() as u64,
            h["total_plans"].as_u64().unwrap()
        );
        assert!(text.contains("earlier left out"), "{text}");
    }
    eprintln!(
        "largest answer on 1,000 accounts: {} bytes ({})",
        largest.0, largest.1
    );
}

/// The README's first registration: `mcp.json`'s first server, as a client launches it.
fn first_registration() -> (String, Vec<String>) {
    let text = std::fs::read_to_string(crate::root().join("mcp.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let (name, server) = v["mcpServers"].as_object().unwrap().iter().next().unwrap();
    assert_eq!(server["command"], "expansion-planner");
    let args = server["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    (name.clone(), args)
}

fn prompt(server: &mut crate::wire::Server, id: u64, customer: &str) -> String {
    server.send_json(&json!({
        "jsonrpc": "2.0", "id": id, "method": "prompts/get",
        "params": {"name": "expansion-plan", "arguments": {"customer": customer}}
    }));
    let a = server.answer_to(&json!(id), std::time::Duration::from_secs(30));
    a["result"]["messages"][0]["content"]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("{a}"))
        .to_string()
}

#[test]
fn the_first_registration_plans_northwind_and_says_it_is_the_demo() {
    let (name, args) = first_registration();
    assert!(
        name.contains("demo"),
        "the registration's name `{name}` does not say demo"
    );
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_expansion-planner"));
    cmd.args(&args)
        .env("XDG_DATA_HOME", crate::cli::scratch("first-run-xdg"));
    let mut server = crate::wire::Server::start_command(cmd);
    let text = prompt(&mut server, 1, "Northwind");
    assert!(text.contains("# Expansion Plan: Northwind"), "{text}");
    assert!(text.starts_with("Demo portfolio:"), "{text}");
}

#[test]
fn an_own_store_never_shows_demo_accounts_and_an_empty_one_says_what_to_do() {
    let dir = crate::cli::scratch("own-store");
    let db = dir.join("own.db");
    let _ = std::fs::remove_file(&db);
    let bin = env!("CARGO_BIN_EXE_expansion-planner");
    let serve = || {
        let mut cmd = std::process::Command::new(bin);
        cmd.args(["serve", "--db"]).arg(&db);
        crate::wire::Server::start_command(cmd)
    };
    // Empty: one sentence on how to import or try the demo, in the prompt and the tools.
    let mut server = serve();
    let text = prompt(&mut server, 1, "Northwind");
    assert!(
        text.contains("the account store is empty; import your accounts with import_accounts (or \\`expansion-planner import FILE\\`), or try the demo portfolio with \\`expansion-planner serve --demo\\`"),
        "{text}"
    );
    server.send_json(&crate::wire::tool_call(2, "list_accounts", &json!({})));
    let a = server.answer_to(&json!(2), std::time::Duration::from_secs(30));
    assert!(
        crate::wire::result_text(&a).contains("The account store is empty"),
        "{a}"
    );
    drop(server);
    // One account of the user's own: it, and nothing from the demo.
    let file = dir.join("oversold.json");
    std::fs::write(&file, crate::wire::oversold().to_string()).unwrap();
    let out = std::process::Command::new(bin)
        .arg("import")
        .arg(&file)
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let mut server = serve();
    let demo: Vec<String> = expansion_planner::demo::portfolio()
        .unwrap()
        .iter()
        .map(|s| s.name.clone())
        .collect();
    for (id, tool) in [(3, "list_accounts"), (4, "plan_segment")] {
        server.send_json(&crate::wire::tool_call(id, tool, &json!({})));
        let a = server.answer_to(&json!(id), std::time::Duration::from_secs(30));
        let all = a.to_string();
        assert!(all.contains("Oversold Ltd"), "{tool}: {all}");
        for d in &demo {
            assert!(
                !all.contains(d.as_str()),
                "{tool} shows the demo account {d}"
            );
        }
        assert!(!all.contains("Demo portfolio") && !all.contains("demo portfolio:"));
    }
    let text = prompt(&mut server, 5, "Northwind");
    assert!(!text.contains("# Expansion Plan: Northwind"), "{text}");
    assert!(!text.starts_with("Demo portfolio"), "{text}");
}
