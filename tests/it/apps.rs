//! The MCP App views (`mcp::apps`) from the client's side: offered only to a client that
//! advertises `io.modelcontextprotocol/ui`, linked from the tools, self-contained and small;
//! and the same views as files from `plan` / `scan --format html`, hostile names escaped.
//! What the views show is checked in a real browser by scripts/browser-test.

use std::process::Command;
use std::sync::Arc;

use expansion_planner::accounts::Demo;
use expansion_planner::engine::Policy;
use expansion_planner::mcp::ExpansionServer;
use expansion_planner::mcp::apps::{EXTENSION_ID, MIME_TYPE, PLAN_URI, SEGMENT_URI};
use expansion_planner::mcp::stdio::LineTransport;
use expansion_planner::service::Planner;
use rmcp::model::{
    ClientCapabilities, ClientConfig, ExtensionCapabilities, Implementation,
    ReadResourceRequestParams, ResourceContents,
};
use rmcp::service::RunningService;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};

const MAX_VIEW_BYTES: usize = 150 * 1024;
const HOSTILE: &str = "<img src=x onerror=\"window.__pwned=1\">";

fn client(ui: Option<Value>) -> ClientConfig {
    let mut caps = ClientCapabilities::default();
    if let Some(settings) = ui {
        let settings = settings.as_object().unwrap().clone();
        caps.extensions = Some(ExtensionCapabilities::from([(
            EXTENSION_ID.to_string(),
            settings,
        )]));
    }
    ClientConfig::new(caps, Implementation::new("apps-test", "1"))
}

fn apps_client() -> ClientConfig {
    client(Some(json!({ "mimeTypes": [MIME_TYPE] })))
}

/// The server as stdio `serve` runs it (its line transport), views on or off.
async fn connect(views: bool, config: ClientConfig) -> RunningService<RoleClient, ClientConfig> {
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        let (read, write) = tokio::io::split(server_io);
        let transport = LineTransport::new(read, write);
        let planner = Planner::new(Policy::default(), Arc::new(Demo)).with_views(views);
        let running = ExpansionServer::new(planner).serve(transport).await?;
        running.waiting().await?;
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
    });
    config.serve(client_io).await.expect("client handshake")
}

/// `(tool name, _meta.ui.resourceUri)` for every tool that links a view.
async fn linked(c: &RunningService<RoleClient, ClientConfig>) -> Vec<(String, String)> {
    let tools = c.list_all_tools().await.unwrap();
    assert!(tools.len() >= 10, "{} tools", tools.len());
    tools
        .iter()
        .filter_map(|t| {
            let v = serde_json::to_value(t).unwrap();
            v.pointer("/_meta/ui/resourceUri")
                .map(|u| (t.name.to_string(), u.as_str().unwrap().to_string()))
        })
        .collect()
}

async fn ui_resources(c: &RunningService<RoleClient, ClientConfig>) -> Vec<Value> {
    c.list_all_resources()
        .await
        .unwrap()
        .iter()
        .map(|r| serde_json::to_value(r).unwrap())
        .filter(|r| r["uri"].as_str().unwrap().starts_with("ui://"))
        .collect()
}

async fn read(
    c: &RunningService<RoleClient, ClientConfig>,
    uri: &str,
) -> Result<ResourceContents, rmcp::ServiceError> {
    let r = c.read_resource(ReadResourceRequestParams::new(uri)).await?;
    Ok(r.contents.into_iter().next().unwrap())
}

#[tokio::test]
async fn a_client_that_advertises_mcp_apps_gets_the_views() {
    let c = connect(true, apps_client()).await;
    let ext = c.peer_info().unwrap().capabilities.extensions.clone();
    assert!(
        ext.is_some_and(|e| e.contains_key(EXTENSION_ID)),
        "the server does not declare the extension"
    );
    let mut links = linked(&c).await;
    links.sort();
    assert_eq!(
        links,
        [
            ("check_health".to_string(), PLAN_URI.to_string()),
            ("draft_plan".to_string(), PLAN_URI.to_string()),
            ("plan_segment".to_string(), SEGMENT_URI.to_string()),
        ]
    );
    let listed = ui_resources(&c).await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    for r in &listed {
        assert_eq!(r["mimeType"], MIME_TYPE);
        assert_eq!(r["_meta"]["ui"]["csp"]["connectDomains"], json!([]));
    }
    for uri in [PLAN_URI, SEGMENT_URI] {
        let ResourceContents::TextResourceContents {
            mime_type,
            text,
            meta,
            ..
        } = read(&c, uri).await.unwrap()
        else {
            panic!("{uri} is not text");
        };
        assert_eq!(mime_type.as_deref(), Some(MIME_TYPE));
        assert!(text.starts_with("<!DOCTYPE html>"), "{uri}");
        assert!(
            text.len() < MAX_VIEW_BYTES,
            "{uri} is {} bytes, over {MAX_VIEW_BYTES}",
            text.len()
        );
        // One document: its script and styles inline, nothing fetched.
        for external in [
            "<link",
            "src=\"http",
            "src='http",
            "@import",
            "fetch(",
            "XMLHttpRequest",
        ] {
            assert!(!text.contains(external), "{uri} contains {external}");
        }
        // Account text reaches the DOM as text only: no HTML sink in the script.
        for sink in [
            "innerHTML =",
            "innerHTML=",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
        ] {
            assert!(!text.contains(sink), "{uri} uses {sink}");
        }
        let csp = serde_json::to_value(meta.unwrap()).unwrap();
        for k in [
            "connectDomains",
            "resourceDomains",
            "frameDomains",
            "baseUriDomains",
        ] {
            assert_eq!(csp["ui"]["csp"][k], json!([]), "{uri} {k}");
        }
    }
    // Tool answers are unchanged: text and structured content, whatever the client.
    let r = c
        .call_tool(
            rmcp::model::CallToolRequestParams::new("draft_plan")
                .with_arguments(json!({"account": "Northwind"}).as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    assert!(r.structured_content.is_some());
    assert!(!r.content.is_empty());
}

#[tokio::test]
async fn clients_without_the_extension_get_no_views() {
    for config in [
        client(None),
        // Apps, but only for another kind of view.
        client(Some(json!({ "mimeTypes": ["text/uri-list"] }))),
    ] {
        let c = connect(true, config).await;
        assert_eq!(linked(&c).await, Vec::<(String, String)>::new());
        assert_eq!(ui_resources(&c).await, Vec::<Value>::new());
        assert!(
            read(&c, PLAN_URI).await.is_err(),
            "ui:// read without the extension"
        );
        // The other resources are still there.
        assert!(read(&c, "expansion://policy").await.is_ok());
    }
}

#[tokio::test]
async fn serve_with_views_off_offers_none_even_to_an_apps_client() {
    let c = connect(false, apps_client()).await;
    assert_eq!(linked(&c).await, Vec::<(String, String)>::new());
    assert_eq!(ui_resources(&c).await, Vec::<Value>::new());
    assert!(read(&c, SEGMENT_URI).await.is_err());
    let ext = c.peer_info().unwrap().capabilities.extensions.clone();
    assert!(!ext.is_some_and(|e| e.contains_key(EXTENSION_ID)));
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_expansion-planner"));
    c.env("XDG_DATA_HOME", crate::cli::scratch("apps-xdg"))
        .env_remove("EXPANSION_PLANNER_DB");
    c
}

fn run(args: &[&str]) -> String {
    let out = bin().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The embedded data, parsed back.
fn embedded(html: &str) -> Value {
    let start = html
        .find("<script type=\"application/json\" id=\"ep-data\">")
        .expect("no embedded data");
    let rest = &html[start..];
    let open = rest.find('>').unwrap() + 1;
    let close = rest.find("</script>").unwrap();
    serde_json::from_str(&rest[open..close]).unwrap()
}

#[test]
fn plan_format_html_is_one_file_with_the_plan_embedded_and_names_escaped() {
    let demo: Value = serde_json::from_str(include_str!("../../src/demo/portfolio.json")).unwrap();
    let mut snapshot = demo
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "Northwind")
        .unwrap()
        .clone();
    let name = format!("{HOSTILE}</script><!-- Northwind & co");
    snapshot["name"] = json!(name);
    let file = crate::cli::scratch("apps").join("hostile.json");
    std::fs::write(&file, snapshot.to_string()).unwrap();
    let path = file.to_str().unwrap();
    let html = run(&["plan", path, "--format", "html"]);
    assert!(html.starts_with("<!DOCTYPE html>"));
    // Account text never appears as markup: only the view's own closing tags remain.
    assert!(!html.contains("<img"), "unescaped <img in the file");
    assert!(
        !html.contains("<!--"),
        "unescaped comment opener in the file"
    );
    assert_eq!(
        html.matches("</script>").count(),
        2,
        "a name closed a script"
    );
    let data = embedded(&html);
    assert_eq!(data["account"], json!(name));
    let json: Value = serde_json::from_str(&run(&["plan", path, "--format", "json"])).unwrap();
    assert_eq!(data, json, "the file holds exactly the --format json plan");
    assert!(html.len() < MAX_VIEW_BYTES, "{} bytes", html.len());
    assert_eq!(
        html,
        run(&["plan", path, "--format", "html"]),
        "not deterministic"
    );
}

#[test]
fn scan_format_html_embeds_the_segment_plan() {
    let html = run(&["scan", "--demo", "--format", "html"]);
    let json: Value = serde_json::from_str(&run(&["scan", "--demo", "--format", "json"])).unwrap();
    let data = embedded(&html);
    assert_eq!(data, json);
    assert!(data["accounts"].as_array().unwrap().len() >= 10);
    // The names with `&` in the demo ("Harbor & Pike Legal") are escaped in the file.
    assert!(!html.contains("Harbor & Pike"));
    assert!(html.contains("Harbor \\u0026 Pike"));
    // The segment view, not the plan view.
    assert!(html.contains("expansion-planner segment view"));
}
