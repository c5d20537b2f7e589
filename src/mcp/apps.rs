//! MCP Apps (SEP-1865, extension `io.modelcontextprotocol/ui`): the plan and segment views
//! as `ui://` resources and the `_meta.ui.resourceUri` that links tools to them. The views
//! themselves, and the same views as files (`plan --format html`), are [`crate::views`].
//!
//! The views are offered only to a client that advertises the extension in its
//! `initialize` capabilities, and only when the server has them switched on
//! ([`Planner::views`](crate::service::Planner::views), `serve --no-views`); every answer keeps
//! its text and `structuredContent` either way, so a client without views loses nothing.

use rmcp::RoleServer;
use rmcp::model::{
    ClientCapabilities, ExtensionCapabilities, JsonObject, MetaObject, ReadResourceResult,
    Resource, ResourceContents, Tool,
};
use rmcp::service::RequestContext;
use serde_json::{Value, json};

/// The extension's identifier in `capabilities.extensions`.
pub const EXTENSION_ID: &str = "io.modelcontextprotocol/ui";
/// The MIME type of an MCP App's HTML.
pub const MIME_TYPE: &str = "text/html;profile=mcp-app";
pub use crate::views::{PLAN_URI, SEGMENT_URI, View, script_safe_json};

/// Which tool shows which view. The other step tools answer parts of a plan the plan view
/// would draw as a half-empty page; their text answers are better on their own.
const TOOL_VIEWS: &[(&str, &str)] = &[
    ("draft_plan", PLAN_URI),
    ("check_health", PLAN_URI),
    ("plan_segment", SEGMENT_URI),
];

/// Whether these client capabilities advertise MCP Apps with HTML views. A client that
/// lists `mimeTypes` must list ours; one that lists none is taken at its word.
pub fn client_supports(caps: &ClientCapabilities) -> bool {
    let Some(settings) = caps.extensions.as_ref().and_then(|e| e.get(EXTENSION_ID)) else {
        return false;
    };
    match settings.get("mimeTypes") {
        None => true,
        Some(Value::Array(types)) => types.iter().any(|t| t.as_str() == Some(MIME_TYPE)),
        Some(_) => false,
    }
}

/// Whether this request's client gets the views: the server has them on and the client
/// advertised the extension when it initialised. A stateless HTTP request carries no
/// `initialize`, so it never does.
pub fn enabled(on: bool, context: &RequestContext<RoleServer>) -> bool {
    on && context
        .peer
        .peer_info()
        .is_some_and(|info| client_supports(&info.capabilities))
}

/// What the server says about the extension in its own capabilities (SEP-1724).
pub fn server_extensions() -> ExtensionCapabilities {
    let mut settings = JsonObject::new();
    settings.insert("mimeTypes".into(), json!([MIME_TYPE]));
    ExtensionCapabilities::from([(EXTENSION_ID.to_string(), settings)])
}

fn meta(value: Value) -> MetaObject {
    match value {
        Value::Object(map) => MetaObject(map),
        _ => MetaObject::new(),
    }
}

/// The tool list with `_meta.ui.resourceUri` on the tools that have a view (added to any
/// `_meta` a tool already has), for a client that gets the views; unchanged otherwise.
pub fn tool_list(tools: &[Tool], on: bool) -> Vec<Tool> {
    tools
        .iter()
        .map(|t| {
            let mut t = t.clone();
            if !on {
                return t;
            }
            if let Some((_, uri)) = TOOL_VIEWS.iter().find(|(name, _)| *name == t.name) {
                let mut m = t.meta.take().unwrap_or_default();
                m.0.insert("ui".into(), json!({ "resourceUri": uri }));
                t.meta = Some(m);
            }
            t
        })
        .collect()
}

/// The resource-level `_meta.ui`: no external domains of any kind, and a border.
fn ui_meta() -> MetaObject {
    meta(json!({
        "ui": {
            "csp": {
                "connectDomains": [],
                "resourceDomains": [],
                "frameDomains": [],
                "baseUriDomains": []
            },
            "prefersBorder": true
        }
    }))
}

/// The two views, as listed by `resources/list`.
pub fn resources() -> Vec<Resource> {
    vec![
        Resource::new(PLAN_URI, "plan-view")
            .with_title("Plan view")
            .with_description(
                "The expansion plan drawn: verdict, utilisation against the gate, gate checks, \
                 signals, scenarios, the dated execution plan and risks; for a blocked plan \
                 the recovery targets and reassessment date",
            )
            .with_mime_type(MIME_TYPE)
            .with_meta(ui_meta()),
        Resource::new(SEGMENT_URI, "segment-view")
            .with_title("Segment view")
            .with_description(
                "The segment plan drawn: outcome distribution, a sortable accounts table \
                 (click to draft a plan), ranked opportunities and right-size candidates",
            )
            .with_mime_type(MIME_TYPE)
            .with_meta(ui_meta()),
    ]
}

/// `resources/read` of a view's URI; `None` for any other URI.
pub fn read(uri: &str) -> Option<ReadResourceResult> {
    let view = View::from_uri(uri)?;
    Some(ReadResourceResult::new(vec![
        ResourceContents::text(view.html(), uri)
            .with_mime_type(MIME_TYPE)
            .with_meta(ui_meta()),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_types_must_include_ours_when_listed() {
        let caps = |v: Value| -> ClientCapabilities {
            serde_json::from_value(json!({ "extensions": { EXTENSION_ID: v } })).unwrap()
        };
        assert!(client_supports(&caps(json!({ "mimeTypes": [MIME_TYPE] }))));
        assert!(client_supports(&caps(json!({}))));
        assert!(!client_supports(&caps(
            json!({ "mimeTypes": ["text/uri-list"] })
        )));
        assert!(!client_supports(&ClientCapabilities::default()));
    }
}
