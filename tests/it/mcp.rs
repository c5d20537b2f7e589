//! The real server driven by a real rmcp client over an in-process duplex pipe: every tool,
//! prompt, completion and resource, and the protocol versions clients negotiate.

use std::sync::Arc;

use expansion_planner::accounts::Demo;
use expansion_planner::engine::Policy;
use expansion_planner::mcp::ExpansionServer;
use expansion_planner::mcp::stdio::LineTransport;
use expansion_planner::service::Planner;
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientConfig, GetPromptRequestParams, JsonObject,
    ProtocolVersion, ReadResourceRequestParams, ResourceContents,
};
use rmcp::service::RunningService;
use rmcp::{ClientLifecycleMode, ClientServiceExt, RoleClient, ServiceError, ServiceExt};
use serde_json::{Value, json};

use crate::wire::oversold;

fn planner() -> Planner {
    Planner::new(Policy::default(), Arc::new(Demo))
}

/// The server as `serve` runs it on stdio: our line transport over rmcp's service.
async fn connect_with<C: rmcp::ClientHandler>(client: C) -> RunningService<RoleClient, C> {
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        let (read, write) = tokio::io::split(server_io);
        let transport = LineTransport::new(read, write);
        let running = ExpansionServer::new(planner()).serve(transport).await?;
        running.waiting().await?;
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
    });
    client.serve(client_io).await.expect("client handshake")
}

pub(crate) async fn connect() -> RunningService<RoleClient, ()> {
    connect_with(()).await
}

fn obj(v: Value) -> JsonObject {
    v.as_object().expect("object").clone()
}

fn text(r: &CallToolResult) -> String {
    r.content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) async fn call(
    client: &RunningService<RoleClient, ()>,
    tool: &str,
    args: Value,
) -> CallToolResult {
    client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(obj(args)))
        .await
        .expect("tool call answered")
}

pub(crate) const TOOLS: [&str; 16] = [
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
];

/// The step tools: they take `account` or `snapshot`.
const STEP_TOOLS: usize = 10;

#[tokio::test]
async fn handshake_names_the_server_and_its_capabilities() {
    let client = connect().await;
    let info = client.peer_info().unwrap();
    assert_eq!(info.server_info.as_ref().unwrap().name, "expansion-planner");
    assert!(info.capabilities.tools.is_some());
    assert!(info.capabilities.prompts.is_some());
    assert!(info.capabilities.resources.is_some());
    assert!(info.capabilities.completions.is_some());
    assert!(
        info.instructions
            .as_deref()
            .unwrap()
            .contains("check_health")
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn tools_are_self_describing() {
    let client = connect().await;
    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, TOOLS);
    for t in &tools {
        assert!(
            t.title.as_deref().is_some_and(|s| !s.is_empty()),
            "{} title",
            t.name
        );
        assert!(
            t.description.as_deref().is_some_and(|d| d.len() > 80),
            "{} description",
            t.name
        );
        assert!(t.output_schema.is_some(), "{} output schema", t.name);
        let a = t.annotations.as_ref().unwrap();
        // draft_plan saves plan history and import_accounts writes accounts; both are
        // idempotent and destroy nothing.
        let writes = matches!(t.name.as_ref(), "draft_plan" | "import_accounts");
        assert_eq!(a.read_only_hint, Some(!writes), "{}", t.name);
        assert_eq!(a.idempotent_hint, Some(true));
        assert_eq!(a.destructive_hint, Some(false));
        assert_eq!(a.open_world_hint, Some(false));
    }
    client.cancel().await.unwrap();
}

/// Every tool on every demo account and on the blocked example: `structuredContent`
/// validates against the advertised output schema and a markdown block comes with it.
#[tokio::test]
async fn every_result_matches_its_output_schema() {
    let client = connect().await;
    let tools = client.list_all_tools().await.unwrap();
    let mut targets: Vec<Value> = expansion_planner::demo::portfolio()
        .unwrap()
        .iter()
        .map(|s| json!({"account": s.name}))
        .collect();
    targets.push(json!({"snapshot": oversold()}));
    assert!(
        targets.len() >= 10,
        "demo portfolio has {} accounts",
        targets.len() - 1
    );
    let store_args: Vec<(&str, Vec<Value>)> = vec![
        (
            "list_accounts",
            vec![
                json!({}),
                json!({"segment": "mid-market", "outcome": "ready"}),
            ],
        ),
        (
            "get_account",
            vec![
                json!({"account": "Northwind"}),
                json!({"account": "acc-002"}),
            ],
        ),
        (
            "plan_segment",
            vec![
                json!({}),
                json!({"segment": "Enterprise"}),
                json!({"csm": "Priya Raman", "as_of": "2026-11-15"}),
            ],
        ),
        (
            "plan_history",
            vec![json!({"account": "Northwind", "include_markdown": true})],
        ),
        ("due_reassessments", vec![json!({"as_of": "2027-06-01"})]),
    ];
    let mut checked = 0;
    let mut expected = 0;
    for t in &tools {
        let schema = Value::Object((*t.output_schema.clone().unwrap()).clone());
        let validator = jsonschema::validator_for(&schema).unwrap();
        let own: Vec<Value> = store_args
            .iter()
            .find(|(n, _)| *n == t.name)
            .map(|(_, a)| a.clone())
            .unwrap_or_default();
        let is_step = TOOLS[..STEP_TOOLS].contains(&t.name.as_ref());
        let list = if is_step { &targets } else { &own };
        expected += list.len();
        for target in list {
            let mut args = target.clone();
            if t.name == "check_framing" {
                args["draft"] = json!("Would you like to upgrade to Pro? We also have Product X.");
            }
            let r = call(&client, &t.name, args.clone()).await;
            assert_eq!(r.is_error, Some(false), "{} {args}: {}", t.name, text(&r));
            let sc = r.structured_content.clone().unwrap();
            let errors: Vec<String> = validator
                .iter_errors(&sc)
                .map(|e| format!("{e} at {}", e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{} on {args}: {errors:?}", t.name);
            assert!(!text(&r).trim().is_empty());
            checked += 1;
        }
    }
    assert_eq!(checked, expected);
    assert!(checked >= STEP_TOOLS * targets.len() + 8);
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn the_gate_cannot_be_skipped() {
    let client = connect().await;
    for tool in TOOLS[..STEP_TOOLS]
        .iter()
        .filter(|t| !matches!(**t, "check_health" | "check_framing"))
    {
        let r = call(&client, tool, json!({"snapshot": oversold()})).await;
        let mut sc = r.structured_content.unwrap();
        assert_eq!(sc["outcome"], "blocked", "{tool}");
        if *tool == "draft_plan" {
            // The summary states the gate's figures once, in the headline; `detail: full`
            // carries the gate result as the step tools do.
            assert_eq!(sc["headline"]["utilisation_pct"], 26.7);
            assert!(sc["verdict"].as_str().unwrap().starts_with("Blocked: "));
            let full = json!({"snapshot": oversold(), "detail": "full"});
            sc = call(&client, tool, full).await.structured_content.unwrap();
        }
        for key in [
            "signals",
            "opportunity",
            "scenarios",
            "framing",
            "statements",
            "risks",
            "steps",
            "criteria",
            "recommendation",
        ] {
            assert!(
                sc.get(key).is_none(),
                "{tool} leaked `{key}` on a blocked account"
            );
        }
        let h = &sc["health"];
        assert_eq!(h["clear_to_expand"], false);
        assert_eq!(h["utilisation_pct"], 26.7);
        let targets = h["unhealthy_path"]["recovery_targets"].as_array().unwrap();
        let seat = targets
            .iter()
            .find(|t| t["metric"] == "active_users")
            .unwrap();
        assert_eq!(seat["target_active_users"], 27);
        assert_eq!(seat["window_days"], 60);
        assert_eq!(h["unhealthy_path"]["right_size"]["unused_seats"], 33);
        assert!(
            text(&call(&client, tool, json!({"snapshot": oversold()})).await)
                .contains("Unhealthy-Path Response")
        );
    }
    let r = call(
        &client,
        "check_framing",
        json!({"snapshot": oversold(), "draft": "Let's get everyone onboarded."}),
    )
    .await;
    let sc = r.structured_content.unwrap();
    assert_eq!(sc["outcome"], "blocked");
    assert!(
        sc["note"]
            .as_str()
            .unwrap()
            .contains("send no expansion message")
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn bad_arguments_are_tool_errors_naming_the_field_and_the_server_goes_on() {
    let client = connect().await;
    let cases = [
        (
            json!({"snapshot": {"name": "X", "contract": {"licensed_seats": "45"}}}),
            "snapshot.contract.licensed_seats",
        ),
        (
            json!({"snapshot": {"name": "X", "contract": {"licensed_seats": 0}}}),
            "snapshot.contract.licensed_seats",
        ),
        (
            json!({"snapshot": {"name": "X", "health": {"score": 101}}}),
            "snapshot.health.score",
        ),
        (
            json!({"snapshot": {"name": "X"}, "as_of": "2027-02-30"}),
            "as_of",
        ),
        (
            json!({"account": "Northwind", "snapshot": {"name": "X"}}),
            "account",
        ),
        (json!({}), "account"),
        (json!({"acount": "Northwind"}), "acount"),
        (json!({"account": "Nobody Inc"}), "closest"),
    ];
    for (args, needle) in cases {
        let r = call(&client, "draft_plan", args.clone()).await;
        assert_eq!(r.is_error, Some(true), "{args}");
        assert!(text(&r).contains(needle), "{args}: {}", text(&r));
        // The next call still succeeds.
        let ok = call(&client, "check_health", json!({"snapshot": oversold()})).await;
        assert_eq!(ok.is_error, Some(false));
    }
    let err = client
        .call_tool(CallToolRequestParams::new("no_such_tool").with_arguments(obj(json!({}))))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("unknown tool"), "{err}");
    let ok = call(&client, "check_health", json!({"snapshot": oversold()})).await;
    assert_eq!(ok.is_error, Some(false));
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn check_framing_flags_sales_phrasing() {
    let client = connect().await;
    let r = call(
        &client,
        "check_framing",
        json!({"draft": "Hi! Can we add 10 more seats? Our analytics tier has great features."}),
    )
    .await;
    let sc = r.structured_content.unwrap();
    assert_eq!(sc["ok"], false);
    let patterns: Vec<&str> = sc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["pattern"].as_str().unwrap())
        .collect();
    assert!(patterns.contains(&"can_we_add_seats"), "{patterns:?}");
    assert!(
        patterns.contains(&"tier_has_great_features"),
        "{patterns:?}"
    );
    let r = call(&client, "check_framing", json!({"draft": "Your team has grown to 25 and only 15 have access. Let's get everyone onboarded."})).await;
    assert_eq!(r.structured_content.unwrap()["ok"], true);
    let r = call(&client, "check_framing", json!({"draft": "  "})).await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("draft"));
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn prompts_carry_computed_results_or_gathering_instructions() {
    let client = connect().await;
    let prompts = client.list_all_prompts().await.unwrap();
    let names: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["expansion-plan", "health-check"]);
    for p in &prompts {
        let args = p.arguments.as_ref().unwrap();
        assert!(
            args.iter()
                .any(|a| a.name == "customer" && a.required == Some(true))
        );
        assert!(
            args.iter()
                .any(|a| a.name == "as_of" && a.required != Some(true))
        );
    }
    let get = |name: &str, args: Value| {
        GetPromptRequestParams::new(name.to_string()).with_arguments(obj(args))
    };
    let msg = |r: &rmcp::model::GetPromptResult| {
        r.messages
            .iter()
            .filter_map(|m| match &m.content {
                rmcp::model::ContentBlock::Text(t) => Some(t.text.clone()),
                _ => None,
            })
            .collect::<String>()
    };
    let known = client
        .get_prompt(get("expansion-plan", json!({"customer": "northwind"})))
        .await
        .unwrap();
    let t = msg(&known);
    assert!(t.contains("# Expansion Plan: Northwind"), "{t}");
    assert!(t.contains("use the figures exactly"), "{t}");

    let health = client
        .get_prompt(get(
            "health-check",
            json!({"customer": "Northwind", "as_of": "2026-11-15"}),
        ))
        .await
        .unwrap();
    assert!(msg(&health).contains("## Health Check"));

    let unknown = client
        .get_prompt(get(
            "expansion-plan",
            json!({"customer": "Totally Unknown GmbH"}),
        ))
        .await
        .unwrap();
    let t = msg(&unknown);
    assert!(t.contains("contract") && t.contains("check_health"), "{t}");

    let segment = expansion_planner::demo::portfolio()
        .unwrap()
        .iter()
        .find_map(|s| s.segment.clone())
        .unwrap();
    let seg = client
        .get_prompt(get(
            "expansion-plan",
            json!({"customer": segment.to_uppercase()}),
        ))
        .await
        .unwrap();
    assert!(msg(&seg).contains("| Account | Outcome |"), "{}", msg(&seg));

    let err = client
        .get_prompt(get(
            "expansion-plan",
            json!({"customer": "Northwind", "as_of": "2027-13-01"}),
        ))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("as_of"), "{err}");
    let err = client
        .get_prompt(get("expansion-plan", json!({})))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("customer"), "{err}");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn customer_completes_from_names_and_segments() {
    let client = connect().await;
    let r = client
        .complete_prompt_simple("expansion-plan", "customer", "Nor")
        .await
        .unwrap();
    assert!(r.iter().any(|v| v == "Northwind"), "{r:?}");
    let segment = expansion_planner::demo::portfolio()
        .unwrap()
        .iter()
        .find_map(|s| s.segment.clone())
        .unwrap();
    let r = client
        .complete_prompt_simple("health-check", "customer", &segment[..3].to_lowercase())
        .await
        .unwrap();
    assert!(r.contains(&segment), "{r:?}");
    let r = client
        .complete_prompt_simple("expansion-plan", "customer", "zzzz-nothing")
        .await
        .unwrap();
    assert!(r.is_empty());
    let r = client
        .complete_resource_simple("expansion://accounts/{name}", "name", "north")
        .await
        .unwrap();
    assert_eq!(r.first().map(String::as_str), Some("Northwind"));
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn resources_expose_policy_rules_schema_and_accounts() {
    let client = connect().await;
    let list = client.list_all_resources().await.unwrap();
    let uris: Vec<&str> = list.iter().map(|r| r.uri.as_str()).collect();
    for u in [
        "expansion://policy",
        "expansion://playbook",
        "expansion://schema/account",
        "expansion://accounts/Northwind",
    ] {
        assert!(uris.contains(&u), "{u} missing from {uris:?}");
    }
    let templates = client.list_all_resource_templates().await.unwrap();
    assert_eq!(templates[0].uri_template, "expansion://accounts/{name}");
    let read = |uri: &str| ReadResourceRequestParams::new(uri.to_string());
    let body = |r: rmcp::model::ReadResourceResult| match &r.contents[0] {
        ResourceContents::TextResourceContents { text, .. } => text.clone(),
        _ => panic!("text expected"),
    };
    let policy: Value = serde_json::from_str(&body(
        client
            .read_resource(read("expansion://policy"))
            .await
            .unwrap(),
    ))
    .unwrap();
    assert_eq!(policy["utilisation_gate_pct"], 60.0);
    assert_eq!(policy["weights"]["adoption"], 30.0);
    let rules = body(
        client
            .read_resource(read("expansion://playbook"))
            .await
            .unwrap(),
    );
    assert!(rules.contains("60.0%") && rules.contains("cannot be skipped"));
    let schema: Value = serde_json::from_str(&body(
        client
            .read_resource(read("expansion://schema/account"))
            .await
            .unwrap(),
    ))
    .unwrap();
    assert!(schema["properties"]["contract"].is_object());
    let acct: Value = serde_json::from_str(&body(
        client
            .read_resource(read("expansion://accounts/Northwind"))
            .await
            .unwrap(),
    ))
    .unwrap();
    assert_eq!(acct["name"], "Northwind");
    for uri in uris
        .iter()
        .filter(|u| u.starts_with("expansion://accounts/"))
    {
        client.read_resource(read(uri)).await.unwrap();
    }
    let err = client
        .read_resource(read("expansion://accounts/Nobody"))
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::McpError(_)));
    assert!(err.to_string().contains("Nobody"), "{err}");
    client.cancel().await.unwrap();
}

/// Clients on 2025-06-18 and 2025-11-25 negotiate with `initialize`; 2026-07-28 clients
/// discover the server without it. All of them get plans.
#[tokio::test]
async fn every_supported_protocol_version_works() {
    for v in [ProtocolVersion::V_2025_06_18, ProtocolVersion::V_2025_11_25] {
        let client = connect_with(ClientConfig::default().with_protocol_version(v.clone())).await;
        assert_eq!(client.peer_info().unwrap().protocol_version, v);
        let r = client
            .call_tool(
                CallToolRequestParams::new("draft_plan")
                    .with_arguments(obj(json!({"account": "Northwind"}))),
            )
            .await
            .unwrap();
        assert_eq!(r.structured_content.unwrap()["outcome"], "ready", "{v:?}");
        client.cancel().await.unwrap();
    }
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        let running = ExpansionServer::new(planner()).serve(server_io).await?;
        running.waiting().await?;
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
    });
    let client = ()
        .serve_with_lifecycle(
            client_io,
            ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
        )
        .await
        .unwrap();
    assert_eq!(
        client.peer_info().unwrap().protocol_version,
        ProtocolVersion::V_2026_07_28
    );
    let r = client
        .call_tool(
            CallToolRequestParams::new("draft_plan")
                .with_arguments(obj(json!({"account": "Northwind"}))),
        )
        .await
        .unwrap();
    assert_eq!(r.structured_content.unwrap()["outcome"], "ready");
    let p = client
        .get_prompt(
            GetPromptRequestParams::new("expansion-plan")
                .with_arguments(obj(json!({"customer": "Northwind"}))),
        )
        .await
        .unwrap();
    assert!(!p.messages.is_empty());
    client.cancel().await.unwrap();
}

/// rmcp runs calls on one connection concurrently; each answer must be its own.
#[tokio::test]
async fn concurrent_calls_on_one_connection_get_their_own_answers() {
    let client = Arc::new(connect().await);
    let names: Vec<String> = expansion_planner::demo::portfolio()
        .unwrap()
        .iter()
        .map(|s| s.name.clone())
        .collect();
    let mut handles = Vec::new();
    for round in 0..5 {
        for n in &names {
            let c = client.clone();
            let n = n.clone();
            handles.push(tokio::spawn(async move {
                let r = c
                    .call_tool(
                        CallToolRequestParams::new("draft_plan")
                            .with_arguments(obj(json!({"account": n}))),
                    )
                    .await
                    .unwrap();
                (
                    round,
                    n,
                    r.structured_content.unwrap()["account"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                )
            }));
        }
    }
    for h in handles {
        let (_, asked, got) = h.await.unwrap();
        assert_eq!(asked, got);
    }
}
