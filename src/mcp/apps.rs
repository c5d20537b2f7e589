//! MCP Apps (SEP-1865, extension `io.modelcontextprotocol/ui`): the plan and segment views
//! as `ui://` resources, the `_meta.ui.resourceUri` that links tools to them, and the same
//! views as self-contained files with their data embedded (`plan --format html`).
//!
//! The views are offered only to a client that advertises the extension in its
//! `initialize` capabilities, and only when the server has them switched on
//! ([`Planner::views`](crate::service::Planner::views), `serve --no-views`); every answer keeps
//! its text and `structuredContent` either way, so a client without views loses nothing.
//!
//! The HTML is put together at compile time from `ui/src/` (`include_str!`), so
//! `cargo build` needs no Node and the document cannot drift from its sources.

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
/// The plan view: `draft_plan` and `check_health`.
pub const PLAN_URI: &str = "ui://expansion-planner/plan";
/// The segment view: `plan_segment`.
pub const SEGMENT_URI: &str = "ui://expansion-planner/segment";

/// Which tool shows which view. The other step tools answer parts of a plan the plan view
/// would draw as a half-empty page; their text answers are better on their own.
const TOOL_VIEWS: &[(&str, &str)] = &[
    ("draft_plan", PLAN_URI),
    ("check_health", PLAN_URI),
    ("plan_segment", SEGMENT_URI),
];

/// One view of the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Plan,
    Segment,
}

macro_rules! page_head {
    () => {
        concat!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
            // The document needs nothing from the network: a file opened from an email is
            // held to the same rule as the view inside a host.
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; ",
            "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; ",
            "connect-src 'none'; base-uri 'none'; form-action 'none'\">\n",
            "<title>Expansion planner</title>\n<style>\n",
            include_str!("../../ui/src/style.css"),
            "</style>\n</head>\n<body>\n<main id=\"app\"></main>\n"
        )
    };
}

macro_rules! page_tail {
    ($view:literal) => {
        concat!(
            "<script>\n",
            include_str!("../../ui/src/core.js"),
            "\n",
            include_str!(concat!("../../ui/src/", $view, ".js")),
            "</script>\n</body>\n</html>\n"
        )
    };
}

const HEAD: &str = page_head!();
const PLAN_TAIL: &str = page_tail!("plan");
const SEGMENT_TAIL: &str = page_tail!("segment");

impl View {
    pub fn uri(self) -> &'static str {
        match self {
            View::Plan => PLAN_URI,
            View::Segment => SEGMENT_URI,
        }
    }

    fn from_uri(uri: &str) -> Option<View> {
        match uri {
            PLAN_URI => Some(View::Plan),
            SEGMENT_URI => Some(View::Segment),
            _ => None,
        }
    }

    fn tail(self) -> &'static str {
        match self {
            View::Plan => PLAN_TAIL,
            View::Segment => SEGMENT_TAIL,
        }
    }

    /// The view as the host loads it: no data; the tool result arrives over postMessage.
    pub fn html(self) -> String {
        [HEAD, self.tail()].concat()
    }

    /// The view with `data` embedded: one file that opens in any browser, offline.
    pub fn file(self, data: &impl serde::Serialize) -> serde_json::Result<String> {
        let json = script_safe_json(data)?;
        Ok([
            HEAD,
            "<script type=\"application/json\" id=\"ep-data\">",
            &json,
            "</script>\n",
            self.tail(),
        ]
        .concat())
    }
}

/// JSON that can sit inside a `<script>` element: `<`, `>` and `&` are written as `\u003c`
/// and so on (JSON reads them back as the same characters), so no account text can close
/// the element or open a comment; U+2028 and U+2029 likewise, for older script parsers.
pub fn script_safe_json(data: &impl serde::Serialize) -> serde_json::Result<String> {
    let raw = serde_json::to_string(data)?;
    let mut out = String::with_capacity(raw.len() + raw.len() / 16);
    for c in raw.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    Ok(out)
}

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
    fn script_safe_json_cannot_close_the_script() {
        let s =
            script_safe_json(&json!({"name": "</script><img src=x onerror=alert(1)>&"})).unwrap();
        assert!(
            !s.contains('<') && !s.contains('>') && !s.contains('&'),
            "{s}"
        );
        let back: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back["name"], "</script><img src=x onerror=alert(1)>&");
    }

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
