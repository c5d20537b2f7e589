//! JSON Schemas generated from the Rust types: what the tools advertise and what `schemas/`
//! holds. The same functions produce both, so the committed files cannot drift from the
//! server without the sync test failing.
//!
//! schemars writes full JSON Schema 2020-12 (`$ref`, `type: [T, "null"]`, its own formats),
//! which Cursor, the Gemini API, the Copilot CLI and the MCP Inspector reject or mishandle
//! in an `inputSchema`; [`portable`] rewrites input schemas into the subset they all accept.
//! Output schemas keep `$defs` (SDK clients validate `structuredContent` with validators
//! that resolve references); only the non-standard formats are taken out.

use std::sync::Arc;

use rmcp::handler::server::common::{schema_for_input, schema_for_output, schema_for_type};
use rmcp::model::JsonObject;
use schemars::JsonSchema;
use serde_json::Value;

use crate::engine::Policy;
use crate::model::Snapshot;

/// The only `format`s JSON Schema defines that input schemas keep; a client that does not
/// know a format ignores it at best and warns or refuses at worst.
pub const PORTABLE_FORMATS: &[&str] = &["date", "date-time", "email", "uri"];

/// References are inlined at most this deep; none of our types is recursive, so this only
/// guards against a future one looping.
const MAX_DEPTH: usize = 24;

/// A tool's input schema: root `type: object`, self-contained and portable (see [`portable`]).
pub fn input<T: JsonSchema + 'static>() -> Arc<JsonObject> {
    match schema_for_input::<T>() {
        Ok(s) => Arc::new(portable(&s)),
        Err(e) => {
            // Unreachable for our argument types (all are structs); the schema test checks it.
            tracing::error!("input schema is not an object: {e}");
            let mut o = JsonObject::new();
            o.insert("type".into(), "object".into());
            Arc::new(o)
        }
    }
}

/// A tool's output schema, describing what the result serialises to, without the formats
/// JSON Schema does not define.
pub fn output<T: JsonSchema + 'static>() -> Arc<JsonObject> {
    let mut v = Value::Object(schema_for_output::<T>().as_ref().clone());
    strip_formats(&mut v);
    match v {
        Value::Object(o) => Arc::new(o),
        _ => Arc::new(JsonObject::new()),
    }
}

/// A step tool's output schema: `Gated<T>`, with the gate result (`health`, present only
/// when blocked) as an object whose full schema is `check_health`'s output schema, so that
/// the gate's definitions are not repeated in seven more schemas.
pub fn gated_output<T: JsonSchema + 'static>() -> Arc<JsonObject> {
    let mut v = Value::Object(output::<crate::model::results::Gated<T>>().as_ref().clone());
    if let Some(h) = v.pointer_mut("/properties/health") {
        *h = serde_json::json!({
            "type": "object",
            "description": "Present when `outcome` is `blocked`: check_health's result, as in its output schema."
        });
    }
    prune_defs(&mut v);
    match v {
        Value::Object(o) => Arc::new(o),
        _ => Arc::new(JsonObject::new()),
    }
}

/// Drops the `$defs` nothing refers to any more.
fn prune_defs(root: &mut Value) {
    loop {
        let text = serde_json::to_string(root).unwrap_or_default();
        let Some(Value::Object(defs)) = root.get_mut("$defs") else {
            return;
        };
        let unused: Vec<String> = defs
            .keys()
            .filter(|k| !text.contains(&format!("\"#/$defs/{k}\"")))
            .cloned()
            .collect();
        if unused.is_empty() {
            return;
        }
        for k in unused {
            defs.remove(&k);
        }
    }
}

/// An output schema as `tools/list` advertises it: the schema of `schemas/`, without the
/// descriptions, titles and date patterns, which clients do not need to validate
/// `structuredContent` and which no model reads (the field descriptions are in
/// `schemas/<tool>.output.json`). A `oneOf` of constants becomes an `enum`.
pub fn lean_output(schema: &JsonObject) -> JsonObject {
    match lean(Value::Object(schema.clone())) {
        Value::Object(o) => o,
        _ => JsonObject::new(),
    }
}

fn lean(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = JsonObject::new();
            for (k, v) in m {
                match k.as_str() {
                    "properties" | "$defs" => {
                        let inner = match v {
                            Value::Object(p) => {
                                p.into_iter().map(|(pk, pv)| (pk, lean(pv))).collect()
                            }
                            _ => JsonObject::new(),
                        };
                        out.insert(k, Value::Object(inner));
                    }
                    "description" | "title" | "pattern" | "$schema" => {}
                    "oneOf" => match v.as_array().and_then(|b| consts(b)) {
                        Some(values) => {
                            out.insert("type".into(), "string".into());
                            out.insert("enum".into(), Value::Array(values));
                        }
                        None => {
                            out.insert(k, lean(v));
                        }
                    },
                    _ => {
                        out.insert(k, lean(v));
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.into_iter().map(lean).collect()),
        other => other,
    }
}

/// The account snapshot's schema (what `snapshot` accepts), in full, with `$defs`: what the
/// resource `expansion://schema/account` serves.
pub fn account() -> Arc<JsonObject> {
    schema_for_type::<Snapshot>()
}

/// The policy file's schema.
pub fn policy() -> Arc<JsonObject> {
    schema_for_type::<Policy>()
}

/// Rewrites a generated schema into the subset the strictest common clients accept:
/// every `$ref` inlined and `$defs`/`$schema` dropped; optional fields as a plain type (an
/// optional field is one not in `required`, never one that may be `null`); a `oneOf` of
/// constants as an `enum`; `format` only where JSON Schema defines it; and every schema
/// with a `type`.
pub fn portable(schema: &JsonObject) -> JsonObject {
    let defs = schema
        .get("$defs")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut root = schema.clone();
    root.remove("$defs");
    root.remove("$schema");
    match inline(Value::Object(root), &defs, 0) {
        Value::Object(o) => o,
        _ => JsonObject::new(),
    }
}

fn inline(node: Value, defs: &JsonObject, depth: usize) -> Value {
    let Value::Object(mut m) = node else {
        return node;
    };
    if depth > MAX_DEPTH {
        let mut o = JsonObject::new();
        o.insert("type".into(), "object".into());
        return Value::Object(o);
    }
    // `$ref`: the definition, with the referring schema's own keywords (its description) on top.
    if let Some(Value::String(r)) = m.remove("$ref") {
        let def = r
            .strip_prefix("#/$defs/")
            .and_then(|name| defs.get(name))
            .cloned()
            .unwrap_or_else(|| serde_json::json!({ "type": "object" }));
        m = overlay(inline(def, defs, depth + 1), m);
    }
    // `anyOf`/`oneOf` with a `null` branch: optional, so the other branch alone.
    for key in ["anyOf", "oneOf"] {
        let Some(Value::Array(branches)) = m.get(key) else {
            continue;
        };
        let non_null: Vec<Value> = branches
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) != Some("null"))
            .cloned()
            .collect();
        if non_null.len() == 1 && branches.len() > 1 {
            m.remove(key);
            let only = non_null.into_iter().next().unwrap_or(Value::Null);
            m = overlay(inline(only, defs, depth + 1), m);
        } else if let Some(values) = consts(&non_null) {
            // A `oneOf` of constants (an enum with a description per value): an `enum`.
            m.remove(key);
            m.insert("type".into(), "string".into());
            m.insert("enum".into(), Value::Array(values));
        }
    }
    // `type: [T, "null"]`: T.
    if let Some(Value::Array(types)) = m.get("type") {
        let kept: Vec<Value> = types
            .iter()
            .filter(|t| t.as_str() != Some("null"))
            .cloned()
            .collect();
        if kept.len() == 1 {
            m.insert(
                "type".into(),
                kept.into_iter().next().unwrap_or(Value::Null),
            );
        }
    }
    if let Some(Value::String(f)) = m.get("format")
        && !PORTABLE_FORMATS.contains(&f.as_str())
    {
        m.remove("format");
    }
    // A date's pattern says what `format: date` says; an empty default says what absent
    // says. Neither is worth its bytes in every tool's schema.
    if m.get("format").and_then(Value::as_str) == Some("date") {
        m.remove("pattern");
    }
    if m.get("default").is_some_and(|d| {
        d.is_null()
            || d.as_object().is_some_and(|o| o.is_empty())
            || d.as_array().is_some_and(|a| a.is_empty())
    }) {
        m.remove("default");
    }
    if let Some(Value::Object(props)) = m.remove("properties") {
        let props: JsonObject = props
            .into_iter()
            .map(|(k, v)| (k, inline(v, defs, depth + 1)))
            .collect();
        m.insert("properties".into(), Value::Object(props));
    }
    for key in ["items", "additionalProperties"] {
        if let Some(v) = m.get_mut(key)
            && v.is_object()
        {
            *v = inline(v.take(), defs, depth + 1);
        }
    }
    // An array's items described again in the singular ("Churn risk signals." / "A churn
    // risk signal.") tell a model nothing new.
    if m.contains_key("description")
        && let Some(Value::Object(items)) = m.get_mut("items")
    {
        items.remove("description");
    }
    if !m.contains_key("type") {
        let t = if m.contains_key("properties") {
            "object"
        } else if m.contains_key("items") {
            "array"
        } else if let Some(Value::Array(e)) = m.get("enum")
            && e.iter().all(Value::is_string)
        {
            "string"
        } else {
            "object"
        };
        m.insert("type".into(), t.into());
    }
    Value::Object(m)
}

/// The values when every branch is `{"const": "<string>", ...}`.
fn consts(branches: &[Value]) -> Option<Vec<Value>> {
    if branches.is_empty() {
        return None;
    }
    branches
        .iter()
        .map(|b| b.get("const").filter(|c| c.is_string()).cloned())
        .collect()
}

/// `base` with `top`'s keywords added, `top` winning where both have one.
fn overlay(base: Value, top: JsonObject) -> JsonObject {
    let mut out = match base {
        Value::Object(o) => o,
        _ => JsonObject::new(),
    };
    for (k, v) in top {
        out.insert(k, v);
    }
    out
}

/// Removes every `format` JSON Schema does not define, anywhere in the schema, and writes
/// each `type: [T, "null"]` as `anyOf: [{type: T}, {type: null}]`: legal either way, but
/// clients that map schemas onto a single-`type` dialect (the OpenAPI subset of Gemini
/// function declarations) reject the array, and the MCP Inspector warns on each one.
fn strip_formats(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(f)) = m.get("format")
                && !PORTABLE_FORMATS.contains(&f.as_str())
            {
                m.remove("format");
            }
            if let Some(Value::Array(types)) = m.get("type")
                && types.len() > 1
                && !m.contains_key("anyOf")
            {
                // The keywords that constrain a value (`minimum`, `items`...) go with their
                // type's branch: strict validators (Ajv) refuse them beside an `anyOf`.
                let types = types.clone();
                m.remove("type");
                let annotations = ["description", "title", "default", "examples", "deprecated"];
                let constraints: JsonObject = m
                    .iter()
                    .filter(|(k, _)| !annotations.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                m.retain(|k, _| annotations.contains(&k.as_str()));
                let branches: Vec<Value> = types
                    .iter()
                    .map(|t| {
                        let mut b = JsonObject::new();
                        b.insert("type".into(), t.clone());
                        if t.as_str() != Some("null") {
                            b.extend(constraints.clone());
                        }
                        Value::Object(b)
                    })
                    .collect();
                m.insert("anyOf".into(), Value::Array(branches));
            }
            for (k, child) in m.iter_mut() {
                // A property may be called `format`: only schema positions are walked into.
                if k != "enum" && k != "const" && k != "default" && k != "examples" {
                    strip_formats(child);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(strip_formats),
        _ => {}
    }
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
