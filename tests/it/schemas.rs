//! The committed `schemas/` must equal what the server advertises; `UPDATE_SCHEMAS=1`
//! rewrites them.

use expansion_planner::schemas::all_files;

#[test]
fn committed_schemas_match_generated() {
    let dir = crate::root().join("schemas");
    let update = std::env::var_os("UPDATE_SCHEMAS").is_some();
    let mut stale = Vec::new();
    let files = all_files();
    assert!(
        files.len() >= 22,
        "10 tools x 2 + account + policy, got {}",
        files.len()
    );
    for (name, text) in &files {
        let path = dir.join(name);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != *text {
            if update {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, text).unwrap();
            } else {
                stale.push(name.clone());
            }
        }
    }
    let mut extra: Vec<String> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".json") && !files.iter().any(|(f, _)| f == n))
                .collect()
        })
        .unwrap_or_default();
    extra.sort();
    assert!(
        stale.is_empty() && extra.is_empty(),
        "schemas/ is out of date (stale: {stale:?}, extra: {extra:?}); run `UPDATE_SCHEMAS=1 cargo test schemas` or `expansion-planner schemas --out schemas`"
    );
}

#[test]
fn every_tool_schema_is_an_object_with_described_fields() {
    for t in expansion_planner::mcp::tools::DEFS {
        let input = (t.input)();
        assert_eq!(
            input.get("type").and_then(|v| v.as_str()),
            Some("object"),
            "{}",
            t.name
        );
        let props = input.get("properties").and_then(|p| p.as_object()).unwrap();
        for (k, v) in props {
            assert!(
                v.get("description").is_some(),
                "{}.{k} has no description",
                t.name
            );
        }
        let output = (t.output)();
        assert_eq!(
            output.get("type").and_then(|v| v.as_str()),
            Some("object"),
            "{}",
            t.name
        );
    }
}

/// What the strictest mainstream clients (Cursor, the Gemini API, the Copilot CLI, the MCP
/// Inspector's form builder) accept in an `inputSchema`: every problem found in `node`, by
/// path.
fn portability_problems(node: &serde_json::Value, path: &str, out: &mut Vec<String>) {
    use serde_json::Value;
    let Some(m) = node.as_object() else {
        out.push(format!("{path}: a schema that is not an object"));
        return;
    };
    for banned in ["$ref", "$defs", "definitions", "$schema", "allOf", "not"] {
        if m.contains_key(banned) {
            out.push(format!("{path}: has `{banned}`"));
        }
    }
    match m.get("type") {
        Some(Value::String(t)) if t != "null" => {
            if t == "integer" || t == "number" {
                for k in ["exclusiveMinimum", "exclusiveMaximum", "multipleOf"] {
                    if m.contains_key(k) {
                        out.push(format!("{path}: a range as `{k}`, not minimum/maximum"));
                    }
                }
            }
            if t == "object" && m.contains_key("items") {
                out.push(format!("{path}: an object with `items`"));
            }
            if t == "array" && !m.contains_key("items") {
                out.push(format!("{path}: an array without `items`"));
            }
        }
        Some(other) => out.push(format!("{path}: `type` is {other}, not one type name")),
        None => out.push(format!("{path}: no `type`")),
    }
    for k in ["anyOf", "oneOf"] {
        if let Some(branches) = m.get(k) {
            let branches = branches.as_array().cloned().unwrap_or_default();
            if branches
                .iter()
                .any(|b| b.get("type").and_then(Value::as_str) == Some("null"))
            {
                out.push(format!("{path}: `{k}` with a null branch"));
            }
            for (i, b) in branches.iter().enumerate() {
                portability_problems(b, &format!("{path}.{k}[{i}]"), out);
            }
        }
    }
    if let Some(f) = m.get("format") {
        let f = f.as_str().unwrap_or("");
        if !["date", "date-time", "email", "uri"].contains(&f) {
            out.push(format!(
                "{path}: format `{f}` is not one JSON Schema defines"
            ));
        }
    }
    if m.get("default").is_some_and(Value::is_null) {
        out.push(format!("{path}: `default: null`"));
    }
    if let Some(props) = m.get("properties") {
        match props.as_object() {
            Some(props) => {
                for (k, v) in props {
                    portability_problems(v, &format!("{path}.{k}"), out);
                }
            }
            None => out.push(format!("{path}: `properties` is not an object")),
        }
    }
    if let Some(items) = m.get("items") {
        portability_problems(items, &format!("{path}[]"), out);
    }
    if let Some(ap) = m.get("additionalProperties").filter(|v| v.is_object()) {
        portability_problems(ap, &format!("{path}{{*}}"), out);
    }
}

#[test]
fn every_input_schema_is_portable() {
    let mut problems = Vec::new();
    for t in expansion_planner::mcp::tools::DEFS {
        let schema = serde_json::Value::Object((t.input)().as_ref().clone());
        assert_eq!(schema["type"], "object", "{}", t.name);
        portability_problems(&schema, t.name, &mut problems);
    }
    assert!(
        problems.is_empty(),
        "{} portability problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn the_portability_check_catches_what_it_is_for() {
    // The walker itself, on a schema with one of each fault: a check that finds nothing
    // proves nothing.
    let bad = serde_json::json!({
        "type": "object",
        "$defs": {},
        "properties": {
            "a": { "$ref": "#/$defs/A" },
            "b": { "type": ["string", "null"] },
            "c": { "anyOf": [{ "type": "string" }, { "type": "null" }] },
            "d": { "type": "integer", "format": "uint32" },
            "e": { "type": "number", "exclusiveMinimum": 0 },
            "f": { "description": "no type" },
            "g": { "type": "object", "properties": { "h": { "type": "number", "format": "double" } } }
        }
    });
    let mut problems = Vec::new();
    portability_problems(&bad, "bad", &mut problems);
    for expected in [
        "bad: has `$defs`",
        "bad.a: has `$ref`",
        "bad.b: `type` is",
        "bad.c: `anyOf` with a null branch",
        "bad.d: format `uint32`",
        "bad.e: a range as `exclusiveMinimum`",
        "bad.f: no `type`",
        "bad.g.h: format `double`",
    ] {
        assert!(
            problems.iter().any(|p| p.starts_with(expected)),
            "missing {expected:?} in {problems:#?}"
        );
    }
}

#[test]
fn output_schemas_use_only_standard_formats_single_types_and_compile() {
    fn formats(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(serde_json::Value::String(f)) = m.get("format") {
                    out.push(f.clone());
                }
                // A type array is legal, but the MCP Inspector warns on each one and
                // single-type dialects (Gemini's) reject it.
                if let Some(t @ serde_json::Value::Array(_)) = m.get("type") {
                    out.push(format!("type {t}"));
                }
                m.values().for_each(|c| formats(c, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|c| formats(c, out)),
            _ => {}
        }
    }
    for t in expansion_planner::mcp::tools::DEFS {
        let schema = serde_json::Value::Object((t.output)().as_ref().clone());
        let mut found = Vec::new();
        formats(&schema, &mut found);
        found.retain(|f| !["date", "date-time", "email", "uri"].contains(&f.as_str()));
        assert!(found.is_empty(), "{}: formats {found:?}", t.name);
        jsonschema::validator_for(&schema)
            .unwrap_or_else(|e| panic!("{}: output schema does not compile: {e}", t.name));
    }
}
