//! JSON Schemas generated from the Rust types: what the tools advertise and what `schemas/`
//! holds. The same functions produce both, so the committed files cannot drift from the
//! server without the sync test failing.

use std::sync::Arc;

use rmcp::handler::server::common::{schema_for_input, schema_for_output, schema_for_type};
use rmcp::model::JsonObject;
use schemars::JsonSchema;

use crate::engine::Policy;
use crate::model::Snapshot;

/// A tool's input schema (draft 2020-12, root `type: object`).
pub fn input<T: JsonSchema + 'static>() -> Arc<JsonObject> {
    schema_for_input::<T>().unwrap_or_else(|e| {
        // Unreachable for our argument types (all are structs); the schema test checks it.
        tracing::error!("input schema is not an object: {e}");
        let mut o = JsonObject::new();
        o.insert("type".into(), "object".into());
        Arc::new(o)
    })
}

/// A tool's output schema, describing what the result serialises to.
pub fn output<T: JsonSchema + 'static>() -> Arc<JsonObject> {
    schema_for_output::<T>()
}

/// The account snapshot's schema (what `snapshot` accepts).
pub fn account() -> Arc<JsonObject> {
    schema_for_type::<Snapshot>()
}

/// The policy file's schema.
pub fn policy() -> Arc<JsonObject> {
    schema_for_type::<Policy>()
}

fn pretty(o: &JsonObject) -> String {
    let mut s = serde_json::to_string_pretty(o).unwrap_or_default();
    s.push('\n');
    s
}

/// Every schema file, by name, as `schemas/` should hold it.
pub fn all_files() -> Vec<(String, String)> {
    let mut files = Vec::new();
    for t in crate::mcp::tools::DEFS {
        files.push((format!("{}.input.json", t.name), pretty(&(t.input)())));
        files.push((format!("{}.output.json", t.name), pretty(&(t.output)())));
    }
    files.push(("account.json".into(), pretty(&account())));
    files.push(("policy.json".into(), pretty(&policy())));
    files
}
